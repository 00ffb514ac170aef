//! 4 KiB page-cache reads: random 4 KiB-aligned offsets of a file that is already cached,
//! with a fixed number of reads in flight.
//!
//! Every read is checked: each page of the file starts with its own page number, so a read that
//! returned the wrong page, or fewer than 4096 bytes, fails the run.
//!
//! # Buffers
//!
//! By default every variant reads into a page-aligned 4 KiB window of an 8 KiB `Box<[u8]>`:
//! the box is over-allocated and the window starts at its first 4096-aligned byte, so the
//! memory is released with the layout it was allocated with (no hand-made `Vec`/`Box` from an
//! aligned pointer, which would free with the wrong layout). The driver receives it as
//! `Buffer::from(boxed).slice(window)`; a read fills exactly the window and the same `Buffer`
//! is submitted again as it comes back, with no conversion at all.
//!
//! `--vec-buffers` instead gives the driver `Vec::with_capacity(4096)` (read into its spare
//! capacity; malloc aligns it to 16 bytes only), taken back each time with
//! `into_buffer().into_vec()`, cleared and wrapped again. The raw and `pread` loops then use
//! plain `vec![0; 4096]` boxes, equally unaligned.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::FileExt;
use std::path::Path;

use io_uring::{opcode, types, IoUring, SubmissionQueue};
use proactor_driver::{Backend, Buffer, Completion, Config, Driver, Op};

use crate::harness::{heartbeat, Bench};
use crate::ring;

/// Bytes per read, and the alignment of offsets and (by default) buffers.
pub const PAGE: usize = 4096;
/// The PRNG's fixed seed: every variant reads the same sequence of pages.
const SEED: u64 = 0x9E37_79B9_7F4A_7C15;

/// A file of numbered pages, written, synced and read once so it sits in the page cache. Its
/// name is removed at once; the file lives until this value is dropped.
pub struct TestFile {
    file: File,
    pages: u64,
}

impl TestFile {
    pub fn create(dir: &Path, mib: u64) -> io::Result<TestFile> {
        // Unique per file, not just per process: tests in one binary make several at once.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let serial = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = dir.join(format!(
            "proactor-bench-{}-{serial}.tmp",
            std::process::id()
        ));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        std::fs::remove_file(&path)?;
        let pages = mib * (1 << 20) / PAGE as u64;
        const CHUNK_PAGES: u64 = 256;
        let mut chunk = vec![0u8; CHUNK_PAGES as usize * PAGE];
        let mut first = 0;
        while first < pages {
            let count = (pages - first).min(CHUNK_PAGES);
            let bytes = &mut chunk[..count as usize * PAGE];
            for (index, page) in bytes.chunks_exact_mut(PAGE).enumerate() {
                let number = first + index as u64;
                page.fill(number as u8);
                page[..8].copy_from_slice(&number.to_le_bytes());
            }
            file.write_all_at(bytes, first * PAGE as u64)?;
            first += count;
        }
        // Written back now, so background writeback does not run during the measurements.
        file.sync_data()?;
        // And read once, checking every page, so it is all in the page cache.
        let mut first = 0;
        while first < pages {
            let count = (pages - first).min(CHUNK_PAGES);
            let bytes = &mut chunk[..count as usize * PAGE];
            file.read_exact_at(bytes, first * PAGE as u64)?;
            for (index, page) in bytes.chunks_exact(PAGE).enumerate() {
                check(page, PAGE as i64, first + index as u64)?;
            }
            first += count;
        }
        Ok(TestFile { file, pages })
    }

    fn fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

/// Checks that a read of `page` returned `count` = 4096 bytes holding that page.
fn check(data: &[u8], count: i64, page: u64) -> io::Result<()> {
    if count != PAGE as i64 || data.len() != PAGE {
        return Err(io::Error::other(format!(
            "read of page {page} returned {count} bytes into a {}-byte buffer, not {PAGE}",
            data.len()
        )));
    }
    let mut number = [0u8; 8];
    number.copy_from_slice(&data[..8]);
    let found = u64::from_le_bytes(number);
    if found != page {
        return Err(io::Error::other(format!(
            "read of page {page} returned page {found}"
        )));
    }
    Ok(())
}

