//! The test file, the offsets each in-flight "lane" reads, the per-read check, and
//! page-aligned buffers.
//!
//! Every read of every variant is checked: each 4 KiB page of the file starts with its own
//! page number, so a read that returned the wrong bytes, or fewer than asked, fails the run.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::ptr::NonNull;

/// The page size: offsets are multiples of it and buffers start on it.
pub const PAGE: usize = 4096;
/// The PRNG's fixed seed: every variant reads the same pages in the same order per lane.
const SEED: u64 = 0x9E37_79B9_7F4A_7C15;

/// A file of numbered pages, written, synced and read once so it sits in the page cache. Its
/// name is removed at once; the file lives until this value is dropped.
pub struct TestFile {
    file: File,
    bytes: u64,
}

impl TestFile {
    pub fn create(dir: &Path, mib: u64) -> io::Result<TestFile> {
        // Unique per file, not just per process: tests in one binary make several at once.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let serial = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = dir.join(format!(
            "proactor-file-bench-{}-{serial}.tmp",
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
        let bytes = pages * PAGE as u64;
        // And read once, checking every page, so it is all in the page cache.
        let mut offset = 0;
        while offset < bytes {
            let count = (bytes - offset).min(chunk.len() as u64) as usize;
            file.read_exact_at(&mut chunk[..count], offset)?;
            check(&chunk[..count], count, offset, count)?;
            offset += count as u64;
        }
        Ok(TestFile { file, bytes })
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }

    /// The file itself, for `pread`.
    pub fn std(&self) -> &File {
        &self.file
    }

    /// A new, independent open file description of the same (unlinked) file: for runtimes
    /// that take ownership of a descriptor, and for `tokio::fs`, whose seek-then-read moves
    /// the description's shared offset.
    pub fn reopen(&self) -> io::Result<File> {
        File::open(format!("/proc/self/fd/{}", self.fd()))
    }
}

/// Checks that a read at `offset` returned `count` = `block` bytes holding the right pages.
#[inline]
pub fn check(data: &[u8], count: usize, offset: u64, block: usize) -> io::Result<()> {
    if count != block || data.len() < block {
        return Err(io::Error::other(format!(
            "read at {offset} returned {count} bytes into a {}-byte buffer, not {block}",
            data.len()
        )));
    }
    let first = offset / PAGE as u64;
    for (index, page) in data[..block].chunks_exact(PAGE).enumerate() {
        let mut number = [0u8; 8];
        number.copy_from_slice(&page[..8]);
        let found = u64::from_le_bytes(number);
        let wanted = first + index as u64;
        if found != wanted {
            return Err(io::Error::other(format!(
                "read at {offset}: page {wanted} holds page {found}"
            )));
        }
    }
    Ok(())
}

/// The two workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// 4 KiB at random 4 KiB-aligned offsets.
    Random,
    /// 1 MiB at consecutive offsets, wrapping at the end of the file.
    Sequential,
}

impl Workload {
    pub const ALL: [Workload; 2] = [Workload::Random, Workload::Sequential];

    pub fn prefix(self) -> &'static str {
        match self {
            Workload::Random => "rand",
            Workload::Sequential => "seq",
        }
    }

    pub fn block(self) -> usize {
        match self {
            Workload::Random => PAGE,
            Workload::Sequential => 1 << 20,
        }
    }
}

/// What a variant reads: the workload, its block size, reads in flight, the file size.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub workload: Workload,
    pub block: usize,
    pub depth: usize,
    pub file_bytes: u64,
}

impl Shape {
    /// How many of `ops` reads lane `index` makes: lanes split them evenly, the first ones
    /// taking the remainder, so every variant reads exactly the same offsets.
    pub fn lane_ops(&self, index: usize, ops: u64) -> u64 {
        let depth = self.depth as u64;
        ops / depth + u64::from((index as u64) < ops % depth)
    }

    pub fn lanes(&self) -> Vec<Lane> {
        (0..self.depth)
            .map(|index| Lane::new(*self, index))
            .collect()
    }
}

/// The offsets one in-flight read slot reads, one after the other: a fixed-seed xorshift64*
/// stream per lane for random reads; lane `i` of `depth` reads blocks `i`, `i + depth`, …
/// for sequential ones. Lanes keep their place across runs.
#[derive(Debug, Clone)]
pub struct Lane {
    state: u64,
    index: u64,
    depth: u64,
    blocks: u64,
    block: u64,
    random: bool,
}

impl Lane {
    fn new(shape: Shape, index: usize) -> Lane {
        let blocks = (shape.file_bytes / shape.block as u64).max(1);
        let random = shape.workload == Workload::Random;
        Lane {
            state: if random {
                SEED ^ (index as u64 + 1).wrapping_mul(0xD6E8_FEB8_6659_FD93)
            } else {
                0
            },
            index: index as u64,
            depth: shape.depth as u64,
            blocks,
            block: shape.block as u64,
            random,
        }
    }

    #[inline]
    pub fn next_offset(&mut self) -> u64 {
        let block = if self.random {
            self.state ^= self.state >> 12;
            self.state ^= self.state << 25;
            self.state ^= self.state >> 27;
            (self.state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 16) % self.blocks
        } else {
            let block = (self.state * self.depth + self.index) % self.blocks;
            self.state += 1;
            block
        };
        block * self.block
    }
}

