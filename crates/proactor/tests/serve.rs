//! The `serve` example end to end, once per backend (`io_uring::ranges`, `epoll::ranges`): the
//! server runs on a runtime thread over a temporary directory, and a small blocking client
//! written here speaks HTTP/1.1 to it over `std::net::TcpStream`. Every read has a timeout,
//! so a server that stops answering fails the test instead of hanging it.

#![cfg(any(target_os = "linux", windows))]

mod common;

// The example's `main` and its command line are not used here.
#[path = "../examples/serve.rs"]
#[allow(dead_code)]
mod serve;

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use common::per_backend;
use proactor::net::TcpListener;
use proactor::{Backend, Builder, RuntimeGroup};

/// The longest any one socket read or write of the client may wait.
const LIMIT: Duration = Duration::from_secs(10);

const HELLO: &[u8] = b"hello, world\n";
const SECRET: &[u8] = b"outside the root\n";
/// A name that needs escaping in HTML and encoding in a URL (Windows refuses `<` and `>`).
#[cfg(unix)]
const ODD_NAME: &str = "odd <name> & 'q'.txt";
#[cfg(windows)]
const ODD_NAME: &str = "odd (name) & 'q'.txt";
/// [`ODD_NAME`] as the listing escapes it.
#[cfg(unix)]
const ODD_ESCAPED: &str = "odd &lt;name&gt; &amp; &#39;q&#39;.txt";
#[cfg(windows)]
const ODD_ESCAPED: &str = "odd (name) &amp; &#39;q&#39;.txt";
/// [`ODD_NAME`] percent-encoded.
#[cfg(unix)]
const ODD_ENCODED: &str = "odd%20%3Cname%3E%20%26%20%27q%27.txt";
#[cfg(windows)]
const ODD_ENCODED: &str = "odd%20%28name%29%20%26%20%27q%27.txt";

/// A fresh directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = format!(
            "proactor-serve-test-{}-{}-{name}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
        );
        let path = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&path).expect("create the test directory");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A served root with a sibling directory outside it that links from the root point into:
///
/// ```text
/// root/hello.txt                 HELLO
/// root/sub/inner.txt             "inner\n"
/// root/odd <name> & 'q'.txt      (a name that needs escaping)
/// root/inside -> hello.txt       (a link that stays inside: served)
/// root/link-out -> ../outside/secret.txt
/// root/dir-out -> ../outside
/// outside/secret.txt             SECRET
/// ```
struct Site {
    dir: TempDir,
    /// Whether the symbolic links could be made (Windows needs a privilege for them, and
    /// Wine 8 makes none): without them their cases are skipped.
    links: bool,
}

/// Makes `link` a symbolic link to `target` (a directory if `dir`); whether it worked.
fn symlink(target: &str, link: &Path, dir: bool) -> bool {
    #[cfg(unix)]
    {
        let _ = dir;
        std::os::unix::fs::symlink(target, link).expect("make a symbolic link");
        true
    }
    #[cfg(windows)]
    {
        let made = if dir {
            std::os::windows::fs::symlink_dir(target, link)
        } else {
            std::os::windows::fs::symlink_file(target, link)
        };
        made.is_ok() && std::fs::symlink_metadata(link).is_ok_and(|m| m.is_symlink())
    }
}

impl Site {
    fn new(name: &str) -> Site {
        let dir = TempDir::new(name);
        let root = dir.0.join("root");
        let outside = dir.0.join("outside");
        std::fs::create_dir_all(root.join("sub")).expect("create root/sub");
        std::fs::create_dir_all(&outside).expect("create outside");
        std::fs::write(root.join("hello.txt"), HELLO).expect("write hello.txt");
        std::fs::write(root.join("sub/inner.txt"), b"inner\n").expect("write inner.txt");
        std::fs::write(root.join(ODD_NAME), b"odd\n").expect("write the odd name");
        std::fs::write(outside.join("secret.txt"), SECRET).expect("write secret.txt");
        let links = symlink("hello.txt", &root.join("inside"), false)
            && symlink("../outside/secret.txt", &root.join("link-out"), false)
            && symlink("../outside", &root.join("dir-out"), true)
            && symlink(
                root.join("sub/inner.txt")
                    .to_str()
                    .expect("a UTF-8 temporary path"),
                &root.join("absolute-in"),
                false,
            );
        Site { dir, links }
    }

    fn root(&self) -> PathBuf {
        self.dir.0.join("root")
    }
}

/// The example's server on a one-thread runtime group; dropping it stops the runtime (and so
/// the server) and joins its thread.
struct Server {
    address: SocketAddr,
    /// None for a server in another process.
    _group: Option<RuntimeGroup>,
}

impl Server {
    fn start(backend: Backend, root: &Path) -> Server {
        Server::start_with(backend, root, serve::Config::default())
    }

    fn start_with(backend: Backend, root: &Path, config: serve::Config) -> Server {
        let root = serve::canonical_root(root).expect("the root is a directory");
        let group = Builder::new()
            .threads(1)
            .backend(backend)
            .build_group()
            .expect("a runtime on the backend under test");
        let (sender, receiver) = mpsc::channel();
        group.spawn_on(0, move || async move {
            let listener = match TcpListener::bind("127.0.0.1:0").await {
                Ok(listener) => listener,
                Err(error) => {
                    let _ = sender.send(Err(error));
                    return;
                }
            };
            let _ = sender.send(listener.local_addr());
            serve::run(listener, Rc::from(root.as_path()), config).await;
        });
        let address = receiver
            .recv_timeout(LIMIT)
            .expect("the server thread reports its address")
            .expect("the server binds 127.0.0.1:0");
        Server {
            address,
            _group: Some(group),
        }
    }

    fn connect(&self) -> Client {
        let stream = std::net::TcpStream::connect(self.address).expect("connect to the server");
        stream.set_read_timeout(Some(LIMIT)).expect("read timeout");
        stream
            .set_write_timeout(Some(LIMIT))
            .expect("write timeout");
        Client {
            stream,
            input: Vec::new(),
        }
    }

    /// One request on a fresh connection.
    fn request(&self, method: &str, target: &str, headers: &str) -> Response {
        let mut client = self.connect();
        client.send(format!(
            "{method} {target} HTTP/1.1\r\nHost: test\r\n{headers}\r\n"
        ));
        client.response(method == "HEAD")
    }

    fn get(&self, target: &str) -> Response {
        self.request("GET", target, "")
    }
}

/// A blocking HTTP/1.1 client that keeps what it read past one response for the next.
struct Client {
    stream: std::net::TcpStream,
    input: Vec<u8>,
}

#[derive(Debug)]
struct Response {
    status: u16,
    /// Names in lower case.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, value)| value.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Client {
    fn send(&mut self, bytes: impl AsRef<[u8]>) {
        self.stream
            .write_all(bytes.as_ref())
            .expect("send to the server");
    }

