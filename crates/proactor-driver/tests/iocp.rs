//! What only the Windows backend has to prove: overlapped operations through the completion
//! port on both of Windows' paths (a packet, or a synchronous success with the packet skipped),
//! handles of every kind, and the port's cross-thread wake. The shared behaviour is in the
//! conformance suite.
#![cfg(windows)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::{AsRawHandle, AsRawSocket};
use std::time::{Duration, Instant};

use proactor_driver::{Backend, Buffer, Completion, Descriptors, Driver, Fd, Op, OpId};

const LIMIT: Duration = Duration::from_secs(10);
const FILE_FLAG_OVERLAPPED: u32 = 0x4000_0000;

thread_local! {
    /// Completions that arrived while a test waited for another.
    static STASH: std::cell::RefCell<Vec<Completion>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn wait(driver: &mut Driver, id: OpId) -> Completion {
    let deadline = Instant::now() + LIMIT;
    STASH.with_borrow_mut(|completions| loop {
        if let Some(position) = completions.iter().position(|c: &Completion| c.id == id) {
            return completions.remove(position);
        }
        let now = Instant::now();
        assert!(now < deadline, "no completion for {id:?} within {LIMIT:?}");
        driver
            .poll(completions, Some(deadline - now))
            .expect("poll");
    })
}

fn run(driver: &mut Driver, op: Op) -> Completion {
    let id = driver.submit(op);
    wait(driver, id)
}

fn temp_path(name: &str) -> std::path::PathBuf {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    std::env::temp_dir().join(format!(
        "proactor-iocp-{name}-{}-{stamp}",
        std::process::id()
    ))
}

#[test]
fn the_windows_driver_is_iocp() {
    let driver = Driver::new().expect("driver");
    assert_eq!(driver.backend(), Backend::Iocp);
}

#[test]
fn tcp_accept_connect_send_recv() {
    let mut driver = Driver::new().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let accept = driver.submit(Op::Accept {
        fd: listener.as_raw_socket() as Fd,
        peer: None,
    });
    let client = run(
        &mut driver,
        Op::Socket {
            domain: 2,
            socket_type: 1,
            protocol: 0,
        },
    );
    let client = client.result.expect("socket") as Fd;
    let connected = run(
        &mut driver,
        Op::Connect {
            fd: client,
            addr: address,
        },
    );
    connected.result.expect("connect");
    let accepted = wait(&mut driver, accept);
    let server = accepted.result.expect("accept") as Fd;
    let Op::Accept { peer, .. } = accepted.op else {
        unreachable!()
    };
    assert!(peer.expect("peer address").ip().is_loopback());

    let sent = run(
        &mut driver,
        Op::Send {
            fd: client,
            buf: Buffer::from(b"hello".to_vec()),
            flags: 0,
        },
    );
    assert_eq!(sent.result.unwrap(), 5);
    let received = run(
        &mut driver,
        Op::Recv {
            fd: server,
            buf: Buffer::from(Vec::with_capacity(64)),
            flags: 0,
        },
    );
    assert_eq!(received.result.unwrap(), 5);
    assert_eq!(received.op.into_buffer().unwrap().as_slice(), b"hello");

    // A receive that has to wait: the pending path, completed by a packet.
    let pending = driver.submit(Op::Recv {
        fd: client,
        buf: Buffer::from(Vec::with_capacity(64)),
        flags: 0,
    });
    run(
        &mut driver,
        Op::Write {
            fd: server,
            buf: Buffer::from(b"later".to_vec()),
            offset: None,
        },
    )
    .result
    .unwrap();
    let later = wait(&mut driver, pending);
    assert_eq!(later.result.unwrap(), 5);
    assert_eq!(later.op.into_buffer().unwrap().as_slice(), b"later");

    run(&mut driver, Op::Close { fd: client }).result.unwrap();
    run(&mut driver, Op::Close { fd: server }).result.unwrap();
}

#[test]
fn std_sockets_work_through_the_port() {
    let mut driver = Driver::new().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    client.write_all(b"ping").unwrap();
    let read = run(
        &mut driver,
        Op::Read {
            fd: server.as_raw_socket() as Fd,
            buf: Buffer::from(Vec::with_capacity(16)),
            offset: None,
        },
    );
    assert_eq!(read.result.unwrap(), 4);
    let written = run(
        &mut driver,
        Op::Write {
            fd: server.as_raw_socket() as Fd,
            buf: Buffer::from(b"pong".to_vec()),
            offset: None,
        },
    );
    assert_eq!(written.result.unwrap(), 4);
    let mut reply = [0u8; 4];
    client.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"pong");
    drop(client);
    let end = run(
        &mut driver,
        Op::Read {
            fd: server.as_raw_socket() as Fd,
            buf: Buffer::from(Vec::with_capacity(16)),
            offset: None,
        },
    );
    assert_eq!(end.result.unwrap(), 0, "peer closed: end of stream");
}

