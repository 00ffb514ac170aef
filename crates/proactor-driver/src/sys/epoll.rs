//! epoll: the readiness mechanism on Linux when io_uring is unavailable. Only registration and
//! waiting live here; `readiness.rs` turns readiness into completions.

use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::Duration;

use super::readiness::{Event, Poller};
use super::unix::Waker;

pub(crate) struct Epoll {
    fd: RawFd,
    buffer: Vec<libc::epoll_event>,
}

const EVENTS_PER_WAIT: usize = 256;

impl Poller for Epoll {
    fn new(waker: &Arc<Waker>) -> io::Result<Epoll> {
        // SAFETY: plain flags.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // Owned from here, so an error below closes it.
        let epoll = Epoll {
            fd,
            buffer: Vec::with_capacity(EVENTS_PER_WAIT),
        };
        let mut event = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLET) as u32,
            u64: waker.fd() as u64,
        };
        // SAFETY: event is a valid epoll_event for the duration of the call.
        if unsafe { libc::epoll_ctl(fd, libc::EPOLL_CTL_ADD, waker.fd(), &mut event) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(epoll)
    }

    fn register(&mut self, fd: RawFd) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32,
            u64: fd as u64,
        };
        // SAFETY: event is a valid epoll_event for the duration of the call.
        if unsafe { libc::epoll_ctl(self.fd, libc::EPOLL_CTL_ADD, fd, &mut event) } == 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::EEXIST) {
            return Err(error);
        }
        // Still registered through a duplicate of a closed descriptor: take it over.
        // SAFETY: as above.
        if unsafe { libc::epoll_ctl(self.fd, libc::EPOLL_CTL_MOD, fd, &mut event) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    fn deregister(&mut self, fd: RawFd) {
        // SAFETY: a null event is allowed for EPOLL_CTL_DEL. Failure means it was not
        // registered any more, which is the goal.
        unsafe { libc::epoll_ctl(self.fd, libc::EPOLL_CTL_DEL, fd, std::ptr::null_mut()) };
    }

    fn wait(&mut self, events: &mut Vec<Event>, timeout: Option<Duration>) -> io::Result<()> {
        // epoll_wait counts milliseconds: round up so a timer never fires early.
        let timeout_ms = match timeout {
            None => -1,
            Some(timeout) => {
                let ms = timeout.as_nanos().div_ceil(1_000_000);
                ms.min(i32::MAX as u128) as libc::c_int
            }
        };
        self.buffer.clear();
        // SAFETY: the buffer has room for EVENTS_PER_WAIT events; the kernel writes at most that
        // many and returns how many.
        let count = unsafe {
            libc::epoll_wait(
                self.fd,
                self.buffer.as_mut_ptr(),
                EVENTS_PER_WAIT as libc::c_int,
                timeout_ms,
            )
        };
        if count < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel initialized the first `count` events.
        unsafe { self.buffer.set_len(count as usize) };
        for raw in &self.buffer {
            let flags = raw.events as libc::c_int;
            let trouble = flags & (libc::EPOLLERR | libc::EPOLLHUP) != 0;
            events.push(Event::Ready {
                fd: raw.u64 as RawFd,
                readable: trouble
                    || flags & (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLPRI) != 0,
                writable: trouble || flags & libc::EPOLLOUT != 0,
                ended: trouble || flags & libc::EPOLLRDHUP != 0,
            });
        }
        Ok(())
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        super::unix::close_quietly(self.fd);
    }
}
