//! The practical limit: a hand-written echo loop over the raw `io-uring` crate. One op in
//! flight per connection (recv, then send of what came, then recv again), one accept in
//! flight, every completion batch answered with one `io_uring_enter` (`submit_and_wait(1)`).
//! Same ops as proactor's TcpStream (IORING_OP_RECV / IORING_OP_SEND), no fixed files, no
//! provided buffers, no multishot: the same tools a runtime has.

use std::io;
use std::os::fd::{AsRawFd, RawFd};

use io_uring::{opcode, squeue, types, IoUring};

use crate::echo::server::{announce, connection_closed, ServerOptions};

const ACCEPT: u64 = 0;
const RECV: u64 = 1;
const SEND: u64 = 2;

/// Submission queue size: proactor-driver's default.
const ENTRIES: u32 = 256;

struct Conn {
    fd: RawFd,
    buffer: Box<[u8]>,
    /// Bytes received by the last recv, to be sent back.
    pending: usize,
    /// Of those, bytes sent so far.
    sent: usize,
}

fn user_data(slot: usize, op: u64) -> u64 {
    ((slot as u64) << 2) | op
}

/// A plain ring, or one with `SINGLE_ISSUER | DEFER_TASKRUN` (+ `COOP_TASKRUN |
/// TASKRUN_FLAG`, as proactor-driver sets up its own).
pub fn build(defer: bool) -> io::Result<IoUring> {
    if defer {
        IoUring::builder()
            .setup_single_issuer()
            .setup_defer_taskrun()
            .setup_coop_taskrun()
            .setup_taskrun_flag()
            .build(ENTRIES)
    } else {
        IoUring::new(ENTRIES)
    }
}

/// Queues `entry`, submitting first when the submission queue is full.
///
/// # Safety
///
/// Whatever `entry` points at (buffers) must stay valid until its completion is reaped.
unsafe fn push(ring: &mut IoUring, entry: &squeue::Entry) -> io::Result<()> {
    loop {
        // SAFETY: our caller keeps the entry's buffers alive until it completes.
        if unsafe { ring.submission().push(entry) }.is_ok() {
            return Ok(());
        }
        ring.submit()?;
    }
}

fn recv_entry(conn: &mut Conn, slot: usize) -> squeue::Entry {
    opcode::Recv::new(
        types::Fd(conn.fd),
        conn.buffer.as_mut_ptr(),
        conn.buffer.len() as u32,
    )
    .build()
    .user_data(user_data(slot, RECV))
}

fn send_entry(conn: &Conn, slot: usize) -> squeue::Entry {
    let rest = &conn.buffer[conn.sent..conn.pending];
    opcode::Send::new(types::Fd(conn.fd), rest.as_ptr(), rest.len() as u32)
        .build()
        .user_data(user_data(slot, SEND))
}

fn set_nodelay(fd: RawFd) {
    let one: libc::c_int = 1;
    // SAFETY: `one` is a valid c_int for the duration of the call; the kernel only reads it.
    unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
}

pub fn run(options: &ServerOptions, defer: bool) -> io::Result<()> {
    let listener = std::net::TcpListener::bind(options.addr)?;
    // The same backlog as the runtimes use (std listens with 128).
    // SAFETY: listen on a socket we own; re-listening only changes the backlog.
    if unsafe { libc::listen(listener.as_raw_fd(), 1024) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let listen_fd = listener.as_raw_fd();
    let mut ring = build(defer)?;
    announce(listener.local_addr()?);

    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut completions: Vec<(u64, i32)> = Vec::with_capacity(ring.params().cq_entries() as usize);
    let accept = opcode::Accept::new(
        types::Fd(listen_fd),
        std::ptr::null_mut(),
        std::ptr::null_mut(),
    )
    .build()
    .user_data(user_data(0, ACCEPT));
    // SAFETY: the accept points at nothing of ours (null address pointers).
    unsafe { push(&mut ring, &accept)? };

    loop {
        ring.submit_and_wait(1)?;
        completions.clear();
        completions.extend(ring.completion().map(|cqe| (cqe.user_data(), cqe.result())));
        for &(data, result) in &completions {
            let slot = (data >> 2) as usize;
            match data & 3 {
                ACCEPT => {
                    if result >= 0 {
                        let fd = result as RawFd;
                        set_nodelay(fd);
                        let conn = Conn {
                            fd,
                            buffer: vec![0u8; options.size].into_boxed_slice(),
                            pending: 0,
                            sent: 0,
                        };
                        let slot = match free.pop() {
                            Some(slot) => {
                                conns[slot] = Some(conn);
                                slot
                            }
                            None => {
                                conns.push(Some(conn));
                                conns.len() - 1
                            }
                        };
                        let Some(conn) = conns[slot].as_mut() else {
                            unreachable!()
                        };
                        let entry = recv_entry(conn, slot);
                        // SAFETY: the buffer is a boxed slice owned by `conns[slot]`, which
                        // is freed only after this connection's one op in flight completes.
                        unsafe { push(&mut ring, &entry)? };
                    } else {
                        eprintln!(
                            "echo-bench server: accept: {}",
                            io::Error::from_raw_os_error(-result)
                        );
                    }
                    // SAFETY: as above, no buffer.
                    unsafe { push(&mut ring, &accept)? };
                }
                op => {
                    let Some(conn) = conns.get_mut(slot).and_then(Option::as_mut) else {
                        continue;
                    };
                    let next = if op == RECV {
                        if result > 0 {
                            conn.pending = result as usize;
                            conn.sent = 0;
                            Some(send_entry(conn, slot))
                        } else {
                            None
                        }
                    } else if result >= 0 {
                        conn.sent += result as usize;
                        if conn.sent < conn.pending {
                            Some(send_entry(conn, slot))
                        } else {
                            Some(recv_entry(conn, slot))
                        }
                    } else {
                        None
                    };
                    match next {
                        // SAFETY: as for the first recv: the buffer outlives the op.
                        Some(entry) => unsafe { push(&mut ring, &entry)? },
                        None => {
                            // EOF or an error: the op that just completed was the
                            // connection's only one, so nothing refers to it any more.
                            // SAFETY: closing a descriptor this connection owns.
                            unsafe { libc::close(conn.fd) };
                            conns[slot] = None;
                            free.push(slot);
                            connection_closed(options.exit_after_conns);
                        }
                    }
                }
            }
        }
    }
}