#[test]
fn overlapped_file_reads_and_writes_at_offsets() {
    let mut driver = Driver::new().unwrap();
    let path = temp_path("file");
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(FILE_FLAG_OVERLAPPED)
        .open(&path)
        .unwrap();
    let fd = file.as_raw_handle() as Fd;
    let wrote = run(
        &mut driver,
        Op::Write {
            fd,
            buf: Buffer::from(b"0123456789".to_vec()),
            offset: Some(0),
        },
    );
    assert_eq!(wrote.result.unwrap(), 10);
    let read = run(
        &mut driver,
        Op::Read {
            fd,
            buf: Buffer::from(Vec::with_capacity(4)),
            offset: Some(3),
        },
    );
    assert_eq!(read.result.unwrap(), 4);
    assert_eq!(read.op.into_buffer().unwrap().as_slice(), b"3456");
    let end = run(
        &mut driver,
        Op::Read {
            fd,
            buf: Buffer::from(Vec::with_capacity(4)),
            offset: Some(100),
        },
    );
    assert_eq!(end.result.unwrap(), 0, "reading at the end gives 0");
    let no_offset = run(
        &mut driver,
        Op::Read {
            fd,
            buf: Buffer::from(Vec::with_capacity(4)),
            offset: None,
        },
    );
    assert_eq!(
        no_offset.result.unwrap_err().kind(),
        std::io::ErrorKind::InvalidInput
    );
    run(
        &mut driver,
        Op::Fsync {
            fd,
            data_only: false,
        },
    )
    .result
    .unwrap();
    run(&mut driver, Op::Ftruncate { fd, len: 4 })
        .result
        .unwrap();
    let stat = run(&mut driver, Op::statx(Some(fd), "", 0).unwrap());
    stat.result.unwrap();
    let Op::Statx { metadata, .. } = stat.op else {
        unreachable!()
    };
    assert_eq!(metadata.size, 4);
    assert!(metadata.is_file());
    drop(file);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn timers_cancel_and_wake() {
    let mut driver = Driver::new().unwrap();
    let started = Instant::now();
    let timer = run(
        &mut driver,
        Op::Timeout {
            duration: Duration::from_millis(30),
        },
    );
    timer.result.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(29));

    let long = driver.submit(Op::Timeout {
        duration: Duration::from_secs(60),
    });
    driver.cancel(long).unwrap();
    assert!(proactor_driver::is_cancelled(
        &wait(&mut driver, long).result.unwrap_err()
    ));

    // A pending receive, cancelled: its packet comes back with the buffer.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    let recv = driver.submit(Op::Recv {
        fd: server.as_raw_socket() as Fd,
        buf: Buffer::from(Vec::with_capacity(8)),
        flags: 0,
    });
    driver.poll(&mut Vec::new(), Some(Duration::ZERO)).unwrap();
    driver.cancel(recv).unwrap();
    let cancelled = wait(&mut driver, recv);
    assert!(proactor_driver::is_cancelled(
        &cancelled.result.unwrap_err()
    ));
    assert!(cancelled.op.into_buffer().is_some());

    let notifier = driver.notifier();
    let waker = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        notifier.notify();
    });
    let before = Instant::now();
    driver.poll(&mut Vec::new(), Some(LIMIT)).unwrap();
    assert!(before.elapsed() < LIMIT);
    waker.join().unwrap();

    let blocking = run(
        &mut driver,
        Op::Blocking {
            job: Box::new(|| Ok(42)),
        },
    );
    assert_eq!(blocking.result.unwrap(), 42);
}

