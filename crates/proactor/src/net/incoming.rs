//! A listener's connections from one multishot accept ([`Incoming`]).

use std::io;
use std::task::{Context, Poll};

use proactor_driver::Op;

use super::tcp::{TcpListener, TcpStream};
use super::Descriptor;
use crate::runtime::op::{self, Submitted};

/// Connections accepted by one submission that goes on accepting, made by
/// [`TcpListener::incoming`]; taken with [`next`](Incoming::next).
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
pub struct Incoming<'a> {
    listener: &'a TcpListener,
    accepting: Option<Submitted>,
}

impl<'a> Incoming<'a> {
    pub(crate) fn new(listener: &'a TcpListener) -> Incoming<'a> {
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
    pub async fn next(&mut self) -> io::Result<TcpStream> {
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
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<TcpStream>> {
        let accepting = self.accepting.get_or_insert_with(|| {
            op::submit(Op::AcceptMultishot {
                fd: self.listener.fd(),
            })
        });
        let completion = std::task::ready!(accepting.poll_next(cx));
        if !completion.more {
            // The run ended (with an error): the next call starts another.
            self.accepting = None;
        }
        // A run's last completion is an error, not a connection (the driver re-arms a run the
        // kernel ended early); were it one, it is still a connection to serve.
        Poll::Ready(completion.result.map(|fd| {
            TcpStream::from_descriptor(Descriptor::from_driver(fd as proactor_driver::Fd))
        }))
    }
}
