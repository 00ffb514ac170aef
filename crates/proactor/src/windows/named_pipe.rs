//! Windows named pipes, in tokio's shape: a server creates instances of a name with
//! [`ServerOptions`] and waits for a client on each with [`NamedPipeServer::connect`]; a client
//! opens the name with [`ClientOptions`]. Both ends read and write through the driver's
//! completion port (overlapped `ReadFile`/`WriteFile`), with owned buffers like every stream.
//!
//! # Examples
//!
//! A server and a client in one runtime:
//!
//! ```
//! use proactor::io::{AsyncRead, AsyncWrite};
//! use proactor::windows::named_pipe::{ClientOptions, ServerOptions};
//!
//! # let name = format!(r"\\.\pipe\proactor-doc-{}", std::process::id());
//! proactor::Runtime::new()?.block_on(async {
//!     let server = ServerOptions::new().create(&name)?;
//!     let mut client = ClientOptions::new().open(&name)?;
//!     server.connect().await?;
//!     let mut server = server;
//!     let (written, _) = client.write(b"ping".to_vec()).await;
//!     assert_eq!(written?, 4);
//!     let (read, buf) = server.read(Vec::with_capacity(16)).await;
//!     assert_eq!(&buf[..read?], b"ping");
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::io;

use proactor_driver::windows::{self as driver, PipeClientConfig, PipeServerConfig};
use proactor_driver::Op;

use crate::io::{AsyncRead, AsyncWrite};
use crate::net::{Descriptor, Stream};
use crate::runtime::op;
use crate::{BufResult, IoBuf};

/// How a pipe carries data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PipeMode {
    /// A stream of bytes, as a socket.
    Byte,
    /// Messages: each write is one message; a read returns at most one (a read into a smaller
    /// buffer returns the first part, the next read the rest).
    Message,
}

/// Creates the server end of a named pipe, one instance per [`create`](ServerOptions::create).
///
/// # Examples
///
/// ```
/// use proactor::windows::named_pipe::{PipeMode, ServerOptions};
///
/// # let name = format!(r"\\.\pipe\proactor-doc-options-{}", std::process::id());
/// proactor::Runtime::new()?.block_on(async {
///     let server = ServerOptions::new()
///         .first_pipe_instance(true)
///         .pipe_mode(PipeMode::Message)
///         .max_instances(4)
///         .create(&name)?;
///     # drop(server);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ServerOptions {
    config: PipeServerConfig,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions::new()
    }
}

impl ServerOptions {
    /// Both directions, bytes, remote clients refused, no limit on instances.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = proactor::windows::named_pipe::ServerOptions::new();
    /// # let _ = options;
    /// ```
    pub fn new() -> ServerOptions {
        ServerOptions {
            config: PipeServerConfig::default(),
        }
    }

    /// Whether the server reads (the client writes); default true.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = proactor::windows::named_pipe::ServerOptions::new().access_inbound(false);
    /// # let _ = options;
    /// ```
    pub fn access_inbound(mut self, allowed: bool) -> ServerOptions {
        self.config.inbound = allowed;
        self
    }

    /// Whether the server writes (the client reads); default true.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = proactor::windows::named_pipe::ServerOptions::new().access_outbound(false);
    /// # let _ = options;
    /// ```
    pub fn access_outbound(mut self, allowed: bool) -> ServerOptions {
        self.config.outbound = allowed;
        self
    }

    /// Fail (`ERROR_ACCESS_DENIED`) if an instance of the name exists already: a server that
    /// must be the name's only owner sets this on its first instance.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = proactor::windows::named_pipe::ServerOptions::new().first_pipe_instance(true);
    /// # let _ = options;
    /// ```
    pub fn first_pipe_instance(mut self, first: bool) -> ServerOptions {
        self.config.first_pipe_instance = first;
        self
    }

    /// Bytes or messages; default [`PipeMode::Byte`].
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::windows::named_pipe::{PipeMode, ServerOptions};
    ///
    /// let options = ServerOptions::new().pipe_mode(PipeMode::Message);
    /// # let _ = options;
    /// ```
    pub fn pipe_mode(mut self, mode: PipeMode) -> ServerOptions {
        self.config.message_mode = mode == PipeMode::Message;
        self
    }

    /// Refuse clients on other machines; default true.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = proactor::windows::named_pipe::ServerOptions::new().reject_remote_clients(false);
    /// # let _ = options;
    /// ```
    pub fn reject_remote_clients(mut self, reject: bool) -> ServerOptions {
        self.config.reject_remote_clients = reject;
        self
    }