#[test]
fn four_threads_drain_100_000_completions_each_exactly_once() {
    use std::sync::atomic::{AtomicU8, Ordering};
    use std::sync::Arc;

    const PACKETS: usize = 100_000;
    let port = Arc::new(proactor_driver::windows::CompletionPort::new(4).unwrap());
    let seen: Arc<Vec<AtomicU8>> = Arc::new((0..PACKETS).map(|_| AtomicU8::new(0)).collect());
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let port = Arc::clone(&port);
            let seen = Arc::clone(&seen);
            std::thread::spawn(move || {
                let mut packets = Vec::with_capacity(32);
                let mut taken = 0usize;
                loop {
                    packets.clear();
                    port.harvest(&mut packets, Some(LIMIT)).unwrap();
                    let markers = packets
                        .iter()
                        .filter(|packet| packet.key == usize::MAX)
                        .count();
                    if markers > 0 {
                        // A batch may hold other workers' end markers too: hand those back.
                        for _ in 1..markers {
                            port.post(usize::MAX, 0, 0).unwrap();
                        }
                        packets.retain(|packet| packet.key != usize::MAX);
                    }
                    for packet in &packets {
                        assert_eq!(packet.key, 7, "worker {worker}");
                        assert_eq!(packet.bytes as usize, packet.value % 1000);
                        seen[packet.value].fetch_add(1, Ordering::Relaxed);
                        taken += 1;
                    }
                    if markers > 0 {
                        return taken;
                    }
                    assert!(!packets.is_empty(), "no packet within {LIMIT:?}");
                }
            })
        })
        .collect();
    // Posted from two threads while the four drain.
    let posters: Vec<_> = (0..2)
        .map(|half| {
            let port = Arc::clone(&port);
            std::thread::spawn(move || {
                for value in (half..PACKETS).step_by(2) {
                    port.post(7, (value % 1000) as u32, value).unwrap();
                }
            })
        })
        .collect();
    for poster in posters {
        poster.join().unwrap();
    }
    // One end marker per worker; each stops at the first it takes.
    for _ in 0..4 {
        port.post(usize::MAX, 0, 0).unwrap();
    }
    let taken: Vec<usize> = workers
        .into_iter()
        .map(|worker| worker.join().unwrap())
        .collect();
    assert_eq!(
        taken.iter().sum::<usize>(),
        PACKETS,
        "taken per thread: {taken:?}"
    );
    let wrong: Vec<usize> = (0..PACKETS)
        .filter(|&value| seen[value].load(Ordering::Relaxed) != 1)
        .collect();
    assert!(
        wrong.is_empty(),
        "{} packets not seen exactly once, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
    eprintln!("taken per thread: {taken:?}");
}

#[test]
fn send_file_sends_10_mb_from_an_offset_with_transmit_file() {
    let mut driver = Driver::new().unwrap();
    let path = temp_path("send-file");
    let content: Vec<u8> = (0..10_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&path, &content).unwrap();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(FILE_FLAG_OVERLAPPED)
        .open(&path)
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    let offset = 12_345u64;
    let expected = content[offset as usize..].to_vec();
    let reader = std::thread::spawn(move || {
        let mut client = client;
        let mut received = Vec::new();
        client.read_to_end(&mut received).unwrap();
        received
    });
    let mut position = offset;
    while position < content.len() as u64 {
        let sent = run(
            &mut driver,
            Op::SendFile {
                socket: server.as_raw_socket() as Fd,
                file: file.as_raw_handle() as Fd,
                offset: position,
                len: (content.len() as u64 - position).min(4 << 20) as u32,
            },
        );
        let count = sent.result.expect("send_file");
        assert!(count > 0, "no progress at {position}");
        position += count as u64;
    }
    let past_end = run(
        &mut driver,
        Op::SendFile {
            socket: server.as_raw_socket() as Fd,
            file: file.as_raw_handle() as Fd,
            offset: position,
            len: 0,
        },
    );
    assert_eq!(past_end.result.unwrap(), 0);
    drop(server);
    let received = reader.join().unwrap();
    assert_eq!(received.len(), expected.len());
    assert!(received == expected, "the bytes differ");
    drop(file);
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn send_file_to_a_file_is_not_a_socket() {
    let mut driver = Driver::new().unwrap();
    let path = temp_path("send-file-bad");
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(FILE_FLAG_OVERLAPPED)
        .open(&path)
        .unwrap();
    let fd = file.as_raw_handle() as Fd;
    let result = run(
        &mut driver,
        Op::SendFile {
            socket: fd,
            file: fd,
            offset: 0,
            len: 10,
        },
    )
    .result;
    assert_eq!(
        result.unwrap_err().raw_os_error(),
        Some(10038),
        "WSAENOTSOCK"
    );
    drop(file);
    std::fs::remove_file(&path).unwrap();
}

fn pipe_name(what: &str) -> String {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        r"\\.\pipe\proactor-test-{what}-{}-{stamp}",
        std::process::id()
    )
}