    /// Reads more bytes into `input`; false at end of stream.
    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 64 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => false,
            Ok(count) => {
                self.input.extend_from_slice(&chunk[..count]);
                true
            }
            Err(error) => panic!("reading from the server: {error}"),
        }
    }

    /// The next response; `head_request` says it answers a HEAD (no body, whatever the
    /// Content-Length says).
    fn response(&mut self, head_request: bool) -> Response {
        let end = loop {
            if let Some(at) = self
                .input
                .windows(4)
                .position(|window| window == b"\r\n\r\n")
            {
                break at + 4;
            }
            assert!(
                self.fill(),
                "the server closed before a whole response head"
            );
        };
        let head = String::from_utf8(self.input[..end - 4].to_vec()).expect("an ASCII head");
        self.input.drain(..end);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().expect("a status line");
        assert!(
            status_line.starts_with("HTTP/1.1 "),
            "status line {status_line:?}"
        );
        let status = status_line[9..12].parse().expect("a numeric status");
        let headers: Vec<(String, String)> = lines
            .map(|line| {
                let (name, value) = line.split_once(':').expect("a header line has a colon");
                (name.to_ascii_lowercase(), value.trim().to_string())
            })
            .collect();
        let mut response = Response {
            status,
            headers,
            body: Vec::new(),
        };
        let length: usize = match response.header("content-length") {
            _ if head_request || status == 304 => 0,
            Some(length) => length.parse().expect("a numeric Content-Length"),
            None => panic!("every response of this server has a Content-Length"),
        };
        while self.input.len() < length {
            assert!(self.fill(), "the server closed in the middle of a body");
        }
        response.body = self.input.drain(..length).collect();
        response
    }

    /// The next response, or `None` if the server closes (or resets) the connection first.
    fn try_response(&mut self) -> Option<Response> {
        loop {
            if self.input.windows(4).any(|window| window == b"\r\n\r\n") {
                return Some(self.response(false));
            }
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(count) => self.input.extend_from_slice(&chunk[..count]),
                // Windows may report a reset as an abort.
                Err(error)
                    if matches!(
                        error.kind(),
                        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
                    ) =>
                {
                    return None
                }
                Err(error) => panic!("reading from the server: {error}"),
            }
        }
    }

    /// Whether the server closed the connection (end of stream or reset) without sending
    /// anything more.
    fn is_closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        match self.stream.read(&mut byte) {
            Ok(0) => self.input.is_empty(),
            Ok(_) => false,
            Err(error) if error.kind() == ErrorKind::ConnectionReset => true,
            Err(error) => panic!("waiting for the server to close: {error}"),
        }
    }
}

/// `count` bytes that differ from position to position (a file of one repeated byte would
/// hide offsets that are off).
fn patterned(count: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn get_a_file(backend: Backend) {
    let site = Site::new("get");
    let server = Server::start(backend, &site.root());
    let response = server.get("/hello.txt");
    assert_eq!(response.status, 200);
    assert_eq!(response.body, HELLO);
    assert_eq!(response.header("content-length"), Some("13"));
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(response.header("accept-ranges"), Some("bytes"));
    let modified = response.header("last-modified").expect("a Last-Modified");
    assert!(
        modified.len() == 29 && modified.ends_with(" GMT"),
        "{modified:?}"
    );
    assert!(response.header("date").is_some());
    // A link that stays inside the root is served like the file it names.
    if site.links {
        let inside = server.get("/inside");
        assert_eq!((inside.status, inside.body.as_slice()), (200, HELLO));
    }
    // The same date back in If-Modified-Since means the client's copy is current.
    let again = server.request(
        "GET",
        "/hello.txt",
        &format!("If-Modified-Since: {modified}\r\n"),
    );
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
}

fn head_has_no_body(backend: Backend) {
    let site = Site::new("head");
    let server = Server::start(backend, &site.root());
    let mut client = server.connect();
    client.send("HEAD /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n");
    let head = client.response(true);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("13"));
    // Had the server sent a body after the head, this response would start with it.
    client.send("GET /sub/inner.txt HTTP/1.1\r\nHost: test\r\n\r\n");
    let next = client.response(false);
    assert_eq!((next.status, next.body.as_slice()), (200, &b"inner\n"[..]));
}

