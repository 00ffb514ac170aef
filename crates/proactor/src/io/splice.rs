//! [`copy`](super::copy) inside the kernel (Linux): reader → pipe → writer with `splice(2)`,
//! while both ends offer their descriptor ([`AsyncRead::raw_source`],
//! [`AsyncWrite::raw_sink`]). The bytes never enter user space.
//!
//! Splicing pays only for bulk streams: each chunk costs two splices through the pipe (on
//! io_uring, each one a hand-off to the ring's kernel workers) where the buffer loop costs a
//! read and a write, so for small messages the saved memory copies do not cover it (see the
//! bench crate's README, "copy-bench rr"). `copy` therefore starts on its buffer loop and comes
//! here once a read fills at least [`BULK_READ`] bytes, and goes back after [`SMALL_ROUNDS`]
//! rounds in a row that each moved less than [`SMALL_SPLICE`]. A round ends with the pipe
//! empty, so a switch either way never leaves a byte behind in it.
//!
//! One pipe per `copy` call, made when the kernel path is first taken and closed with the
//! call (also when its future is dropped). Each round fills the pipe from the reader and
//! empties it into the writer before the next, so the pipe holds bytes only between those two
//! steps. An end that cannot splice (`EINVAL`: a file system without it, an append-mode file;
//! `ENOSYS`: splice filtered out) ends the kernel path for the call: whatever the pipe holds
//! goes to the writer through a buffer first, and `copy` carries on with its buffer loop, so
//! no byte is lost or sent twice.

use std::io;

use proactor_driver::{Fd, Op};

use super::{AsyncRead, AsyncWrite};
use crate::net::{take_buffer, Pipe};
use crate::runtime::op;
use crate::IoBuf;

/// The room asked for the pipe: four times Linux's default, so a round moves up to 256 KiB
/// in two system calls (see the bench crate's README for 64 KiB against 1 MiB). Less when the
/// system's limits refuse.
const PIPE_ROOM: usize = 256 * 1024;

/// A buffer read at least this full says the stream is bulk: half of `copy`'s 64 KiB buffer.
pub(super) const BULK_READ: usize = 32 * 1024;

/// A splice into the pipe that moves less than this is a small message's worth.
const SMALL_SPLICE: usize = 16 * 1024;

/// How many small splices in a row send `copy` back to its buffer loop: more than one, so a
/// bulk stream's odd short chunk (the tail of a burst) does not bounce it between the paths.
const SMALL_ROUNDS: u32 = 4;

/// The kernel path's state for one `copy` call.
#[derive(Debug, Default)]
pub(super) struct Splice {
    /// Made at first use.
    pipe: Option<(Pipe, usize)>,
    /// An end refused, or no pipe could be made: the buffer loop does the rest.
    off: bool,
    /// The last buffer read was bulk ([`BULK_READ`]): splice what follows.
    bulk: bool,
}

impl Splice {
    /// Tells the kernel path how many bytes the buffer loop's last read gave.
    pub(super) fn buffered(&mut self, count: usize) {
        self.bulk = count >= BULK_READ;
    }

