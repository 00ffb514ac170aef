//! Windows' own threading model for completions: one port, many threads waiting on it, each
//! packet taken by exactly one of them.

use std::io;
use std::time::Duration;

use crate::sys::Port;

/// One packet dequeued from a [`CompletionPort`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Packet {
    /// The completion key it was posted with.
    pub key: usize,
    /// The byte count it was posted with.
    pub bytes: u32,
    /// The value it was posted with.
    pub value: usize,
}

/// A completion port that any number of threads may wait on at once (`Send + Sync`): the
/// kernel hands each packet to exactly one waiting thread, wakes the most recently waiting
/// thread first (its stack and caches are warm), and keeps at most `concurrency` of them
/// running — the IOCP thread-pool model, for work spread over threads.
///
/// A [`Driver`](crate::Driver) is one thread's loop; this is its many-thread counterpart for
/// work that is not tied to one thread's buffers: results computed elsewhere, messages between
/// threads, or completions a thread pool of your own should share out.
///
/// # Examples
///
/// Four threads drain packets posted from a fifth, each packet exactly once:
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use proactor_driver::windows::CompletionPort;
///
/// let port = Arc::new(CompletionPort::new(4)?);
/// for value in 0..100 {
///     port.post(0, 0, value)?;
/// }
/// let workers: Vec<_> = (0..4)
///     .map(|_| {
///         let port = Arc::clone(&port);
///         std::thread::spawn(move || {
///             let mut packets = Vec::with_capacity(16);
///             let mut seen = Vec::new();
///             while port.harvest(&mut packets, Some(Duration::from_millis(100))).unwrap() > 0 {
///                 seen.extend(packets.drain(..).map(|packet| packet.value));
///             }
///             seen
///         })
///     })
///     .collect();
/// let mut all: Vec<usize> = workers.into_iter().flat_map(|w| w.join().unwrap()).collect();
/// all.sort();
/// assert_eq!(all, (0..100).collect::<Vec<_>>());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct CompletionPort {
    port: Port,
}

impl CompletionPort {
    /// A new port letting at most `concurrency` threads run at once on its packets (0: as many
    /// as there are processors).
    ///
    /// # Examples
    ///
    /// ```
    /// let port = proactor_driver::windows::CompletionPort::new(0)?;
    /// # let _ = port;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(concurrency: u32) -> io::Result<CompletionPort> {
        Ok(CompletionPort {
            port: Port::new(concurrency)?,
        })
    }

    /// Queues a packet for one waiting thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor_driver::windows::{CompletionPort, Packet};
    ///
    /// let port = CompletionPort::new(1)?;
    /// port.post(7, 42, 1234)?;
    /// let mut packets = Vec::with_capacity(1);
    /// port.harvest(&mut packets, None)?;
    /// assert_eq!(packets, [Packet { key: 7, bytes: 42, value: 1234 }]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn post(&self, key: usize, bytes: u32, value: usize) -> io::Result<()> {
        self.port.post(key, bytes, value)
    }

    /// Waits up to `timeout` (`None`: no limit) for packets and appends up to `packets`'
    /// spare capacity of them (at least 1, however little capacity there is). Returns how
    /// many were appended: 0 when the wait timed out.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let port = proactor_driver::windows::CompletionPort::new(1)?;
    /// let mut packets = Vec::new();
    /// assert_eq!(port.harvest(&mut packets, Some(Duration::from_millis(1)))?, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn harvest(
        &self,
        packets: &mut Vec<Packet>,
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        self.port.harvest(packets, timeout)
    }
}

impl std::fmt::Debug for CompletionPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompletionPort").finish_non_exhaustive()
    }
}
