//! NOP round trips: submit a batch of NOPs, then wait until the whole batch has completed.
//!
//! A NOP does no I/O, so this measures what a submit/complete cycle costs on its own: the
//! driver's bookkeeping (slots, ids, the completion vector) against the bare ring.

use std::io;

use io_uring::{opcode, IoUring};
use proactor_driver::{Backend, Completion, Config, Driver, Op};

use crate::harness::{heartbeat, Bench};
use crate::ring;

/// Through proactor-driver: `submit(Op::Nop)` × batch, then `poll` until the batch is back.
pub struct DriverNop {
    driver: Driver,
    batch: usize,
    completions: Vec<Completion>,
}

impl DriverNop {
    pub fn new(backend: Backend, batch: usize) -> io::Result<DriverNop> {
        let config = Config::new()
            .backend(backend)
            .entries(ring::entries_for(batch));
        Ok(DriverNop {
            driver: Driver::with_config(config)?,
            batch,
            completions: Vec::with_capacity(batch),
        })
    }
}

impl Bench for DriverNop {
    fn run(&mut self, ops: u64) -> io::Result<()> {
        let mut done = 0;
        while done < ops {
            let count = (ops - done).min(self.batch as u64) as usize;
            for _ in 0..count {
                self.driver.submit(Op::Nop);
            }
            let mut got = 0;
            while got < count {
                heartbeat();
                got += self.driver.poll(&mut self.completions, None)?;
            }
            for completion in self.completions.drain(..) {
                completion.result?;
            }
            done += count as u64;
        }
        Ok(())
    }
}

/// The same cycle on the `io-uring` crate by hand: push the batch's SQEs, one
/// `submit_and_wait(batch)`, drain the completion queue.
pub struct RawNop {
    ring: IoUring,
    batch: usize,
}

impl RawNop {
    pub fn new(batch: usize) -> io::Result<RawNop> {
        Ok(RawNop {
            ring: ring::build(ring::entries_for(batch))?,
            batch,
        })
    }
}

impl Bench for RawNop {
    fn run(&mut self, ops: u64) -> io::Result<()> {
        let (submitter, mut sq, mut cq) = self.ring.split();
        let mut done = 0;
        while done < ops {
            let count = (ops - done).min(self.batch as u64) as usize;
            for index in 0..count {
                let entry = opcode::Nop::new().build().user_data(index as u64);
                // SAFETY: a NOP carries no pointers, so nothing must outlive the entry. The
                // queue has room: it holds at least `batch` entries and is empty here (each
                // batch is submitted in full below before the next one starts).
                unsafe { sq.push(&entry) }
                    .map_err(|_| io::Error::other("submission queue full"))?;
            }
            sq.sync();
            let mut got = 0;
            while got < count {
                heartbeat();
                submitter.submit_and_wait(count - got)?;
                cq.sync();
                for cqe in &mut cq {
                    if cqe.result() < 0 {
                        return Err(io::Error::from_raw_os_error(-cqe.result()));
                    }
                    got += 1;
                }
            }
            done += count as u64;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_completes_partial_and_full_batches() {
        let mut benches: Vec<Box<dyn Bench>> = vec![
            Box::new(DriverNop::new(Backend::IoUring, 8).unwrap()),
            Box::new(DriverNop::new(Backend::Epoll, 8).unwrap()),
            Box::new(RawNop::new(8).unwrap()),
        ];
        for bench in &mut benches {
            bench.run(3).unwrap();
            bench.run(1001).unwrap();
        }
    }
}