fn keep_alive_and_close(backend: Backend) {
    let site = Site::new("keep-alive");
    let server = Server::start(backend, &site.root());
    let mut client = server.connect();
    for _ in 0..2 {
        client.send("GET /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n");
        let response = client.response(false);
        assert_eq!((response.status, response.body.as_slice()), (200, HELLO));
        assert_eq!(response.header("connection"), None);
    }
    client.send("GET /hello.txt HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    let last = client.response(false);
    assert_eq!(last.body, HELLO);
    assert_eq!(last.header("connection"), Some("close"));
    assert!(client.is_closed());

    // HTTP/1.0 closes unless asked to keep the connection.
    let mut client = server.connect();
    client.send("GET /hello.txt HTTP/1.0\r\n\r\n");
    assert_eq!(client.response(false).body, HELLO);
    assert!(client.is_closed());
    let mut client = server.connect();
    for _ in 0..2 {
        client.send("GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let response = client.response(false);
        assert_eq!(response.body, HELLO);
        assert_eq!(response.header("connection"), Some("keep-alive"));
    }
}

fn pipelined_requests_in_order(backend: Backend) {
    let site = Site::new("pipeline");
    let server = Server::start(backend, &site.root());
    let mut client = server.connect();
    // All in one write, so the server finds several requests in one read.
    client.send(
        "GET /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n\
         HEAD /sub/inner.txt HTTP/1.1\r\nHost: test\r\n\r\n\
         GET /missing HTTP/1.1\r\nHost: test\r\n\r\n\
         GET /sub/inner.txt HTTP/1.1\r\nHost: test\r\nRange: bytes=1-2\r\n\r\n\
         GET /hello.txt HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    );
    let first = client.response(false);
    assert_eq!((first.status, first.body.as_slice()), (200, HELLO));
    let second = client.response(true);
    assert_eq!(
        (second.status, second.header("content-length")),
        (200, Some("6"))
    );
    assert_eq!(client.response(false).status, 404);
    let fourth = client.response(false);
    assert_eq!((fourth.status, fourth.body.as_slice()), (206, &b"nn"[..]));
    let last = client.response(false);
    assert_eq!((last.status, last.body.as_slice()), (200, HELLO));
    assert!(client.is_closed());

    // A request split across writes (mid-line, mid-header) is put back together.
    let mut client = server.connect();
    for piece in [
        "GE",
        "T /hello.txt HT",
        "TP/1.1\r\nHo",
        "st: test\r\n",
        "\r\n",
    ] {
        client.send(piece);
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(client.response(false).body, HELLO);
}

/// More keep-alive clients than a runtime's read pool has buffers (256), each sending its
/// request at once and then another: every one answered, twice (an idle connection reads its
/// next request through the pool, which allocates when every buffer is lent).
fn more_clients_than_pool_buffers(backend: Backend) {
    let site = Site::new("many");
    let server = Server::start(backend, &site.root());
    let mut clients: Vec<_> = (0..300).map(|_| server.connect()).collect();
    for _round in 0..2 {
        for client in &mut clients {
            client.send("GET /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n");
        }
        for client in &mut clients {
            let response = client.response(false);
            assert_eq!((response.status, response.body.as_slice()), (200, HELLO));
        }
    }
}

fn ranges(backend: Backend) {
    let site = Site::new("ranges");
    let server = Server::start(backend, &site.root());
    let range = |value: &str| server.request("GET", "/hello.txt", &format!("Range: {value}\r\n"));

    let cases: [(&str, &[u8], &str); 5] = [
        ("bytes=0-4", b"hello", "bytes 0-4/13"),
        ("bytes=7-", b"world\n", "bytes 7-12/13"),
        ("bytes=-6", b"world\n", "bytes 7-12/13"),
        ("bytes=7-1000", b"world\n", "bytes 7-12/13"),
        ("bytes=-100", HELLO, "bytes 0-12/13"),
    ];
    for (value, body, content_range) in cases {
        let response = range(value);
        assert_eq!(response.status, 206, "{value}");
        assert_eq!(response.body, body, "{value}");
        assert_eq!(
            response.header("content-range"),
            Some(content_range),
            "{value}"
        );
        assert_eq!(
            response.header("content-length"),
            Some(body.len().to_string().as_str())
        );
    }
    for value in [
        "bytes=13-",
        "bytes=100-200",
        "bytes=-0",
        "bytes=99999999999999999999999-",
    ] {
        let response = range(value);
        assert_eq!(response.status, 416, "{value}");
        assert_eq!(
            response.header("content-range"),
            Some("bytes */13"),
            "{value}"
        );
    }
    // What the server cannot read is ignored: the whole file.
    for value in [
        "bytes=0-1,3-4,x",
        "bytes=5-2",
        "lines=1-2",
        "bytes=a-b",
        "bytes=-",
    ] {
        let response = range(value);
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, HELLO),
            "{value}"
        );
    }
    // HEAD ignores Range.
    let head = server.request("HEAD", "/hello.txt", "Range: bytes=0-4\r\n");
    assert_eq!(
        (head.status, head.header("content-length")),
        (200, Some("13"))
    );
    // If-Range with another validator: the whole file.
    let stale = server.request(
        "GET",
        "/hello.txt",
        "Range: bytes=0-4\r\nIf-Range: Thu, 01 Jan 1970 00:00:00 GMT\r\n",
    );
    assert_eq!((stale.status, stale.body.as_slice()), (200, HELLO));
}

/// `ETag` from size and modification time; `If-None-Match` (lists, `*`, weak tags) and
/// `If-Modified-Since` (any of HTTP's three date forms, compared as a date) answer 304;
/// If-None-Match decides over If-Modified-Since; `If-Range` takes the tag too.
fn conditional_requests(backend: Backend) {
    let site = Site::new("conditional");
    let root = site.root();
    // 1_000_000_000.5 s: Sun, 09 Sep 2001 01:46:40 GMT and half a second.
    let modified = std::time::UNIX_EPOCH + Duration::from_millis(1_000_000_000_500);
    std::fs::File::options()
        .write(true)
        .open(root.join("hello.txt"))
        .and_then(|file| file.set_modified(modified))
        .expect("set the modification time");
    let server = Server::start(backend, &root);
    let conditional = |headers: &str| server.request("GET", "/hello.txt", headers);

    let full = server.get("/hello.txt");
    let tag = format!("\"{:x}-{:x}\"", 1_000_000_000u64, HELLO.len());
    assert_eq!(full.header("etag"), Some(tag.as_str()));
    assert_eq!(
        full.header("last-modified"),
        Some("Sun, 09 Sep 2001 01:46:40 GMT")
    );
    let weak = format!("W/{tag}");
    let listed = format!("\"other\", {tag}");
    for matching in [tag.as_str(), &weak, &listed, "*"] {
        let response = conditional(&format!("If-None-Match: {matching}\r\n"));
        assert_eq!(response.status, 304, "{matching}");
        assert_eq!(response.header("etag"), Some(tag.as_str()), "{matching}");
        assert!(response.body.is_empty());
    }
    for other in ["\"other\"", "W/\"other\"", "nonsense"] {
        let response = conditional(&format!("If-None-Match: {other}\r\n"));
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, HELLO),
            "{other}"
        );
    }
    // The modification time is at 01:46:40.5: not modified since 01:46:40, whatever the form.
    for since in [
        "Sun, 09 Sep 2001 01:46:40 GMT",
        "Sun, 09 Sep 2001 01:46:41 GMT",
        "Mon, 01 Jan 2024 00:00:00 GMT",
        "Sunday, 09-Sep-01 01:46:40 GMT",
        "Sun Sep  9 01:46:40 2001",
    ] {
        let response = conditional(&format!("If-Modified-Since: {since}\r\n"));
        assert_eq!(response.status, 304, "{since}");
    }
    for since in [
        "Sun, 09 Sep 2001 01:46:39 GMT",
        "Thu, 01 Jan 1970 00:00:00 GMT",
        "yesterday",
        "Sun, 09 Sep 2001 25:46:40 GMT",
    ] {
        let response = conditional(&format!("If-Modified-Since: {since}\r\n"));
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, HELLO),
            "{since}"
        );
    }
    // If-None-Match decides, If-Modified-Since aside.
    let stale_tag = conditional(
        "If-None-Match: \"other\"\r\nIf-Modified-Since: Mon, 01 Jan 2024 00:00:00 GMT\r\n",
    );
    assert_eq!(stale_tag.status, 200);
    let current_tag = conditional(&format!(
        "If-None-Match: {tag}\r\nIf-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
    ));
    assert_eq!(current_tag.status, 304);
    // If-Range: the current tag keeps the range; a weak or another one gets the whole file.
    let range =
        |validator: &str| conditional(&format!("Range: bytes=0-4\r\nIf-Range: {validator}\r\n"));
    assert_eq!(range(&tag).status, 206);
    assert_eq!(range("Sun, 09 Sep 2001 01:46:40 GMT").status, 206);
    assert_eq!(range(&weak).status, 200);
    assert_eq!(range("\"other\"").status, 200);
    // A 304 has no body: the next response on the connection is read intact.
    let mut client = server.connect();
    client.send(format!(
        "GET /hello.txt HTTP/1.1\r\nHost: test\r\nIf-None-Match: {tag}\r\n\r\n\
         HEAD /hello.txt HTTP/1.1\r\nHost: test\r\nIf-None-Match: {tag}\r\n\r\n\
         GET /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n"
    ));
    assert_eq!(client.response(false).status, 304);
    assert_eq!(client.response(true).status, 304);
    assert_eq!(client.response(false).body, HELLO);
}

/// Content types from the built-in table (text with `charset=utf-8`, any case of extension),
/// `application/octet-stream` for what it lacks, and types added as `--mime EXT=TYPE` does,
/// which win over the table.
fn content_types(backend: Backend) {
    let site = Site::new("types");
    let root = site.root();
    let files = [
        ("table.CSV", "text/csv; charset=utf-8"),
        ("app.mjs", "text/javascript; charset=utf-8"),
        ("font.woff2", "font/woff2"),
        ("photo.avif", "image/avif"),
        ("site.webmanifest", "application/manifest+json"),
        ("data.json", "application/json"),
        ("notes.txt", "text/x-notes"),
        ("model.glb", "model/gltf-binary"),
        ("blob.unknownext", "application/octet-stream"),
        ("Makefile", "application/octet-stream"),
    ];
    for (name, _) in files {
        std::fs::write(root.join(name), b"x").expect("write a typed file");
    }
    let mut types = serve::MimeTypes::default();
    types.add(".glb=model/gltf-binary").expect("a valid type");
    types.add("txt=text/x-notes").expect("a valid type");
    for refused in [
        "glb",
        "=text/plain",
        "a/b=text/plain",
        "x=plain",
        "x=text/a\r\nX: y",
    ] {
        assert!(types.add(refused).is_err(), "{refused:?}");
    }
    let config = serve::Config {
        types: std::sync::Arc::new(types),
        ..serve::Config::default()
    };
    let server = Server::start_with(backend, &root, config);
    for (name, kind) in files {
        let response = server.get(&format!("/{name}"));
        assert_eq!(response.status, 200, "{name}");
        assert_eq!(response.header("content-type"), Some(kind), "{name}");
    }
}

/// A line per response in the common log format, reaching the sink within moments without
/// further traffic, with the request line escaped so that a client cannot forge lines.
fn access_log(backend: Backend) {
    let site = Site::new("log");
    let sink = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let config = serve::Config {
        access_log: Some(serve::LogSink(sink.clone())),
        ..serve::Config::default()
    };
    let server = Server::start_with(backend, &site.root(), config);
    assert_eq!(server.get("/hello.txt").status, 200);
    assert_eq!(server.request("HEAD", "/hello.txt", "").status, 200);
    assert_eq!(server.get("/missing").status, 404);
    // A backslash in a name is refused (it separates paths on Windows).
    assert_eq!(server.get("/a\"b\\c").status, 403);
    let mut client = server.connect();
    client.send("GET /x\x01\x1b[2J HTTP/1.1\r\nHost: test\r\n\r\n");
    assert_eq!(client.response(false).status, 400);
    let expected = [
        "\"GET /hello.txt HTTP/1.1\" 200 13",
        "\"HEAD /hello.txt HTTP/1.1\" 200 0",
        "\"GET /missing HTTP/1.1\" 404 14",
        "\"GET /a\\x22b\\x5Cc HTTP/1.1\" 403 14",
        "\"GET /x\\x01\\x1B[2J HTTP/1.1\" 400 16",
    ];
    // Nothing more is sent: the lines must come out on their own, and soon.
    let deadline = std::time::Instant::now() + LIMIT;
    let text = loop {
        let text = String::from_utf8(sink.lock().unwrap().clone()).expect("an ASCII log");
        if text.lines().count() >= expected.len() || std::time::Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), expected.len(), "{text}");
    for (line, request) in lines.iter().zip(expected) {
        // 127.0.0.1 - - [07/Dec/2026:20:55:01 +0000] "GET /hello.txt HTTP/1.1" 200 13
        let (prefix, rest) = line.split_once(" - - [").expect("client - - [");
        assert_eq!(prefix, "127.0.0.1", "{line}");
        let (date, rest) = rest.split_once("] ").expect("a bracketed date");
        assert_eq!(date.len(), 26, "{line}");
        assert!(
            date.ends_with(" +0000") && date.as_bytes()[2] == b'/',
            "{line}"
        );
        assert_eq!(rest, request);
    }
}

