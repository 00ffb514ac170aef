//! Short transfers: narrowing what an operation may use before the backend sees it, and
//! putting the buffers back as a real short read or write would have left them.
//!
//! Everything goes through `Buffer`'s own API. A write is narrowed with a slice view of its
//! first bytes. A read into a fixed range (a boxed slice or a view) is narrowed the same way.
//! A read that appends to a `Vec<u8>` or `BytesMut` fills spare capacity, which a view cannot
//! name, so its first bytes of spare capacity are zeroed into initialized length (within the
//! capacity: nothing reallocates) and viewed; afterwards the length is set to what it was
//! plus the bytes the read received. Either way the caller gets back the same storage, the
//! same view and the same length a real short transfer would give.

use std::ops::Range;

use super::Rng;
use crate::{Buffer, Op};

/// How to undo the narrowing of one buffer (or of a length).
#[derive(Debug, Default)]
pub(super) enum Short {
    #[default]
    None,
    /// The buffer had this view (or none): put it back.
    View(Option<Range<usize>>),
    /// An appending read's buffer had this length: set it to that plus the bytes received,
    /// without a view.
    Grown(usize),
    /// A splice or sendfile of this length.
    Len(u32),
}

/// What narrowing did to an operation, kept until its completion.
#[derive(Debug, Default)]
pub(super) struct Narrowed {
    pub(super) short: Short,
    /// The buffer narrowed in a vectored operation.
    index: usize,
    /// How many bytes the buffers before it offer.
    before: usize,
    /// The buffers after it, taken out so the operation ends at the narrowed one. Its
    /// capacity stays with the slot for the next operation.
    tail: Vec<Buffer>,
}

impl Narrowed {
    pub(super) fn is_short(&self) -> bool {
        !matches!(self.short, Short::None)
    }

    /// Lets `op` transfer fewer bytes than it offers, at least one; returns whether it did.
    pub(super) fn narrow(&mut self, op: &mut Op, rng: &mut Rng) -> bool {
        debug_assert!(!self.is_short() && self.tail.is_empty());
        self.short = match op {
            Op::Read { buf, .. } | Op::Recv { buf, .. } => match pick(buf.read_capacity(), rng) {
                Some(limit) => narrow_read(buf, limit),
                None => Short::None,
            },
            Op::Write { buf, .. } | Op::Send { buf, .. } | Op::SendZc { buf, .. } => {
                match pick(buf.len(), rng) {
                    Some(limit) => narrow_write(buf, limit),
                    None => Short::None,
                }
            }
            Op::ReadVectored { bufs, .. } | Op::RecvMsg { bufs, .. } => {
                self.narrow_vectored(bufs, true, rng)
            }
            Op::WriteVectored { bufs, .. } | Op::SendMsg { bufs, .. } => {
                self.narrow_vectored(bufs, false, rng)
            }
            Op::Splice { len, .. } | Op::SendFile { len, .. } => match pick(*len as usize, rng) {
                Some(limit) => Short::Len(std::mem::replace(len, limit as u32)),
                None => Short::None,
            },
            _ => Short::None,
        };
        self.is_short()
    }

    fn narrow_vectored(&mut self, bufs: &mut Vec<Buffer>, read: bool, rng: &mut Rng) -> Short {
        let size = |buf: &Buffer| if read { buf.read_capacity() } else { buf.len() };
        let Some(limit) = pick(bufs.iter().map(size).sum(), rng) else {
            return Short::None;
        };
        // The buffer the limit falls in: every one before it is used whole.
        let mut before = 0;
        let mut index = 0;
        while before + size(&bufs[index]) < limit {
            before += size(&bufs[index]);
            index += 1;
        }
        self.index = index;
        self.before = before;
        self.tail.extend(bufs.drain(index + 1..));
        let left = limit - before;
        let buf = &mut bufs[index];
        match (read, left < size(buf)) {
            (true, true) => narrow_read(buf, left),
            (false, true) => narrow_write(buf, left),
            // The limit ends exactly at this buffer: dropping the tail is the whole narrowing.
            (_, false) => Short::View(buf.view()),
        }
    }

    /// Undoes [`narrow`](Narrowed::narrow) on a completed operation that transferred `count`
    /// bytes (0 when it failed).
    pub(super) fn restore(&mut self, op: &mut Op, count: usize) {
        let short = std::mem::take(&mut self.short);
        match op {
            Op::Read { buf, .. }
            | Op::Recv { buf, .. }
            | Op::Write { buf, .. }
            | Op::Send { buf, .. }
            | Op::SendZc { buf, .. } => restore(buf, short, count),
            Op::ReadVectored { bufs, .. }
            | Op::RecvMsg { bufs, .. }
            | Op::WriteVectored { bufs, .. }
            | Op::SendMsg { bufs, .. } => {
                let filled = count.saturating_sub(self.before);
                if let Some(buf) = bufs.get_mut(self.index) {
                    restore(buf, short, filled);
                }
                bufs.append(&mut self.tail);
            }
            Op::Splice { len, .. } | Op::SendFile { len, .. } => {
                if let Short::Len(original) = short {
                    *len = original;
                }
            }
            _ => {}
        }
    }
}