    /// Most instances of the name at once, 1 to 254; 255 (the default) for no limit.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = proactor::windows::named_pipe::ServerOptions::new().max_instances(8);
    /// # let _ = options;
    /// ```
    pub fn max_instances(mut self, instances: usize) -> ServerOptions {
        self.config.max_instances = u32::try_from(instances).unwrap_or(u32::MAX);
        self
    }

    /// Bytes the system reserves for output (advisory); default 64 KiB.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = proactor::windows::named_pipe::ServerOptions::new().out_buffer_size(4096);
    /// # let _ = options;
    /// ```
    pub fn out_buffer_size(mut self, bytes: u32) -> ServerOptions {
        self.config.out_buffer_size = bytes;
        self
    }

    /// Bytes the system reserves for input (advisory); default 64 KiB.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = proactor::windows::named_pipe::ServerOptions::new().in_buffer_size(4096);
    /// # let _ = options;
    /// ```
    pub fn in_buffer_size(mut self, bytes: u32) -> ServerOptions {
        self.config.in_buffer_size = bytes;
        self
    }

    /// Creates an instance of the pipe `name` (`\\.\pipe\...`), waiting for a client.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a name with a NUL character or `max_instances` out of range;
    /// `ERROR_ACCESS_DENIED` for a first instance of a taken name; `ERROR_PIPE_BUSY` when
    /// `max_instances` exist.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::windows::named_pipe::ServerOptions;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let error = ServerOptions::new().create("\\\\.\\pipe\\bad\0name").unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn create(&self, name: impl AsRef<OsStr>) -> io::Result<NamedPipeServer> {
        let handle = driver::create_named_pipe(name, &self.config)?;
        Ok(NamedPipeServer {
            stream: Stream::pipe(Descriptor::adopt(handle)),
        })
    }
}

/// Opens the client end of a named pipe.
///
/// # Examples
///
/// ```
/// use proactor::windows::named_pipe::{ClientOptions, ServerOptions};
///
/// # let name = format!(r"\\.\pipe\proactor-doc-client-{}", std::process::id());
/// proactor::Runtime::new()?.block_on(async {
///     let _server = ServerOptions::new().create(&name)?;
///     let client = ClientOptions::new().write(false).open(&name)?;
///     # drop(client);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ClientOptions {
    config: PipeClientConfig,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions::new()
    }
}

impl ClientOptions {
    /// Read and write, bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = proactor::windows::named_pipe::ClientOptions::new();
    /// # let _ = options;
    /// ```
    pub fn new() -> ClientOptions {
        ClientOptions {
            config: PipeClientConfig::default(),
        }
    }

    /// Open for reading; default true.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = proactor::windows::named_pipe::ClientOptions::new().read(false);
    /// # let _ = options;
    /// ```
    pub fn read(mut self, allowed: bool) -> ClientOptions {
        self.config.read = allowed;
        self
    }

    /// Open for writing; default true.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = proactor::windows::named_pipe::ClientOptions::new().write(false);
    /// # let _ = options;
    /// ```
    pub fn write(mut self, allowed: bool) -> ClientOptions {
        self.config.write = allowed;
        self
    }

    /// Read whole messages (the server must be in [`PipeMode::Message`]); default bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::windows::named_pipe::{ClientOptions, PipeMode};
    ///
    /// let options = ClientOptions::new().pipe_mode(PipeMode::Message);
    /// # let _ = options;
    /// ```
    pub fn pipe_mode(mut self, mode: PipeMode) -> ClientOptions {
        self.config.message_mode = mode == PipeMode::Message;
        self
    }

    /// Opens the pipe `name`.
    ///
    /// # Errors
    ///
    /// `NotFound` when no server has an instance of the name; `ERROR_PIPE_BUSY` (231) when
    /// every instance is taken — wait a little and try again, as Windows clients do:
    ///
    /// ```
    /// use std::time::Duration;
    /// use proactor::windows::named_pipe::{ClientOptions, NamedPipeClient};
    ///
    /// async fn open(name: &str) -> std::io::Result<NamedPipeClient> {
    ///     loop {
    ///         match ClientOptions::new().open(name) {
    ///             Err(error) if error.raw_os_error() == Some(231) => {
    ///                 proactor::time::sleep(Duration::from_millis(50)).await;
    ///             }
    ///             other => return other,
    ///         }
    ///     }
    /// }
    /// # let _ = open;
    /// ```
    pub fn open(&self, name: impl AsRef<OsStr>) -> io::Result<NamedPipeClient> {
        let handle = driver::open_named_pipe(name, &self.config)?;
        Ok(NamedPipeClient {
            stream: Stream::pipe(Descriptor::adopt(handle)),
        })
    }
}

