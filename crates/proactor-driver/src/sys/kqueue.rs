//! kqueue: the readiness mechanism on macOS and the BSDs. Only registration and waiting live
//! here; `readiness.rs` turns readiness into completions, as it does for epoll.
//!
//! The kqueue belongs to the [`Waker`] (whose `EVFILT_USER` event is the cross-thread wake):
//! pool replies keep the waker alive after the driver is gone, and their wakes must land on
//! an open kqueue. This poller keeps the waker and borrows its descriptor.

use std::io;
use std::mem;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::Duration;

use super::readiness::{Event, Poller};
use super::unix::Waker;

pub(crate) struct Kqueue {
    /// Owns the kqueue (`waker.fd()`).
    waker: Arc<Waker>,
    buffer: Vec<libc::kevent>,
}

const EVENTS_PER_WAIT: usize = 256;

fn change(ident: libc::uintptr_t, filter: i16, flags: u16, fflags: u32) -> libc::kevent {
    // SAFETY: all-zero is a valid kevent (it also clears fields some systems add, like
    // FreeBSD's `ext`).
    let mut event: libc::kevent = unsafe { mem::zeroed() };
    event.ident = ident;
    event.filter = filter as _;
    event.flags = flags as _;
    event.fflags = fflags;
    event
}

fn fd_change(fd: RawFd, filter: i16, flags: u16) -> libc::kevent {
    change(fd as libc::uintptr_t, filter, flags, 0)
}

impl Kqueue {
    fn apply(&mut self, changes: &[libc::kevent]) -> io::Result<()> {
        // SAFETY: `changes` is a valid array of the given length; no events are received.
        let result = unsafe {
            libc::kevent(
                self.waker.fd(),
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
    fn new(waker: &Arc<Waker>) -> io::Result<Kqueue> {
        Ok(Kqueue {
            waker: Arc::clone(waker),
            buffer: Vec::with_capacity(EVENTS_PER_WAIT),
        })
    }

    fn register(&mut self, fd: RawFd) -> io::Result<()> {
        // EV_CLEAR makes both filters edge-triggered, like EPOLLET.
        let flags = (libc::EV_ADD | libc::EV_CLEAR) as u16;
        self.apply(&[
            fd_change(fd, libc::EVFILT_READ as i16, flags),
            fd_change(fd, libc::EVFILT_WRITE as i16, flags),
        ])
    }

    fn deregister(&mut self, fd: RawFd) {
        let flags = libc::EV_DELETE as u16;
        // Each filter separately: one that was never added must not stop the other's removal.
        let _ = self.apply(&[fd_change(fd, libc::EVFILT_READ as i16, flags)]);
        let _ = self.apply(&[fd_change(fd, libc::EVFILT_WRITE as i16, flags)]);
    }

    fn watch_exit(&mut self, pid: u32) -> io::Result<bool> {
        let flags = (libc::EV_ADD | libc::EV_ONESHOT) as u16;
        match self.apply(&[change(
            pid as libc::uintptr_t,
            libc::EVFILT_PROC as i16,
            flags,
            libc::NOTE_EXIT,
        )]) {
            Ok(()) => Ok(true),
            // macOS refuses to attach to a process that has already exited (a zombie) with
            // ESRCH, as for one that never existed; FreeBSD attaches and fires at once.
            // Either way the caller's waitpid tells which.
            Err(error) if error.raw_os_error() == Some(libc::ESRCH) => Ok(false),
            Err(error) => Err(error),
        }
    }

    fn unwatch_exit(&mut self, pid: u32) {
        let flags = libc::EV_DELETE as u16;
        // Fails only if the exit fired meanwhile (EV_ONESHOT removed it): the goal.
        let _ = self.apply(&[change(
            pid as libc::uintptr_t,
            libc::EVFILT_PROC as i16,
            flags,
            0,
        )]);
    }

    fn wait(&mut self, events: &mut Vec<Event>, timeout: Option<Duration>) -> io::Result<()> {
        // macOS refuses a wait of more than INT32_MAX seconds with EINVAL, and an endless
        // timeout parks its deadline a century out: wait at most as long as epoll does; the
        // readiness loop waits again if nothing came.
        let timespec = timeout.map(|timeout| {
            let timeout = timeout.min(Duration::from_millis(i32::MAX as u64));
            libc::timespec {
                tv_sec: timeout.as_secs() as libc::time_t,
                tv_nsec: timeout.subsec_nanos() as _,
            }
        });
        let timespec_pointer = timespec.as_ref().map_or(std::ptr::null(), |timespec| {
            timespec as *const libc::timespec
        });
        self.buffer.clear();
        // SAFETY: the buffer has room for EVENTS_PER_WAIT events; the kernel writes at most that
        // many and returns how many.
        let count = unsafe {
            libc::kevent(
                self.waker.fd(),
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
            let filter = raw.filter as i32;
            if filter == libc::EVFILT_PROC as i32 {
                events.push(Event::Exited {
                    pid: raw.ident as u32,
                });
                continue;
            }
            // The waker's EVFILT_USER event carries the kqueue's own descriptor number, which
            // is how readiness.rs knows it; it is neither readable nor writable.
            let trouble = raw.flags as u32 & (libc::EV_EOF | libc::EV_ERROR) as u32 != 0;
            events.push(Event::Ready {
                fd: raw.ident as RawFd,
                readable: trouble || filter == libc::EVFILT_READ as i32,
                writable: trouble || filter == libc::EVFILT_WRITE as i32,
                ended: trouble,
            });
        }
        Ok(())
    }
}
