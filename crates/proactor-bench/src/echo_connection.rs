//! The loop each proactor echo server in this crate runs for a connection, as
//! crates/proactor/examples/echo.rs does: reads of up to `size` bytes into one buffer, each
//! written back whole, until the peer's end of stream; or, pooled, reads into buffers a pool
//! lends when bytes arrive (one multishot receive on io_uring), each written back as it is.

use std::io;

use proactor::io::{AsyncRead, AsyncWrite, BufferPool};
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

/// The pooled loop: no buffer of its own while the connection waits.
pub async fn serve_pooled(stream: TcpStream, pool: BufferPool) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reads = stream.pooled_reads(&pool);
    let mut writer = &stream;
    while let Some(buffer) = reads.next().await {
        let (result, _) = writer.write_all(buffer?).await;
        result?;
    }
    Ok(())
}