#[test]
fn named_pipe_connect_read_write_and_broken_pipe() {
    use proactor_driver::windows::{
        create_named_pipe, open_named_pipe, PipeClientConfig, PipeServerConfig,
    };

    let mut driver = Driver::new().unwrap();
    let name = pipe_name("stream");
    let server = create_named_pipe(&name, &PipeServerConfig::default()).unwrap();
    let server_fd = server.as_raw_handle() as Fd;
    let connect = driver.submit(Op::ConnectNamedPipe { pipe: server_fd });
    driver.poll(&mut Vec::new(), Some(Duration::ZERO)).unwrap();
    let client = open_named_pipe(&name, &PipeClientConfig::default()).unwrap();
    let client_fd = client.as_raw_handle() as Fd;
    wait(&mut driver, connect).result.expect("connect");

    let read = driver.submit(Op::Read {
        fd: server_fd,
        buf: Buffer::from(Vec::with_capacity(64)),
        offset: None,
    });
    let wrote = run(
        &mut driver,
        Op::Write {
            fd: client_fd,
            buf: Buffer::from(b"over the pipe".to_vec()),
            offset: None,
        },
    );
    assert_eq!(wrote.result.unwrap(), 13);
    let read = wait(&mut driver, read);
    assert_eq!(read.result.unwrap(), 13);
    assert_eq!(read.op.into_buffer().unwrap().as_slice(), b"over the pipe");

    // The client goes: the server's next read is the end of the stream.
    drop(client);
    let end = run(
        &mut driver,
        Op::Read {
            fd: server_fd,
            buf: Buffer::from(Vec::with_capacity(64)),
            offset: None,
        },
    );
    assert_eq!(end.result.unwrap(), 0);
    proactor_driver::windows::disconnect_named_pipe(server_fd).unwrap();

    // The same instance takes a second client once it listens again (until then a client
    // gets ERROR_PIPE_BUSY).
    let busy = open_named_pipe(&name, &PipeClientConfig::default()).unwrap_err();
    assert_eq!(busy.raw_os_error(), Some(231), "ERROR_PIPE_BUSY");
    let connect = driver.submit(Op::ConnectNamedPipe { pipe: server_fd });
    driver.poll(&mut Vec::new(), Some(Duration::ZERO)).unwrap();
    let client = open_named_pipe(&name, &PipeClientConfig::default()).unwrap();
    wait(&mut driver, connect).result.expect("second client");
    drop(client);
}

#[test]
fn named_pipe_messages_longer_than_the_buffer_arrive_in_parts() {
    use proactor_driver::windows::{
        create_named_pipe, open_named_pipe, PipeClientConfig, PipeServerConfig,
    };

    let mut driver = Driver::new().unwrap();
    let name = pipe_name("message");
    let config = PipeServerConfig {
        message_mode: true,
        ..PipeServerConfig::default()
    };
    let server = create_named_pipe(&name, &config).unwrap();
    let server_fd = server.as_raw_handle() as Fd;
    let client = open_named_pipe(
        &name,
        &PipeClientConfig {
            message_mode: true,
            ..PipeClientConfig::default()
        },
    )
    .unwrap();
    run(&mut driver, Op::ConnectNamedPipe { pipe: server_fd })
        .result
        .unwrap();
    for message in [&b"first message"[..], b"second"] {
        let wrote = run(
            &mut driver,
            Op::Write {
                fd: client.as_raw_handle() as Fd,
                buf: Buffer::from(message.to_vec()),
                offset: None,
            },
        );
        assert_eq!(wrote.result.unwrap(), message.len());
    }
    let mut parts = Vec::new();
    for _ in 0..3 {
        let read = run(
            &mut driver,
            Op::Read {
                fd: server_fd,
                buf: Buffer::from(Vec::with_capacity(8)),
                offset: None,
            },
        );
        let count = read.result.unwrap();
        parts.push(read.op.into_buffer().unwrap().as_slice()[..count].to_vec());
    }
    assert_eq!(
        parts,
        [b"first me".to_vec(), b"ssage".to_vec(), b"second".to_vec()]
    );
    // Other operations in the same slots are not confused by the truncated reads' packets.
    for _ in 0..10 {
        run(&mut driver, Op::Nop).result.unwrap();
    }
    assert_eq!(driver.in_flight(), 0);
}

#[test]
fn first_pipe_instance_and_bad_names() {
    use proactor_driver::windows::{
        create_named_pipe, open_named_pipe, PipeClientConfig, PipeServerConfig,
    };

    let name = pipe_name("missing");
    let missing = open_named_pipe(&name, &PipeClientConfig::default()).unwrap_err();
    assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    let bad = create_named_pipe("\\\\.\\pipe\\a\0b", &PipeServerConfig::default()).unwrap_err();
    assert_eq!(bad.kind(), std::io::ErrorKind::InvalidInput);
    let zero = PipeServerConfig {
        max_instances: 0,
        ..PipeServerConfig::default()
    };
    assert_eq!(
        create_named_pipe(&name, &zero).unwrap_err().kind(),
        std::io::ErrorKind::InvalidInput
    );
    // Wine 8 creates a second "first instance" instead of refusing it (ERROR_ACCESS_DENIED on
    // Windows), so only the first creation is checked here.
    let first = PipeServerConfig {
        first_pipe_instance: true,
        ..PipeServerConfig::default()
    };
    let _server = create_named_pipe(&name, &first).unwrap();
}

