//! The async runtimes: one task per lane (`depth` tasks, so `depth` reads in flight), each
//! reading its lane's offsets one after the other into its own page-aligned buffer and
//! checking every read. A run spawns the tasks, and waits for all of them in `block_on`.
//! Runtimes, files and buffers are made once, before the measurements.

use std::io;
use std::rc::Rc;

use proactor::Backend;

use super::data::{check, proactor_buffer, AlignedBuf, Lane, Shape, TestFile};
use super::harness::{heartbeat, Bench};

fn joined<T, E: std::fmt::Debug>(result: Result<T, E>) -> io::Result<T> {
    result.map_err(|error| io::Error::other(format!("a reading task failed: {error:?}")))
}

/// proactor: `proactor::fs::File::read_at` on a one-thread `proactor::Runtime`.
pub struct ProactorRead {
    /// Dropped first, inside the runtime (see `Drop`).
    file: Option<Rc<proactor::fs::File>>,
    lanes: Vec<(Lane, proactor::Slice<Box<[u8]>>)>,
    shape: Shape,
    runtime: proactor::Runtime,
}

impl ProactorRead {
    pub fn new(backend: Backend, shape: Shape, test: &TestFile) -> io::Result<ProactorRead> {
        let runtime = proactor::Builder::new().backend(backend).build()?;
        let std = test.reopen()?;
        let file = runtime.block_on(async { proactor::fs::File::from_std(std) });
        let lanes = shape
            .lanes()
            .into_iter()
            .map(|lane| Ok((lane, proactor_buffer(shape.block)?)))
            .collect::<io::Result<_>>()?;
        Ok(ProactorRead {
            file: Some(Rc::new(file)),
            lanes,
            shape,
            runtime,
        })
    }
}

async fn proactor_lane(
    file: Rc<proactor::fs::File>,
    mut lane: Lane,
    mut buf: proactor::Slice<Box<[u8]>>,
    reads: u64,
    block: usize,
) -> io::Result<(Lane, proactor::Slice<Box<[u8]>>)> {
    for _ in 0..reads {
        let offset = lane.next_offset();
        let (result, back) = file.read_at(buf, offset).await;
        buf = back;
        check(buf.as_slice(), result?, offset, block)?;
        heartbeat();
    }
    Ok((lane, buf))
}

impl Bench for ProactorRead {
    fn run(&mut self, ops: u64) -> io::Result<()> {
        let ProactorRead {
            file,
            lanes,
            shape,
            runtime,
        } = self;
        let file = file.as_ref().expect("the file lives until drop");
        runtime.block_on(async {
            let handles: Vec<_> = lanes
                .drain(..)
                .enumerate()
                .map(|(index, (lane, buf))| {
                    let reads = shape.lane_ops(index, ops);
                    proactor::spawn(proactor_lane(file.clone(), lane, buf, reads, shape.block))
                })
                .collect();
            for handle in handles {
                lanes.push(joined(handle.await)??);
            }
            Ok(())
        })
    }
}

impl Drop for ProactorRead {
    fn drop(&mut self) {
        let file = self.file.take();
        self.runtime.block_on(async { drop(file) });
    }
}

/// tokio: a `tokio::fs::File` per lane (each its own open file description), `seek` then
/// `read`, on a current-thread runtime; tokio runs both on its blocking pool.
pub struct TokioRead {
    lanes: Vec<(Lane, tokio::fs::File, AlignedBuf)>,
    shape: Shape,
    runtime: tokio::runtime::Runtime,
}

impl TokioRead {
    pub fn new(shape: Shape, test: &TestFile) -> io::Result<TokioRead> {
        let runtime = tokio::runtime::Builder::new_current_thread().build()?;
        let lanes = shape
            .lanes()
            .into_iter()
            .map(|lane| {
                Ok((
                    lane,
                    tokio::fs::File::from_std(test.reopen()?),
                    AlignedBuf::new(shape.block),
                ))
            })
            .collect::<io::Result<_>>()?;
        Ok(TokioRead {
            lanes,
            shape,
            runtime,
        })
    }
}

async fn tokio_lane(
    mut lane: Lane,
    mut file: tokio::fs::File,
    mut buf: AlignedBuf,
    reads: u64,
    block: usize,
) -> io::Result<(Lane, tokio::fs::File, AlignedBuf)> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    for _ in 0..reads {
        let offset = lane.next_offset();
        file.seek(io::SeekFrom::Start(offset)).await?;
        let count = file.read(buf.as_mut_slice()).await?;
        check(buf.as_slice(), count, offset, block)?;
        heartbeat();
    }
    Ok((lane, file, buf))
}

impl Bench for TokioRead {
    fn run(&mut self, ops: u64) -> io::Result<()> {
        let TokioRead {
            lanes,
            shape,
            runtime,
        } = self;
        runtime.block_on(async {
            let handles: Vec<_> = lanes
                .drain(..)
                .enumerate()
                .map(|(index, (lane, file, buf))| {
                    let reads = shape.lane_ops(index, ops);
                    tokio::spawn(tokio_lane(lane, file, buf, reads, shape.block))
                })
                .collect();
            for handle in handles {
                lanes.push(joined(handle.await)??);
            }
            Ok(())
        })
    }
}

