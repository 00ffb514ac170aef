//! Owned buffers: the memory an operation reads into or writes from.
//!
//! The kernel (or a worker thread) may touch an operation's buffer after the caller's stack
//! frame is gone, so operations take their buffers by value and give them back in the
//! [`Completion`](crate::Completion). [`Buffer`] is the one type the driver stores.

use std::fmt;
use std::io;
use std::ops::{Bound, RangeBounds};

use bytes::{Bytes, BytesMut};

/// An owned buffer handed to an operation and returned with its completion.
///
/// It wraps a `Vec<u8>`, a `Box<[u8]>`, a [`bytes::BytesMut`] or a `&'static [u8]`, optionally
/// narrowed to a sub-range with [`Buffer::slice`], without copying and without allocating.
///
/// # Which bytes an operation uses
///
/// - **Writes** (write, send, sendmsg) send the buffer's initialized bytes: `vec[..len]`, the
///   whole boxed slice or static slice, or the sliced range.
/// - **Reads** (read, recv, recvmsg) fill the buffer's *spare capacity* for growable storage
///   (`Vec<u8>` and `BytesMut`: the bytes between `len` and `capacity`, and `len` grows by the
///   count read), the whole slice for a `Box<[u8]>`, or the sliced range for a slice view. A
///   `&'static [u8]` cannot be read into, and a buffer with no room gives `InvalidInput`.
///
/// [`bytes::BytesMut`]: https://docs.rs/bytes/1/bytes/struct.BytesMut.html
///
/// # Examples
///
/// ```
/// use proactor_driver::Buffer;
///
/// let buffer = Buffer::from(b"hello world".to_vec());
/// let hello = buffer.slice(..5).unwrap();
/// assert_eq!(hello.as_slice(), b"hello");
/// // The slice view gives the whole vector back.
/// let vec = hello.into_inner().into_vec().unwrap();
/// assert_eq!(vec, b"hello world");
/// ```
pub struct Buffer {
    storage: Storage,
    /// A `start..end` view of the initialized bytes, or `None` for the whole buffer.
    view: Option<(usize, usize)>,
}

enum Storage {
    Vec(Vec<u8>),
    Boxed(Box<[u8]>),
    BytesMut(BytesMut),
    Static(&'static [u8]),
    /// Shared bytes, written from (no room to read into).
    Bytes(Bytes),
    /// A buffer lent by a pool, written from (its length is what it received; reads have
    /// no room in it).
    Pooled(crate::PooledBuffer),
}

impl Buffer {
    /// Narrows the buffer to `range` of its initialized bytes, without copying.
    ///
    /// A read into the view fills exactly those bytes; a write sends exactly those bytes. Call
    /// [`Buffer::into_inner`] to get the whole buffer back.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if the range is reversed or reaches past the initialized bytes (or past
    /// an existing view); the buffer is dropped in that case, as with any failed conversion.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::Buffer;
    ///
    /// let buffer = Buffer::from(vec![0u8; 16]);
    /// assert_eq!(buffer.slice(4..8).unwrap().len(), 4);
    /// assert!(Buffer::from(vec![0u8; 16]).slice(8..32).is_err());
    /// ```
    pub fn slice(self, range: impl RangeBounds<usize>) -> io::Result<Buffer> {
        let (base, limit) = self.view.unwrap_or((0, self.storage.initialized().len()));
        let available = limit - base;
        let start = match range.start_bound() {
            Bound::Included(&n) => n,
            Bound::Excluded(&n) => n.checked_add(1).ok_or_else(range_error)?,
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&n) => n.checked_add(1).ok_or_else(range_error)?,
            Bound::Excluded(&n) => n,
            Bound::Unbounded => available,
        };
        if start > end || end > available {
            return Err(range_error());
        }
        Ok(Buffer {
            storage: self.storage,
            view: Some((base + start, base + end)),
        })
    }

    /// Removes a [`slice`](Buffer::slice) view, giving back the whole buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::Buffer;
    ///
    /// let whole = Buffer::from(vec![1u8, 2, 3]).slice(1..).unwrap().into_inner();
    /// assert_eq!(whole.as_slice(), &[1, 2, 3]);
    /// ```
    #[inline]
    pub fn into_inner(self) -> Buffer {
        Buffer {
            storage: self.storage,
            view: None,
        }
    }