#[test]
fn a_datagram_longer_than_the_buffer_is_truncated() {
    let mut driver = Driver::new().unwrap();
    let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sender
        .send_to(&[7u8; 100], receiver.local_addr().unwrap())
        .unwrap();
    sender
        .send_to(b"short", receiver.local_addr().unwrap())
        .unwrap();
    let mut lengths = Vec::new();
    for _ in 0..2 {
        let received = run(
            &mut driver,
            Op::RecvMsg {
                fd: receiver.as_raw_socket() as Fd,
                bufs: vec![Buffer::from(Vec::with_capacity(10))],
                flags: 0,
                source: None,
                max_fds: 0,
                fds: Descriptors::new(),
                fds_truncated: false,
            },
        );
        lengths.push(received.result.unwrap());
        let Op::RecvMsg { source, .. } = received.op else {
            unreachable!()
        };
        assert_eq!(source, Some(sender.local_addr().unwrap().into()));
    }
    assert_eq!(
        lengths,
        [10, 5],
        "the long datagram is cut to the buffer, the next one is whole"
    );
    for _ in 0..10 {
        run(&mut driver, Op::Nop).result.unwrap();
    }
    assert_eq!(driver.in_flight(), 0);
}

#[test]
fn closing_a_socket_ends_its_pending_receive_and_a_reset_is_connection_reset() {
    use std::os::windows::io::IntoRawSocket;

    let mut driver = Driver::new().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    let server = server.into_raw_socket() as Fd;
    let pending = driver.submit(Op::Recv {
        fd: server,
        buf: Buffer::from(Vec::with_capacity(8)),
        flags: 0,
    });
    driver.poll(&mut Vec::new(), Some(Duration::ZERO)).unwrap();
    run(&mut driver, Op::Close { fd: server }).result.unwrap();
    let ended = wait(&mut driver, pending);
    assert!(
        ended.result.is_err(),
        "a receive on a closed socket ends with an error"
    );
    assert!(
        ended.op.into_buffer().is_some(),
        "and gives its buffer back"
    );

    // The peer resets: linger 0 then close sends RST.
    let (other, _) = {
        let client2 = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let accepted = listener.accept().unwrap();
        set_linger_zero(&client2);
        drop(client2);
        accepted
    };
    let reset = driver.submit(Op::Recv {
        fd: other.as_raw_socket() as Fd,
        buf: Buffer::from(Vec::with_capacity(8)),
        flags: 0,
    });
    let result = wait(&mut driver, reset).result;
    eprintln!("reset: {result:?}");
    match result {
        Err(error) => assert_eq!(
            error.kind(),
            std::io::ErrorKind::ConnectionReset,
            "{error:?}"
        ),
        Ok(count) => assert_eq!(count, 0, "some stacks report the reset as an end of stream"),
    }
    drop(client);
}

fn set_linger_zero(stream: &TcpStream) {
    #[repr(C)]
    struct Linger {
        on: u16,
        seconds: u16,
    }
    #[link(name = "ws2_32")]
    unsafe extern "system" {
        fn setsockopt(socket: usize, level: i32, name: i32, value: *const u8, len: i32) -> i32;
    }
    let linger = Linger { on: 1, seconds: 0 };
    // SAFETY: SOL_SOCKET (0xffff) / SO_LINGER (0x80) with a LINGER struct alive for the call.
    let result = unsafe {
        setsockopt(
            stream.as_raw_socket() as usize,
            0xffff,
            0x80,
            (&linger as *const Linger).cast(),
            std::mem::size_of::<Linger>() as i32,
        )
    };
    assert_eq!(result, 0);
}

