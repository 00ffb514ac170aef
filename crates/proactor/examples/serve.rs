//! A static-file HTTP/1.1 server over a directory, written directly on proactor: one runtime
//! per core, each with its own `SO_REUSEPORT` listener (like `echo`; one runtime on Windows,
//! which has no `SO_REUSEPORT`), no HTTP crate.
//!
//! ```text
//! cargo run --release --example serve -- [--root DIR] [--addr 127.0.0.1:8080] [--threads N] [--backend io_uring|epoll|iocp] [--copy]
//!     [--header-timeout SECS] [--max-connections N] [--mime EXT=TYPE]... [--quiet]
//! ```
//!
//! File bodies go out with [`TcpStream::send_file`] (splice on Linux, TransmitFile on
//! Windows: the bytes never enter user space); `--copy` sends them through a 64 KiB buffer
//! instead (`read_at`, `write_all`), to compare the two.
//!
//! It answers GET and HEAD with keep-alive and pipelining, byte ranges (several at once as
//! `multipart/byteranges`, overlapping ones merged, more than 16 answered whole), a directory's
//! `index.html` or else its listing, and the validators `Last-Modified` and `ETag` (from the
//! file's size and modification time, as nginx makes it): `If-None-Match` and
//! `If-Modified-Since` (a date in any of HTTP's three forms) answer 304 Not Modified, and
//! `If-Range` takes either. Content types come from a table of the common web types (text ones
//! with `charset=utf-8`, as nginx sends them), which `--mime EXT=TYPE` adds to. A file with a
//! precompressed sibling (`app.js.br`, `app.js.gz`, a regular file inside the root) is sent as
//! that sibling to a client whose `Accept-Encoding` allows it (by quality, `br` first at a
//! tie), with `Content-Encoding`, `Vary: Accept-Encoding` and a tag of its own; ranges then
//! count bytes of the sibling, as nginx's `gzip_static` does. Each response makes a line of
//! access log on stderr in the common log format (`--quiet` for none), gathered per runtime and
//! written in batches, at most 100 ms late.
//!
//! It resolves `.` and `..` in a path before the file system sees it, and refuses any path
//! that leaves the root, whether by `..`, by an encoded slash or by a symbolic link pointing
//! outside. On Linux 5.6+ and FreeBSD 13+ the kernel keeps every open
//! inside the root ([`OpenOptions::open_beneath`] from a descriptor of it: one `openat2` in
//! the ring on io_uring, so a link or rename racing the request cannot lead it out);
//! elsewhere, and for the rare path the kernel refuses (a link leading out, or an absolute
//! link pointing back inside), the path is canonicalized on the thread pool and checked
//! against the root. A GET or HEAD may carry a body of up to 64 KiB, read and dropped; other
//! bodies (larger, chunked, or with another method) are not read, so the connection is closed
//! after answering them. Raw UTF-8 in a request target is taken as its percent-encoded form
//! would be.
//!
//! It expects hostile clients. A request head must arrive whole within `--header-timeout`
//! seconds of the connection or of the previous response (a slow one gets 408), however
//! it trickles in; past `--max-connections` a new connection is answered 503 and closed;
//! and out of descriptors, the accept loop backs off instead of spinning, reports the
//! episode once, and closes the connections it cannot take so their clients know
//! (`common/accept.rs`).
//!
//! A keep-alive connection waiting for its next request holds no read buffer: it reads it
//! through one [`BufferPool`] per runtime, which lends a buffer only while bytes are there
//! (`io_uring`'s provided buffers; elsewhere a free list), and keeps only the bytes of a head
//! still coming in: ~3.8 KB an idle connection instead of ~8 KB.
//!
//! `tests/serve.rs` includes this file as a module and drives [`run`] and
//! [`serve_connection`] over real sockets.

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::net::{IpAddr, Shutdown, SocketAddr};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use proactor::fs::{File, Metadata, OpenOptions};
use proactor::io::{AsyncRead, AsyncWrite, BufferPool};
use proactor::net::{TcpListener, TcpStream};
use proactor::time::timeout;
use proactor::{Backend, Builder, IoBuf};

#[path = "common/accept.rs"]
mod accept;
#[path = "common/args.rs"]
mod args;
#[path = "serve/http.rs"]
mod http;
#[path = "serve/log.rs"]
mod log;
#[path = "serve/mime.rs"]
mod mime;

use accept::Acceptor;
use args::{fail, Args};
pub use log::LogSink;
use log::{with_clock, AccessLog};
pub use mime::MimeTypes;

use http::{
    head_end, html_escape, http_date, if_range_holds, none_match_names, parse_http_date,
    parse_range, parse_request, percent_decode, percent_encode, preferred_codings, split_target,
    Body, Coding, EntityTag, Method, Ranged, Request, Status, Target, BAD_REQUEST,
    CONTENT_TOO_LARGE, FORBIDDEN, HEADERS_TOO_LARGE, METHOD_NOT_ALLOWED, MOST_RANGES,
    MOVED_PERMANENTLY, NOT_FOUND, NOT_MODIFIED, OK, PARTIAL_CONTENT, RANGE_NOT_SATISFIABLE,
    REQUEST_TIMEOUT, SERVICE_UNAVAILABLE, URI_TOO_LONG,
};

/// The most a request head (request line and headers) may take: a request line that does
/// not end within it gets 414, headers that do not get 431.
const HEAD_LIMIT: usize = 8 * 1024;
/// The largest body of a GET or HEAD read and dropped to keep the connection; a larger one
/// is answered 413 and the connection closed.
const BODY_LIMIT: u64 = 64 * 1024;
/// Bytes read from a file per write when the body is copied through user space.
const CHUNK: usize = 64 * 1024;
/// The default of `--header-timeout`: how long a client has to deliver a whole request head.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// The default of `--max-connections`. The descriptor limit (`ulimit -n`) may bind first:
/// then the accept loop closes new connections unserved until some end.
const MAX_CONNECTIONS: usize = 10_000;
/// How long a connection refused for being over the cap may take to receive its 503, and
/// then to close.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(1);
/// How long one write may wait for a client that stopped reading.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// After a response that closes the connection, how long (and how much) we keep reading what
/// the client still sends: closing with unread bytes makes the kernel send a reset, which can
/// destroy the response before the client has read it.
const LINGER: Duration = Duration::from_secs(2);
const LINGER_BYTES: usize = 256 * 1024;
/// Buffers of each runtime's pool, which idle keep-alive connections read their next request
/// into (a buffer is lent only while a read has bytes).
const POOL_BUFFERS: usize = 256;
const SERVER: &str = "proactor-serve";
/// The page served for a directory that has one, instead of its listing.
const INDEX: &str = "index.html";
/// The whole answer to a connection over the cap, sent without reading its request.
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nServer: proactor-serve\r\n\
    Connection: close\r\nRetry-After: 1\r\nContent-Type: text/plain; charset=utf-8\r\n\
    Content-Length: 24\r\n\r\n503 Service Unavailable\n";