/// compio: `compio::fs::File::read_at` (`AsyncReadAt`) on its io_uring runtime.
pub struct CompioRead {
    file: Option<compio::fs::File>,
    lanes: Vec<(Lane, AlignedBuf)>,
    shape: Shape,
    runtime: compio::runtime::Runtime,
}

impl CompioRead {
    pub fn new(shape: Shape, test: &TestFile) -> io::Result<CompioRead> {
        use std::os::fd::{FromRawFd, IntoRawFd};
        let runtime = compio::runtime::Runtime::new()?;
        let fd = test.reopen()?.into_raw_fd();
        // SAFETY: `fd` was just opened and is owned by nobody else; the compio file takes it.
        let file = runtime.block_on(async { unsafe { compio::fs::File::from_raw_fd(fd) } });
        let lanes = shape
            .lanes()
            .into_iter()
            .map(|lane| (lane, AlignedBuf::new(shape.block)))
            .collect();
        Ok(CompioRead {
            file: Some(file),
            lanes,
            shape,
            runtime,
        })
    }
}

async fn compio_lane(
    file: compio::fs::File,
    mut lane: Lane,
    mut buf: AlignedBuf,
    reads: u64,
    block: usize,
) -> io::Result<(Lane, AlignedBuf)> {
    use compio::io::AsyncReadAt;
    for _ in 0..reads {
        let offset = lane.next_offset();
        let compio::BufResult(result, back) = file.read_at(buf, offset).await;
        buf = back;
        check(buf.as_slice(), result?, offset, block)?;
        heartbeat();
    }
    Ok((lane, buf))
}

impl Bench for CompioRead {
    fn run(&mut self, ops: u64) -> io::Result<()> {
        let CompioRead {
            file,
            lanes,
            shape,
            runtime,
        } = self;
        let file = file.as_ref().expect("the file lives until drop");
        runtime.block_on(async {
            let handles: Vec<_> = lanes
                .drain(..)
                .enumerate()
                .map(|(index, (lane, buf))| {
                    let reads = shape.lane_ops(index, ops);
                    compio::runtime::spawn(compio_lane(file.clone(), lane, buf, reads, shape.block))
                })
                .collect();
            for handle in handles {
                lanes.push(joined(handle.await)??);
            }
            Ok(())
        })
    }
}

impl Drop for CompioRead {
    fn drop(&mut self) {
        let file = self.file.take();
        self.runtime.block_on(async { drop(file) });
    }
}

/// monoio: `monoio::fs::File::read_at` on its `IoUringDriver` runtime (256 entries, like
/// proactor's ring).
pub struct MonoioRead {
    file: Option<Rc<monoio::fs::File>>,
    lanes: Vec<(Lane, AlignedBuf)>,
    shape: Shape,
    runtime: monoio::Runtime<monoio::IoUringDriver>,
}

impl MonoioRead {
    pub fn new(shape: Shape, test: &TestFile) -> io::Result<MonoioRead> {
        let mut runtime = monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
            .with_entries(256)
            .build()?;
        let std = test.reopen()?;
        let file = runtime.block_on(async { monoio::fs::File::from_std(std) })?;
        let lanes = shape
            .lanes()
            .into_iter()
            .map(|lane| (lane, AlignedBuf::new(shape.block)))
            .collect();
        Ok(MonoioRead {
            file: Some(Rc::new(file)),
            lanes,
            shape,
            runtime,
        })
    }
}

async fn monoio_lane(
    file: Rc<monoio::fs::File>,
    mut lane: Lane,
    mut buf: AlignedBuf,
    reads: u64,
    block: usize,
) -> io::Result<(Lane, AlignedBuf)> {
    for _ in 0..reads {
        let offset = lane.next_offset();
        let (result, back) = file.read_at(buf, offset).await;
        buf = back;
        check(buf.as_slice(), result?, offset, block)?;
        heartbeat();
    }
    Ok((lane, buf))
}

impl Bench for MonoioRead {
    fn run(&mut self, ops: u64) -> io::Result<()> {
        let MonoioRead {
            file,
            lanes,
            shape,
            runtime,
        } = self;
        let file = file.as_ref().expect("the file lives until drop");
        runtime.block_on(async {
            let handles: Vec<_> = lanes
                .drain(..)
                .enumerate()
                .map(|(index, (lane, buf))| {
                    let reads = shape.lane_ops(index, ops);
                    monoio::spawn(monoio_lane(file.clone(), lane, buf, reads, shape.block))
                })
                .collect();
            for handle in handles {
                lanes.push(handle.await?);
            }
            Ok(())
        })
    }
}

impl Drop for MonoioRead {
    fn drop(&mut self) {
        let file = self.file.take();
        self.runtime.block_on(async { drop(file) });
    }
}