/// A length to cut `available` bytes down to, at least 1 and below `available`; `None` when
/// there is nothing to cut. A quarter of the cuts leave at most 8 bytes, so loops that
/// resubmit the rest run many times.
fn pick(available: usize, rng: &mut Rng) -> Option<usize> {
    if available < 2 {
        return None;
    }
    let most = if rng.chance(0.25) {
        (available - 1).min(8)
    } else {
        available - 1
    };
    Some(1 + rng.below(most))
}

fn take(buf: &mut Buffer) -> Buffer {
    std::mem::replace(buf, Buffer::from(&[][..]))
}

fn narrow_write(buf: &mut Buffer, limit: usize) -> Short {
    let whole = take(buf);
    let view = whole.view();
    *buf = whole
        .slice(..limit)
        .unwrap_or_else(|_| unreachable!("the limit is below the buffer's length"));
    Short::View(view)
}

fn narrow_read(buf: &mut Buffer, limit: usize) -> Short {
    let whole = take(buf);
    if !whole.read_grows() {
        // A fixed range, filled from its start: view its first bytes.
        let view = whole.view();
        *buf = whole
            .slice(..limit)
            .unwrap_or_else(|_| unreachable!("the limit is below the range's length"));
        return Short::View(view);
    }
    let (grown, len) = match whole.into_vec() {
        Ok(mut vec) => {
            let len = vec.len();
            vec.resize(len + limit, 0);
            (Buffer::from(vec), len)
        }
        Err(whole) => match whole.into_bytes_mut() {
            Ok(mut bytes) => {
                let len = bytes.len();
                bytes.resize(len + limit, 0);
                (Buffer::from(bytes), len)
            }
            // Only vectors and `BytesMut` grow.
            Err(whole) => {
                *buf = whole;
                return Short::None;
            }
        },
    };
    *buf = grown
        .slice(len..len + limit)
        .unwrap_or_else(|_| unreachable!("the bytes were just added"));
    Short::Grown(len)
}

