//! The conformance suite: every test here is written once and runs against every backend this
//! machine has. Test names carry the backend (`epoll::files::holes_read_as_zeros`), so
//! `cargo test epoll::` runs one backend.
//!
//! `io_uring_fallback` is io_uring with every operation forced down the path taken when the
//! kernel lacks its opcode (run now, poll then run, or the thread pool).
//!
//! `PROACTOR_TEST_FAULTS=SEED` runs every case over the driver's fault layer with delayed and
//! reordered completions (feature `fault-injection`): they change no result, only when results
//! arrive, so every case must still pass.
//!
//! On Windows every case runs on `iocp`; a case whose operations have no Windows form checks
//! that they say so (`Unsupported`, or `InvalidInput` for a file position).

#![cfg(any(target_os = "linux", windows))]

mod harness;

mod accept_multishot;
mod bad_input;
mod claims;
mod close;
mod control;
mod deadlines;
mod files;
mod net;
mod overflow;
mod pooled;
mod registered;
mod splice;
mod transfers_now;
mod unix_messages;
mod zero_copy;

/// Instantiates each listed test function once per backend of this OS.
macro_rules! conformance {
    (@backend $name:ident, $flavor:ident, $($module:ident :: $test:ident),*) => {
        mod $name {
            $(
                #[test]
                fn $test() {
                    crate::$module::$test(crate::harness::Harness::new(crate::harness::Flavor::$flavor));
                }
            )*
        }
    };
    ($($module:ident :: $test:ident),* $(,)?) => {
        #[cfg(target_os = "linux")]
        conformance!(@backend io_uring, IoUring, $($module::$test),*);
        #[cfg(target_os = "linux")]
        conformance!(@backend epoll, Epoll, $($module::$test),*);
        #[cfg(target_os = "linux")]
        conformance!(@backend io_uring_fallback, IoUringFallback, $($module::$test),*);
        #[cfg(windows)]
        conformance!(@backend iocp, Iocp, $($module::$test),*);
    };
}