/// A GET or HEAD with a small body has it read and dropped, and the connection carries on
/// in step (the body is not taken for the next request), even when the body comes late.
fn small_bodies_are_dropped(backend: Backend) {
    let site = Site::new("bodies");
    let server = Server::start(backend, &site.root());
    let mut client = server.connect();
    // The body looks like a request: answering it would show.
    let smuggled = "GET /sub/inner.txt HTTP/1.1\r\nHost: test\r\n\r\n";
    client.send(format!(
        "GET /hello.txt HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n\r\n{smuggled}\
         HEAD /hello.txt HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n\r\nabc\
         GET /hello.txt HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n",
        smuggled.len()
    ));
    assert_eq!(client.response(false).body, HELLO);
    assert_eq!(client.response(true).status, 200);
    assert_eq!(client.response(false).body, HELLO);
    // A body of 64 KiB, arriving after the response to its head.
    let body = vec![b'x'; 64 * 1024];
    client.send("GET /hello.txt HTTP/1.1\r\nHost: test\r\nContent-Length: 65536\r\n\r\n");
    assert_eq!(client.response(false).body, HELLO);
    std::thread::sleep(Duration::from_millis(20));
    client.send(&body[..1000]);
    std::thread::sleep(Duration::from_millis(20));
    client.send(&body[1000..]);
    client.send("GET /sub/inner.txt HTTP/1.1\r\nHost: test\r\n\r\n");
    let inner = client.response(false);
    assert_eq!(
        (inner.status, inner.body.as_slice()),
        (200, &b"inner\n"[..])
    );
}

/// Raw UTF-8 in the request target (as browsers and curl send it) names the same file as its
/// percent-encoded form; a redirect sends it back encoded.
fn raw_utf8_targets(backend: Backend) {
    let site = Site::new("utf8");
    let root = site.root();
    std::fs::write(root.join("h\u{e9}.txt"), b"accent\n").expect("write h\u{e9}.txt");
    std::fs::create_dir_all(root.join("d\u{e9}j\u{e0}")).expect("create d\u{e9}j\u{e0}");
    let server = Server::start(backend, &root);
    let raw = |target: &[u8]| {
        let mut client = server.connect();
        client.send([b"GET ", target, b" HTTP/1.1\r\nHost: test\r\n\r\n"].concat());
        client.response(false)
    };
    let file = raw("/h\u{e9}.txt".as_bytes());
    assert_eq!((file.status, file.body.as_slice()), (200, &b"accent\n"[..]));
    assert_eq!(server.get("/h%C3%A9.txt").body, b"accent\n");
    let redirect = raw("/d\u{e9}j\u{e0}?q=\u{e9}".as_bytes());
    assert_eq!(redirect.status, 301);
    assert_eq!(
        redirect.header("location"),
        Some("/d%C3%A9j%C3%A0/?q=%C3%A9")
    );
    let listing = raw("/d\u{e9}j\u{e0}/".as_bytes());
    assert_eq!(listing.status, 200);
    assert!(
        listing.text().contains("Index of /d\u{e9}j\u{e0}/"),
        "{}",
        listing.text()
    );
    assert_eq!(raw("/missing-\u{e9}".as_bytes()).status, 404);
}

/// The parts of a `multipart/byteranges` body: each part's Content-Type, Content-Range and
/// bytes, checking the framing on the way.
fn multipart_parts(response: &Response) -> Vec<(String, String, Vec<u8>)> {
    let kind = response.header("content-type").expect("a Content-Type");
    let boundary = kind
        .strip_prefix("multipart/byteranges; boundary=")
        .unwrap_or_else(|| panic!("a multipart type: {kind}"));
    let delimiter = format!("\r\n--{boundary}");
    let closing = format!("{delimiter}--\r\n");
    let mut body = response.body.as_slice();
    assert!(
        body.ends_with(closing.as_bytes()),
        "the body ends with the closing delimiter"
    );
    body = &body[..body.len() - closing.len()];
    let mut parts = Vec::new();
    while !body.is_empty() {
        body = body
            .strip_prefix(delimiter.as_bytes())
            .expect("a part starts with the delimiter");
        let end = body
            .windows(4)
            .position(|window| window == b"\r\n\r\n")
            .expect("a part head");
        let head = std::str::from_utf8(&body[2..end]).expect("an ASCII part head");
        let mut fields = std::collections::HashMap::new();
        for line in head.split("\r\n") {
            let (name, value) = line.split_once(": ").expect("a part header");
            fields.insert(name.to_ascii_lowercase(), value.to_string());
        }
        let range = fields["content-range"].clone();
        let (first, last) = range
            .strip_prefix("bytes ")
            .and_then(|range| range.split_once('/'))
            .and_then(|(span, _)| span.split_once('-'))
            .expect("bytes first-last/len");
        let count = last.parse::<usize>().unwrap() - first.parse::<usize>().unwrap() + 1;
        let data = body[end + 4..end + 4 + count].to_vec();
        body = &body[end + 4 + count..];
        parts.push((fields["content-type"].clone(), range, data));
    }
    parts
}

/// Several ranges in one request: 206 `multipart/byteranges`, a part per range with its
/// type and range, both ways of sending bodies; overlapping or touching ranges merged, too
/// many answered whole, none satisfiable 416.
fn multipart_ranges(backend: Backend) {
    let site = Site::new("multipart");
    let root = site.root();
    let data = patterned(1000);
    std::fs::write(root.join("data.txt"), &data).expect("write data.txt");
    for bodies in [serve::Bodies::SendFile, serve::Bodies::Copy] {
        let config = serve::Config {
            bodies,
            ..serve::Config::default()
        };
        let server = Server::start_with(backend, &root, config);
        let mut client = server.connect();
        let mut range = |value: &str| {
            client.send(format!(
                "GET /data.txt HTTP/1.1\r\nHost: test\r\nRange: {value}\r\n\r\n"
            ));
            client.response(false)
        };
        let response = range("bytes=100-109, 0-9,-5");
        assert_eq!(response.status, 206);
        assert!(response.header("etag").is_some());
        assert_eq!(response.header("content-range"), None);
        let parts = multipart_parts(&response);
        let expected = [(0, 9), (100, 109), (995, 999)];
        assert_eq!(parts.len(), expected.len());
        for ((kind, content_range, bytes), (first, last)) in parts.iter().zip(expected) {
            assert_eq!(kind, "text/plain; charset=utf-8");
            assert_eq!(content_range, &format!("bytes {first}-{last}/1000"));
            assert_eq!(bytes.as_slice(), &data[first..=last]);
        }
        // Overlapping or touching ranges make one, and a range past the end none.
        for (value, first, last) in [
            ("bytes=0-9,5-14", 0, 14),
            ("bytes=10-19,0-9", 0, 19),
            ("bytes=0-4,2000-3000", 0, 4),
            ("bytes=0-99,10-20,,", 0, 99),
        ] {
            let response = range(value);
            assert_eq!(response.status, 206, "{value}");
            assert_eq!(
                response.header("content-range"),
                Some(format!("bytes {first}-{last}/1000").as_str()),
                "{value}"
            );
            assert_eq!(response.body, &data[first..=last], "{value}");
        }
        let sixteen: Vec<String> = (0..16)
            .map(|at| format!("{}-{}", at * 10, at * 10 + 1))
            .collect();
        let response = range(&format!("bytes={}", sixteen.join(",")));
        assert_eq!(
            (response.status, multipart_parts(&response).len()),
            (206, 16)
        );
        let seventeen: Vec<String> = (0..17)
            .map(|at| format!("{}-{}", at * 10, at * 10 + 1))
            .collect();
        let response = range(&format!("bytes={}", seventeen.join(",")));
        assert_eq!((response.status, response.body.len()), (200, 1000));
        let response = range("bytes=2000-,3000-3001");
        assert_eq!(response.status, 416);
        assert_eq!(response.header("content-range"), Some("bytes */1000"));
        // The connection is still in step after all of it.
        client.send("HEAD /data.txt HTTP/1.1\r\nHost: test\r\nRange: bytes=0-1,5-6\r\n\r\n");
        let head = client.response(true);
        assert_eq!(
            (head.status, head.header("content-length")),
            (200, Some("1000"))
        );
    }
}

