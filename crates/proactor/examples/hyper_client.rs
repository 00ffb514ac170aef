//! An HTTP client on hyper 1.x and proactor: fetches a URL over HTTP/1.1, or HTTP/2 with prior
//! knowledge (`--http2`), and prints the status, the headers and the body.
//!
//! ```text
//! cargo run --example hyper_server &
//! cargo run --example hyper_client -- http://127.0.0.1:3000/ [--http2] [--data BODY]
//! ```

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use proactor::compat::{Compat, HyperExecutor, HyperTimer};
use proactor::net::TcpStream;

#[path = "common/args.rs"]
mod args;

use args::{fail, Arg, Args};

const USAGE: &str = "\
usage: hyper_client [--http2] [--data BODY] http://HOST[:PORT]/PATH

Fetches the URL with hyper over HTTP/1.1, or HTTP/2 with prior knowledge, and prints the
status, the headers and the body.

  --http2       speak HTTP/2 from the first byte (h2c)
  --data BODY   POST BODY instead of a GET
  -h, --help    print this text";

type Error = Box<dyn std::error::Error>;

async fn fetch(url: hyper::Uri, http2: bool, data: Option<String>) -> Result<(), Error> {
    let host = url.host().ok_or("the URL has no host")?.to_string();
    let port = url.port_u16().unwrap_or(80);
    let stream = TcpStream::connect((host.as_str(), port)).await?;
    stream.set_nodelay(true)?;
    let io = Compat::new(stream);
    let path = url.path_and_query().map_or("/", |path| path.as_str());
    let request = Request::builder()
        .method(if data.is_some() { "POST" } else { "GET" })
        .uri(if http2 {
            url.to_string()
        } else {
            path.to_string()
        })
        .header(hyper::header::HOST, format!("{host}:{port}"))
        .body(Full::new(Bytes::from(data.unwrap_or_default())))?;
    let response = if http2 {
        let (mut sender, connection) = hyper::client::conn::http2::Builder::new(HyperExecutor)
            .timer(HyperTimer)
            .handshake(io)
            .await?;
        // The connection runs as its own task; it ends when the sender is dropped.
        drop(proactor::spawn(connection));
        sender.send_request(request).await?
    } else {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await?;
        drop(proactor::spawn(connection));
        sender.send_request(request).await?
    };
    println!("{:?} {}", response.version(), response.status());
    for (name, value) in response.headers() {
        println!("{name}: {}", value.to_str().unwrap_or("<binary>"));
    }
    println!();
    let body = response.into_body().collect().await?.to_bytes();
    print!("{}", String::from_utf8_lossy(&body));
    Ok(())
}

struct Options {
    url: hyper::Uri,
    http2: bool,
    data: Option<String>,
}

fn options() -> Options {
    let mut url = None;
    let mut http2 = false;
    let mut data = None;
    let mut args = Args::new("hyper_client", USAGE);
    while let Some(arg) = args.next() {
        match arg {
            Arg::Flag(flag) if flag == "--http2" => http2 = true,
            Arg::Flag(flag) if flag == "--data" => data = Some(args.text(&flag)),
            Arg::Operand(operand) if url.is_none() => url = Some(operand),
            other => args.unexpected(other),
        }
    }
    let Some(url) = url else {
        args.refuse("which URL?");
    };
    let url = url.to_string_lossy();
    let url = match url.parse::<hyper::Uri>() {
        Ok(parsed) => parsed,
        Err(error) => args.refuse(format_args!("{url}: {error}")),
    };
    // Checked here rather than at connect time: they are mistakes in the command line.
    if url.scheme_str() != Some("http") {
        args.refuse(format_args!(
            "{url}: only http:// URLs (this example has no TLS)"
        ));
    }
    if url.host().is_none() {
        args.refuse(format_args!("{url}: the URL has no host"));
    }
    Options { url, http2, data }
}

fn main() {
    let Options { url, http2, data } = options();
    let shown = url.to_string();
    let result = proactor::Runtime::new()
        .map_err(|error| format!("cannot start the runtime: {error}"))
        .and_then(|runtime| {
            runtime
                .block_on(fetch(url, http2, data))
                .map_err(|error| format!("{shown}: {error}"))
        });
    if let Err(message) = result {
        fail("hyper_client", message);
    }
}
