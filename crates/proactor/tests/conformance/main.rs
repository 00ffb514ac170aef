//! The runtime's conformance suite: written once, run on every backend this machine has.
//! Test names carry the backend (`epoll::tcp::echo_round_trip_ipv4`).

#![cfg(any(target_os = "linux", windows))]

mod descriptors;
mod incoming;
mod join_set;
mod multicast;
mod net;
mod paused_time;
mod peek;
mod pooled;
mod proxy;
mod readiness;
mod registered;
mod remote_tasks;
mod run_modes;
mod runtime;
mod tcp_socket;
mod timeouts;
mod udp_batch;
#[cfg(unix)]
mod unix_messages;
mod waiting_reads;
mod writes;

use proactor::{Backend, Builder, Runtime};

/// A connected pair of TCP streams on loopback: the connecting end, then the accepted one.
pub async fn tcp_pair() -> (proactor::net::TcpStream, proactor::net::TcpStream) {
    let listener = proactor::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap();
    let address = listener.local_addr().unwrap();
    let client = proactor::spawn(async move { proactor::net::TcpStream::connect(address).await });
    let (server, _) = listener.accept().await.unwrap();
    (client.await.unwrap().unwrap(), server)
}

/// No test waits longer than this for one step.
pub const LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

pub fn runtime(backend: Backend) -> Runtime {
    Builder::new()
        .backend(backend)
        .build()
        .expect("runtime on the backend under test")
}