    /// The initialized bytes this buffer presents (the view, if sliced).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::Buffer;
    ///
    /// assert_eq!(Buffer::from(&b"abc"[..]).as_slice(), b"abc");
    /// ```
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        let bytes = self.storage.initialized();
        match self.view {
            Some((start, end)) => &bytes[start..end],
            None => bytes,
        }
    }

    /// Number of initialized bytes this buffer presents (the view's length, if sliced).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::Buffer;
    ///
    /// assert_eq!(Buffer::from(Vec::with_capacity(64)).len(), 0);
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether [`len`](Buffer::len) is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::Buffer;
    ///
    /// assert!(Buffer::from(Vec::new()).is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many bytes a read into this buffer may fill (see [which bytes an operation uses](Buffer#which-bytes-an-operation-uses)).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::Buffer;
    ///
    /// let mut vec = Vec::with_capacity(64);
    /// vec.extend_from_slice(b"abcd");
    /// assert_eq!(Buffer::from(vec).read_capacity(), 60);
    /// assert_eq!(Buffer::from(vec![0u8; 8].into_boxed_slice()).read_capacity(), 8);
    /// assert_eq!(Buffer::from(&b"static"[..]).read_capacity(), 0);
    /// ```
    #[inline]
    pub fn read_capacity(&self) -> usize {
        match (&self.storage, self.view) {
            (Storage::Static(_) | Storage::Bytes(_) | Storage::Pooled(_), _) => 0,
            (_, Some((start, end))) => end - start,
            (Storage::Vec(vec), None) => vec.capacity() - vec.len(),
            (Storage::BytesMut(bytes), None) => bytes.capacity() - bytes.len(),
            (Storage::Boxed(boxed), None) => boxed.len(),
        }
    }

    /// Whether a read appends to this buffer's initialized bytes (a whole `Vec<u8>` or
    /// `BytesMut`), rather than overwriting a fixed range (a boxed slice or a slice view).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::Buffer;
    ///
    /// assert!(Buffer::from(Vec::with_capacity(8)).read_grows());
    /// assert!(!Buffer::from(vec![0u8; 8]).slice(..4).unwrap().read_grows());
    /// ```
    pub fn read_grows(&self) -> bool {
        self.view.is_none() && matches!(self.storage, Storage::Vec(_) | Storage::BytesMut(_))
    }

    /// The range of the whole buffer's initialized bytes this buffer is narrowed to, if it
    /// is a [`slice`](Buffer::slice) view.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::Buffer;
    ///
    /// let view = Buffer::from(vec![0u8; 8]).slice(2..5).unwrap();
    /// assert_eq!(view.view(), Some(2..5));
    /// assert_eq!(view.into_inner().view(), None);
    /// ```
    pub fn view(&self) -> Option<std::ops::Range<usize>> {
        self.view.map(|(start, end)| start..end)
    }

    /// Copies as much of `bytes` as fits into the memory a read would fill, as if a read had
    /// returned them; returns how many were copied.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::Buffer;
    ///
    /// let mut buffer = Buffer::from(Vec::with_capacity(4));
    /// assert_eq!(buffer.fill_from(b"abcdef"), 4);
    /// assert_eq!(buffer.as_slice(), b"abcd");
    /// ```
    pub fn fill_from(&mut self, bytes: &[u8]) -> usize {
        let (pointer, capacity) = self.read_destination();
        let count = capacity.min(bytes.len());
        if count == 0 {
            return 0;
        }
        // SAFETY: read_destination gave `capacity` writable bytes at `pointer`, and `count`
        // is at most that; `bytes` cannot overlap memory this buffer owns exclusively.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), pointer, count);
            self.commit_read(count);
        }
        count
    }

    /// Empties the buffer for reuse: a `Vec<u8>` or `BytesMut` keeps its capacity and drops
    /// its contents, and a slice view is removed. Boxed and static slices have a fixed length
    /// and are left as they are.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::Buffer;
    ///
    /// let mut buffer = Buffer::from(b"used".to_vec());
    /// buffer.clear();
    /// assert!(buffer.is_empty());
    /// assert_eq!(buffer.read_capacity(), 4);
    /// ```
    pub fn clear(&mut self) {
        self.view = None;
        match &mut self.storage {
            Storage::Vec(vec) => vec.clear(),
            Storage::BytesMut(bytes) => bytes.clear(),
            Storage::Boxed(_) | Storage::Static(_) | Storage::Bytes(_) | Storage::Pooled(_) => {}
        }
    }

    /// Gives back the `Vec<u8>` this buffer was made from, or the buffer itself if it holds
    /// another kind of storage. A slice view is dropped.
    ///
    /// # Errors
    ///
    /// The unchanged buffer, when it does not hold a `Vec<u8>`.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::Buffer;
    ///
    /// assert_eq!(Buffer::from(vec![7u8]).into_vec().unwrap(), vec![7]);
    /// assert!(Buffer::from(&b"x"[..]).into_vec().is_err());
    /// ```
    #[inline]
    pub fn into_vec(self) -> Result<Vec<u8>, Buffer> {
        match self.storage {
            Storage::Vec(vec) => Ok(vec),
            storage => Err(Buffer {
                storage,
                view: self.view,
            }),
        }
    }

    /// Gives back the `Box<[u8]>` this buffer was made from, or the buffer itself.
    ///
    /// # Errors
    ///
    /// The unchanged buffer, when it does not hold a `Box<[u8]>`.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::Buffer;
    ///
    /// let boxed: Box<[u8]> = vec![1, 2].into_boxed_slice();
    /// assert_eq!(&*Buffer::from(boxed).into_boxed_slice().unwrap(), &[1, 2]);
    /// ```
    pub fn into_boxed_slice(self) -> Result<Box<[u8]>, Buffer> {
        match self.storage {
            Storage::Boxed(boxed) => Ok(boxed),
            storage => Err(Buffer {
                storage,
                view: self.view,
            }),
        }
    }

    /// Gives back the [`BytesMut`] this buffer was made from, or the buffer itself.
    ///
    /// # Errors
    ///
    /// The unchanged buffer, when it does not hold a `BytesMut`.
    ///
    /// [`BytesMut`]: https://docs.rs/bytes/1/bytes/struct.BytesMut.html
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use proactor_driver::Buffer;
    ///
    /// let bytes = BytesMut::from(&b"abc"[..]);
    /// assert_eq!(&Buffer::from(bytes).into_bytes_mut().unwrap()[..], b"abc");
    /// ```
    pub fn into_bytes_mut(self) -> Result<BytesMut, Buffer> {
        match self.storage {
            Storage::BytesMut(bytes) => Ok(bytes),
            storage => Err(Buffer {
                storage,
                view: self.view,
            }),
        }
    }

    /// Gives back the [`PooledBuffer`](crate::PooledBuffer) this buffer was made from, or the
    /// buffer itself.
    ///
    /// # Errors
    ///
    /// The unchanged buffer, when it does not hold a pooled buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::{Buffer, PooledBuffer};
    ///
    /// let buffer = Buffer::from(PooledBuffer::from(b"abc".to_vec()));
    /// assert_eq!(&buffer.into_pooled().unwrap()[..], b"abc");
    /// ```
    pub fn into_pooled(self) -> Result<crate::PooledBuffer, Buffer> {
        match self.storage {
            Storage::Pooled(buffer) => Ok(buffer),
            storage => Err(Buffer {
                storage,
                view: self.view,
            }),
        }
    }

    /// Gives back the `Bytes` this buffer was made from, or the buffer itself.
    ///
    /// # Errors
    ///
    /// The unchanged buffer, when it does not hold `Bytes`.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::Buffer;
    ///
    /// let bytes = bytes::Bytes::from_static(b"abc");
    /// assert_eq!(Buffer::from(bytes).into_bytes().unwrap(), &b"abc"[..]);
    /// ```
    pub fn into_bytes(self) -> Result<Bytes, Buffer> {
        match self.storage {
            Storage::Bytes(bytes) => Ok(bytes),
            storage => Err(Buffer {
                storage,
                view: self.view,
            }),
        }
    }

    /// Gives back the `&'static [u8]` this buffer was made from, or the buffer itself.
    ///
    /// # Errors
    ///
    /// The unchanged buffer, when it does not hold a static slice.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::Buffer;
    ///
    /// assert_eq!(Buffer::from(&b"abc"[..]).into_static().unwrap(), b"abc");
    /// ```
    pub fn into_static(self) -> Result<&'static [u8], Buffer> {
        match self.storage {
            Storage::Static(bytes) => Ok(bytes),
            storage => Err(Buffer {
                storage,
                view: self.view,
            }),
        }
    }

    /// Pointer and length of the bytes a write sends.
    ///
    /// The pointer stays valid while the buffer is alive and unmodified, wherever the `Buffer`
    /// value itself is moved: every storage kind keeps its bytes on the heap or in static memory.
    #[inline]
    pub(crate) fn write_source(&self) -> (*const u8, usize) {
        let bytes = self.as_slice();
        (bytes.as_ptr(), bytes.len())
    }

    /// Pointer and length of the memory a read fills; the length is 0 when there is no room.
    ///
    /// Like [`write_source`](Buffer::write_source), the pointer does not move with the value.
    #[inline]
    pub(crate) fn read_destination(&mut self) -> (*mut u8, usize) {
        let capacity = self.read_capacity();
        if capacity == 0 {
            return (std::ptr::null_mut(), 0);
        }
        let pointer = match (self.view, &mut self.storage) {
            // Ruled out by the zero capacity above.
            (_, Storage::Static(_) | Storage::Bytes(_) | Storage::Pooled(_)) => {
                return (std::ptr::null_mut(), 0);
            }
            (Some((start, _)), Storage::Vec(vec)) => vec[start..].as_mut_ptr(),
            (Some((start, _)), Storage::BytesMut(bytes)) => bytes[start..].as_mut_ptr(),
            (Some((start, _)), Storage::Boxed(boxed)) => boxed[start..].as_mut_ptr(),
            (None, Storage::Vec(vec)) => vec.spare_capacity_mut().as_mut_ptr().cast(),
            (None, Storage::BytesMut(bytes)) => bytes.spare_capacity_mut().as_mut_ptr().cast(),
            (None, Storage::Boxed(boxed)) => boxed.as_mut_ptr(),
        };
        (pointer, capacity)
    }

    /// Records that a read filled the first `count` bytes of [`read_destination`].
    ///
    /// # Safety
    ///
    /// The first `count` bytes of the read destination must have been written (the kernel or a
    /// syscall reported `count` bytes read into exactly that memory).
    ///
    /// [`read_destination`]: Buffer::read_destination
    #[inline]
    pub(crate) unsafe fn commit_read(&mut self, count: usize) {
        debug_assert!(count <= self.read_capacity());
        if self.view.is_some() {
            // A view is already initialized memory; nothing to extend.
            return;
        }
        match &mut self.storage {
            // SAFETY: the caller guarantees `count` bytes past `len` were written, and
            // `count <= capacity - len` because that is the length read_destination gave.
            Storage::Vec(vec) => unsafe { vec.set_len(vec.len() + count) },
            // SAFETY: as for Vec: the bytes are written and within capacity.
            Storage::BytesMut(bytes) => unsafe { bytes.set_len(bytes.len() + count) },
            Storage::Boxed(_) | Storage::Static(_) | Storage::Bytes(_) | Storage::Pooled(_) => {}
        }
    }
}

