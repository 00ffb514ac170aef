//! kqueue: the readiness mechanism on macOS and the BSDs. Only registration and waiting live
//! here; `readiness.rs` turns readiness into completions, as it does for epoll.

use std::io;
use std::mem;
use std::os::fd::RawFd;
use std::time::Duration;

use super::readiness::{Event, Poller};
use super::unix::{close_quietly, Waker};

pub(crate) struct Kqueue {
    fd: RawFd,
    buffer: Vec<libc::kevent>,
}

const EVENTS_PER_WAIT: usize = 256;

fn change(fd: RawFd, filter: i16, flags: u16) -> libc::kevent {
    // SAFETY: all-zero is a valid kevent (it also clears fields some systems add, like
    // FreeBSD's `ext`).
    let mut event: libc::kevent = unsafe { mem::zeroed() };
    event.ident = fd as libc::uintptr_t;
    event.filter = filter as _;
    event.flags = flags as _;
    event
}

impl Kqueue {
    fn apply(&mut self, changes: &[libc::kevent]) -> io::Result<()> {
        // SAFETY: `changes` is a valid array of the given length; no events are received.
        let result = unsafe {
            libc::kevent(
                self.fd,
                changes.as_ptr(),
                changes.len() as _,
                std::ptr::null_mut(),
                0,
                std::ptr::null(),
            )
        };
        if result < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl Poller for Kqueue {
    fn new() -> io::Result<Kqueue> {
        // SAFETY: no arguments.
        let fd = unsafe { libc::kqueue() };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // kqueue has no CLOEXEC flag at creation on every system: set it after.
        // SAFETY: fcntl on the descriptor just created.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        Ok(Kqueue {
            fd,
            buffer: Vec::with_capacity(EVENTS_PER_WAIT),
        })
    }

    fn register(&mut self, fd: RawFd) -> io::Result<()> {
        // EV_CLEAR makes both filters edge-triggered, like EPOLLET.
        let flags = (libc::EV_ADD | libc::EV_CLEAR) as u16;
        self.apply(&[
            change(fd, libc::EVFILT_READ as i16, flags),
            change(fd, libc::EVFILT_WRITE as i16, flags),
        ])
    }

    fn register_waker(&mut self, waker: &Waker) -> io::Result<()> {
        let flags = (libc::EV_ADD | libc::EV_CLEAR) as u16;
        self.apply(&[change(waker.fd(), libc::EVFILT_READ as i16, flags)])
    }

    fn deregister(&mut self, fd: RawFd) {
        let flags = libc::EV_DELETE as u16;
        // Each filter separately: one that was never added must not stop the other's removal.
        let _ = self.apply(&[change(fd, libc::EVFILT_READ as i16, flags)]);
        let _ = self.apply(&[change(fd, libc::EVFILT_WRITE as i16, flags)]);
    }

    fn wait(&mut self, events: &mut Vec<Event>, timeout: Option<Duration>) -> io::Result<()> {
        let timespec = timeout.map(|timeout| libc::timespec {
            tv_sec: timeout.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as _,
        });
        let timespec_pointer = timespec.as_ref().map_or(std::ptr::null(), |timespec| {
            timespec as *const libc::timespec
        });
        self.buffer.clear();
        // SAFETY: the buffer has room for EVENTS_PER_WAIT events; the kernel writes at most that
        // many and returns how many.
        let count = unsafe {
            libc::kevent(
                self.fd,
                std::ptr::null(),
                0,
                self.buffer.as_mut_ptr(),
                EVENTS_PER_WAIT as _,
                timespec_pointer,
            )
        };
        if count < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel initialized the first `count` events.
        unsafe { self.buffer.set_len(count as usize) };
        for raw in &self.buffer {
            let trouble = raw.flags as u32 & (libc::EV_EOF | libc::EV_ERROR) as u32 != 0;
            let filter = raw.filter as i32;
            events.push(Event {
                fd: raw.ident as RawFd,
                readable: trouble || filter == libc::EVFILT_READ as i32,
                writable: trouble || filter == libc::EVFILT_WRITE as i32,
            });
        }
        Ok(())
    }
}

impl Drop for Kqueue {
    fn drop(&mut self) {
        close_quietly(self.fd);
    }
}