/// xorshift64*: cheap, fixed-seed, good enough to scatter page numbers.
struct Pages {
    state: u64,
    pages: u64,
}

impl Pages {
    fn new(pages: u64) -> Pages {
        Pages {
            state: SEED,
            pages: pages.max(1),
        }
    }

    fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        (self.state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 16) % self.pages
    }
}

/// 4 KiB of memory a read fills: a window of a boxed slice, page-aligned unless `unaligned`.
struct PageBuf {
    storage: Box<[u8]>,
    start: usize,
}

impl PageBuf {
    fn new(unaligned: bool) -> PageBuf {
        if unaligned {
            return PageBuf {
                storage: vec![0u8; PAGE].into_boxed_slice(),
                start: 0,
            };
        }
        let storage = vec![0u8; 2 * PAGE].into_boxed_slice();
        let address = storage.as_ptr() as usize;
        let start = (PAGE - address % PAGE) % PAGE;
        PageBuf { storage, start }
    }

    fn window(&self) -> &[u8] {
        &self.storage[self.start..self.start + PAGE]
    }

    fn window_mut(&mut self) -> &mut [u8] {
        &mut self.storage[self.start..self.start + PAGE]
    }

    /// The driver's view of the same memory.
    fn into_buffer(self) -> io::Result<Buffer> {
        Buffer::from(self.storage).slice(self.start..self.start + PAGE)
    }
}

/// What every read variant needs.
pub struct Params<'a> {
    pub file: &'a TestFile,
    pub depth: usize,
    pub vec_buffers: bool,
}

/// Through proactor-driver: keep `depth` `Op::Read`s in flight; each completion's buffer is
/// checked and submitted again at the next offset.
pub struct DriverRead<'a> {
    driver: Driver,
    file: &'a TestFile,
    vec_buffers: bool,
    pages: Pages,
    /// Buffers not in flight (all of them between runs).
    spare: Vec<Buffer>,
    /// The page each operation in flight reads, indexed by `OpId::index`.
    expected: Vec<u64>,
    completions: Vec<Completion>,
}

impl<'a> DriverRead<'a> {
    pub fn new(backend: Backend, params: Params<'a>) -> io::Result<DriverRead<'a>> {
        let config = Config::new()
            .backend(backend)
            .entries(ring::entries_for(params.depth));
        let spare = (0..params.depth)
            .map(|_| {
                if params.vec_buffers {
                    Ok(Buffer::from(Vec::with_capacity(PAGE)))
                } else {
                    PageBuf::new(false).into_buffer()
                }
            })
            .collect::<io::Result<Vec<_>>>()?;
        Ok(DriverRead {
            driver: Driver::with_config(config)?,
            file: params.file,
            vec_buffers: params.vec_buffers,
            pages: Pages::new(params.file.pages),
            spare,
            expected: vec![0; params.depth],
            completions: Vec::with_capacity(params.depth),
        })
    }
}

/// Submits a read of the next page into `buf`, remembering which page it is.
fn submit_read(
    driver: &mut Driver,
    expected: &mut Vec<u64>,
    pages: &mut Pages,
    fd: RawFd,
    buf: Buffer,
) {
    let page = pages.next();
    let id = driver.submit(Op::Read {
        fd,
        buf,
        offset: Some(page * PAGE as u64),
    });
    let index = id.index();
    if index >= expected.len() {
        expected.resize(index + 1, 0);
    }
    expected[index] = page;
}

impl Bench for DriverRead<'_> {
    fn run(&mut self, ops: u64) -> io::Result<()> {
        let DriverRead {
            driver,
            file,
            vec_buffers,
            pages,
            spare,
            expected,
            completions,
        } = self;
        let fd = file.fd();
        let mut submitted = 0;
        while submitted < ops {
            let Some(buf) = spare.pop() else { break };
            submit_read(driver, expected, pages, fd, buf);
            submitted += 1;
        }
        let mut completed = 0;
        while completed < ops {
            heartbeat();
            driver.poll(completions, None)?;
            // Check every completion before submitting again: a new submission may reuse the
            // slot index (and so the `expected` entry) of a completion not yet looked at.
            for completion in completions.drain(..) {
                completed += 1;
                let count = completion.result?;
                let page = expected[completion.id.index()];
                let buf = completion
                    .op
                    .into_buffer()
                    .ok_or_else(|| io::Error::other("a read completed without its buffer"))?;
                check(buf.as_slice(), count as i64, page)?;
                let buf = if *vec_buffers {
                    let mut vec = buf
                        .into_vec()
                        .map_err(|_| io::Error::other("a Vec buffer came back as another kind"))?;
                    vec.clear();
                    Buffer::from(vec)
                } else {
                    buf
                };
                spare.push(buf);
            }
            while submitted < ops {
                let Some(buf) = spare.pop() else { break };
                submit_read(driver, expected, pages, fd, buf);
                submitted += 1;
            }
        }
        Ok(())
    }
}