fn range_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "buffer range is reversed or past the initialized bytes",
    )
}

impl Buffer {
    /// Whether the buffer borrows static memory (owns nothing to free).
    #[inline]
    pub(crate) fn is_static(&self) -> bool {
        matches!(self.storage, Storage::Static(_))
    }
}

impl Storage {
    #[inline]
    fn initialized(&self) -> &[u8] {
        match self {
            Storage::Vec(vec) => vec,
            Storage::Boxed(boxed) => boxed,
            Storage::BytesMut(bytes) => bytes,
            Storage::Static(bytes) => bytes,
            Storage::Bytes(bytes) => bytes,
            Storage::Pooled(buffer) => buffer,
        }
    }
}

impl From<Vec<u8>> for Buffer {
    fn from(vec: Vec<u8>) -> Buffer {
        Buffer {
            storage: Storage::Vec(vec),
            view: None,
        }
    }
}

impl From<Box<[u8]>> for Buffer {
    fn from(boxed: Box<[u8]>) -> Buffer {
        Buffer {
            storage: Storage::Boxed(boxed),
            view: None,
        }
    }
}

impl From<BytesMut> for Buffer {
    fn from(bytes: BytesMut) -> Buffer {
        Buffer {
            storage: Storage::BytesMut(bytes),
            view: None,
        }
    }
}