// ---------------------------------------------------------------------------------------------
// Command line and main

struct Options {
    root: PathBuf,
    address: SocketAddr,
    threads: Option<usize>,
    backend: Option<Backend>,
    config: Config,
}

const USAGE: &str = "\
usage: serve [--root DIR] [--addr HOST:PORT] [--threads N] [--backend io_uring|epoll|iocp] [--copy]
             [--header-timeout SECS] [--max-connections N] [--mime EXT=TYPE]... [--quiet]

A static-file HTTP/1.1 server over DIR: one runtime per core, each with its own listener.

  --root DIR         the directory to serve (default: the current one)
  --addr HOST:PORT   where to listen (default 127.0.0.1:8080; port 0 picks a free port)
  --threads N        how many runtimes (default: one per core the process may use;
                     one on Windows)
  --backend NAME     io_uring, epoll or iocp (default: the best this system has)
  --copy             copy file bodies through a 64 KiB buffer instead of letting the
                     kernel move them (splice, TransmitFile)
  --header-timeout SECS
                     how long a client has to send a whole request head, counted from
                     its connection or its previous response (default 30); a slow
                     one is answered 408, an idle one closed
  --max-connections N
                     the most connections served at once (default 10000); past it a
                     new connection is answered 503 and closed. Out of descriptors
                     (ulimit -n), new connections are closed unserved
  --mime EXT=TYPE    send files ending in .EXT as TYPE, given whole (add
                     '; charset=utf-8' to a text type yourself); repeatable, and
                     before the built-in table of common web types
  --quiet            no access log (by default a line per response on stderr,
                     in the common log format)
  -h, --help         print this text";

fn options() -> Options {
    let mut options = Options {
        root: PathBuf::from("."),
        address: SocketAddr::from(([127, 0, 0, 1], 8080)),
        threads: None,
        backend: None,
        config: Config {
            access_log: Some(LogSink::stderr()),
            ..Config::default()
        },
    };
    let mut args = Args::new("serve", USAGE);
    while let Some(flag) = args.next_flag() {
        match flag.as_str() {
            "--copy" => options.config.bodies = Bodies::Copy,
            "--quiet" => options.config.access_log = None,
            "--header-timeout" => {
                options.config.header_timeout = Duration::from_secs(args.positive(&flag))
            }
            "--max-connections" => options.config.max_connections = args.positive(&flag),
            "--mime" => {
                let definition = args.text(&flag);
                if let Err(message) = Arc::make_mut(&mut options.config.types).add(&definition) {
                    args.refuse(format_args!("--mime {message}"));
                }
            }
            "--root" => options.root = PathBuf::from(args.value(&flag)),
            "--addr" => options.address = args.address(&flag),
            "--threads" => options.threads = Some(args.positive(&flag)),
            "--backend" => {
                options.backend =
                    Some(args.backend(&flag, &[Backend::IoUring, Backend::Epoll, Backend::Iocp]))
            }
            _ => args.unknown(&flag),
        }
    }
    options
}

/// Whether the OS lacks `SO_REUSEPORT`, so that one listener serves the port.
const ONE_LISTENER: bool = cfg!(windows);

/// This runtime's listener on `address`: one per runtime where the kernel spreads
/// connections over `SO_REUSEPORT` listeners, else the only one.
async fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
    if ONE_LISTENER {
        TcpListener::bind(address).await
    } else {
        TcpListener::bind_reuse_port(address).await
    }
}

fn main() {
    let options = options();
    let root = match canonical_root(&options.root) {
        Ok(root) => root,
        Err(error) => fail(
            "serve",
            format_args!("--root: {}: {error}", options.root.display()),
        ),
    };
    let mut builder = Builder::new().pin_to_cores(true);
    // Without SO_REUSEPORT (Windows) only one runtime can listen on the port.
    let threads = options.threads.or(ONE_LISTENER.then_some(1));
    if let Some(threads) = threads {
        builder = builder.threads(threads);
    }
    if let Some(backend) = options.backend {
        builder = builder.backend(backend);
    }
    let group = match builder.build_group() {
        Ok(group) => group,
        Err(error) => fail("serve", format_args!("cannot start the runtimes: {error}")),
    };
    // Port 0 picks a free port: bind once to learn it, then every runtime binds that one.
    let address =
        match std::net::TcpListener::bind(options.address).and_then(|probe| probe.local_addr()) {
            Ok(address) if options.address.port() == 0 => address,
            Ok(_) => options.address,
            Err(error) => fail(
                "serve",
                format_args!("cannot bind: {}: {error}", options.address),
            ),
        };
    let threads = group.len();
    let config = options.config;
    let results = group.run(move |index| {
        // `Rc` is not `Send`: each runtime makes its own from the shared path.
        let root = root.clone();
        // The clones share one count of open connections: the cap is the process's.
        let config = config.clone();
        async move {
            let listener = match listen(address).await {
                Ok(listener) => listener,
                Err(error) => return Err(format!("cannot listen: {address}: {error}")),
            };
            if index == 0 {
                let backend = proactor::current_backend_reason();
                println!(
                    "serve: {} on http://{address} with {threads} threads ({backend})",
                    root.display(),
                );
            }
            run(listener, Rc::from(root.as_path()), config).await;
            Ok(())
        }
    });
    for result in results {
        if let Err(message) = result {
            fail("serve", message);
        }
    }
}

/// The root as [`serve_connection`] needs it: absolute, without symbolic links, and a
/// directory, so that "inside the root" is a plain prefix test on canonical paths.
///
/// # Errors
///
/// `NotFound` if it does not exist, `InvalidInput` if it is not a directory.
pub fn canonical_root(root: &Path) -> io::Result<PathBuf> {
    let root = std::fs::canonicalize(root)?;
    if !root.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a directory",
        ));
    }
    Ok(root)
}

/// How [`run`] serves.
#[derive(Clone, Debug)]
pub struct Config {
    /// How file bodies reach the socket.
    pub bodies: Bodies,
    /// How long a client has to deliver a whole request head, from the start of the
    /// connection or the end of the previous response: bounds idle keep-alive connections
    /// and clients that trickle a head in byte by byte (which a timeout per read would not).
    pub header_timeout: Duration,
    /// The most connections served at once by the runtimes sharing `open`; past it a new
    /// one is answered 503 and closed.
    pub max_connections: usize,
    /// The connections open now, shared by the runtimes of one server.
    pub open: Arc<AtomicUsize>,
    /// The Content-Type of each file, by its extension.
    pub types: Arc<MimeTypes>,
    /// Where the access log goes; `None` (the default here, `--quiet` for the program)
    /// keeps none.
    pub access_log: Option<LogSink>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            bodies: Bodies::SendFile,
            header_timeout: HEADER_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
            open: Arc::default(),
            types: Arc::default(),
            access_log: None,
        }
    }
}

