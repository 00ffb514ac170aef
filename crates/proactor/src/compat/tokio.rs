//! tokio's I/O traits for [`Compat`].

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::ReadBuf;

use super::{Adaptable, Compat};

/// Reads through the adapter's read buffer (one copy into `buf`; its unfilled part is never
/// zeroed).
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
impl<T: Adaptable> tokio::io::AsyncRead for Compat<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let this = self.get_mut();
        let available = ready!(this.poll_fill_buf(cx))?;
        let count = available.len().min(buf.remaining());
        buf.put_slice(&available[..count]);
        this.consume(count);
        Poll::Ready(Ok(()))
    }
}

/// The adapter's read buffer, without the copy of `poll_read`.
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
impl<T: Adaptable> tokio::io::AsyncBufRead for Compat<T> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.get_mut().poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amount: usize) {
        self.get_mut().consume(amount);
    }
}

/// Writes are accepted into the write buffer and sent in the background; `poll_flush` waits
/// for them and `poll_shutdown` also shuts a socket's writing direction down.
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
impl<T: Adaptable> tokio::io::AsyncWrite for Compat<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_from(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_vectored_from(cx, bufs)
    }

    /// Vectored writes gather into the write buffer with one copy.
    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_all(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_shutdown_write(cx)
    }
}