#[test]
fn poll_waits_for_a_process_to_exit_and_can_be_cancelled() {
    use std::os::windows::io::AsRawHandle as _;

    let mut driver = Driver::new().unwrap();
    // A child that exits after about half a second (ping waits 1 s between its 2 echoes).
    let mut child = std::process::Command::new("cmd")
        .args(["/C", "ping -n 2 127.0.0.1 > NUL & exit 3"])
        .spawn()
        .expect("cmd");
    let started = Instant::now();
    let exited = run(
        &mut driver,
        Op::Poll {
            fd: child.as_raw_handle() as Fd,
            writable: false,
        },
    );
    assert_eq!(exited.result.unwrap(), 1);
    assert!(
        child.try_wait().unwrap().is_some(),
        "signalled means exited"
    );
    assert_eq!(child.wait().unwrap().code(), Some(3));
    eprintln!("child exit seen after {:?}", started.elapsed());

    // An event nobody sets: the poll is cancelled and its one packet still arrives.
    // SAFETY: creates a manual-reset event, unnamed, not signalled; no pointers passed.
    let event = unsafe {
        windows_sys::Win32::System::Threading::CreateEventW(
            std::ptr::null(),
            1,
            0,
            std::ptr::null(),
        )
    };
    assert!(!event.is_null());
    let poll = driver.submit(Op::Poll {
        fd: event as usize as Fd,
        writable: false,
    });
    driver
        .poll(&mut Vec::new(), Some(Duration::from_millis(20)))
        .unwrap();
    driver.cancel(poll).unwrap();
    assert!(proactor_driver::is_cancelled(
        &wait(&mut driver, poll).result.unwrap_err()
    ));

    // The same event, set from another thread while the driver waits.
    let poll = driver.submit(Op::Poll {
        fd: event as usize as Fd,
        writable: false,
    });
    let raw = event as usize;
    let setter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        // SAFETY: the event is open until the test closes it after joining.
        unsafe { windows_sys::Win32::System::Threading::SetEvent(raw as _) };
    });
    assert_eq!(wait(&mut driver, poll).result.unwrap(), 1);
    setter.join().unwrap();
    // A handle that is not a socket has no writability to wait for.
    let writable = run(
        &mut driver,
        Op::Poll {
            fd: event as usize as Fd,
            writable: true,
        },
    );
    assert_eq!(
        writable.result.unwrap_err().kind(),
        std::io::ErrorKind::Unsupported
    );
    // A socket's poll is the socket driver's: a listener is readable once a connection waits.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let accepting = driver.submit(Op::Poll {
        fd: listener.as_raw_socket() as Fd,
        writable: false,
    });
    driver
        .poll(&mut Vec::new(), Some(Duration::from_millis(20)))
        .unwrap();
    let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let events = wait(&mut driver, accepting).result.unwrap();
    assert_ne!(
        events & windows_sys::Win32::Networking::WinSock::POLLRDNORM as usize,
        0,
        "events {events:#x}"
    );
    // SAFETY: closing the event made above, once.
    unsafe { windows_sys::Win32::Foundation::CloseHandle(event) };
    assert_eq!(driver.in_flight(), 0);
}

#[test]
fn read_directory_changes_reports_added_renamed_removed() {
    use proactor_driver::windows::{directory_changes, open_directory, ChangeAction};

    let mut driver = Driver::new().unwrap();
    let dir = temp_path("watch");
    std::fs::create_dir(&dir).unwrap();
    let handle = open_directory(&dir).unwrap();
    let fd = handle.as_raw_handle() as Fd;
    // FILE_NOTIFY_CHANGE_FILE_NAME | DIR_NAME | LAST_WRITE
    let filter = 0x1 | 0x2 | 0x10;
    let watch = |driver: &mut Driver| {
        driver.submit(Op::ReadDirectoryChanges {
            dir: fd,
            buf: Buffer::from(Vec::with_capacity(16 * 1024)),
            recursive: true,
            filter,
        })
    };
    let mut seen = Vec::new();
    let mut id = watch(&mut driver);
    driver.poll(&mut Vec::new(), Some(Duration::ZERO)).unwrap();
    std::fs::write(dir.join("a.txt"), b"x").unwrap();
    std::fs::rename(dir.join("a.txt"), dir.join("b.txt")).unwrap();
    std::fs::remove_file(dir.join("b.txt")).unwrap();
    let deadline = Instant::now() + LIMIT;
    while !seen
        .iter()
        .any(|(action, _)| *action == ChangeAction::Removed)
    {
        assert!(Instant::now() < deadline, "changes so far: {seen:?}");
        let done = wait(&mut driver, id);
        let count = done.result.expect("directory changes");
        let bytes = done.op.into_buffer().unwrap();
        assert_eq!(bytes.len(), count);
        seen.extend(
            directory_changes(bytes.as_slice())
                .map(|change| (change.action, change.name.to_string_lossy().into_owned())),
        );
        id = watch(&mut driver);
    }
    let names = |wanted: ChangeAction| -> Vec<String> {
        seen.iter()
            .filter(|(action, _)| *action == wanted)
            .map(|(_, name)| name.clone())
            .collect()
    };
    assert!(
        names(ChangeAction::Added).contains(&"a.txt".to_string()),
        "{seen:?}"
    );
    assert_eq!(names(ChangeAction::RenamedFrom), ["a.txt"], "{seen:?}");
    assert_eq!(names(ChangeAction::RenamedTo), ["b.txt"], "{seen:?}");
    assert_eq!(names(ChangeAction::Removed), ["b.txt"], "{seen:?}");

    // The watch still pending is cancelled, and its buffer comes back.
    driver.cancel(id).unwrap();
    let cancelled = wait(&mut driver, id);
    assert!(proactor_driver::is_cancelled(
        &cancelled.result.unwrap_err()
    ));
    assert!(cancelled.op.into_buffer().is_some());
    drop(handle);
    std::fs::remove_dir(&dir).unwrap();

    let missing = open_directory(temp_path("no-such-dir")).unwrap_err();
    assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
}