/// Precompressed siblings (`app.js.br`, `app.js.gz`) served to clients that accept their
/// coding, by quality with `br` first at a tie, with the original's type, `Content-Encoding`,
/// `Vary` and a tag of their own; the original to everyone else.
fn precompressed_siblings(backend: Backend) {
    let site = Site::new("precompressed");
    let root = site.root();
    let files: [(&str, &[u8]); 7] = [
        ("app.js", b"let original = 1;\n"),
        ("app.js.br", b"brotli bytes"),
        ("app.js.gz", b"gzip bytes!"),
        ("style.css", b"body {}\n"),
        ("style.css.gz", b"gzipped css"),
        ("index.html", b"<p>home</p>\n"),
        ("index.html.gz", b"gzipped home"),
    ];
    for (name, bytes) in files {
        std::fs::write(root.join(name), bytes).expect("write a file");
    }
    // A sibling that is a directory is no representation.
    std::fs::create_dir_all(root.join("hello.txt.br")).expect("a directory named like one");
    let server = Server::start(backend, &root);
    let get = |target: &str, accept: &str| {
        server.request("GET", target, &format!("Accept-Encoding: {accept}\r\n"))
    };
    let cases = [
        (
            "/app.js",
            "gzip, deflate, br",
            Some("br"),
            &b"brotli bytes"[..],
        ),
        ("/app.js", "br;q=0.5, gzip", Some("gzip"), b"gzip bytes!"),
        ("/app.js", "x-gzip", Some("gzip"), b"gzip bytes!"),
        ("/app.js", "*", Some("br"), b"brotli bytes"),
        ("/app.js", "*, br;q=0", Some("gzip"), b"gzip bytes!"),
        (
            "/app.js",
            "br;q=0, gzip;q=0.000",
            None,
            b"let original = 1;\n",
        ),
        ("/app.js", "identity", None, b"let original = 1;\n"),
        ("/app.js", "br;q=2", None, b"let original = 1;\n"),
        ("/style.css", "br, gzip", Some("gzip"), b"gzipped css"),
        ("/hello.txt", "br, gzip", None, HELLO),
        ("/", "gzip", Some("gzip"), b"gzipped home"),
    ];
    for (target, accept, coding, body) in cases {
        let response = get(target, accept);
        let context = format!("{target} with {accept}");
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, body),
            "{context}"
        );
        assert_eq!(response.header("content-encoding"), coding, "{context}");
        let vary = coding.map(|_| "Accept-Encoding");
        assert_eq!(response.header("vary"), vary, "{context}");
        if let Some(coding) = coding {
            let tag = response.header("etag").expect("an ETag");
            assert!(tag.ends_with(&format!("-{coding}\"")), "{context}: {tag}");
        }
    }
    let plain = server.get("/app.js");
    assert_eq!(plain.body, b"let original = 1;\n");
    assert_eq!(
        plain.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        (plain.header("content-encoding"), plain.header("vary")),
        (None, None)
    );
    let brotli = get("/app.js", "br");
    assert_eq!(
        brotli.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    // Each representation has its own tag, and a 304 says which it is about.
    let brotli_tag = brotli.header("etag").expect("an ETag").to_string();
    let plain_tag = plain.header("etag").expect("an ETag").to_string();
    assert_ne!(brotli_tag, plain_tag);
    let current = server.request(
        "GET",
        "/app.js",
        &format!("Accept-Encoding: br\r\nIf-None-Match: {brotli_tag}\r\n"),
    );
    assert_eq!(current.status, 304);
    assert_eq!(current.header("content-encoding"), Some("br"));
    assert_eq!(current.header("vary"), Some("Accept-Encoding"));
    let other = server.request(
        "GET",
        "/app.js",
        &format!("Accept-Encoding: br\r\nIf-None-Match: {plain_tag}\r\n"),
    );
    assert_eq!(
        (other.status, other.body.as_slice()),
        (200, &b"brotli bytes"[..])
    );
    // Ranges and HEAD are of the encoded bytes.
    let range = server.request(
        "GET",
        "/app.js",
        "Accept-Encoding: br\r\nRange: bytes=0-5\r\n",
    );
    assert_eq!((range.status, range.body.as_slice()), (206, &b"brotli"[..]));
    assert_eq!(range.header("content-range"), Some("bytes 0-5/12"));
    assert_eq!(range.header("content-encoding"), Some("br"));
    let head = server.request("HEAD", "/app.js", "Accept-Encoding: gzip\r\n");
    assert_eq!(head.header("content-length"), Some("11"));
    if site.links {
        // A sibling leading out of the root is not served.
        assert!(symlink(
            "../outside/secret.txt",
            &root.join("hello.txt.gz"),
            false
        ));
        let response = get("/hello.txt", "gzip");
        assert_eq!(
            (
                response.body.as_slice(),
                response.header("content-encoding")
            ),
            (HELLO, None)
        );
    }
}

