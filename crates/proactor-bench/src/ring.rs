//! The raw io_uring rings the hand-written loops use.

use std::io;

use io_uring::IoUring;

/// A ring set up as proactor-driver sets up its own (single issuer, deferred task work,
/// cooperative task running; a plain ring on kernels before 6.1), so the raw loops and the
/// driver differ only in the code around the ring.
pub fn build(entries: u32) -> io::Result<IoUring> {
    let mut fast = IoUring::builder();
    fast.setup_coop_taskrun()
        .setup_taskrun_flag()
        .setup_single_issuer()
        .setup_defer_taskrun();
    match fast.build(entries) {
        Ok(ring) => Ok(ring),
        Err(error) if error.raw_os_error() == Some(libc::EINVAL) => {
            IoUring::builder().build(entries)
        }
        Err(error) => Err(error),
    }
}

/// Submission-queue size for a workload keeping `in_flight` operations queued: the driver's
/// default (256) unless more are needed. Used for the driver and the raw ring alike.
pub fn entries_for(in_flight: usize) -> u32 {
    (in_flight.next_power_of_two() as u32).max(256)
}