/// A packet for an OVERLAPPED that is not the driver's is ignored. A socket stays tied to the
/// port the driver associated it with, so a receive that other code starts on it with an
/// OVERLAPPED of its own completes through the driver's port; here that OVERLAPPED is laid
/// out as the driver's own packets are, with a pending operation's identity after it, and the
/// driver must neither complete that operation with the stranger's result nor read it at all.
#[test]
fn foreign_packets_on_the_port_are_ignored() {
    use windows_sys::Win32::Networking::WinSock::{WSARecv, SOCKET, WSABUF};
    use windows_sys::Win32::System::IO::OVERLAPPED;

    #[repr(C)]
    struct Foreign {
        overlapped: OVERLAPPED,
        id: u64,
    }

    let mut driver = Driver::new().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut victim_client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (victim, _) = listener.accept().unwrap();
    let mut stranger_client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (stranger, _) = listener.accept().unwrap();

    let recv = driver.submit(Op::Recv {
        fd: victim.as_raw_socket() as Fd,
        buf: Buffer::from(Vec::with_capacity(16)),
        flags: 0,
    });
    // One operation of the driver's on the other socket ties it to the driver's port.
    let sent = run(
        &mut driver,
        Op::Send {
            fd: stranger.as_raw_socket() as Fd,
            buf: Buffer::from(b"x".to_vec()),
            flags: 0,
        },
    );
    assert_eq!(sent.result.unwrap(), 1);

    // Slot identities are (generation << 32) | index, and a fresh slot's generation is 1.
    let mut foreign = Box::new(Foreign {
        // SAFETY: an all-zero OVERLAPPED is the documented initial state.
        overlapped: unsafe { std::mem::zeroed() },
        id: (1u64 << 32) | recv.index() as u64,
    });
    let mut bytes = [0u8; 8];
    let buffer = WSABUF {
        len: bytes.len() as u32,
        buf: bytes.as_mut_ptr(),
    };
    let mut flags = 0u32;
    // SAFETY: the buffer, the flags and the OVERLAPPED outlive the receive: it completes (the
    // client sends below) before the test returns, and the box keeps the OVERLAPPED in place.
    let started = unsafe {
        WSARecv(
            stranger.as_raw_socket() as SOCKET,
            &buffer,
            1,
            std::ptr::null_mut(),
            &mut flags,
            &mut foreign.overlapped,
            None,
        )
    };
    assert!(
        started == 0 || std::io::Error::last_os_error().raw_os_error() == Some(997),
        "WSARecv: {}",
        std::io::Error::last_os_error()
    );
    stranger_client.write_all(b"hello").unwrap();

    // The stranger's packet arrives; the victim's receive stays pending.
    let deadline = Instant::now() + Duration::from_millis(300);
    let mut completions = Vec::new();
    while Instant::now() < deadline {
        driver
            .poll(&mut completions, Some(Duration::from_millis(20)))
            .unwrap();
        assert!(
            completions.iter().all(|c| c.id != recv),
            "a foreign packet completed the pending receive"
        );
    }
    victim_client.write_all(b"ok").unwrap();
    let done = wait(&mut driver, recv);
    assert_eq!(done.result.unwrap(), 2);
    assert_eq!(done.op.into_buffer().unwrap().as_slice(), b"ok");
    // The stranger's receive got its bytes, through its own OVERLAPPED.
    let mut got = 0u32;
    let mut got_flags = 0u32;
    // SAFETY: the receive is complete (its packet was dequeued above).
    let ok = unsafe {
        windows_sys::Win32::Networking::WinSock::WSAGetOverlappedResult(
            stranger.as_raw_socket() as SOCKET,
            &foreign.overlapped,
            &mut got,
            0,
            &mut got_flags,
        )
    };
    assert!(ok != 0, "{}", std::io::Error::last_os_error());
    assert_eq!(&bytes[..got as usize], b"hello");
}