/// Page-aligned, zero-filled heap memory, for the variants whose buffer traits we can
/// implement (compio, monoio, the raw ring, `pread`, tokio's `&mut [u8]`). Freed with the
/// layout it was allocated with.
pub struct AlignedBuf {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the buffer owns its memory exclusively (like a `Box<[u8]>`); nothing is shared.
unsafe impl Send for AlignedBuf {}
// SAFETY: `&AlignedBuf` gives only shared reads of the bytes.
unsafe impl Sync for AlignedBuf {}

impl AlignedBuf {
    pub fn new(len: usize) -> AlignedBuf {
        let layout = Self::layout(len);
        // SAFETY: the layout has a non-zero size (`layout` rounds 0 up to a page).
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        let Some(ptr) = NonNull::new(ptr) else {
            std::alloc::handle_alloc_error(layout)
        };
        AlignedBuf { ptr, len }
    }

    fn layout(len: usize) -> std::alloc::Layout {
        std::alloc::Layout::from_size_align(len.max(PAGE), PAGE)
            .expect("a buffer size below isize::MAX")
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn as_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `len` bytes from `ptr` are allocated, zero-initialized and owned by self.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with exactly this layout, and freed only here.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), Self::layout(self.len)) }
    }
}

// compio reads into `as_uninit()` (the whole buffer) and reports the count through `set_len`;
// the memory is always initialized, so there is no length to keep.
impl compio::buf::IoBuf for AlignedBuf {
    fn as_init(&self) -> &[u8] {
        self.as_slice()
    }
}

impl compio::buf::SetLen for AlignedBuf {
    unsafe fn set_len(&mut self, len: usize) {
        debug_assert!(len <= self.len);
    }
}

impl compio::buf::IoBufMut for AlignedBuf {
    fn as_uninit(&mut self) -> &mut [std::mem::MaybeUninit<u8>] {
        // SAFETY: the bytes are initialized and exclusively borrowed; viewing initialized
        // bytes as `MaybeUninit` is always sound, and compio writes only bytes into them.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().cast(), self.len) }
    }
}

// SAFETY: `read_ptr` points at `bytes_init` initialized bytes that stay put while the buffer
// is owned by an operation (the allocation never moves).
unsafe impl monoio::buf::IoBuf for AlignedBuf {
    fn read_ptr(&self) -> *const u8 {
        self.as_ptr()
    }

    fn bytes_init(&self) -> usize {
        self.len
    }
}

// SAFETY: `write_ptr` points at `bytes_total` writable bytes that stay put while an operation
// owns the buffer; all of them are always initialized, so `set_init` has nothing to record.
unsafe impl monoio::buf::IoBufMut for AlignedBuf {
    fn write_ptr(&mut self) -> *mut u8 {
        self.as_mut_ptr()
    }

    fn bytes_total(&mut self) -> usize {
        self.len
    }

    unsafe fn set_init(&mut self, pos: usize) {
        debug_assert!(pos <= self.len);
    }
}

/// proactor's buffer for a read of `block` bytes: a page-aligned window of an over-allocated
/// `Box<[u8]>`, as a [`proactor::Slice`] (the public way to read into part of a buffer); the
/// slice that comes back from a read is submitted again as it is.
pub fn proactor_buffer(block: usize) -> io::Result<proactor::Slice<Box<[u8]>>> {
    use proactor::IoBuf;
    let storage = vec![0u8; block + PAGE].into_boxed_slice();
    let start = (PAGE - storage.as_ptr() as usize % PAGE) % PAGE;
    storage.slice(start..start + block)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_page_aligned() {
        for block in [PAGE, 1 << 20] {
            let buf = AlignedBuf::new(block);
            assert_eq!(buf.as_ptr() as usize % PAGE, 0);
            assert_eq!(buf.as_slice().len(), block);
            let slice = proactor_buffer(block).unwrap();
            assert_eq!(slice.as_slice().as_ptr() as usize % PAGE, 0);
            assert_eq!(slice.as_slice().len(), block);
        }
    }

    #[test]
    fn lanes_split_ops_and_cover_the_file() {
        let shape = Shape {
            workload: Workload::Sequential,
            block: 1 << 20,
            depth: 3,
            file_bytes: 8 << 20,
        };
        let total: u64 = (0..3).map(|lane| shape.lane_ops(lane, 10)).sum();
        assert_eq!(total, 10);
        let mut lanes = shape.lanes();
        let mut seen: Vec<u64> = (0..8).map(|i| lanes[i % 3].next_offset() >> 20).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..8).collect::<Vec<_>>());
        let random = Shape {
            workload: Workload::Random,
            block: PAGE,
            depth: 2,
            file_bytes: 64 * PAGE as u64,
        };
        let (mut a, mut b) = (random.lanes(), random.lanes());
        for _ in 0..1000 {
            let offset = a[1].next_offset();
            assert!(offset < 64 * PAGE as u64 && offset % PAGE as u64 == 0);
            assert_eq!(offset, b[1].next_offset());
        }
    }

    #[test]
    fn check_catches_short_and_wrong_reads() {
        let file = TestFile::create(&std::env::temp_dir(), 1).unwrap();
        let mut buf = AlignedBuf::new(2 * PAGE);
        let count = file.std().read_at(buf.as_mut_slice(), PAGE as u64).unwrap();
        check(buf.as_slice(), count, PAGE as u64, 2 * PAGE).unwrap();
        assert!(check(buf.as_slice(), count, 0, 2 * PAGE).is_err());
        assert!(check(buf.as_slice(), PAGE, PAGE as u64, 2 * PAGE).is_err());
    }
}