/// The same on the `io-uring` crate by hand: `depth` reads in flight, `submit_and_wait(1)`,
/// drain the completion queue, and queue a new read for each buffer that came back (submitted
/// by the next `submit_and_wait`, as the driver submits at its next `poll`).
pub struct RawRead<'a> {
    ring: IoUring,
    reads: RawReads,
    /// The file `reads.fd` names, kept open while this lives.
    _file: &'a TestFile,
}

/// Everything of [`RawRead`] but the ring, so both can be borrowed at once.
struct RawReads {
    fd: RawFd,
    pages: Pages,
    bufs: Vec<PageBuf>,
    /// The page each buffer is being (or was last) read from.
    expected: Vec<u64>,
    /// Indices of the buffers not in flight.
    spare: Vec<usize>,
    /// Reads the kernel may still be writing into; `Drop` waits for them.
    in_flight: usize,
}

impl<'a> RawRead<'a> {
    pub fn new(params: Params<'a>) -> io::Result<RawRead<'a>> {
        Ok(RawRead {
            ring: ring::build(ring::entries_for(params.depth))?,
            reads: RawReads {
                fd: params.file.fd(),
                pages: Pages::new(params.file.pages),
                bufs: (0..params.depth)
                    .map(|_| PageBuf::new(params.vec_buffers))
                    .collect(),
                expected: vec![0; params.depth],
                spare: (0..params.depth).rev().collect(),
                in_flight: 0,
            },
            _file: params.file,
        })
    }
}

impl RawReads {
    /// Queues a read of the next page into buffer `index`, which must not be in flight.
    fn push(&mut self, sq: &mut SubmissionQueue<'_>, index: usize) -> io::Result<()> {
        let page = self.pages.next();
        self.expected[index] = page;
        let pointer = self.bufs[index].window_mut().as_mut_ptr();
        let entry = opcode::Read::new(types::Fd(self.fd), pointer, PAGE as u32)
            .offset(page * PAGE as u64)
            .build()
            .user_data(index as u64);
        // Buffer `index` is not in flight (it came from `spare` or its own CQE); `run` reads
        // it only after its CQE and `Drop` waits for every read in flight before freeing.
        // SAFETY: the entry points at that buffer's 4 KiB window, alive and untouched until
        // its CQE; the queue has room, as at most `depth` entries are ever outstanding.
        unsafe { sq.push(&entry) }.map_err(|_| io::Error::other("submission queue full"))?;
        self.in_flight += 1;
        Ok(())
    }
}

impl Bench for RawRead<'_> {
    fn run(&mut self, ops: u64) -> io::Result<()> {
        let reads = &mut self.reads;
        let (submitter, mut sq, mut cq) = self.ring.split();
        let mut submitted = 0;
        while submitted < ops {
            let Some(index) = reads.spare.pop() else {
                break;
            };
            reads.push(&mut sq, index)?;
            submitted += 1;
        }
        sq.sync();
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
                    reads.spare.push(index);
                    return Err(io::Error::from_raw_os_error(-cqe.result()));
                }
                check(
                    reads.bufs[index].window(),
                    i64::from(cqe.result()),
                    reads.expected[index],
                )?;
                if submitted < ops {
                    reads.push(&mut sq, index)?;
                    submitted += 1;
                } else {
                    reads.spare.push(index);
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

/// The reference: one `pread` (`FileExt::read_at`) at a time, no ring, no driver.
pub struct StdRead<'a> {
    file: &'a TestFile,
    pages: Pages,
    buf: PageBuf,
}

impl<'a> StdRead<'a> {
    pub fn new(params: Params<'a>) -> StdRead<'a> {
        StdRead {
            file: params.file,
            pages: Pages::new(params.file.pages),
            buf: PageBuf::new(params.vec_buffers),
        }
    }
}

impl Bench for StdRead<'_> {
    fn run(&mut self, ops: u64) -> io::Result<()> {
        for _ in 0..ops {
            heartbeat();
            let page = self.pages.next();
            let count = self
                .file
                .file
                .read_at(self.buf.window_mut(), page * PAGE as u64)?;
            check(self.buf.window(), count as i64, page)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_buffers_are_aligned_and_sized() {
        let buf = PageBuf::new(false);
        assert_eq!(buf.window().as_ptr() as usize % PAGE, 0);
        assert_eq!(buf.window().len(), PAGE);
        let buffer = buf.into_buffer().unwrap();
        assert_eq!(buffer.as_slice().as_ptr() as usize % PAGE, 0);
        assert_eq!(buffer.read_capacity(), PAGE);
    }

    #[test]
    fn pages_stay_in_range_and_repeat_per_seed() {
        let mut a = Pages::new(16);
        let mut b = Pages::new(16);
        for _ in 0..1000 {
            let page = a.next();
            assert!(page < 16);
            assert_eq!(page, b.next());
        }
    }

    /// Runs the variant `make` makes (with and without Vec buffers) on a small file, `depth`
    /// reads in flight, in a thread, failing instead of hanging if it does not finish in time.
    fn reads_right_pages(depth: usize, ops: u64, make: fn(Params<'_>) -> Box<dyn Bench + '_>) {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let file = TestFile::create(&std::env::temp_dir(), 1).unwrap();
            for vec_buffers in [false, true] {
                let mut bench = make(Params {
                    file: &file,
                    depth,
                    vec_buffers,
                });
                bench.run(3).unwrap();
                bench.run(ops).unwrap();
            }
            done.send(()).unwrap();
        });
        finished
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the reads did not finish in 60 s (or failed: see the panic above)");
    }

    #[test]
    fn driver_on_io_uring_reads_the_right_pages() {
        reads_right_pages(4, 1000, |params| {
            Box::new(DriverRead::new(Backend::IoUring, params).unwrap())
        });
    }

    #[test]
    fn raw_loop_reads_the_right_pages() {
        reads_right_pages(4, 1000, |params| Box::new(RawRead::new(params).unwrap()));
    }

    #[test]
    fn pread_loop_reads_the_right_pages() {
        reads_right_pages(4, 1000, |params| Box::new(StdRead::new(params)));
    }

    #[test]
    fn driver_on_epoll_reads_the_right_pages() {
        // Many reads, many in flight, pool threads on other CPUs: this hung (until the
        // driver's fix for it) when a pool thread's wake landed between the driver's reset
        // and drain of its waker, and every later wake was skipped.
        reads_right_pages(32, 20_000, |params| {
            Box::new(DriverRead::new(Backend::Epoll, params).unwrap())
        });
    }
}
