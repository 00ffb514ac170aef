//! `futures-io`'s traits for [`Compat`].

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Adaptable, Compat};

/// Reads through the adapter's read buffer (one copy into `buf`).
#[cfg_attr(docsrs, doc(cfg(feature = "futures-io")))]
impl<T: Adaptable> futures_io::AsyncRead for Compat<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_read_into(cx, buf)
    }
}

/// The adapter's read buffer, without the copy of `poll_read`.
#[cfg_attr(docsrs, doc(cfg(feature = "futures-io")))]
impl<T: Adaptable> futures_io::AsyncBufRead for Compat<T> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.get_mut().poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amount: usize) {
        self.get_mut().consume(amount);
    }
}

/// Writes are accepted into the write buffer and sent in the background; `poll_flush` waits
/// for them and `poll_close` also shuts a socket's writing direction down.
#[cfg_attr(docsrs, doc(cfg(feature = "futures-io")))]
impl<T: Adaptable> futures_io::AsyncWrite for Compat<T> {
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

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_flush_all(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_shutdown_write(cx)
    }
}
