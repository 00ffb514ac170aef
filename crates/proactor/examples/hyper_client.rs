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

type Error = Box<dyn std::error::Error>;

async fn fetch(url: hyper::Uri, http2: bool, data: Option<String>) -> Result<(), Error> {
    let host = url.host().ok_or("the URL has no host")?.to_string();
    let port = url.port_u16().unwrap_or(80);
    if url.scheme_str() != Some("http") {
        return Err("only http:// URLs (this example has no TLS)".into());
    }
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

fn main() {
    let mut url = None;
    let mut http2 = false;
    let mut data = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--http2" => http2 = true,
            "--data" => data = args.next(),
            _ => url = Some(arg),
        }
    }
    let Some(url) = url.and_then(|url| url.parse::<hyper::Uri>().ok()) else {
        eprintln!("usage: hyper_client http://HOST:PORT/PATH [--http2] [--data BODY]");
        std::process::exit(2);
    };
    let result = proactor::Runtime::new()
        .map_err(Error::from)
        .and_then(|runtime| runtime.block_on(fetch(url, http2, data)));
    if let Err(error) = result {
        eprintln!("hyper_client: {error}");
        std::process::exit(1);
    }
}
