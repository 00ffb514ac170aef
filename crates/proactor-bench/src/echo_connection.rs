//! The loop each proactor echo server in this crate runs for a connection, as
//! crates/proactor/examples/echo.rs does: reads of up to `size` bytes into one buffer, each
//! written back whole, until the peer's end of stream.

use std::io;

use proactor::io::{AsyncRead, AsyncWrite};
use proactor::net::TcpStream;

pub async fn serve(mut stream: TcpStream, size: usize) -> io::Result<()> {
    // Without it, an echo that the server's read split would wait out delayed ACKs.
    stream.set_nodelay(true)?;
    let mut buffer = Vec::with_capacity(size);
    loop {
        let (result, back) = stream.read(buffer).await;
        if result? == 0 {
            return Ok(());
        }
        let (result, back) = stream.write_all(back).await;
        result?;
        buffer = back;
        buffer.clear();
    }
}