impl From<&'static [u8]> for Buffer {
    fn from(bytes: &'static [u8]) -> Buffer {
        Buffer {
            storage: Storage::Static(bytes),
            view: None,
        }
    }
}

/// Shared bytes, to send (no copy: the buffer holds a reference to them).
impl From<Bytes> for Buffer {
    fn from(bytes: Bytes) -> Buffer {
        Buffer {
            storage: Storage::Bytes(bytes),
            view: None,
        }
    }
}

/// A lent buffer, to send what it received (a write from it moves no byte in memory).
impl From<crate::PooledBuffer> for Buffer {
    fn from(buffer: crate::PooledBuffer) -> Buffer {
        Buffer {
            storage: Storage::Pooled(buffer),
            view: None,
        }
    }
}

impl From<&'static str> for Buffer {
    fn from(text: &'static str) -> Buffer {
        Buffer::from(text.as_bytes())
    }
}

impl fmt::Debug for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.storage {
            Storage::Vec(_) => "Vec",
            Storage::Boxed(_) => "Boxed",
            Storage::BytesMut(_) => "BytesMut",
            Storage::Static(_) => "Static",
            Storage::Bytes(_) => "Bytes",
            Storage::Pooled(_) => "Pooled",
        };
        f.debug_struct("Buffer")
            .field("storage", &kind)
            .field("len", &self.len())
            .field("view", &self.view)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_into_vec_spare_capacity_extends_len() {
        let mut vec = Vec::with_capacity(8);
        vec.push(b'a');
        let mut buffer = Buffer::from(vec);
        let (pointer, length) = buffer.read_destination();
        assert_eq!(length, 7);
        // SAFETY: pointer/length describe the vector's spare capacity.
        unsafe {
            pointer.write(b'b');
            buffer.commit_read(1);
        }
        assert_eq!(buffer.as_slice(), b"ab");
    }

    #[test]
    fn view_reads_into_range_without_growing() {
        let mut buffer = Buffer::from(vec![0u8; 8]).slice(2..4).unwrap();
        let (pointer, length) = buffer.read_destination();
        assert_eq!(length, 2);
        // SAFETY: pointer/length describe bytes 2..4 of the vector.
        unsafe {
            pointer.write(9);
            buffer.commit_read(1);
        }
        assert_eq!(buffer.into_inner().as_slice(), &[0, 0, 9, 0, 0, 0, 0, 0]);
    }

    #[test]
    #[allow(clippy::reversed_empty_ranges)] // A reversed range is what this checks.
    fn nested_slices_are_relative_and_checked() {
        let buffer = Buffer::from(b"0123456789".to_vec()).slice(2..8).unwrap();
        let inner = buffer.slice(1..3).unwrap();
        assert_eq!(inner.as_slice(), b"34");
        assert!(inner.slice(0..3).is_err());
        assert!(Buffer::from(vec![0u8; 4]).slice(3..2).is_err());
        assert!(Buffer::from(vec![0u8; 4]).slice(..=usize::MAX).is_err());
    }

    #[test]
    fn static_buffers_cannot_be_read_into() {
        let mut buffer = Buffer::from("text");
        assert_eq!(buffer.read_destination().1, 0);
        let mut view = Buffer::from("text").slice(1..2).unwrap();
        assert_eq!(view.read_destination().1, 0);
        assert_eq!(buffer.as_slice(), b"text");
    }
}
