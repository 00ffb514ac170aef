//! Owned buffers for I/O: the types an operation takes by value and gives back.

use std::io;
use std::marker::PhantomData;
use std::ops::RangeBounds;

use bytes::BytesMut;
use proactor_driver::Buffer;

/// A result together with the buffer the operation took: I/O gives the buffer back whether it
/// succeeded or not.
///
/// # Examples
///
/// ```
/// let result: proactor::BufResult<usize, Vec<u8>> = (Ok(0), Vec::new());
/// let (count, buffer) = result;
/// # let _ = (count, buffer);
/// ```
pub type BufResult<T, B> = (io::Result<T>, B);

/// A buffer type I/O can own: `Vec<u8>`, `Box<[u8]>`, [`BytesMut`], `&'static [u8]`, and a
/// [`Slice`] of any of them.
///
/// Writes send the initialized bytes (`vec[..len]`); reads fill the spare capacity of a
/// `Vec<u8>` or `BytesMut` (growing `len`), the whole of a `Box<[u8]>`, or a slice's range.
/// A `&'static [u8]`, a byte string literal (`&'static [u8; N]`) and `Bytes` can only be
/// written.
///
/// [`BytesMut`]: https://docs.rs/bytes/1/bytes/struct.BytesMut.html
///
/// # Examples
///
/// ```
/// use proactor::IoBuf;
///
/// fn accepts<B: IoBuf>(_: B) {}
/// accepts(vec![0u8; 4]);
/// accepts(bytes::BytesMut::new());
/// accepts(&b"static"[..]);
/// accepts(b"a literal");
/// accepts(bytes::Bytes::from_static(b"shared"));
/// ```
pub trait IoBuf: Sized + 'static {
    /// Hands the memory to the driver.
    #[doc(hidden)]
    fn into_buffer(self) -> Buffer;

    /// Takes it back; `buffer` is always what `into_buffer` produced for this type.
    #[doc(hidden)]
    fn from_buffer(buffer: Buffer) -> Self;

    /// Narrows the buffer to `range` of its initialized bytes, without copying; get the whole
    /// buffer back with [`Slice::into_inner`].
    ///
    /// # Errors
    ///
    /// `InvalidInput` if the range is reversed or past the initialized bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::IoBuf;
    ///
    /// let slice = b"hello world".to_vec().slice(6..)?;
    /// assert_eq!(slice.as_slice(), b"world");
    /// assert_eq!(slice.into_inner().len(), 11);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn slice(self, range: impl RangeBounds<usize>) -> io::Result<Slice<Self>> {
        Ok(Slice {
            buffer: self.into_buffer().slice(range)?,
            _whole: PhantomData,
        })
    }
}

/// Why `from_buffer` cannot meet another storage kind: each type's `into_buffer` makes the
/// only kind its `from_buffer` sees.
fn mismatch(kind: &str) -> ! {
    unreachable!("proactor: a buffer came back as another kind than the {kind} it was made from")
}

impl IoBuf for Vec<u8> {
    #[inline]
    fn into_buffer(self) -> Buffer {
        Buffer::from(self)
    }

    #[inline]
    fn from_buffer(buffer: Buffer) -> Vec<u8> {
        buffer
            .into_inner()
            .into_vec()
            .unwrap_or_else(|_| mismatch("Vec<u8>"))
    }
}

impl IoBuf for Box<[u8]> {
    #[inline]
    fn into_buffer(self) -> Buffer {
        Buffer::from(self)
    }

    fn from_buffer(buffer: Buffer) -> Box<[u8]> {
        buffer
            .into_inner()
            .into_boxed_slice()
            .unwrap_or_else(|_| mismatch("Box<[u8]>"))
    }
}

impl IoBuf for BytesMut {
    #[inline]
    fn into_buffer(self) -> Buffer {
        Buffer::from(self)
    }

    fn from_buffer(buffer: Buffer) -> BytesMut {
        buffer
            .into_inner()
            .into_bytes_mut()
            .unwrap_or_else(|_| mismatch("BytesMut"))
    }
}