fn directories(backend: Backend) {
    let site = Site::new("directories");
    let server = Server::start(backend, &site.root());
    let redirect = server.get("/sub?x=1");
    assert_eq!(redirect.status, 301);
    assert_eq!(redirect.header("location"), Some("/sub/?x=1"));

    let listing = server.get("/sub/");
    assert_eq!(listing.status, 200);
    assert_eq!(
        listing.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let text = listing.text();
    assert!(
        text.contains("<a href=\"inner.txt\">inner.txt</a>"),
        "{text}"
    );
    assert!(text.contains("<a href=\"../\">"), "{text}");

    let root = server.get("/").text();
    assert!(root.contains("<a href=\"sub/\">sub/</a>"), "{root}");
    assert!(root.contains(ODD_ESCAPED), "the name is escaped: {root}");
    assert!(
        !root.contains("<name>"),
        "no raw markup from a name: {root}"
    );
    assert!(
        root.contains(&format!("href=\"{ODD_ENCODED}\"")),
        "the link is percent-encoded: {root}"
    );
    // ...and the encoded link leads back to the file.
    let odd = server.get(&format!("/{ODD_ENCODED}"));
    assert_eq!((odd.status, odd.body.as_slice()), (200, &b"odd\n"[..]));
}

/// A directory with an `index.html` (a regular file) is served that page at `/dir/`; one
/// without, or whose `index.html` is no regular file inside the root, gets its listing.
fn index_pages(backend: Backend) {
    const PAGE: &[u8] = b"<!DOCTYPE html><title>home</title>\n";
    let site = Site::new("index");
    let root = site.root();
    std::fs::write(root.join("index.html"), PAGE).expect("write index.html");
    std::fs::create_dir_all(root.join("blog/index.html")).expect("a directory named index.html");
    std::fs::create_dir_all(root.join("docs")).expect("create docs");
    std::fs::write(root.join("docs/index.html"), b"docs\n").expect("write docs/index.html");
    let server = Server::start(backend, &root);

    let home = server.get("/");
    assert_eq!((home.status, home.body.as_slice()), (200, PAGE));
    assert_eq!(
        home.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(home.header("last-modified").is_some());
    let head = server.request("HEAD", "/", "");
    assert_eq!(
        (head.status, head.header("content-length")),
        (200, Some(PAGE.len().to_string().as_str()))
    );
    let docs = server.get("/docs/?page=2");
    assert_eq!((docs.status, docs.body.as_slice()), (200, &b"docs\n"[..]));
    // Without the slash, the redirect comes first, as for any directory.
    let redirect = server.get("/docs");
    assert_eq!(redirect.status, 301);
    assert_eq!(redirect.header("location"), Some("/docs/"));
    // A directory that happens to be named index.html is no page: the listing answers.
    let blog = server.get("/blog/");
    assert_eq!(blog.status, 200);
    assert!(
        blog.text().contains("<a href=\"index.html/\">"),
        "{}",
        blog.text()
    );
    let sub = server.get("/sub/");
    assert!(sub.text().contains("inner.txt"), "{}", sub.text());
    if site.links {
        // An index.html leading out of the root is not served: the listing is.
        std::fs::create_dir_all(root.join("trap")).expect("create trap");
        assert!(symlink(
            "../../outside/secret.txt",
            &root.join("trap/index.html"),
            false
        ));
        let trap = server.get("/trap/");
        assert_eq!(trap.status, 200);
        assert!(!trap.text().contains("outside the root"), "{}", trap.text());
        assert!(trap.text().contains("Index of /trap/"), "{}", trap.text());
    }
}

fn errors(backend: Backend) {
    let site = Site::new("errors");
    let server = Server::start(backend, &site.root());
    assert_eq!(server.get("/missing.txt").status, 404);
    assert_eq!(server.get("/hello.txt/").status, 404);
    assert_eq!(server.get("/hello.txt/more").status, 404);

    // 405 for a method without a body keeps the connection.
    let mut client = server.connect();
    client.send("DELETE /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n");
    let refused = client.response(false);
    assert_eq!(refused.status, 405);
    assert_eq!(refused.header("allow"), Some("GET, HEAD"));
    client.send("GET /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n");
    assert_eq!(client.response(false).body, HELLO);

    // With a body the server does not read, it answers and closes.
    let mut client = server.connect();
    client.send("POST /hello.txt HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nabcde");
    let post = client.response(false);
    assert_eq!(post.status, 405);
    assert_eq!(post.header("connection"), Some("close"));
    assert!(client.is_closed());

    let oversized = format!(
        "GET /hello.txt HTTP/1.1\r\nHost: test\r\nX-Filler: {}\r\n\r\n",
        "a".repeat(9000)
    );
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: test\r\n\r\n", "a".repeat(9000));
    let malformed: Vec<(&[u8], u16)> = vec![
        (b"GARBAGE\r\n\r\n", 400),
        (b"\x00\x01\x02\xff\xfe\r\n\r\n", 400),
        (b"GET /hello.txt HTTP/1.1\r\n\r\n", 400), // no Host
        (b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"GET /hello.txt HTTP/1.1 extra\r\nHost: test\r\n\r\n", 400),
        (b"GET  /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n", 400),
        (b"GET hello.txt HTTP/1.1\r\nHost: test\r\n\r\n", 400),
        (b"GET /hello.txt HTTP/1.1\r\nHost: test\r\nNo colon\r\n\r\n", 400),
        (b"GET /hello.txt HTTP/1.1\r\nHost : test\r\n\r\n", 400),
        (b"GET /hello.txt HTTP/1.1\r\nHost: test\r\n folded\r\n\r\n", 400),
        (b"GET /h\x7f.txt HTTP/1.1\r\nHost: test\r\n\r\n", 400),
        (b"GET /h\x1b.txt HTTP/1.1\r\nHost: test\r\n\r\n", 400),
        (b"GET /%zz HTTP/1.1\r\nHost: test\r\n\r\n", 400),
        (b"GET /%4 HTTP/1.1\r\nHost: test\r\n\r\n", 400),
        (b"GET /hello.txt HTTP/1.1\r\nHost: test\r\nContent-Length: x\r\n\r\n", 400),
        (b"GET /hello.txt HTTP/1.1\r\nHost: test\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        (b"GET /hello.txt HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"GET /hello.txt HTTP/1.1\r\nHost: test\r\nContent-Length: 65537\r\n\r\nabc", 413),
        (b"GET /hello.txt HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 413),
        (b"GET /hello.txt HTTP/2.0\r\nHost: test\r\n\r\n", 505),
        (b"GET /hello.txt HTTP/1.1\r\nHost: test\r\nX: a\x01b\r\n\r\n", 400),
        (oversized.as_bytes(), 431),
        (long_target.as_bytes(), 414),
        // No line end within the limit: an overlong request line, whatever it holds.
        (&[b'A'; 10_000], 414),
    ];
    for (request, status) in malformed {
        let mut client = server.connect();
        client.send(request);
        let response = client.response(false);
        let shown = String::from_utf8_lossy(&request[..request.len().min(80)]);
        assert_eq!(response.status, status, "{shown:?}");
        assert_eq!(response.header("connection"), Some("close"), "{shown:?}");
        assert!(client.is_closed(), "{shown:?}");
    }
    // None of it hurt the server.
    assert_eq!(server.get("/hello.txt").body, HELLO);
}

fn traversal_is_refused(backend: Backend) {
    let site = Site::new("traversal");
    let server = Server::start(backend, &site.root());
    let attempts = [
        "/../Cargo.toml",
        "/../outside/secret.txt",
        "/sub/../../outside/secret.txt",
        "/%2e%2e/",
        "/%2e%2e/outside/secret.txt",
        "/%2E%2E/outside/secret.txt",
        "/.%2e/outside/secret.txt",
        "/%2e%2e%2fetc/passwd",
        "/%2e%2e%2foutside%2fsecret.txt",
        "/sub%2f..%2f..%2foutside/secret.txt",
        "/%2fetc/passwd",
        "//etc/passwd",
        "/hello.txt%00.png",
        "/sub%5c..%5c..%5coutside%5csecret.txt",
        "/link-out",
        "/dir-out/secret.txt",
        "/dir-out/",
        "http://test/../outside/secret.txt",
    ];
    for attempt in attempts {
        let response = server.get(attempt);
        assert!(
            matches!(response.status, 403 | 404),
            "{attempt}: {}",
            response.status
        );
        assert!(
            !response.text().contains("outside the root") && !response.text().contains("root:"),
            "{attempt} leaked: {}",
            response.text()
        );
    }
    // Absolute form for a path inside the root is fine.
    let absolute = server.get("http://test/hello.txt");
    assert_eq!((absolute.status, absolute.body.as_slice()), (200, HELLO));
    if site.links {
        // Links that stay inside are served: relative, and absolute (which the kernel's
        // beneath-the-root check refuses, so the server decides by the canonical path).
        let relative = server.get("/inside");
        assert_eq!((relative.status, relative.body.as_slice()), (200, HELLO));
        let absolute_link = server.get("/absolute-in");
        assert_eq!(
            (absolute_link.status, absolute_link.body.as_slice()),
            (200, &b"inner\n"[..])
        );
    }
}

/// A directory named like a host (as `wget --mirror` makes them) must not turn the redirect to
/// its slash into a link to that host: `Location: //example.com/` is another site to a browser.
fn redirects_stay_on_this_site(backend: Backend) {
    let site = Site::new("redirects");
    std::fs::create_dir_all(site.root().join("example.com/sub")).expect("create example.com");
    let server = Server::start(backend, &site.root());
    let cases = [
        ("//example.com", "/example.com/"),
        ("///example.com", "/example.com/"),
        ("//example.com?x=1", "/example.com/?x=1"),
        ("/./example.com", "/example.com/"),
        ("//example.com//sub", "/example.com/sub/"),
        ("http://test//example.com", "/example.com/"),
        ("/sub/..//example.com", "/example.com/"),
    ];
    for (target, location) in cases {
        let response = server.get(target);
        assert_eq!(response.status, 301, "{target}");
        assert_eq!(response.header("location"), Some(location), "{target}");
    }
}

/// `.` and `..` are resolved in the path before it meets the file system, so a path that
/// climbs back down stays inside the root and is served; only one that climbs above the
/// root is refused.
fn dot_segments_resolve_inside_the_root(backend: Backend) {
    let site = Site::new("dots");
    std::fs::create_dir_all(site.root().join("sub/deeper")).expect("create sub/deeper");
    let server = Server::start(backend, &site.root());
    let inner: &[u8] = b"inner\n";
    let files: [(&str, &[u8]); 6] = [
        ("/sub/deeper/../inner.txt", inner),
        ("/sub/./inner.txt", inner),
        ("/sub/deeper/%2e%2E/inner.txt", inner),
        ("/sub/deeper/../../hello.txt", HELLO),
        ("/sub/../sub/deeper/../../hello.txt", HELLO),
        ("/./hello.txt", HELLO),
    ];
    for (target, body) in files {
        let response = server.get(target);
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, body),
            "{target}"
        );
    }
    // Ending in `.` or `..` names a directory (RFC 3986 section 5.2.4): its listing.
    for target in ["/sub/deeper/..", "/sub/deeper/../", "/sub/."] {
        let response = server.get(target);
        assert_eq!(response.status, 200, "{target}");
        assert!(response.text().contains("inner.txt"), "{target}");
    }
    let root = server.get("/sub/..");
    assert_eq!(root.status, 200);
    assert!(root.text().contains("hello.txt"));
    // The listing of the root has no link up, however the root was named.
    assert!(!root.text().contains("href=\"../\""), "{}", root.text());
    for target in [
        "/..",
        "/sub/../..",
        "/sub/deeper/../../../outside/secret.txt",
    ] {
        assert_eq!(server.get(target).status, 403, "{target}");
    }
}

fn big_file_is_intact(backend: Backend) {
    let site = Site::new("big");
    let contents = patterned(10 * 1000 * 1000);
    std::fs::write(site.root().join("big.bin"), &contents).expect("write big.bin");
    for bodies in [serve::Bodies::SendFile, serve::Bodies::Copy] {
        let config = serve::Config {
            bodies,
            ..serve::Config::default()
        };
        let server = Server::start_with(backend, &site.root(), config);
        let mut client = server.connect();
        client.send("GET /big.bin HTTP/1.1\r\nHost: test\r\n\r\n");
        let response = client.response(false);
        assert_eq!(response.status, 200, "{bodies:?}");
        assert_eq!(
            response.header("content-type"),
            Some("application/octet-stream")
        );
        assert!(
            response.body == contents,
            "{bodies:?}: the 10 MB body differs"
        );
        // A range across several 64 KiB chunks, and a small one, on the same connection.
        client.send(
            "GET /big.bin HTTP/1.1\r\nHost: test\r\nRange: bytes=4999999-5300000\r\n\r\n\
             GET /big.bin HTTP/1.1\r\nHost: test\r\nRange: bytes=-3\r\n\r\n",
        );
        let part = client.response(false);
        assert_eq!(part.status, 206, "{bodies:?}");
        assert!(
            part.body == contents[4_999_999..=5_300_000],
            "{bodies:?}: the range differs"
        );
        let tail = client.response(false);
        assert_eq!(tail.body, contents[contents.len() - 3..], "{bodies:?}");
    }
}

/// A request head must arrive whole within the header timeout, however it trickles in: a
/// client sending a byte every 200 ms is answered 408 and closed after about a second (with
/// a timeout per read it would keep the connection until the 8 KiB head limit, half an hour
/// at that pace). An idle connection is closed as quickly; one that keeps asking is not.
fn slow_heads_are_cut_off(backend: Backend) {
    use std::time::Instant;

    let site = Site::new("slow-head");
    let config = serve::Config {
        header_timeout: Duration::from_secs(1),
        ..serve::Config::default()
    };
    let server = Server::start_with(backend, &site.root(), config);
    let mut client = server.connect();
    client
        .stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("read timeout");
    let head = b"GET /hello.txt HTTP/1.1\r\nHost: test\r\nX-Slow: ";
    let start = Instant::now();
    let mut received = Vec::new();
    for at in 0.. {
        let elapsed = start.elapsed();
        assert!(
            elapsed < Duration::from_secs(5),
            "still open after {elapsed:?}"
        );
        let byte = head.get(at).copied().unwrap_or(b'a');
        // Once the server has closed, the write may be refused: that is the end as well.
        if client.stream.write_all(&[byte]).is_err() {
            break;
        }
        let mut chunk = [0u8; 1024];
        match client.stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(count) => received.extend_from_slice(&chunk[..count]),
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(error)
                if matches!(
                    error.kind(),
                    ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
                ) =>
            {
                break
            }
            Err(error) => panic!("reading from the server: {error}"),
        }
    }
    let closed = start.elapsed();
    assert!(
        closed < Duration::from_millis(2500),
        "closed after {closed:?}"
    );
    assert!(
        received.starts_with(b"HTTP/1.1 408 "),
        "{:?}",
        String::from_utf8_lossy(&received)
    );

    // Idle, before a request or after one: closed without a word.
    for requests in 0..2 {
        let mut idle = server.connect();
        for _ in 0..requests {
            idle.send("GET /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n");
            assert_eq!(idle.response(false).body, HELLO);
        }
        let start = Instant::now();
        assert!(idle.is_closed());
        let closed = start.elapsed();
        assert!(
            closed < Duration::from_millis(2500),
            "closed after {closed:?}"
        );
    }

    // The time is per request: a client that asks again within it keeps its connection.
    let mut steady = server.connect();
    for _ in 0..4 {
        steady.send("GET /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n");
        assert_eq!(steady.response(false).body, HELLO);
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Past `max_connections`, a new connection is answered 503 and closed while the others stay
/// open; once one of them ends, new connections are served again.
fn connections_over_the_cap_are_refused(backend: Backend) {
    use std::time::Instant;

    let site = Site::new("cap");
    let config = serve::Config {
        max_connections: 2,
        ..serve::Config::default()
    };
    let server = Server::start_with(backend, &site.root(), config);
    let request = "GET /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n";
    let mut open: Vec<Client> = (0..2).map(|_| server.connect()).collect();
    for client in &mut open {
        client.send(request);
        assert_eq!(client.response(false).body, HELLO);
    }
    for _ in 0..2 {
        let mut refused = server.connect();
        // The server answers without waiting for the request: it may have closed already.
        let _ = refused.stream.write_all(request.as_bytes());
        let response = refused.response(false);
        assert_eq!(response.status, 503);
        assert_eq!(response.header("connection"), Some("close"));
        assert_eq!(response.header("retry-after"), Some("1"));
        assert!(refused.is_closed());
    }
    // The two served are still served.
    for client in &mut open {
        client.send(request);
        assert_eq!(client.response(false).body, HELLO);
    }
    drop(open.pop());
    let deadline = Instant::now() + LIMIT;
    loop {
        let mut client = server.connect();
        let sent = client.stream.write_all(request.as_bytes());
        let response = sent.ok().and_then(|()| client.try_response());
        if response.is_some_and(|response| response.status == 200) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no connection served after one closed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Set in the environment of the child that [`out_of_descriptors_backs_off`] runs: the root
/// that child serves, with few descriptors, instead of running the test.
#[cfg(target_os = "linux")]
const EMFILE_CHILD: &str = "PROACTOR_SERVE_EMFILE_CHILD";
/// That child's descriptor limit (`ulimit -n`): its runtime and a few dozen connections.
#[cfg(target_os = "linux")]
const EMFILE_LIMIT: usize = 64;

/// Out of descriptors, the server neither spins on accept nor logs every failure, tells the
/// clients it cannot take (closes them) instead of leaving them waiting, answers requests it
/// cannot open a file for with 503 (not 404), and serves again once descriptors are free.
/// The server runs as a child process under `ulimit -n`, so the limit touches nothing else.
#[cfg(target_os = "linux")]
fn out_of_descriptors_backs_off(backend: Backend) {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    if let Some(root) = std::env::var_os(EMFILE_CHILD) {
        return emfile_server(backend, Path::new(&root));
    }
    let site = Site::new("emfile");
    let test = format!("{backend}::out_of_descriptors_backs_off");
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {EMFILE_LIMIT} && exec \"$0\" \"$@\""))
        .arg(std::env::current_exe().expect("the test binary's path"))
        .args(["--exact", &test, "--nocapture", "--test-threads=1"])
        .env(EMFILE_CHILD, site.root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the server child");
    let mut child = Killed(child);
    let pid = child.0.id();
    // Both pipes are read on threads of their own, so a child that never writes cannot hang
    // the test, and one that writes a lot cannot block on a full pipe.
    let (address_sender, address_receiver) = mpsc::channel();
    let stdout = std::io::BufReader::new(child.0.stdout.take().expect("a stdout pipe"));
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            // The test harness may have written the test's name before it on the line.
            if let Some((_, address)) = line.split_once("serving on ") {
                let _ = address_sender.send(address.parse::<SocketAddr>());
            }
        }
    });
    let stderr_lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let (line_sender, line_receiver) = mpsc::channel();
    let stderr = std::io::BufReader::new(child.0.stderr.take().expect("a stderr pipe"));
    let collected = Arc::clone(&stderr_lines);
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Ok(mut lines) = collected.lock() {
                lines.push(line.clone());
            }
            let _ = line_sender.send(line);
        }
    });
    let address = address_receiver
        .recv_timeout(LIMIT)
        .expect("the child says where it serves")
        .expect("a socket address");
    let server = Server {
        address,
        _group: None,
    };

    // A connection made while descriptors are free, kept open.
    let mut first = server.connect();
    first.send("GET /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n");
    assert_eq!(first.response(false).body, HELLO);
    // Far more connections than the child has descriptors: the kernel completes them all
    // (the backlog is longer), the child can accept only some.
    let clients: Vec<Client> = (0..3 * EMFILE_LIMIT).map(|_| server.connect()).collect();
    let deadline = Instant::now() + LIMIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match line_receiver.recv_timeout(left) {
            Ok(line) if line.contains("Too many open files") => break,
            Ok(_) => {}
            Err(_) => panic!("the child never ran out of descriptors"),
        }
    }
    // Let the first back-offs pass, then measure a second of the child's life.
    std::thread::sleep(Duration::from_millis(300));
    let lines_before = stderr_lines.lock().unwrap().len();
    let (cpu_before, start) = (cpu_time(pid), Instant::now());
    std::thread::sleep(Duration::from_secs(1));
    let (cpu, interval) = (cpu_time(pid) - cpu_before, start.elapsed());
    let lines_during = stderr_lines.lock().unwrap().len() - lines_before;
    let share = cpu.as_secs_f64() / interval.as_secs_f64();
    eprintln!(
        "{backend}: out of descriptors, the server used {:.1}% of a core over {interval:.2?} \
         and wrote {lines_during} lines to stderr",
        share * 100.0
    );
    assert!(
        share < 0.2,
        "the server spins: {:.1}% of a core",
        share * 100.0
    );
    let accept_lines = || {
        stderr_lines
            .lock()
            .unwrap()
            .iter()
            .filter(|line| line.contains("accept"))
            .count()
    };
    assert!(accept_lines() <= 2, "{:#?}", stderr_lines.lock().unwrap());

    // A request that needs a descriptor the server does not have is not "not found".
    first.send("GET /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n");
    let starved = first.response(false);
    assert!(
        matches!(starved.status, 200 | 503),
        "out of descriptors: {}",
        starved.status
    );
    // The clients the server could not take were told, by a close, rather than left waiting:
    // it can hold fewer than EMFILE_LIMIT, so all the others.
    let told = clients
        .into_iter()
        .filter_map(|mut client| {
            client
                .stream
                .set_read_timeout(Some(Duration::from_millis(20)))
                .expect("read timeout");
            let mut byte = [0u8; 1];
            match client.stream.read(&mut byte) {
                Ok(0) => Some(()),
                Err(error) if error.kind() == ErrorKind::ConnectionReset => Some(()),
                _ => None,
            }
        })
        .count();
    assert!(
        told >= 2 * EMFILE_LIMIT,
        "only {told} of {} waiting clients were told",
        3 * EMFILE_LIMIT
    );

    // With the clients gone, descriptors are free: the server serves again.
    drop(first);
    let deadline = Instant::now() + LIMIT;
    loop {
        let mut client = server.connect();
        // A connection the server closes at once may refuse the request, too.
        let sent = client
            .stream
            .write_all(b"GET /hello.txt HTTP/1.1\r\nHost: test\r\n\r\n");
        if sent.is_ok()
            && client
                .try_response()
                .is_some_and(|response| response.status == 200)
        {
            break;
        }
        assert!(Instant::now() < deadline, "the server never served again");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(accept_lines() <= 2, "{:#?}", stderr_lines.lock().unwrap());
}

