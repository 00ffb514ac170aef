//! The access log: one line per response in the common log format,
//! `127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET /path HTTP/1.1" 200 2326`, and the
//! clock that stamps it and the `Date` header.
//!
//! Lines gather in a buffer per runtime and reach the sink in one write when the buffer
//! fills or [`FLUSH_DELAY`] after the first line of a batch: no write per request under load,
//! and no line waits long for someone tailing the log.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::Write;
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::http::{http_date, push_decimal, Civil, Status, MONTHS};

/// How long a line may wait in the buffer for others to share its write.
const FLUSH_DELAY: Duration = Duration::from_millis(100);
/// A buffer this full is written at once.
const FLUSH_BYTES: usize = 16 * 1024;
/// The most of a request line a log line shows: a request head may be 8 KiB of junk.
const LINE_SHOWN: usize = 1024;

/// Where access log lines go: stderr for the program, any writer (a `Vec<u8>`, say) for
/// tests and embedders. Shared by the runtimes; each takes the lock once per batch.
#[derive(Clone)]
pub struct LogSink(pub Arc<Mutex<dyn Write + Send>>);

impl LogSink {
    /// The process's standard error.
    pub fn stderr() -> LogSink {
        LogSink(Arc::new(Mutex::new(std::io::stderr())))
    }
}

impl fmt::Debug for LogSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LogSink")
    }
}

/// One runtime's access log: its pending lines and whether a flush is on its way.
pub(crate) struct AccessLog {
    sink: LogSink,
    lines: RefCell<Vec<u8>>,
    flush_due: Cell<bool>,
}

impl AccessLog {
    pub(crate) fn new(sink: LogSink) -> Rc<AccessLog> {
        Rc::new(AccessLog {
            sink,
            lines: RefCell::new(Vec::with_capacity(FLUSH_BYTES + 2 * LINE_SHOWN)),
            flush_due: Cell::new(false),
        })
    }

    /// Adds the line of one response: the client's address, the request line as sent
    /// (escaped, so a client cannot forge lines), the status and the body bytes.
    pub(crate) fn record(
        self: &Rc<Self>,
        client: IpAddr,
        request_line: &[u8],
        status: Status,
        body_bytes: u64,
    ) {
        let mut lines = self.lines.borrow_mut();
        let _ = write!(lines, "{client} - - [");
        with_clock(|clock| lines.extend_from_slice(&clock.common_log));
        lines.extend_from_slice(b"] \"");
        if request_line.is_empty() {
            lines.push(b'-');
        }
        escape(
            &request_line[..request_line.len().min(LINE_SHOWN)],
            &mut lines,
        );
        lines.extend_from_slice(b"\" ");
        push_decimal(&mut lines, u64::from(status.0));
        lines.push(b' ');
        push_decimal(&mut lines, body_bytes);
        lines.push(b'\n');
        if lines.len() >= FLUSH_BYTES {
            drop(lines);
            self.flush();
        } else if !self.flush_due.replace(true) {
            let log = Rc::clone(self);
            drop(proactor::spawn(async move {
                proactor::time::sleep(FLUSH_DELAY).await;
                log.flush();
            }));
        }
    }

    /// Writes the pending lines to the sink.
    fn flush(&self) {
        self.flush_due.set(false);
        let mut lines = self.lines.borrow_mut();
        if lines.is_empty() {
            return;
        }
        // A runtime that panicked while holding the lock left no half line: write on.
        let mut sink = self
            .sink
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // A log that cannot be written (stderr closed) must not stop the serving.
        let _ = sink.write_all(&lines).and_then(|()| sink.flush());
        lines.clear();
    }
}

impl Drop for AccessLog {
    /// The runtime is ending: the last lines go out rather than with it.
    fn drop(&mut self) {
        self.flush();
    }
}

/// Copies `bytes` escaped as nginx escapes its log: `"`, `\`, control bytes and bytes past
/// ASCII become `\xHH`, so a request line stays one quoted field on one line.
fn escape(bytes: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in bytes {
        if (0x20..0x7f).contains(&byte) && byte != b'"' && byte != b'\\' {
            out.push(byte);
        } else {
            out.extend_from_slice(&[
                b'\\',
                b'x',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 15)],
            ]);
        }
    }
}

/// The current second, formatted as the `Date` header and the log write it: formatting
/// happens once a second per thread, not once per response.
pub(crate) struct Clock {
    second: u64,
    /// `Sun, 06 Nov 1994 08:49:37 GMT`
    pub(crate) http: [u8; 29],
    /// `06/Nov/1994:08:49:37 +0000`
    pub(crate) common_log: [u8; 26],
}

thread_local! {
    static CLOCK: RefCell<Clock> = const {
        RefCell::new(Clock { second: u64::MAX, http: [0; 29], common_log: [0; 26] })
    };
}

/// Calls `read` with this thread's clock, brought up to the current second.
pub(crate) fn with_clock<R>(read: impl FnOnce(&Clock) -> R) -> R {
    let now = SystemTime::now();
    let second = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    CLOCK.with_borrow_mut(|clock| {
        if clock.second != second {
            clock.second = second;
            clock.http = http_date(now).unwrap_or(*b"Thu, 01 Jan 1970 00:00:00 GMT");
            let civil = Civil::from_seconds(second);
            let mut cursor = &mut clock.common_log[..];
            let _ = write!(
                cursor,
                "{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000",
                civil.day,
                MONTHS[(civil.month - 1) as usize],
                civil.year % 10_000,
                civil.hour,
                civil.minute,
                civil.second,
            );
        }
        read(clock)
    })
}