conformance! {
    transfers_now::transfers_now_keep_order_and_miss_no_readiness,
    transfers_now::readable_watches_wake_once_and_take_nothing,
    transfers_now::a_short_receive_waits_for_the_next_edge_but_not_past_the_end,
    unix_messages::unix_datagrams_carry_their_addresses,
    unix_messages::descriptors_pass_with_a_message,
    unix_messages::descriptors_beyond_the_room_leak_nothing,
    unix_messages::cancelled_descriptor_receive_leaks_nothing,
    registered::registered_sockets_carry_operations,
    registered::a_registered_listener_accepts,
    registered::registering_a_closed_descriptor_is_an_error,
    registered::forgetting_a_registered_descriptor_lets_its_file_close,
    registered::unregistering_lets_a_close_elsewhere_close,
    registered::closing_a_registered_socket_under_a_receive_ends_it,
    files::write_and_read_at_offsets,
    files::holes_read_as_zeros,
    files::read_at_eof_returns_zero,
    files::append_writes_go_to_the_end,
    files::current_position_reads_advance,
    files::vectored_write_and_read,
    files::vectored_io_beyond_iov_max,
    files::open_statx_fsync_close,
    files::opening_a_fifo_waits_off_the_driver,
    files::open_beneath_refuses_every_way_out,
    files::statx_reports_missing_file,
    files::every_buffer_kind_round_trips,
    files::blocking_job_runs_on_the_pool,
    files::panicking_blocking_job_is_an_error,
    files::splice_moves_a_file_to_a_socket,
    splice::splice_waits_for_its_input,
    splice::splice_waits_for_its_output,
    files::send_file_moves_a_file_to_a_socket,
    files::directory_operations,
    files::allocate_and_truncate,
    net::tcp_round_trip_ipv4,
    net::tcp_round_trip_ipv6,
    net::udp_messages_carry_addresses_ipv4,
    net::udp_messages_carry_addresses_ipv6,
    net::connect_to_closed_port_is_refused,
    net::peer_shutdown_reads_zero,
    net::peer_reset_is_an_error,
    net::two_reads_on_one_socket_complete_in_order,
    net::recv_flags_are_honoured,
    net::shutdown_op_ends_the_write_side,
    net::thousand_operations_in_flight,
    zero_copy::a_large_zero_copy_send_arrives_intact,
    zero_copy::a_zero_copy_send_to_a_reset_peer_fails_as_a_send_does,
    zero_copy::a_cancelled_zero_copy_send_completes_once,
    claims::claimed_completions_stay_in_their_slots,
    claims::a_token_is_reported_when_the_completion_comes,
    claims::unclaiming_sends_the_completion_through_poll,
    claims::a_cancelled_claimed_read_returns_its_buffer,
    claims::a_claimed_send_and_receive_round_trip,
    pooled::a_pooled_receive_gets_a_lent_buffer,
    pooled::an_empty_pool_is_an_error_and_refilling_it_recovers,
    pooled::an_empty_pool_waits_while_nothing_arrives,
    pooled::multishot_receives_until_the_end_of_the_stream,
    pooled::multishot_receive_ends_on_reset,
    pooled::a_cancelled_multishot_receive_returns_every_buffer,
    pooled::multishot_exhaustion_ends_the_receive_without_loss,
    pooled::claimed_multishot_completions_come_in_order,
    pooled::a_pool_of_another_driver_is_refused,
    pooled::pools_nobody_holds_are_retired,
    pooled::a_stream_pool_keeps_small_receives_in_order,
    accept_multishot::multishot_accept_yields_each_connection,
    overflow::multishot_accept_overflowing_the_queue_loses_no_connection,
    overflow::multishot_receive_overflowing_the_queue_loses_no_byte,
    accept_multishot::a_cancelled_multishot_accept_loses_no_connection,
    accept_multishot::multishot_accept_takes_connections_already_waiting,
    accept_multishot::closing_the_listener_ends_a_multishot_accept,
    close::close_ends_a_pending_connect,
    close::close_ends_pending_sends_in_order,
    control::nop_completes,
    control::timeout_fires_after_its_duration,
    control::timeout_can_be_cancelled,
    control::endless_timeouts_wait_until_cancelled,
    control::cancel_pending_recv_returns_buffer,
    control::cancel_racing_completion_loses_no_bytes,
    control::stale_id_is_rejected,
    control::wake_from_another_thread,
    control::poll_with_zero_timeout_does_not_block,
    control::drop_with_operations_in_flight,
    control::close_completes_waiting_operations,
    control::forgotten_descriptor_numbers_are_fresh,
    control::pool_bursts_never_lose_a_wake,
    control::cancelled_pool_jobs_never_run,
    control::poll_waits_for_readiness,
    control::wakes_after_the_driver_is_gone_are_harmless,
    control::wait_exit_needs_kqueue,
    bad_input::closed_fd_is_an_error,
    bad_input::negative_fd_is_an_error,
    bad_input::zero_length_read_buffers_are_rejected,
    bad_input::static_buffer_cannot_be_read_into,
    bad_input::nul_in_path_is_rejected,
    bad_input::unsupported_address_family,
    bad_input::huge_offset_is_an_error,
    bad_input::errors_do_not_disturb_other_operations,
    overflow::nops_overflow_the_completion_queue,
    overflow::zero_timeouts_overflow_the_completion_queue,
    overflow::sends_and_receives_overflow_the_completion_queue,
    overflow::completions_pile_up_while_nobody_reaps,
    overflow::timers_fire_while_nobody_reaps,
    overflow::cancels_overflow_the_completion_queue,
    deadlines::an_idle_receive_times_out,
    deadlines::a_zero_deadline_times_out_unless_done_at_once,
    deadlines::a_receive_in_time_completes_and_never_times_out,
    deadlines::a_deadline_racing_data_loses_no_bytes,
    deadlines::a_cancel_before_the_deadline_is_a_cancel,
    deadlines::an_accept_with_no_client_times_out,
    deadlines::a_claimed_deadline_wakes_its_token,
    deadlines::a_deadline_ends_a_multishot_receive,
}
