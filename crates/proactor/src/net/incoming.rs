//! A listener's connections from one multishot accept ([`Incoming`]).

use std::io;
use std::task::{Context, Poll};

use proactor_driver::{Fd, Op};

use super::tcp::{TcpListener, TcpStream};
use super::Descriptor;
use crate::runtime::op::{self, Submitted};

/// A listener whose connections [`Incoming`] accepts: [`TcpListener`] and, on Unix,
/// [`UnixListener`](crate::net::UnixListener). Sealed: nothing else implements it.
///
/// # Examples
///
/// Code written once for either kind of listener:
///
/// ```
/// use proactor::net::{Incoming, Listener, TcpListener, TcpStream};
///
/// async fn first<L: Listener>(incoming: &mut Incoming<'_, L>) -> std::io::Result<L::Stream> {
///     incoming.next().await
/// }
///
/// proactor::Runtime::new()?.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let _client = TcpStream::connect(listener.local_addr()?).await?;
///     let stream: TcpStream = first(&mut listener.incoming()).await?;
///     # let _ = stream;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait Listener: private::Accepting {
    /// The connected stream each accepted connection becomes.
    type Stream;
}

pub(super) mod private {
    /// What `Incoming` needs of a listener (kept out of the public trait).
    pub trait Accepting {
        fn listening_fd(&self) -> super::Fd;
        /// The stream of a connection the driver accepted as `fd` (now the stream's).
        fn accepted(fd: super::Fd) -> <Self as super::Listener>::Stream
        where
            Self: super::Listener;
    }
}

impl Listener for TcpListener {
    type Stream = TcpStream;
}

impl private::Accepting for TcpListener {
    fn listening_fd(&self) -> Fd {
        self.fd()
    }

    fn accepted(fd: Fd) -> TcpStream {
        TcpStream::from_descriptor(Descriptor::from_driver(fd))
    }
}

/// Connections accepted by one submission that goes on accepting, made by
/// [`TcpListener::incoming`] (or [`UnixListener::incoming`](crate::net::UnixListener::incoming));
/// taken with [`next`](Incoming::next).
///
/// Connections are accepted as they arrive, whether or not `next` is being awaited; those
/// not taken when it is dropped are closed (their clients see the connection end). An error
/// ends the run (it is returned once; the next call accepts again): a server out of
/// descriptors should wait before it calls again, as with [`TcpListener::accept`].
///
/// # Examples
///
/// ```no_run
/// # proactor::Runtime::new()?.block_on(async {
/// let listener = proactor::net::TcpListener::bind("127.0.0.1:8080").await?;
/// let mut incoming = listener.incoming();
/// while let Ok(stream) = incoming.next().await {
///     drop(proactor::spawn(async move {
///         let _ = stream; // serve it
///     }));
/// }
/// # Ok::<(), std::io::Error>(())
/// # })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Incoming<'a, L: Listener = TcpListener> {
    listener: &'a L,
    accepting: Option<Submitted>,
}

impl<'a, L: Listener> Incoming<'a, L> {
    pub(crate) fn new(listener: &'a L) -> Incoming<'a, L> {
        Incoming {
            listener,
            accepting: None,
        }
    }

    /// The next connection.
    ///
    /// # Errors
    ///
    /// What the accept met (out of descriptors, say); the next call accepts again.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let listener = proactor::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let client = proactor::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let mut incoming = listener.incoming();
    /// let stream = incoming.next().await?;
    /// assert_eq!(stream.peer_addr()?, client.local_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn next(&mut self) -> io::Result<L::Stream> {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }

    /// As [`next`](Incoming::next), for poll-based code.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # proactor::Runtime::new()?.block_on(async {
    /// let listener = proactor::net::TcpListener::bind("127.0.0.1:8080").await?;
    /// let mut incoming = listener.incoming();
    /// let stream = std::future::poll_fn(|cx| incoming.poll_next(cx)).await?;
    /// # drop(stream);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<L::Stream>> {
        let accepting = self.accepting.get_or_insert_with(|| {
            op::submit(Op::AcceptMultishot {
                fd: self.listener.listening_fd(),
            })
        });
        let completion = std::task::ready!(accepting.poll_next(cx));
        if !completion.more {
            // The run ended (with an error): the next call starts another.
            self.accepting = None;
        }
        // A run's last completion is an error, not a connection (the driver re-arms a run the
        // kernel ended early); were it one, it is still a connection to serve.
        Poll::Ready(completion.result.map(|fd| L::accepted(fd as Fd)))
    }
}