fn restore(buf: &mut Buffer, short: Short, count: usize) {
    match short {
        Short::None | Short::Len(_) => {}
        Short::View(view) => {
            let whole = take(buf).into_inner();
            *buf = match view {
                Some(range) => whole
                    .slice(range)
                    .unwrap_or_else(|_| unreachable!("the view was valid and nothing shrank")),
                None => whole,
            };
        }
        Short::Grown(len) => {
            // The bytes the read received follow `len`; the zeros after them were never
            // the caller's.
            let received = {
                let narrowed = take(buf);
                let filled = count.min(narrowed.len());
                (narrowed.into_inner(), len + filled)
            };
            *buf = match received.0.into_vec() {
                Ok(mut vec) => {
                    vec.truncate(received.1);
                    Buffer::from(vec)
                }
                Err(whole) => match whole.into_bytes_mut() {
                    Ok(mut bytes) => {
                        bytes.truncate(received.1);
                        Buffer::from(bytes)
                    }
                    Err(whole) => whole,
                },
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;

    use super::*;

    fn rng() -> Rng {
        Rng(7)
    }

    /// Narrows `op`, lets a stand-in for the kernel read `data` into what the backend would
    /// fill, restores, and returns the op and the count read.
    fn short_read(mut op: Op, data: &[u8]) -> (Op, usize) {
        let mut narrowed = Narrowed::default();
        let mut rng = rng();
        assert!(narrowed.narrow(&mut op, &mut rng));
        let count = match &mut op {
            Op::Read { buf, .. } => buf.fill_from(data),
            Op::ReadVectored { bufs, .. } => {
                let mut count = 0;
                for buf in bufs.iter_mut() {
                    count += buf.fill_from(&data[count..]);
                }
                count
            }
            _ => unreachable!(),
        };
        narrowed.restore(&mut op, count);
        (op, count)
    }

    #[test]
    fn appending_reads_keep_length_capacity_and_no_view() {
        let mut vec = Vec::with_capacity(64);
        vec.extend_from_slice(b"head");
        let (op, count) = short_read(
            Op::Read {
                fd: 0,
                buf: Buffer::from(vec),
                offset: None,
            },
            &[7u8; 64],
        );
        assert!((1..60).contains(&count));
        let buf = op.into_buffer().unwrap();
        assert_eq!(buf.view(), None);
        let vec = buf.into_vec().unwrap();
        assert_eq!(vec.capacity(), 64);
        assert_eq!(&vec[..4], b"head");
        assert_eq!(vec.len(), 4 + count);
        assert!(vec[4..].iter().all(|&byte| byte == 7));

        let mut bytes = BytesMut::with_capacity(32);
        bytes.extend_from_slice(b"x");
        let (op, count) = short_read(
            Op::Read {
                fd: 0,
                buf: Buffer::from(bytes),
                offset: None,
            },
            &[9u8; 64],
        );
        let bytes = op.into_buffer().unwrap().into_bytes_mut().unwrap();
        assert_eq!(bytes.len(), 1 + count);
        assert!(bytes.capacity() >= 32);
    }

    #[test]
    fn fixed_range_reads_fill_their_start_and_keep_the_view() {
        let view = Buffer::from(vec![0u8; 16]).slice(4..12).unwrap();
        let (op, count) = short_read(
            Op::Read {
                fd: 0,
                buf: view,
                offset: None,
            },
            &[1u8; 16],
        );
        assert!((1..8).contains(&count));
        let buf = op.into_buffer().unwrap();
        assert_eq!(buf.view(), Some(4..12));
        let whole = buf.into_inner().into_vec().unwrap();
        assert_eq!(whole.len(), 16);
        assert_eq!(whole.iter().filter(|&&byte| byte == 1).count(), count);
        assert!(whole[4..4 + count].iter().all(|&byte| byte == 1));

        let boxed: Box<[u8]> = vec![0u8; 10].into_boxed_slice();
        let (op, count) = short_read(
            Op::Read {
                fd: 0,
                buf: Buffer::from(boxed),
                offset: None,
            },
            &[3u8; 10],
        );
        let buf = op.into_buffer().unwrap();
        assert_eq!(buf.view(), None);
        assert_eq!(buf.len(), 10);
        assert!(buf.as_slice()[..count].iter().all(|&byte| byte == 3));
        assert!(buf.as_slice()[count..].iter().all(|&byte| byte == 0));
    }

    #[test]
    fn writes_send_a_prefix_and_come_back_whole() {
        for buf in [
            Buffer::from(b"0123456789".to_vec()),
            Buffer::from(&b"0123456789"[..]),
            Buffer::from(b"0123456789".to_vec()).slice(2..9).unwrap(),
        ] {
            let before = (buf.as_slice().to_vec(), buf.view());
            let mut op = Op::Write {
                fd: 0,
                buf,
                offset: None,
            };
            let mut narrowed = Narrowed::default();
            assert!(narrowed.narrow(&mut op, &mut rng()));
            let Op::Write { buf, .. } = &op else {
                unreachable!()
            };
            assert!(!buf.is_empty() && buf.len() < before.0.len());
            assert!(before.0.starts_with(buf.as_slice()));
            narrowed.restore(&mut op, 1);
            let buf = op.into_buffer().unwrap();
            assert_eq!((buf.as_slice().to_vec(), buf.view()), before);
        }
    }

    #[test]
    fn vectored_operations_end_early_and_get_every_buffer_back() {
        for seed in 0..50 {
            let bufs = vec![
                Buffer::from(Vec::with_capacity(3)),
                Buffer::from(vec![0u8; 4].into_boxed_slice()),
                Buffer::from(Vec::with_capacity(5)),
            ];
            let mut op = Op::ReadVectored {
                fd: 0,
                bufs,
                offset: None,
            };
            let mut narrowed = Narrowed::default();
            assert!(narrowed.narrow(&mut op, &mut Rng(seed)));
            let data: Vec<u8> = (1..=12).collect();
            let Op::ReadVectored { bufs, .. } = &mut op else {
                unreachable!()
            };
            let offered: usize = bufs.iter().map(Buffer::read_capacity).sum();
            assert!((1..12).contains(&offered), "seed {seed}: {offered}");
            let mut count = 0;
            for buf in bufs.iter_mut() {
                count += buf.fill_from(&data[count..]);
            }
            narrowed.restore(&mut op, count);
            let bufs = op.into_buffers().unwrap();
            assert_eq!(bufs.len(), 3);
            let mut got = Vec::new();
            got.extend_from_slice(bufs[0].as_slice());
            assert_eq!(bufs[1].len(), 4);
            got.extend_from_slice(&bufs[1].as_slice()[..count.saturating_sub(3).min(4)]);
            got.extend_from_slice(bufs[2].as_slice());
            assert_eq!(got, data[..count], "seed {seed}");
            assert_eq!(bufs[0].read_capacity() + bufs[0].len(), 3);
            assert_eq!(bufs[2].read_capacity() + bufs[2].len(), 5);
        }
    }

    #[test]
    fn a_byte_is_never_cut() {
        let mut op = Op::Write {
            fd: 0,
            buf: Buffer::from(&b"x"[..]),
            offset: None,
        };
        assert!(!Narrowed::default().narrow(&mut op, &mut rng()));
        let mut op = Op::Splice {
            fd_in: 0,
            offset_in: None,
            fd_out: 1,
            offset_out: None,
            len: 100,
            flags: 0,
        };
        let mut narrowed = Narrowed::default();
        assert!(narrowed.narrow(&mut op, &mut rng()));
        narrowed.restore(&mut op, 1);
        assert!(matches!(op, Op::Splice { len: 100, .. }));
    }
}
