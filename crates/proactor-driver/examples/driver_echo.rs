//! A TCP echo server written directly on the driver, callback-style: no async, no runtime.
//!
//! ```text
//! cargo run --release --example driver_echo -- [--addr 127.0.0.1:7878] [--backend io_uring|epoll|iocp]
//! ```
//!
//! Each connection has one receive or one send in flight at a time, so its bytes come back in
//! order; the buffer travels from the receive to the send and back without a copy.

use std::collections::HashMap;
use std::fmt::Display;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

use proactor_driver::{Backend, Buffer, Config, Driver, Fd, Op, OpId};

const USAGE: &str = "\
usage: driver_echo [--addr HOST:PORT] [--backend io_uring|epoll|iocp]

A TCP echo server written directly on the driver: one thread, callbacks, no runtime.

  --addr HOST:PORT   where to listen (default 127.0.0.1:7878; port 0 picks a free port)
  --backend NAME     io_uring, epoll or iocp (default: the best this system has)
  -h, --help         print this text";

/// What a finished operation was for.
enum Purpose {
    Accept,
    Receive { fd: Fd },
    Send { fd: Fd, sent: usize },
    Close,
}

/// Refuses the command line: what is wrong and the usage line, exit status 2.
fn refuse(message: impl Display) -> ! {
    let synopsis = USAGE.lines().next().unwrap_or_default();
    eprintln!("driver_echo: {message}\n{synopsis}\n(--help says more)");
    std::process::exit(2);
}

/// Ends the program after a failure at run time, exit status 1.
fn fail(message: impl Display) -> ! {
    eprintln!("driver_echo: error: {message}");
    std::process::exit(1);
}

/// The address to listen on and the driver's configuration, from the command line.
fn options() -> (SocketAddr, Config) {
    let mut address = SocketAddr::from(([127, 0, 0, 1], 7878));
    let mut config = Config::new();
    let mut args = std::env::args_os().skip(1);
    while let Some(flag) = args.next() {
        let flag = flag.to_string_lossy().into_owned();
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        if flag != "--addr" && flag != "--backend" {
            refuse(format_args!("unknown flag {flag}"));
        }
        let Some(value) = args.next() else {
            refuse(format_args!("{flag} needs a value"));
        };
        let value = value.to_string_lossy();
        if flag == "--addr" {
            // A name (localhost:7878) as well as an address: the first address it has.
            address = match value
                .to_socket_addrs()
                .map(|mut addresses| addresses.next())
            {
                Ok(Some(address)) => address,
                Ok(None) => refuse(format_args!("{flag} {value}: the name has no address")),
                Err(error) => refuse(format_args!("{flag} {value}: {error}")),
            };
            continue;
        }
        config = config.backend(match &*value {
            "io_uring" => Backend::IoUring,
            "epoll" => Backend::Epoll,
            "iocp" => Backend::Iocp,
            _ => refuse(format_args!(
                "{flag} {value}: expected one of io_uring, epoll, iocp"
            )),
        });
    }
    (address, config)
}

fn main() {
    let (address, config) = options();
    let listener = match TcpListener::bind(address) {
        Ok(listener) => listener,
        Err(error) => fail(format_args!("cannot bind: {address}: {error}")),
    };
    let mut driver = match Driver::with_config(config) {
        Ok(driver) => driver,
        Err(error) => fail(format_args!("cannot start the driver: {error}")),
    };
    let local = listener.local_addr().unwrap_or(address);
    println!(
        "driver_echo: listening on {local} ({})",
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
        if let Err(error) = driver.poll(&mut completions, None) {
            fail(format_args!("poll: {error}"));
        }
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