impl IoBuf for &'static [u8] {
    #[inline]
    fn into_buffer(self) -> Buffer {
        Buffer::from(self)
    }

    fn from_buffer(buffer: Buffer) -> &'static [u8] {
        buffer
            .into_inner()
            .into_static()
            .unwrap_or_else(|_| mismatch("&'static [u8]"))
    }
}

/// Shared bytes, to write with no copy (a write holds a reference to them). No room to read
/// into.
impl IoBuf for bytes::Bytes {
    #[inline]
    fn into_buffer(self) -> Buffer {
        Buffer::from(self)
    }

    fn from_buffer(buffer: Buffer) -> bytes::Bytes {
        buffer
            .into_inner()
            .into_bytes()
            .unwrap_or_else(|_| mismatch("Bytes"))
    }
}

/// A byte string literal (`b"+OK\r\n"`), to write as it is. No room to read into.
impl<const N: usize> IoBuf for &'static [u8; N] {
    #[inline]
    fn into_buffer(self) -> Buffer {
        Buffer::from(&self[..])
    }

    fn from_buffer(buffer: Buffer) -> &'static [u8; N] {
        buffer
            .into_inner()
            .into_static()
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .unwrap_or_else(|| mismatch("&'static [u8; N]"))
    }
}

/// A buffer a pool lent to a read: writing it sends what it received with no copy. It has no
/// room to read into.
impl IoBuf for proactor_driver::PooledBuffer {
    #[inline]
    fn into_buffer(self) -> Buffer {
        Buffer::from(self)
    }

    fn from_buffer(buffer: Buffer) -> proactor_driver::PooledBuffer {
        buffer
            .into_inner()
            .into_pooled()
            .unwrap_or_else(|_| mismatch("PooledBuffer"))
    }
}

/// A range of a buffer, made by [`IoBuf::slice`]: I/O on it uses only that range.
///
/// # Examples
///
/// ```
/// use proactor::IoBuf;
///
/// let slice = vec![1u8, 2, 3, 4].slice(1..3)?;
/// assert_eq!(slice.as_slice(), &[2, 3]);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Slice<B> {
    buffer: Buffer,
    _whole: PhantomData<B>,
}

impl<B: IoBuf> Slice<B> {
    /// The whole buffer, without the range.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::IoBuf;
    ///
    /// assert_eq!(vec![1u8, 2, 3].slice(..1)?.into_inner(), vec![1, 2, 3]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_inner(self) -> B {
        B::from_buffer(self.buffer.into_inner())
    }

    /// The bytes in the range.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::IoBuf;
    ///
    /// assert_eq!(b"abc".to_vec().slice(2..)?.as_slice(), b"c");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn as_slice(&self) -> &[u8] {
        self.buffer.as_slice()
    }

    /// Where the range starts and ends in the whole buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::IoBuf;
    ///
    /// assert_eq!(vec![0u8; 9].slice(3..7)?.range(), 3..7);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn range(&self) -> std::ops::Range<usize> {
        self.buffer.view().unwrap_or(0..self.buffer.len())
    }
}

impl<B: IoBuf> IoBuf for Slice<B> {
    #[inline]
    fn into_buffer(self) -> Buffer {
        self.buffer
    }

    fn from_buffer(buffer: Buffer) -> Slice<B> {
        Slice {
            buffer,
            _whole: PhantomData,
        }
    }
}

impl<B> std::fmt::Debug for Slice<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slice")
            .field("range", &self.buffer.view())
            .finish()
    }
}

/// The driver's own buffer type, for code that mixes layers.
impl IoBuf for Buffer {
    #[inline]
    fn into_buffer(self) -> Buffer {
        self
    }

    fn from_buffer(buffer: Buffer) -> Buffer {
        buffer
    }
}

/// `buf` as a buffer to receive into, the type socket2's receives take.
pub(crate) fn as_uninit(buf: &mut [u8]) -> &mut [std::mem::MaybeUninit<u8>] {
    // SAFETY: `MaybeUninit<u8>` has `u8`'s layout, and the callers only hand the slice to a
    // receive, which writes initialized bytes into it (never uninitialized ones), so `buf`
    // holds initialized bytes afterwards as the `&mut [u8]` requires.
    unsafe { &mut *(buf as *mut [u8] as *mut [std::mem::MaybeUninit<u8>]) }
}