/// Instantiates each listed test once per backend of this OS; attributes before a test
/// (`#[cfg(unix)]`) go to each of its instances.
macro_rules! conformance {
    ($($(#[$attribute:meta])* $module:ident :: $test:ident),* $(,)?) => {
        #[cfg(target_os = "linux")]
        mod io_uring {
            $(
                $(#[$attribute])*
                #[test]
                fn $test() {
                    crate::$module::$test(crate::runtime(proactor::Backend::IoUring));
                }
            )*
        }
        #[cfg(target_os = "linux")]
        mod epoll {
            $(
                $(#[$attribute])*
                #[test]
                fn $test() {
                    crate::$module::$test(crate::runtime(proactor::Backend::Epoll));
                }
            )*
        }
        #[cfg(windows)]
        mod iocp {
            $(
                $(#[$attribute])*
                #[test]
                fn $test() {
                    crate::$module::$test(crate::runtime(proactor::Backend::Iocp));
                }
            )*
        }
    };
}
conformance! {
    waiting_reads::two_reads_waiting_in_one_task_both_finish,
    waiting_reads::a_waiting_read_dropped_in_one_task_leaves_the_other_waiting,
    waiting_reads::a_read_dropped_while_it_waits_loses_nothing,
    waiting_reads::a_read_under_another_waker_is_woken_through_it,
    waiting_reads::a_reader_that_never_waits_lets_other_tasks_run,
    #[cfg(unix)]
    unix_messages::unix_datagrams_go_to_and_come_from_addresses,
    #[cfg(unix)]
    unix_messages::descriptors_pass_over_unix_sockets,
    #[cfg(unix)]
    unix_messages::descriptors_without_room_are_closed,
    #[cfg(unix)]
    unix_messages::descriptors_pass_to_and_from_addresses,
    #[cfg(unix)]
    unix_messages::cancelled_fd_receives_close_what_arrives,
    incoming::incoming_serves_each_connection,
    incoming::dropping_incoming_closes_what_it_accepted,
    #[cfg(unix)]
    incoming::unix_incoming_serves_each_connection,
    pooled::pooled_reads_echo_in_order,
    pooled::no_bytes_lost_when_pooled_reads_are_cancelled,
    pooled::an_exhausted_pool_makes_reads_wait,
    pooled::an_allocating_pool_lends_beyond_its_capacity,
    pooled::no_bytes_lost_when_allocating_pooled_reads_are_cancelled,
    registered::streams_of_a_registering_runtime_echo_and_close,
    timeouts::a_read_that_gets_nothing_times_out_and_the_stream_goes_on,
    timeouts::a_read_that_gets_bytes_in_time_returns_them,
    timeouts::a_write_the_peer_does_not_take_times_out_and_loses_nothing,
    timeouts::a_zero_timeout_is_refused,
    timeouts::a_pooled_read_times_out_and_returns_its_buffer,
    runtime::spawn_and_join,
    runtime::handles_of_an_ended_task_leave_the_next_alone,
    runtime::handles_outlive_their_runtime,
    runtime::aborts_panics_and_alive_counts,
    descriptors::sockets_lend_their_descriptors,
    descriptors::sockets_go_to_std_and_back,
    #[cfg(unix)]
    descriptors::unix_sockets_go_to_std_and_back,
    peek::peek_leaves_the_bytes_for_the_read,
    peek::peek_sees_what_a_cancelled_read_kept,
    writes::literals_and_bytes_are_written_without_a_copy,
    writes::buf_writer_copies_borrowed_slices_in_order,
    writes::read_buf_keeps_everything_when_cancelled,
    proxy::copy_bidirectional_proxies_both_ways,
    proxy::copy_bidirectional_reports_a_reset,
    tcp_socket::tcp_socket_connects_from_its_bound_address,
    tcp_socket::tcp_socket_listens_with_its_options,
    tcp_socket::tcp_socket_options_read_back,
    #[cfg(unix)]
    tcp_socket::tcp_sockets_share_a_port_with_reuseport,
    tcp_socket::tcp_socket_connect_errors_are_clear,
    runtime::interval_missed_ticks,
    paused_time::a_paused_clock_runs_timers_without_waiting,
    paused_time::timers_of_many_tasks_end_in_deadline_order,
    paused_time::advance_moves_the_clock_by_hand,
    paused_time::a_paused_clock_with_no_timers_waits_for_io,
    paused_time::misuse_of_the_clock_panics_clearly,
    runtime::interval_at_and_reset,
    runtime::timeout_at_elapses_and_completes,
    join_set::join_set_yields_outputs_as_tasks_end,
    join_set::join_set_reports_panics_and_aborts,
    join_set::dropping_a_join_set_aborts_its_tasks,
    join_set::detached_join_set_tasks_run_on,
    join_set::join_set_shutdown_and_join_all,
    join_set::abort_handle_stops_a_spawned_task,
    join_set::task_locals_follow_their_futures,
    readiness::try_read_and_try_write_move_bytes_without_waiting,
    readiness::try_read_returns_what_a_cancelled_read_kept_first,
    readiness::udp_try_send_to_and_try_recv_from,
    readiness::readable_waits_for_bytes_and_the_end,
    readiness::writable_waits_for_room,
    readiness::ready_says_what_it_found,
    readiness::udp_readable_waits_for_a_datagram,
    #[cfg(unix)]
    readiness::async_fd_waits_for_a_foreign_descriptor,
    #[cfg(unix)]
    readiness::async_fd_on_a_closed_then_reused_number,
    runtime::abort_drops_the_task,
    runtime::panicking_task_is_a_join_error,
    runtime::detached_tasks_run_on,
    runtime::yield_now_lets_others_run,
    runtime::sleep_waits_its_duration,
    runtime::equal_deadlines_fire_in_the_order_set,
    runtime::timeout_elapses_and_completes,
    runtime::interval_ticks,
    runtime::endless_durations_never_end,
    runtime::many_timers_armed_and_cancelled,
    runtime::handle_spawns_from_another_thread,
    runtime::panics_in_remote_tasks_do_not_stop_the_runtime,
    remote_tasks::remote_tasks_give_outputs_panics_and_aborts,
    remote_tasks::a_remote_task_of_a_dropped_runtime_is_cancelled,
    remote_tasks::group_spawns_are_joined_from_anywhere,
    run_modes::run_nowait_never_waits_and_run_once_waits_once,
    run_modes::run_ends_when_tasks_do_or_when_stopped,
    run_modes::metrics_count_tasks_timers_and_operations,
    run_modes::shutdown_gracefully_lets_tasks_finish_then_cuts_the_rest,
    run_modes::hooks_run_around_waits_and_threads,
    runtime::group_of_pinned_runtimes,
    net::tcp_echo_ipv4,
    net::zero_copy_writes_arrive_whole,
    net::write_all_of_a_view_sends_it_whole_and_gives_it_back,
    net::tcp_echo_ipv6,
    net::tcp_connect_refused,
    net::tcp_from_std_listener_and_stream,
    net::tcp_address_in_use,
    #[cfg_attr(windows, ignore = "Wine 8 closes a socket with SO_LINGER 0 gracefully: the peer reads 0")]
    net::tcp_peer_reset,
    net::a_reset_met_by_a_dropped_read_fails_the_next_read,
    net::tcp_read_after_shutdown_is_zero,
    net::tcp_shutdown_of_an_ended_write_side_is_done,
    net::a_stream_dropped_outside_block_on_closes_at_once,
    net::tcp_split_halves_work_concurrently,
    net::tcp_read_exact_and_write_all_with_every_buffer_kind,
    net::tcp_send_file_from_an_offset,
    net::tcp_connects_by_host_name,
    net::no_bytes_lost_when_reads_are_cancelled,
    net::udp_send_to_and_recv_from,
    net::udp_connected,
    udp_batch::udp_recv_many_gets_datagrams_of_several_senders,
    udp_batch::udp_recv_many_returns_what_is_waiting,
    udp_batch::udp_recv_many_reports_truncation,
    udp_batch::udp_send_many_to_delivers_each,
    udp_batch::udp_batches_refuse_bad_input_clearly,
    udp_batch::udp_cancelled_recv_many_loses_nothing,
    multicast::udp_multicast_options_round_trip,
    multicast::udp_multicast_datagram_loops_back,
    multicast::udp_ssm_join_works_or_errors_cleanly,
    #[cfg_attr(windows, ignore = "Wine 8 does not complete a pending receive with the ICMP error")]
    net::udp_send_to_a_closed_port_fails_the_next_receive,
    #[cfg(unix)]
    net::unix_stream_and_listener,
    #[cfg(unix)]
    net::unix_datagram_pair,
}