fn buffer_of(completion: Completion) -> Option<proactor_driver::PooledBuffer> {
    match completion.op {
        Op::RecvPooled { buffer, .. } => buffer,
        other => panic!("not a pooled receive: {other:?}"),
    }
}

#[test]
fn idle_pooled_receives_hold_no_buffer_and_a_close_ends_them() {
    let mut driver = Driver::new().unwrap();
    let pool = driver.buffer_pool(64, 2).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut pairs = Vec::new();
    let mut ids = Vec::new();
    // More receives waiting than the pool has buffers: each waits as a zero-byte receive.
    for _ in 0..8 {
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        ids.push(driver.submit(Op::RecvPooled {
            fd: server.as_raw_socket() as Fd,
            pool: pool.clone(),
            multishot: true,
            buffer: None,
        }));
        pairs.push((client, server));
    }
    driver.poll(&mut Vec::new(), Some(Duration::ZERO)).unwrap();
    assert_eq!(pool.available(), 2, "no buffer parked while idle");
    assert_eq!(driver.in_flight(), 8);
    // Each in turn gets bytes and gives its buffer back.
    for (index, (client, _)) in pairs.iter_mut().enumerate() {
        client.write_all(&[index as u8; 5]).unwrap();
        let item = wait(&mut driver, ids[index]);
        assert!(item.more);
        assert_eq!(item.result.as_ref().copied().unwrap(), 5);
        let buffer = buffer_of(item).expect("a lent buffer");
        assert_eq!(&buffer[..], &[index as u8; 5]);
        assert_eq!(pool.available(), 1);
        drop(buffer);
        assert_eq!(pool.available(), 2);
    }
    // Closing a socket ends its receive with the cancelled error.
    use std::os::windows::io::IntoRawSocket;
    let (_client, server) = pairs.pop().unwrap();
    let last = ids.pop().unwrap();
    run(
        &mut driver,
        Op::Close {
            fd: server.into_raw_socket() as Fd,
        },
    )
    .result
    .unwrap();
    let ended = wait(&mut driver, last);
    assert!(!ended.more);
    assert!(
        ended
            .result
            .as_ref()
            .is_err_and(proactor_driver::is_cancelled),
        "{:?}",
        ended.result
    );
    for id in ids {
        driver.cancel(id).unwrap();
        let ended = wait(&mut driver, id);
        assert!(!ended.more);
        assert!(ended
            .result
            .as_ref()
            .is_err_and(proactor_driver::is_cancelled));
    }
    assert_eq!(driver.in_flight(), 0);
    assert_eq!(pool.available(), 2);
}

#[test]
fn a_pooled_receive_truncates_a_datagram_and_sees_a_shutdown_as_the_end() {
    let mut driver = Driver::new().unwrap();
    let pool = driver.buffer_pool(10, 2).unwrap();
    let receiver = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    receiver.connect(sender.local_addr().unwrap()).unwrap();
    sender
        .send_to(&[7u8; 100], receiver.local_addr().unwrap())
        .unwrap();
    sender.send_to(b"", receiver.local_addr().unwrap()).unwrap();
    sender
        .send_to(b"short", receiver.local_addr().unwrap())
        .unwrap();
    let mut received = Vec::new();
    for _ in 0..3 {
        let completion = run(
            &mut driver,
            Op::RecvPooled {
                fd: receiver.as_raw_socket() as Fd,
                pool: pool.clone(),
                multishot: false,
                buffer: None,
            },
        );
        let count = completion.result.as_ref().copied().unwrap();
        match buffer_of(completion) {
            Some(buffer) => {
                assert_eq!(buffer.len(), count);
                received.push(buffer.to_vec());
            }
            None => {
                assert_eq!(count, 0, "no buffer only for nothing received");
                received.push(Vec::new());
            }
        }
    }
    assert_eq!(
        received,
        [vec![7u8; 10], Vec::new(), b"short".to_vec()],
        "the long datagram is cut to the buffer, the empty one taken, the next one whole"
    );

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    server.shutdown(std::net::Shutdown::Read).unwrap();
    let completion = run(
        &mut driver,
        Op::RecvPooled {
            fd: server.as_raw_socket() as Fd,
            pool: pool.clone(),
            multishot: true,
            buffer: None,
        },
    );
    assert!(!completion.more);
    assert_eq!(completion.result.as_ref().copied().unwrap(), 0);
    assert!(buffer_of(completion).is_none());
    assert_eq!(pool.available(), 2);
}