/// How file bodies reach the socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bodies {
    /// [`TcpStream::send_file`]: the kernel moves the bytes (splice on Linux, TransmitFile
    /// on Windows).
    SendFile,
    /// `read_at` into a reused 64 KiB buffer, then `write_all`.
    Copy,
}

/// Opens a symbolic link itself instead of following it at the last component.
#[cfg(unix)]
const NO_FOLLOW: i32 = libc::O_NOFOLLOW;
/// Fails unless the path is a directory, so a swap since the metadata was read is caught.
#[cfg(unix)]
const DIRECTORY: i32 = libc::O_DIRECTORY;
#[cfg(windows)]
const DIRECTORY: i32 = 0;
/// Opens a symbolic link itself instead of following it (`FILE_FLAG_OPEN_REPARSE_POINT`).
#[cfg(windows)]
const NO_FOLLOW: i32 = 0x0020_0000;

/// A decoded path segment as a file name: any bytes on Unix; UTF-8 without ':' on Windows,
/// whose names are UTF-16 and where a ':' makes a segment a drive (`C:`, which `push` would
/// put in the root's place) or names a stream of a file (`name::$DATA`).
#[cfg(unix)]
fn segment_name(bytes: &[u8]) -> Option<&std::ffi::OsStr> {
    use std::os::unix::ffi::OsStrExt;
    Some(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(windows)]
fn segment_name(bytes: &[u8]) -> Option<&std::ffi::OsStr> {
    if bytes.contains(&b':') {
        return None;
    }
    std::str::from_utf8(bytes).ok().map(std::ffi::OsStr::new)
}

/// The file at `path` (the root and decoded segments, like `Connection::path`) with its
/// metadata, if it is a regular file that stays inside the root: the same checks a request
/// for it passes, for the files a request leads to without naming them (an index page, a
/// precompressed sibling). Anything else (missing, a directory, a link leading out,
/// unreadable) is `None`, for the caller to answer otherwise.
async fn open_inside(root: &Root, path: &Path) -> Option<(File, Metadata)> {
    if let (true, Some(directory)) = (root.beneath.get(), root.directory.as_ref()) {
        let metadata = proactor::fs::metadata(path).await.ok()?;
        if !metadata.is_file() {
            return None;
        }
        let relative = path.strip_prefix(&*root.path).ok()?;
        match OpenOptions::new()
            .read(true)
            .open_beneath(directory, relative)
            .await
        {
            Ok(file) => return Some((file, metadata)),
            // The kernel lacks the check, or refused a link as leading out (which an
            // absolute link back inside also is): the canonical path decides below.
            Err(error)
                if error.kind() == io::ErrorKind::Unsupported
                    || error.kind() == io::ErrorKind::PermissionDenied
                        && error.raw_os_error().is_none() => {}
            Err(_) => return None,
        }
    }
    let canonical = proactor::fs::canonicalize(path)
        .await
        .ok()
        .filter(|canonical| canonical.starts_with(&*root.path))?;
    let metadata = proactor::fs::metadata(&canonical).await.ok()?;
    if !metadata.is_file() {
        return None;
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(NO_FOLLOW)
        .open(&canonical)
        .await
        .ok()?;
    Some((file, metadata))
}

/// Accepts connections forever, serving each in its own task on this runtime. `root` must
/// come from [`canonical_root`].
pub async fn run(listener: TcpListener, root: Rc<Path>, config: Config) {
    let root = Rc::new(Root::open(root).await);
    // One pool for the runtime's connections; reads allocate rather than wait when every
    // buffer is lent, so slow clients holding buffers cannot stall the others. Without one
    // (it could not be made), each connection reads into a buffer of its own.
    let pool = BufferPool::new(HEAD_LIMIT, POOL_BUFFERS)
        .map(|pool| pool.allocate_when_empty(true))
        .ok();
    let mut acceptor = Acceptor::new("serve", listener, Arc::clone(&config.open));
    // One copy per runtime that its connections share without touching the atomic counts.
    let shared = Rc::new(config.clone());
    let log = config.access_log.clone().map(AccessLog::new);
    let mut refusing = false;
    loop {
        let (stream, ticket) = acceptor.accept().await;
        if ticket.open() > config.max_connections {
            if !refusing {
                eprintln!(
                    "serve: {} connections open (--max-connections): answering 503 until some end",
                    config.max_connections
                );
                refusing = true;
            }
            // Not counted while it is refused: that takes a moment and holds no request.
            drop(ticket);
            drop(proactor::spawn(refuse(stream)));
            continue;
        }
        refusing = false;
        let root = Rc::clone(&root);
        let shared = Rc::clone(&shared);
        let log = log.clone();
        let pool = pool.clone();
        drop(proactor::spawn(async move {
            // A connection's error (a reset, a timeout) concerns that client only.
            let _ = connection(stream, root, shared, log, pool).await;
            drop(ticket);
        }));
    }
}

/// Answers a connection over the cap with 503 without waiting for its request, then closes
/// it: its client learns to come back later instead of waiting.
async fn refuse(mut stream: TcpStream) -> io::Result<()> {
    match timeout(REFUSAL_TIMEOUT, stream.write_all(REFUSAL)).await {
        Ok((result, _)) => result?,
        Err(elapsed) => return Err(elapsed.into()),
    }
    linger(stream, Vec::with_capacity(4096), REFUSAL_TIMEOUT).await
}

/// The root directory, by path and, where the kernel can keep an open inside a directory
/// (Linux 5.6+, FreeBSD 13+), also open: then each file is opened beneath it in one
/// operation (in the ring on io_uring) instead of a `canonicalize` on the thread pool and a
/// prefix test.
struct Root {
    path: Rc<Path>,
    directory: Option<File>,
    /// Cleared when the kernel turns out to lack the check, so later requests stop asking.
    beneath: std::cell::Cell<bool>,
}

impl Root {
    async fn open(path: Rc<Path>) -> Root {
        // No directory means every request takes the canonicalize path: slower, as safe.
        let directory = File::open(&*path).await.ok();
        Root {
            beneath: std::cell::Cell::new(directory.is_some()),
            path,
            directory,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The connection loop

/// What a connection keeps between requests, so that a request allocates little: the head
/// being written, the body chunk, and the path being resolved are all reused.
struct Connection {
    stream: TcpStream,
    root: Rc<Root>,
    /// The response head (and small bodies: error pages, listings), written in one go.
    head: Vec<u8>,
    /// File data on its way to the socket with `--copy`; allocated on the first body sent.
    chunk: Vec<u8>,
    /// The file system path of the current request.
    path: PathBuf,
    /// The request's path with `.` and `..` resolved and single slashes, still as the client
    /// encoded it: what redirects and listings show, and whether it names a directory.
    normal: Vec<u8>,
    /// A percent-decoded path segment.
    segment: Vec<u8>,
    /// The ranges a Range header asks for.
    ranges: Vec<(u64, u64)>,
    /// The part heads of a multipart response.
    scratch: Vec<u8>,
    /// The path of a precompressed sibling being looked for.
    sibling: PathBuf,
    /// How the current response is framed.
    reply: Reply,
    config: Rc<Config>,
    /// This runtime's access log, if one is kept.
    log: Option<Rc<AccessLog>>,
    /// The client's address, for the log.
    client: Option<IpAddr>,
}

/// What the request being answered decided about its response's framing, and what the
/// response was, for the log.
#[derive(Clone, Copy, Default)]
struct Reply {
    status: Status,
    /// The bytes of body the response carries (none for HEAD).
    body_bytes: u64,
    /// The coding of a precompressed representation being sent.
    coding: Option<Coding>,
    keep_alive: bool,
    /// An HTTP/1.0 client needs `Connection: keep-alive` to keep the connection.
    http10: bool,
    /// HEAD: the head of the response only.
    head_only: bool,
}

/// Serves HTTP/1.1 requests on `stream` until the client closes, asks to close, or errs.
/// `root` must come from [`canonical_root`].
///
/// # Errors
///
/// The socket's error (a reset, say) or `TimedOut` for an idle or stalled client; any HTTP
/// error has been answered before.
pub async fn serve_connection(
    stream: TcpStream,
    root: Rc<Path>,
    config: &Config,
) -> io::Result<()> {
    let root = Rc::new(Root::open(root).await);
    let log = config.access_log.clone().map(AccessLog::new);
    connection(stream, root, Rc::new(config.clone()), log, None).await
}

/// `pool`: where the connection reads a request when none is pending (see `run`).
async fn connection(
    stream: TcpStream,
    root: Rc<Root>,
    config: Rc<Config>,
    log: Option<Rc<AccessLog>>,
    pool: Option<BufferPool>,
) -> io::Result<()> {
    // Heads and small bodies go out in separate writes; Nagle would hold the second one until
    // the client acknowledges the first, which a delayed ACK stretches to tens of milliseconds.
    stream.set_nodelay(true)?;
    // Asked once: the log names the client on every line.
    let client = match log {
        Some(_) => stream.peer_addr().ok().map(|address| address.ip()),
        None => None,
    };
    let mut connection = Connection {
        stream,
        root,
        head: Vec::with_capacity(1024),
        chunk: Vec::new(),
        path: PathBuf::new(),
        normal: Vec::new(),
        segment: Vec::new(),
        ranges: Vec::new(),
        scratch: Vec::new(),
        sibling: PathBuf::new(),
        reply: Reply::default(),
        config,
        client,
        log,
    };
    // Requests arrive into `input`; `start` is where the first unanswered one begins, so
    // pipelined requests are answered in order from one read.
    let mut input: Vec<u8> = Vec::new();
    let mut start = 0;
    // One deadline for the whole head, not one per read: a client sending a byte at a time
    // would otherwise hold the connection until the head limit, for hours.
    let mut deadline = Instant::now() + connection.config.header_timeout;
    // Bytes of the last request's body still to drop before the next request starts.
    let mut discard: u64 = 0;
    loop {
        let taken = discard.min((input.len() - start) as u64);
        start += taken as usize;
        discard -= taken;
        // RFC 9112 section 2.2: ignore empty lines before a request line.
        while let (0, Some(rest)) = (discard, input.get(start..)) {
            match rest {
                [b'\r', b'\n', ..] => start += 2,
                [b'\n', ..] => start += 1,
                _ => break,
            }
        }
        let pending = &input[start..];
        // A read may bring more than the limit (a pooled one, pipelined requests): a head
        // that ends past it is as too large as one not ended within it.
        let complete = head_end(pending).filter(|&end| end <= HEAD_LIMIT);
        if let (0, Some(end)) = (discard, complete) {
            let head = &pending[..end];
            let answered = match parse_request(head) {
                Ok(request) => {
                    // Unread, a body would be taken for the next request.
                    discard = discarded_body(&request).unwrap_or(0);
                    connection.respond(&request).await
                }
                Err(status) => {
                    // Whatever follows a malformed head cannot be trusted to start a request.
                    connection.reply = Reply::default();
                    connection.error(status).await
                }
            };
            connection.log(head);
            let keep_alive = answered?;
            start += end;
            if !keep_alive {
                return connection.close(input).await;
            }
            deadline = Instant::now() + connection.config.header_timeout;
            continue;
        }
        if discard == 0 && pending.len() >= HEAD_LIMIT {
            // No line end yet: the request line alone is too long, which is its target in all
            // but name (nginx also says 414). Past the request line, the headers are.
            let status = if pending[..HEAD_LIMIT].contains(&b'\n') {
                HEADERS_TOO_LARGE
            } else {
                URI_TOO_LONG
            };
            connection.reply = Reply::default();
            let answered = connection.error(status).await;
            connection.log(&pending[..HEAD_LIMIT]);
            answered?;
            return connection.close(input).await;
        }
        // Make room for the rest of the head: keep only the unanswered bytes, at the front.
        input.drain(..start);
        start = 0;
        let partial = !input.is_empty();
        let left = deadline.saturating_duration_since(Instant::now());
        if let (false, Some(pool)) = (partial, &pool) {
            // Idle between requests: wait holding no buffer of our own (a keep-alive
            // connection mostly waits); the pool lends one when the request comes, and only
            // its bytes are kept.
            input = Vec::new();
            let received = match timeout(left, connection.stream.read_pooled(pool)).await {
                Ok(received) => received?,
                // Nothing to answer, the close says it all.
                Err(elapsed) => return Err(elapsed.into()),
            };
            if received.is_empty() {
                return Ok(());
            }
            input.extend_from_slice(&received);
            continue;
        }
        // Room for the rest of a head (or a whole one, without a pool).
        input.reserve_exact(HEAD_LIMIT.saturating_sub(input.len()));
        let (result, back) = match timeout(left, connection.stream.read(input)).await {
            Ok(read) => read,
            // Idle between requests: nothing to answer, the close says it all.
            Err(elapsed) if !partial => return Err(elapsed.into()),
            // The cancelled read took the buffer with it.
            Err(_) => {
                // Part of a head came, too slowly: say why the connection ends.
                connection.reply = Reply::default();
                let answered = connection.error(REQUEST_TIMEOUT).await;
                // The head went with the cancelled read: the log shows no request line.
                connection.log(b"");
                answered?;
                return connection.close(Vec::with_capacity(4096)).await;
            }
        };
        input = back;
        if result? == 0 {
            // The client is done; a partial head left behind gets no answer (nobody reads it).
            return Ok(());
        }
    }
}

impl Connection {
    /// Answers one well-formed request; returns whether the connection stays open.
    async fn respond(&mut self, request: &Request<'_>) -> io::Result<bool> {
        self.reply = Reply {
            keep_alive: request.keep_alive,
            http10: request.http10,
            head_only: request.method == Method::Head,
            ..Reply::default()
        };
        if request.body != Body::None && discarded_body(request).is_none() {
            // A body we do not read leaves us unable to tell where the next request starts:
            // answer, then close.
            self.reply.keep_alive = false;
            let status = if request.method == Method::Other {
                METHOD_NOT_ALLOWED
            } else {
                CONTENT_TOO_LARGE
            };
            return self.error(status).await;
        }
        if request.method == Method::Other {
            return self.error(METHOD_NOT_ALLOWED).await;
        }
        let Some(target) = split_target(request.target) else {
            return self.error(BAD_REQUEST).await;
        };
        if let Err(status) = self.resolve(target.path) {
            return self.error(status).await;
        }
        if self.root.beneath.get() {
            if let Some(keep_alive) = self.respond_beneath(request, &target).await? {
                return Ok(keep_alive);
            }
        }
        let canonical = match proactor::fs::canonicalize(&self.path).await {
            // A symbolic link may lead anywhere: only what ends up inside the root is served.
            // Outside looks like missing, so as not to tell what is there.
            Ok(canonical) if canonical.starts_with(&*self.root.path) => canonical,
            Ok(_) => return self.error(NOT_FOUND).await,
            Err(error) => return self.error(status_of(&error)).await,
        };
        let metadata = match proactor::fs::metadata(&canonical).await {
            Ok(metadata) => metadata,
            Err(error) => return self.error(status_of(&error)).await,
        };
        if metadata.is_dir() {
            return self.directory(request, &target, &canonical).await;
        }
        if !metadata.is_file() {
            // A FIFO would block the open, a device has no length: neither is a static file.
            return self.error(FORBIDDEN).await;
        }
        if self.normal.ends_with(b"/") {
            // `/file/` names a directory that does not exist.
            return self.error(NOT_FOUND).await;
        }
        // canonicalize left no link in the path; O_NOFOLLOW keeps one swapped in since from
        // being followed at the last component.
        let file = match OpenOptions::new()
            .read(true)
            .custom_flags(NO_FOLLOW)
            .open(&canonical)
            .await
        {
            Ok(file) => file,
            Err(error) => return self.error(status_of(&error)).await,
        };
        self.file(request, &file, &metadata).await
    }

    /// Answers the request with the kernel keeping every open inside the root: the metadata
    /// by path first (so a FIFO is refused before an open could block on it), then the file
    /// or directory opened beneath the root directory, which fails for anything a link or a
    /// rename would lead out to. `None`: the kernel lacks the check; answer the other way.
    async fn respond_beneath(
        &mut self,
        request: &Request<'_>,
        target: &Target<'_>,
    ) -> io::Result<Option<bool>> {
        let Some(root) = self.root.directory.as_ref() else {
            return Ok(None);
        };
        let metadata = match proactor::fs::metadata(&self.path).await {
            Ok(metadata) => metadata,
            Err(error) => return self.error(status_of(&error)).await.map(Some),
        };
        let is_dir = metadata.is_dir();
        if !is_dir && !metadata.is_file() {
            return self.error(FORBIDDEN).await.map(Some);
        }
        if !is_dir && self.normal.ends_with(b"/") {
            return self.error(NOT_FOUND).await.map(Some);
        }
        let relative = match self.path.strip_prefix(&*self.root.path) {
            Ok(relative) if relative.as_os_str().is_empty() => Path::new("."),
            Ok(relative) => relative,
            // `resolve` starts every path with the root.
            Err(_) => unreachable!("request paths start at the root"),
        };
        let mut options = OpenOptions::new();
        options
            .read(true)
            .custom_flags(if is_dir { DIRECTORY } else { 0 });
        let file = match options.open_beneath(root, relative).await {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::Unsupported => {
                self.root.beneath.set(false);
                return Ok(None);
            }
            // Refused as leading out, which an absolute link pointing inside the root also
            // does: the canonicalize path decides, as it would without the kernel's check.
            Err(error)
                if error.kind() == io::ErrorKind::PermissionDenied
                    && error.raw_os_error().is_none() =>
            {
                return Ok(None)
            }
            Err(error) => return self.error(status_of(&error)).await.map(Some),
        };
        if is_dir {
            drop(file);
            let path = self.path.clone();
            return self.directory(request, target, &path).await.map(Some);
        }
        self.file(request, &file, &metadata).await.map(Some)
    }

    /// A directory: for `/dir/`, its `index.html` if it has one, else its listing; for
    /// `/dir`, a redirect to `/dir/` (relative links in a listing or an index page only work
    /// below a path ending in '/').
    async fn directory(
        &mut self,
        request: &Request<'_>,
        target: &Target<'_>,
        path: &Path,
    ) -> io::Result<bool> {
        if !self.normal.ends_with(b"/") {
            return self.redirect(target).await;
        }
        // `self.path` names the index while it is served, so its type is the index's. One
        // that is no regular file inside the root (missing, a directory, a link leading out)
        // leaves the listing to answer, as nginx's `autoindex` does.
        self.path.push(INDEX);
        if let Some((file, metadata)) = open_inside(&self.root, &self.path).await {
            return self.file(request, &file, &metadata).await;
        }
        self.path.pop();
        self.listing(path).await
    }

    /// Fills `self.path` with the root and the decoded segments of the request path `raw`
    /// (which starts with '/'), and `self.normal` with `raw` made plain, or says why there
    /// is no such path. `.` and `..` are resolved here, on the decoded segments and before
    /// the file system sees the path (RFC 3986 section 5.2.4), so `/a/b/../c` is `/a/c` and
    /// only a path that climbs above the root is refused; the kernel's check on each open
    /// stays the second line of defence.
    fn resolve(&mut self, raw: &[u8]) -> Result<(), Status> {
        self.path.as_mut_os_string().clear();
        self.path.push(&*self.root.path);
        self.normal.clear();
        let mut depth = 0usize;
        // Whether the path names a directory by its form: a last segment that is empty,
        // `.` or `..` (and `/` itself).
        let mut directory = true;
        for segment in raw.split(|&byte| byte == b'/').skip(1) {
            // Segments are decoded one at a time so that an encoded slash stays inside its
            // segment, where it is refused below, rather than becoming a separator.
            percent_decode(segment, &mut self.segment).ok_or(BAD_REQUEST)?;
            directory = true;
            match self.segment.as_slice() {
                // Empty segments ("//") and "." name the directory they are in. Dropping the
                // empty ones also keeps `//host` out of redirects, where it names a site.
                b"" | b"." => {}
                b".." => {
                    depth = depth.checked_sub(1).ok_or(FORBIDDEN)?;
                    self.path.pop();
                    let parent = self.normal.iter().rposition(|&byte| byte == b'/');
                    self.normal.truncate(parent.unwrap_or(0));
                }
                bytes if bytes.iter().any(|&byte| matches!(byte, b'/' | b'\\' | 0)) => {
                    return Err(FORBIDDEN)
                }
                // Pushing a relative segment cannot replace the root: it has no leading '/'.
                bytes => {
                    self.path.push(segment_name(bytes).ok_or(BAD_REQUEST)?);
                    self.normal.push(b'/');
                    self.normal.extend_from_slice(segment);
                    depth += 1;
                    directory = false;
                }
            }
        }
        if directory {
            self.normal.push(b'/');
        }
        Ok(())
    }

    /// Serves a regular file: all of it, one range of it, or only its head.
    async fn file(
        &mut self,
        request: &Request<'_>,
        file: &File,
        metadata: &Metadata,
    ) -> io::Result<bool> {
        // Only a client that accepts a coding costs a look for siblings (a file system call
        // per coding). Without one, the identity body goes out without `Vary`: a cache that
        // keeps it serves every client correct bytes.
        if let Some(value) = request.accept_encoding {
            for coding in preferred_codings(value).into_iter().flatten() {
                let mut sibling = std::mem::take(&mut self.sibling);
                sibling.as_mut_os_string().clear();
                sibling.as_mut_os_string().push(self.path.as_os_str());
                sibling.as_mut_os_string().push(coding.suffix());
                let found = open_inside(&self.root, &sibling).await;
                self.sibling = sibling;
                if let Some((file, metadata)) = found {
                    self.reply.coding = Some(coding);
                    return self.representation(request, &file, &metadata).await;
                }
            }
        }
        self.representation(request, file, metadata).await
    }

    /// Serves one representation of the file at `self.path` (which gives its type): the
    /// file itself, or the sibling of `self.reply.coding`, whose bytes are the file's in
    /// that coding. Ranges apply to the bytes sent, as nginx's `gzip_static` does.
    async fn representation(
        &mut self,
        request: &Request<'_>,
        file: &File,
        metadata: &Metadata,
    ) -> io::Result<bool> {
        let len = metadata.len();
        let modified_at = metadata.modified().ok();
        // Whole seconds, the resolution of HTTP dates.
        let seconds = modified_at
            .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
            .map(|since| since.as_secs());
        let modified = modified_at.and_then(http_date);
        let modified = modified.as_ref().map(|date| &date[..]);
        let coding = self.reply.coding.map(Coding::token);
        let tag = EntityTag::new(seconds.unwrap_or(0), len, coding);
        // RFC 9110 section 13.2.2: If-None-Match decides when present, and If-Modified-Since
        // only without it; a date that does not parse is ignored (so the file is sent).
        let current = match (request.if_none_match, request.if_modified_since) {
            (Some(tags), _) => none_match_names(tags, &tag),
            (None, Some(since)) => parse_http_date(since)
                .zip(seconds)
                .is_some_and(|(since, seconds)| seconds <= since),
            (None, None) => false,
        };
        if current {
            self.begin(NOT_MODIFIED);
            self.validators(&tag, modified);
            self.head.extend_from_slice(b"\r\n");
            return self.send_head().await;
        }
        // RFC 9110 section 14.2: a Range on anything but GET is ignored, and so is one whose
        // If-Range validator is not the current one.
        let mut parts = std::mem::take(&mut self.ranges);
        let range = match request.range {
            Some(range)
                if request.method == Method::Get
                    && request
                        .if_range
                        .is_none_or(|value| if_range_holds(value, &tag, modified)) =>
            {
                parse_range(range, len, &mut parts)
            }
            _ => Ranged::Full,
        };
        let answered = match range {
            Ranged::Parts if parts.len() > 1 => {
                Some(self.multipart(file, len, &parts, &tag, modified).await)
            }
            Ranged::Unsatisfiable => {
                self.begin(RANGE_NOT_SATISFIABLE);
                let _ = write!(self.head, "Content-Range: bytes */{len}\r\n");
                Some(self.finish_with_text(RANGE_NOT_SATISFIABLE).await)
            }
            Ranged::Full | Ranged::Parts => None,
        };
        let single = parts.first().copied();
        self.ranges = parts;
        if let Some(answered) = answered {
            return answered;
        }
        let (status, offset, count) = match (range, single) {
            (Ranged::Parts, Some((first, last))) => (PARTIAL_CONTENT, first, last - first + 1),
            _ => (OK, 0, len),
        };
        self.begin(status);
        let config = Rc::clone(&self.config);
        self.header("Content-Type", config.types.of(&self.path));
        self.validators(&tag, modified);
        if status == PARTIAL_CONTENT {
            let last = offset + count - 1;
            let _ = write!(self.head, "Content-Range: bytes {offset}-{last}/{len}\r\n");
        }
        self.head.extend_from_slice(b"Content-Length: ");
        http::push_decimal(&mut self.head, count);
        self.head.extend_from_slice(b"\r\n\r\n");
        self.send_head().await?;
        if self.reply.head_only || count == 0 {
            return Ok(self.reply.keep_alive);
        }
        self.reply.body_bytes = count;
        send_body(
            &mut self.stream,
            file,
            offset,
            count,
            self.config.bodies,
            &mut self.chunk,
        )
        .await?;
        Ok(self.reply.keep_alive)
    }

    /// The headers that describe a representation, in 200, 206 and 304 alike: validators,
    /// coding, and that ranges are served.
    fn validators(&mut self, tag: &EntityTag, modified: Option<&[u8]>) {
        self.header_bytes("Last-Modified", modified);
        self.header_bytes("ETag", Some(tag.as_bytes()));
        if let Some(coding) = self.reply.coding {
            self.header("Content-Encoding", coding.token());
            // The body depends on Accept-Encoding: a cache must not give it to a client
            // that does not accept it.
            self.header("Vary", "Accept-Encoding");
        }
        self.header("Accept-Ranges", "bytes");
    }

    /// Answers several ranges of a file as one `multipart/byteranges` body (RFC 9110 section
    /// 14.6): each part with its own Content-Type and Content-Range, the whole body's length
    /// computed before any of it is sent.
    async fn multipart(
        &mut self,
        file: &File,
        len: u64,
        parts: &[(u64, u64)],
        tag: &EntityTag,
        modified: Option<&[u8]>,
    ) -> io::Result<bool> {
        let boundary = boundary();
        let config = Rc::clone(&self.config);
        let kind = config.types.of(&self.path);
        // The head of every part, one after another, and where each ends.
        let mut heads = std::mem::take(&mut self.scratch);
        heads.clear();
        let mut ends = [0usize; MOST_RANGES];
        for (end, &(first, last)) in ends.iter_mut().zip(parts) {
            let _ = write!(
                heads,
                "\r\n--{boundary}\r\nContent-Type: {kind}\r\n\
                 Content-Range: bytes {first}-{last}/{len}\r\n\r\n"
            );
            *end = heads.len();
        }
        let closing = format!("\r\n--{boundary}--\r\n");
        let data: u64 = parts.iter().map(|&(first, last)| last - first + 1).sum();
        let body_bytes = data + heads.len() as u64 + closing.len() as u64;
        self.begin(PARTIAL_CONTENT);
        let _ = write!(
            self.head,
            "Content-Type: multipart/byteranges; boundary={boundary}\r\n"
        );
        self.validators(tag, modified);
        let _ = write!(self.head, "Content-Length: {body_bytes}\r\n\r\n");
        self.reply.body_bytes = body_bytes;
        let mut from = 0;
        for (&end, &(first, last)) in ends.iter().zip(parts) {
            self.head.extend_from_slice(&heads[from..end]);
            from = end;
            self.send_head().await?;
            self.head.clear();
            let count = last - first + 1;
            let bodies = self.config.bodies;
            send_body(
                &mut self.stream,
                file,
                first,
                count,
                bodies,
                &mut self.chunk,
            )
            .await?;
        }
        self.scratch = heads;
        self.head.extend_from_slice(closing.as_bytes());
        self.send_head().await
    }

    /// Redirects `/dir` to `/dir/`, keeping the query.
    async fn redirect(&mut self, target: &Target<'_>) -> io::Result<bool> {
        self.begin(MOVED_PERMANENTLY);
        // The path is the client's own bytes, which parsing limited to visible ASCII and
        // bytes past it (encoded here, as a header should be ASCII): it cannot end the header
        // line early. It is the plain path, whose single leading slash keeps the client on
        // this site (`//host/` would send it to another).
        self.head.extend_from_slice(b"Location: ");
        encode_past_ascii(&self.normal, &mut self.head);
        self.head.push(b'/');
        if let Some(query) = target.query {
            self.head.push(b'?');
            encode_past_ascii(query, &mut self.head);
        }
        self.head.extend_from_slice(b"\r\n");
        self.finish_with_text(MOVED_PERMANENTLY).await
    }

    /// Answers a directory with an HTML list of its entries.
    async fn listing(&mut self, directory: &Path) -> io::Result<bool> {
        let mut listing = match proactor::fs::read_dir(directory).await {
            Ok(listing) => listing,
            Err(error) => return self.error(status_of(&error)).await,
        };
        let mut entries = Vec::new();
        // An entry that vanishes or cannot be read while listing is left out, not fatal.
        while let Ok(Some(entry)) = listing.next_entry().await {
            let is_dir = entry.file_type().await.is_ok_and(|kind| kind.is_dir());
            entries.push((entry.file_name(), is_dir));
        }
        entries.sort();
        // `resolve` already decoded every segment of this path successfully.
        let _ = percent_decode(&self.normal, &mut self.segment);
        let title = html_escape(&String::from_utf8_lossy(&self.segment));
        let mut body = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of {title}</title></head>\n\
             <body><h1>Index of {title}</h1>\n<ul>\n"
        );
        if self.normal != b"/" {
            body.push_str("<li><a href=\"../\">../</a></li>\n");
        }
        for (name, is_dir) in &entries {
            let slash = if *is_dir { "/" } else { "" };
            // Encoded, a name cannot be read as a scheme ("javascript:") or break the quotes.
            let href = percent_encode(name.as_encoded_bytes());
            let text = html_escape(&name.to_string_lossy());
            let _ = writeln!(body, "<li><a href=\"{href}{slash}\">{text}{slash}</a></li>");
        }
        body.push_str("</ul>\n</body></html>\n");
        self.begin(OK);
        self.header("Content-Type", "text/html; charset=utf-8");
        let _ = write!(self.head, "Content-Length: {}\r\n\r\n", body.len());
        if !self.reply.head_only {
            self.reply.body_bytes = body.len() as u64;
            self.head.extend_from_slice(body.as_bytes());
        }
        self.send_head().await
    }

    /// Answers with `status` and a one-line text body.
    async fn error(&mut self, status: Status) -> io::Result<bool> {
        if status == BAD_REQUEST {
            // A client that sends nonsense is not trusted to frame the next request either.
            self.reply.keep_alive = false;
        }
        self.begin(status);
        if status == METHOD_NOT_ALLOWED {
            self.header("Allow", "GET, HEAD");
        }
        self.finish_with_text(status).await
    }

    /// Ends the head with a text body naming the status, and sends both.
    async fn finish_with_text(&mut self, status: Status) -> io::Result<bool> {
        // "404 Not Found\n"
        let length = status.1.len() + 5;
        let _ = write!(
            self.head,
            "Content-Type: text/plain; charset=utf-8\r\nContent-Length: {length}\r\n\r\n"
        );
        if !self.reply.head_only {
            self.reply.body_bytes = length as u64;
            let _ = writeln!(self.head, "{status}");
        }
        self.send_head().await
    }

    /// Adds the response just sent to the access log, if one is kept, with the request line
    /// that starts `head` (the bytes as received, whatever they hold).
    fn log(&self, head: &[u8]) {
        if let (Some(log), Some(client)) = (&self.log, self.client) {
            let line = head.split(|&byte| byte == b'\n').next().unwrap_or(head);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            log.record(client, line, self.reply.status, self.reply.body_bytes);
        }
    }

    /// Starts a response head: status line and the headers every response has.
    fn begin(&mut self, status: Status) {
        self.head.clear();
        self.reply.status = status;
        self.reply.body_bytes = 0;
        // Pieces, not `write!`: core's formatting costs more than the rest of a small head.
        self.head.extend_from_slice(b"HTTP/1.1 ");
        http::push_decimal(&mut self.head, u64::from(status.0));
        self.head.push(b' ');
        self.head.extend_from_slice(status.1.as_bytes());
        self.head.extend_from_slice(b"\r\nServer: ");
        self.head.extend_from_slice(SERVER.as_bytes());
        self.head.extend_from_slice(b"\r\nDate: ");
        with_clock(|clock| self.head.extend_from_slice(&clock.http));
        self.head.extend_from_slice(b"\r\n");
        if !self.reply.keep_alive {
            self.header("Connection", "close");
        } else if self.reply.http10 {
            // HTTP/1.0 closes by default: say that this connection does not.
            self.header("Connection", "keep-alive");
        }
    }

    fn header(&mut self, name: &str, value: &str) {
        self.header_bytes(name, Some(value.as_bytes()));
    }

    fn header_bytes(&mut self, name: &str, value: Option<&[u8]>) {
        if let Some(value) = value {
            self.head.extend_from_slice(name.as_bytes());
            self.head.extend_from_slice(b": ");
            self.head.extend_from_slice(value);
            self.head.extend_from_slice(b"\r\n");
        }
    }

    /// Sends `self.head` whole, keeping the buffer for the next response; returns whether the
    /// connection stays open.
    async fn send_head(&mut self) -> io::Result<bool> {
        let head = std::mem::take(&mut self.head);
        let (result, head) = match timeout(SEND_TIMEOUT, self.stream.write_all(head)).await {
            Ok(written) => written,
            Err(elapsed) => return Err(elapsed.into()),
        };
        self.head = head;
        result?;
        Ok(self.reply.keep_alive)
    }

    /// Ends the connection after a response, lingering (see [`linger`]) so that closing
    /// does not reset the connection before the client has read the response.
    async fn close(self, input: Vec<u8>) -> io::Result<()> {
        linger(self.stream, input, LINGER).await
    }
}

/// A multipart boundary: random hex, different for each response, so that no file can be
/// made to contain the boundary of the responses that will carry it.
fn boundary() -> String {
    use std::hash::{BuildHasher, RandomState};
    thread_local! {
        // Seeded by the process's random hash keys; a counter makes each one new.
        static NEXT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
        static KEYS: RandomState = RandomState::new();
    }
    let count = NEXT.with(|next| next.replace(next.get() + 1));
    let random = KEYS.with(|keys| keys.hash_one(count));
    format!("proactor-{random:016x}")
}

/// Copies `bytes` with each byte past ASCII percent-encoded.
fn encode_past_ascii(bytes: &[u8], out: &mut Vec<u8>) {
    for &byte in bytes {
        if byte.is_ascii() {
            out.push(byte);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

/// How many body bytes of `request` the connection reads and drops to stay in step with the
/// next request: a GET or HEAD may carry a small body (some clients send one), which means
/// nothing here. `None` for a body it does not read: a chunked one (whose framing would need
/// a parser for a case no browser sends), one past [`BODY_LIMIT`], or one with another
/// method; those are answered, and the connection closed.
fn discarded_body(request: &Request<'_>) -> Option<u64> {
    match request.body {
        Body::None => Some(0),
        Body::Length(length)
            if length <= BODY_LIMIT && matches!(request.method, Method::Get | Method::Head) =>
        {
            Some(length)
        }
        _ => None,
    }
}

/// Ends `stream` after a response: no more writes, then read and drop what the client still
/// sends, for up to `limit` (and [`LINGER_BYTES`]), with `buffer`; closing with unread bytes
/// makes the kernel send a reset, which can destroy the response before the client has read
/// it.
async fn linger(mut stream: TcpStream, mut buffer: Vec<u8>, limit: Duration) -> io::Result<()> {
    stream.shutdown(Shutdown::Write).await?;
    // Room to read into: the connection's input may hold only the bytes of one request.
    buffer.reserve(4096);
    let mut drained = 0;
    let _ = timeout(limit, async {
        while drained < LINGER_BYTES {
            buffer.clear();
            let (result, back) = stream.read(buffer).await;
            buffer = back;
            match result {
                Ok(0) | Err(_) => break,
                Ok(count) => drained += count,
            }
        }
    })
    .await;
    Ok(())
}

/// Sends `len` bytes of `file` from `offset` to `stream`: the one place that decides how
/// bodies travel. `buffer` is the connection's, for the copying path.
async fn send_body(
    stream: &mut TcpStream,
    file: &File,
    offset: u64,
    len: u64,
    bodies: Bodies,
    buffer: &mut Vec<u8>,
) -> io::Result<()> {
    match bodies {
        Bodies::SendFile => send_file_body(stream, file, offset, len).await,
        Bodies::Copy => copy_body(stream, file, offset, len, buffer).await,
    }
}

/// The body by the kernel, a bounded piece per call so that a client that stops reading
/// times out per piece rather than per file.
async fn send_file_body(
    stream: &TcpStream,
    file: &File,
    mut offset: u64,
    len: u64,
) -> io::Result<()> {
    const PIECE: u64 = 1 << 20;
    let end = offset + len;
    while offset < end {
        let piece = (end - offset).min(PIECE);
        let sent = match timeout(SEND_TIMEOUT, stream.send_file(file, offset, piece)).await {
            Ok(sent) => sent?,
            // How much of the piece went out is unknown: only closing keeps the framing honest.
            Err(elapsed) => return Err(elapsed.into()),
        };
        if sent < piece {
            // The file shrank under us: the promised Content-Length cannot be kept, so the
            // connection must end for the client to notice.
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        offset += sent;
    }
    Ok(())
}

/// The body through user space: `read_at` into the reused buffer, `write_all` it, repeat.
async fn copy_body(
    stream: &mut TcpStream,
    file: &File,
    mut offset: u64,
    len: u64,
    buffer: &mut Vec<u8>,
) -> io::Result<()> {
    // Zeroed once per connection; the loop lends out ranges of it, never resizing it.
    if buffer.len() != CHUNK {
        buffer.resize(CHUNK, 0);
    }
    let mut owned = std::mem::take(buffer);
    let end = offset + len;
    while offset < end {
        let want = usize::try_from(end - offset).map_or(CHUNK, |left| left.min(CHUNK));
        let view = owned.slice(..want).map_err(io::Error::other)?;
        let (result, view) = file.read_at(view, offset).await;
        owned = view.into_inner();
        let count = match result {
            // The file shrank under us: the promised Content-Length cannot be kept, so the
            // connection must end for the client to notice.
            Ok(0) => {
                *buffer = owned;
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            Ok(count) => count,
            Err(error) => {
                *buffer = owned;
                return Err(error);
            }
        };
        let view = owned.slice(..count).map_err(io::Error::other)?;
        let (result, view) = match timeout(SEND_TIMEOUT, stream.write_all(view)).await {
            Ok(written) => written,
            // The buffer went with the cancelled write; the connection ends anyway.
            Err(elapsed) => return Err(elapsed.into()),
        };
        owned = view.into_inner();
        if let Err(error) = result {
            *buffer = owned;
            return Err(error);
        }
        offset += count as u64;
    }
    *buffer = owned;
    Ok(())
}

/// The status for a file system error on a request path.
fn status_of(error: &io::Error) -> Status {
    if accept::out_of_descriptors(error) {
        // The file may well be there: "not found" would be a lie a cache could keep.
        return SERVICE_UNAVAILABLE;
    }
    match error.kind() {
        io::ErrorKind::PermissionDenied => FORBIDDEN,
        io::ErrorKind::OutOfMemory => SERVICE_UNAVAILABLE,
        // NotFound, "not a directory" for `/file/x`, a loop of links, a name too long:
        // all mean there is nothing to serve at that path.
        _ => NOT_FOUND,
    }
}
