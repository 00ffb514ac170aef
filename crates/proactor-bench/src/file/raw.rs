//! The references without a runtime: a hand-written loop over the `io-uring` crate, and a
//! plain `pread` loop.

use std::io;
use std::os::unix::fs::FileExt;

use io_uring::{opcode, types, IoUring, SubmissionQueue};

use super::data::{check, AlignedBuf, Lane, Shape, TestFile};
use super::harness::{heartbeat, Bench};
use crate::ring;

/// The raw ring (proactor-driver's setup flags and queue size): one `IORING_OP_READ` in
/// flight per lane, `submit_and_wait(1)`, drain the completion queue, queue the lane's next
/// read for each buffer that came back (submitted by the next `submit_and_wait`).
pub struct RawRead<'a> {
    ring: IoUring,
    reads: RawReads,
    /// The file `reads` reads, kept open while this lives.
    test: &'a TestFile,
}

/// Everything of [`RawRead`] but the ring, so both can be borrowed at once.
struct RawReads {
    shape: Shape,
    lanes: Vec<Lane>,
    bufs: Vec<AlignedBuf>,
    /// The offset each lane's buffer is being (or was last) read from.
    offsets: Vec<u64>,
    /// Reads each lane still has to make in this run.
    left: Vec<u64>,
    /// Reads the kernel may still be writing into; `Drop` waits for them.
    in_flight: usize,
}

impl<'a> RawRead<'a> {
    pub fn new(shape: Shape, test: &'a TestFile) -> io::Result<RawRead<'a>> {
        Ok(RawRead {
            ring: ring::build(ring::entries_for(shape.depth))?,
            reads: RawReads {
                shape,
                lanes: shape.lanes(),
                bufs: (0..shape.depth)
                    .map(|_| AlignedBuf::new(shape.block))
                    .collect(),
                offsets: vec![0; shape.depth],
                left: vec![0; shape.depth],
                in_flight: 0,
            },
            test,
        })
    }
}

impl RawReads {
    /// Queues lane `index`'s next read into its buffer, which is not in flight.
    fn push(&mut self, sq: &mut SubmissionQueue<'_>, fd: i32, index: usize) -> io::Result<()> {
        let offset = self.lanes[index].next_offset();
        self.offsets[index] = offset;
        self.left[index] -= 1;
        let buf = &mut self.bufs[index];
        let entry = opcode::Read::new(types::Fd(fd), buf.as_mut_ptr(), buf.len() as u32)
            .offset(offset)
            .build()
            .user_data(index as u64);
        // SAFETY: lane `index`'s buffer is not in flight (first push of the run, or its own
        // CQE just arrived); `run` reads it only after its CQE and `Drop` waits for every read
        // in flight before freeing. The queue has room: at most `depth` entries are queued.
        unsafe { sq.push(&entry) }.map_err(|_| io::Error::other("submission queue full"))?;
        self.in_flight += 1;
        Ok(())
    }
}

impl Bench for RawRead<'_> {
    fn run(&mut self, ops: u64) -> io::Result<()> {
        let fd = self.test.fd();
        let reads = &mut self.reads;
        let (submitter, mut sq, mut cq) = self.ring.split();
        for index in 0..reads.shape.depth {
            reads.left[index] = reads.shape.lane_ops(index, ops);
            if reads.left[index] > 0 {
                reads.push(&mut sq, fd, index)?;
            }
        }
        sq.sync();
        let block = reads.shape.block;
        let mut completed = 0;
        while completed < ops {
            heartbeat();
            submitter.submit_and_wait(1)?;
            cq.sync();
            for cqe in &mut cq {
                let index = cqe.user_data() as usize;
                reads.in_flight -= 1;
                completed += 1;
                if cqe.result() < 0 {
                    return Err(io::Error::from_raw_os_error(-cqe.result()));
                }
                check(
                    reads.bufs[index].as_slice(),
                    cqe.result() as usize,
                    reads.offsets[index],
                    block,
                )?;
                if reads.left[index] > 0 {
                    reads.push(&mut sq, fd, index)?;
                }
            }
            sq.sync();
        }
        Ok(())
    }
}

impl Drop for RawRead<'_> {
    fn drop(&mut self) {
        // Only after an error can reads still be in flight; the kernel may write into their
        // buffers until their CQEs arrive, so wait for them, and leak the buffers if the ring
        // fails.
        while self.reads.in_flight > 0 {
            match self.ring.submit_and_wait(1) {
                Ok(_) => {}
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    std::mem::forget(std::mem::take(&mut self.reads.bufs));
                    return;
                }
            }
            let reaped = self.ring.completion().count();
            self.reads.in_flight = self.reads.in_flight.saturating_sub(reaped);
        }
    }
}

/// The reference: one `pread` (`FileExt::read_at`) at a time, visiting the lanes in turn, so
/// it reads the same offsets as the others.
pub struct StdRead<'a> {
    test: &'a TestFile,
    shape: Shape,
    lanes: Vec<Lane>,
    buf: AlignedBuf,
}

impl<'a> StdRead<'a> {
    pub fn new(shape: Shape, test: &'a TestFile) -> StdRead<'a> {
        StdRead {
            test,
            shape,
            lanes: shape.lanes(),
            buf: AlignedBuf::new(shape.block),
        }
    }
}

impl Bench for StdRead<'_> {
    fn run(&mut self, ops: u64) -> io::Result<()> {
        let file = self.test.std();
        let depth = self.lanes.len();
        for read in 0..ops {
            let offset = self.lanes[read as usize % depth].next_offset();
            let count = file.read_at(self.buf.as_mut_slice(), offset)?;
            check(self.buf.as_slice(), count, offset, self.shape.block)?;
            heartbeat();
        }
        Ok(())
    }
}