/// The server of [`out_of_descriptors_backs_off`], in the child: it says where it serves on
/// stdout and runs until killed (or a minute has passed, should the parent be gone).
#[cfg(target_os = "linux")]
fn emfile_server(backend: Backend, root: &Path) {
    let root = serve::canonical_root(root).expect("the root is a directory");
    let runtime = Builder::new()
        .backend(backend)
        .build()
        .expect("a runtime on the backend under test");
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        println!("serving on {}", listener.local_addr().expect("an address"));
        let run = serve::run(listener, Rc::from(root.as_path()), serve::Config::default());
        let _ = proactor::time::timeout(Duration::from_secs(60), run).await;
    });
}

/// The CPU time (user and system) process `pid` has used.
#[cfg(target_os = "linux")]
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the child's stat");
    // The command name, in parentheses, may hold spaces: count fields after it. utime and
    // stime are fields 14 and 15 of proc(5), in clock ticks (USER_HZ, 100 on Linux).
    let fields: Vec<u64> = stat[stat.rfind(')').expect("a command name") + 2..]
        .split(' ')
        .skip(11)
        .take(2)
        .map(|field| field.parse().expect("a number of ticks"))
        .collect();
    Duration::from_millis((fields[0] + fields[1]) * 10)
}

/// A child process, killed and reaped when dropped (a failing test included).
#[cfg(target_os = "linux")]
struct Killed(std::process::Child);

#[cfg(target_os = "linux")]
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

per_backend! {
    get_a_file,
    head_has_no_body,
    keep_alive_and_close,
    pipelined_requests_in_order,
    more_clients_than_pool_buffers,
    ranges,
    conditional_requests,
    content_types,
    access_log,
    small_bodies_are_dropped,
    raw_utf8_targets,
    multipart_ranges,
    precompressed_siblings,
    directories,
    index_pages,
    errors,
    traversal_is_refused,
    redirects_stay_on_this_site,
    dot_segments_resolve_inside_the_root,
    big_file_is_intact,
    slow_heads_are_cut_off,
    connections_over_the_cap_are_refused,
    #[cfg(target_os = "linux")]
    out_of_descriptors_backs_off,
}
