//! A TCP echo server written directly on the driver, callback-style: no async, no runtime.
//!
//! ```text
//! cargo run --release --example driver_echo -- [--addr 127.0.0.1:7878] [--backend io_uring|epoll|iocp]
//! ```
//!
//! Each connection has one receive or one send in flight at a time, so its bytes come back in
//! order; the buffer travels from the receive to the send and back without a copy.

use std::collections::HashMap;
use std::io;
use std::net::TcpListener;

use proactor_driver::{Backend, Buffer, Config, Driver, Fd, Op, OpId};

/// What a finished operation was for.
enum Purpose {
    Accept,
    Receive { fd: Fd },
    Send { fd: Fd, sent: usize },
    Close,
}

fn main() -> io::Result<()> {
    let mut address = "127.0.0.1:7878".to_string();
    let mut config = Config::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--addr", Some(value)) => address = value,
            ("--backend", Some(value)) if value == "epoll" => {
                config = config.backend(Backend::Epoll)
            }
            ("--backend", Some(value)) if value == "io_uring" => {
                config = config.backend(Backend::IoUring)
            }
            ("--backend", Some(value)) if value == "iocp" => config = config.backend(Backend::Iocp),
            _ => {
                eprintln!("usage: driver_echo [--addr HOST:PORT] [--backend io_uring|epoll|iocp]");
                std::process::exit(2);
            }
        }
    }
    let listener = TcpListener::bind(&address)?;
    let mut driver = Driver::with_config(config)?;
    println!(
        "driver_echo: listening on {} ({})",
        listener.local_addr()?,
        driver.backend_reason()
    );

    let mut purposes: HashMap<OpId, Purpose> = HashMap::new();
    let accept = driver.submit(Op::Accept {
        fd: raw(&listener),
        peer: None,
    });
    purposes.insert(accept, Purpose::Accept);
    let mut completions = Vec::new();
    loop {
        driver.poll(&mut completions, None)?;
        for completion in completions.drain(..) {
            let Some(purpose) = purposes.remove(&completion.id) else {
                continue;
            };
            let next = match (purpose, completion.result) {
                (Purpose::Accept, result) => {
                    let id = driver.submit(Op::Accept {
                        fd: raw(&listener),
                        peer: None,
                    });
                    purposes.insert(id, Purpose::Accept);
                    match result {
                        Ok(fd) => receive(fd as Fd, Buffer::from(Vec::with_capacity(4096))),
                        // Out of descriptors, say: keep accepting once some are free.
                        Err(error) => {
                            eprintln!("driver_echo: accept failed: {error}");
                            None
                        }
                    }
                }
                (Purpose::Receive { fd }, Ok(count)) if count > 0 => {
                    let buffer = completion.op.into_buffer().expect("a receive has a buffer");
                    Some((
                        Op::Send {
                            fd,
                            buf: buffer,
                            flags: 0,
                        },
                        Purpose::Send { fd, sent: 0 },
                    ))
                }
                // End of stream or an error: close.
                (Purpose::Receive { fd }, _) => Some((Op::Close { fd }, Purpose::Close)),
                (Purpose::Send { fd, sent }, Ok(count)) => {
                    let buffer = completion
                        .op
                        .into_buffer()
                        .expect("a send has a buffer")
                        .into_inner();
                    let sent = sent + count;
                    if sent < buffer.len() {
                        // A short send: send the rest from the same buffer.
                        let rest = buffer.slice(sent..).expect("in range");
                        Some((
                            Op::Send {
                                fd,
                                buf: rest,
                                flags: 0,
                            },
                            Purpose::Send { fd, sent },
                        ))
                    } else {
                        let mut vec = buffer.into_vec().expect("the buffer is a Vec");
                        vec.clear();
                        receive(fd, Buffer::from(vec))
                    }
                }
                (Purpose::Send { fd, .. }, Err(_)) => Some((Op::Close { fd }, Purpose::Close)),
                (Purpose::Close, _) => None,
            };
            if let Some((op, purpose)) = next {
                let id = driver.submit(op);
                purposes.insert(id, purpose);
            }
        }
    }
}

fn receive(fd: Fd, buffer: Buffer) -> Option<(Op, Purpose)> {
    Some((
        Op::Recv {
            fd,
            buf: buffer,
            flags: 0,
        },
        Purpose::Receive { fd },
    ))
}

/// The listener as the driver names it.
#[cfg(unix)]
fn raw(listener: &TcpListener) -> Fd {
    std::os::fd::AsRawFd::as_raw_fd(listener)
}

/// The listener as the driver names it.
#[cfg(windows)]
fn raw(listener: &TcpListener) -> Fd {
    std::os::windows::io::AsRawSocket::as_raw_socket(listener)
}