/// The server end of one instance of a named pipe.
///
/// # Examples
///
/// ```
/// use proactor::io::{AsyncRead, AsyncWrite};
/// use proactor::windows::named_pipe::{ClientOptions, ServerOptions};
///
/// # let name = format!(r"\\.\pipe\proactor-doc-server-{}", std::process::id());
/// proactor::Runtime::new()?.block_on(async {
///     let mut server = ServerOptions::new().create(&name)?;
///     let mut client = ClientOptions::new().open(&name)?;
///     server.connect().await?;
///     server.write_all(&b"welcome"[..]).await.0?;
///     let (count, greeting) = client.read(Vec::with_capacity(16)).await;
///     assert_eq!(&greeting[..count?], b"welcome");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct NamedPipeServer {
    stream: Stream,
}

impl NamedPipeServer {
    /// Waits for a client to open this instance (at once if one already has).
    ///
    /// The wait starts when `connect` is called, not when the future is first polled: a
    /// client opening the pipe after this call finds it listening, even before the future
    /// is awaited (an instance that was [`disconnect`](NamedPipeServer::disconnect)ed turns
    /// clients away with `ERROR_PIPE_BUSY` until it listens again).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the wait; a client that connects meanwhile stays
    /// connected, and the next `connect` returns at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::windows::named_pipe::{ClientOptions, ServerOptions};
    ///
    /// # let name = format!(r"\\.\pipe\proactor-doc-connect-{}", std::process::id());
    /// proactor::Runtime::new()?.block_on(async {
    ///     let server = ServerOptions::new().create(&name)?;
    ///     // The wait starts here, so a client may open the pipe before it is awaited.
    ///     let connected = server.connect();
    ///     let _client = ClientOptions::new().open(&name)?;
    ///     connected.await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connect(&self) -> impl std::future::Future<Output = io::Result<()>> + 'static {
        let submitted = op::submit(Op::ConnectNamedPipe {
            pipe: self.stream.descriptor().fd(),
        });
        async move { submitted.await.result.map(drop) }
    }

    /// Ends this instance's connection (unread data is discarded), so it can
    /// [`connect`](NamedPipeServer::connect) to the next client.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::windows::named_pipe::{ClientOptions, ServerOptions};
    ///
    /// # let name = format!(r"\\.\pipe\proactor-doc-disconnect-{}", std::process::id());
    /// proactor::Runtime::new()?.block_on(async {
    ///     let server = ServerOptions::new().create(&name)?;
    ///     let first = ClientOptions::new().open(&name)?;
    ///     server.connect().await?;
    ///     server.disconnect()?;
    ///     drop(first);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn disconnect(&self) -> io::Result<()> {
        driver::disconnect_named_pipe(self.stream.descriptor().fd())
    }
}

/// The client end of a named pipe.
///
/// # Examples
///
/// ```
/// use proactor::io::{AsyncRead, AsyncWrite};
/// use proactor::windows::named_pipe::{ClientOptions, ServerOptions};
///
/// # let name = format!(r"\\.\pipe\proactor-doc-client-{}", std::process::id());
/// proactor::Runtime::new()?.block_on(async {
///     let mut server = ServerOptions::new().create(&name)?;
///     let mut client = ClientOptions::new().open(&name)?;
///     server.connect().await?;
///     client.write_all(&b"request"[..]).await.0?;
///     drop(client); // the server reads the end of the stream after the request
///     let (result, request) = server.read_to_end(Vec::new()).await;
///     result?;
///     assert_eq!(request, b"request");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct NamedPipeClient {
    stream: Stream,
}

macro_rules! pipe_io {
    ($($type:ty),*) => {$(
        impl AsyncRead for $type {
            /// Reads what the other end wrote; `Ok(0)` once it has closed its end.
            async fn read<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
                self.stream.read(buf).await
            }
        }

        impl AsyncWrite for $type {
            async fn write<B: IoBuf>(&mut self, buf: B) -> BufResult<usize, B> {
                self.stream.write(buf).await
            }

            async fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }

            /// Pipes have no half-close: the other end sees the end when this one is dropped.
            async fn shutdown(&mut self) -> io::Result<()> {
                Ok(())
            }
        }

        impl fmt::Debug for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($type))
                    .field("handle", &self.stream.descriptor().fd())
                    .finish()
            }
        }
    )*};
}

pipe_io!(NamedPipeServer, NamedPipeClient);