    /// Moves bytes from `reader` to `writer` inside the kernel while the stream is bulk and
    /// both ends offer their descriptor, adding what reached the writer to `copied`.
    /// `Ok(true)` at the end of the stream; `Ok(false)` when the buffer loop must go on (the
    /// stream is not bulk or turned small, an end stopped offering its descriptor or refused
    /// to splice), with the pipe empty.
    pub(super) async fn copy<R, W>(
        &mut self,
        reader: &mut R,
        writer: &mut W,
        copied: &mut u64,
    ) -> io::Result<bool>
    where
        R: AsyncRead,
        W: AsyncWrite,
    {
        if self.off || !self.bulk {
            return Ok(false);
        }
        let mut small = 0;
        loop {
            let (Some(source), Some(_)) = (reader.raw_source(), writer.raw_sink()) else {
                return Ok(false);
            };
            if self.pipe.is_none() {
                // Without a pipe (out of descriptors, say), the buffer loop still works.
                let Ok(pipe) = Pipe::new() else {
                    self.off = true;
                    return Ok(false);
                };
                let room = pipe.grow(PIPE_ROOM);
                self.pipe = Some((pipe, room));
            }
            let Some((pipe, room)) = &self.pipe else {
                unreachable!("the pipe was made above")
            };
            let filled =
                match splice(source.fd(), source.offset(), pipe.write_fd(), None, *room).await {
                    Ok(0) => return Ok(true),
                    Ok(count) => count,
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                    Err(error) if refused(&error) => {
                        self.off = true;
                        return Ok(false);
                    }
                    Err(error) => return Err(error),
                };
            reader.raw_consumed(filled as u64);
            if !self.empty_into(writer, filled, copied).await? {
                return Ok(false);
            }
            // Counted once the pipe is empty again, so going back leaves nothing in it.
            small = if filled < SMALL_SPLICE { small + 1 } else { 0 };
            if small >= SMALL_ROUNDS {
                self.bulk = false;
                return Ok(false);
            }
        }
    }

    /// Moves the `held` bytes in the pipe into `writer`: spliced while the writer takes
    /// them that way, through a buffer otherwise. `Ok(false)` if the kernel path is over.
    async fn empty_into<W>(
        &mut self,
        writer: &mut W,
        held: usize,
        copied: &mut u64,
    ) -> io::Result<bool>
    where
        W: AsyncWrite,
    {
        let Some((pipe, _)) = &self.pipe else {
            unreachable!("bytes are only held in a pipe that exists")
        };
        let mut held = held;
        while held > 0 {
            let Some(sink) = writer.raw_sink() else {
                through_buffer(pipe, writer, held, copied).await?;
                return Ok(false);
            };
            match splice(pipe.read_fd(), None, sink.fd(), sink.offset(), held).await {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "writer accepted no bytes",
                    ))
                }
                Ok(count) => {
                    writer.raw_written(count as u64);
                    *copied += count as u64;
                    held -= count;
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) if refused(&error) => {
                    self.off = true;
                    through_buffer(pipe, writer, held, copied).await?;
                    return Ok(false);
                }
                Err(error) => return Err(error),
            }
        }
        Ok(true)
    }
}

/// Reads the `held` bytes out of `pipe` and writes them to `writer` with `write_all`.
async fn through_buffer<W>(
    pipe: &Pipe,
    writer: &mut W,
    held: usize,
    copied: &mut u64,
) -> io::Result<()>
where
    W: AsyncWrite,
{
    let mut held = held;
    let mut buf = Vec::with_capacity(held);
    while held > 0 {
        buf.clear();
        let completion = op::submit(Op::Read {
            fd: pipe.read_fd(),
            buf: buf.into_buffer(),
            offset: None,
        })
        .await;
        buf = Vec::from_buffer(take_buffer(completion.op));
        match completion.result {
            // Only this call writes into the pipe, and `held` bytes are in it: never seen.
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the copy's pipe ended with bytes still to come",
                ))
            }
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        }
        let (result, back) = writer.write_all(buf).await;
        buf = back;
        result?;
        held -= buf.len();
        *copied += buf.len() as u64;
    }
    Ok(())
}

/// One `splice(2)` through the driver; `len` is capped at what one operation takes.
async fn splice(
    fd_in: Fd,
    offset_in: Option<u64>,
    fd_out: Fd,
    offset_out: Option<u64>,
    len: usize,
) -> io::Result<usize> {
    op::submit(Op::Splice {
        fd_in,
        offset_in,
        fd_out,
        offset_out,
        len: u32::try_from(len).unwrap_or(u32::MAX),
        flags: 0,
    })
    .await
    .result
}

/// Whether `error` says an end cannot splice at all (rather than that the transfer failed).
fn refused(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EINVAL) | Some(libc::ENOSYS)
    )
}
