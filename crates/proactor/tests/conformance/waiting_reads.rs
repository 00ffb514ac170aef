//! A read that finds nothing waits for the socket: on a readiness backend without lending
//! its buffer (it tries again at the next readable edge), elsewhere as a receive in flight.
//! Either way: two reads of one stream waiting in one task both finish, a read dropped while
//! it waits loses no byte, and a read polled under a waker that is not its task's own (as
//! inside `FuturesUnordered`) is woken through that waker.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use proactor::io::{AsyncRead, AsyncWrite};
use proactor::{spawn, Runtime};

pub fn two_reads_waiting_in_one_task_both_finish(runtime: Runtime) {
    runtime.block_on(async {
        let (mut client, server) = crate::tcp_pair().await;
        let writer = spawn(async move {
            proactor::time::sleep(Duration::from_millis(20)).await;
            client.write_all(&b"ab"[..]).await.0.unwrap();
            proactor::time::sleep(Duration::from_millis(20)).await;
            client.write_all(&b"cd"[..]).await.0.unwrap();
            client
        });
        let (mut first, mut second) = (&server, &server);
        let mut one = pin!(first.read(Vec::with_capacity(2)));
        let mut two = pin!(second.read(Vec::with_capacity(2)));
        let (mut got_one, mut got_two) = (None, None);
        let both = std::future::poll_fn(|cx| {
            if got_one.is_none() {
                if let Poll::Ready((count, buf)) = one.as_mut().poll(cx) {
                    got_one = Some(buf[..count.unwrap()].to_vec());
                }
            }
            if got_two.is_none() {
                if let Poll::Ready((count, buf)) = two.as_mut().poll(cx) {
                    got_two = Some(buf[..count.unwrap()].to_vec());
                }
            }
            if got_one.is_some() && got_two.is_some() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        });
        proactor::time::timeout(crate::LIMIT, both)
            .await
            .expect("both reads finish");
        let mut all = got_one.unwrap();
        all.extend(got_two.unwrap());
        all.sort_unstable();
        assert_eq!(all, b"abcd");
        drop(writer.await.unwrap());
    });
}

pub fn a_waiting_read_dropped_in_one_task_leaves_the_other_waiting(runtime: Runtime) {
    runtime.block_on(async {
        let (mut client, server) = crate::tcp_pair().await;
        let writer = spawn(async move {
            proactor::time::sleep(Duration::from_millis(30)).await;
            client.write_all(&b"bytes"[..]).await.0.unwrap();
            client
        });
        let (mut first, mut second) = (&server, &server);
        let mut one = Some(Box::pin(first.read(Vec::with_capacity(8))));
        let mut two = pin!(second.read(Vec::with_capacity(8)));
        // Both wait (nothing was sent yet); then, in the same poll, the first goes away and
        // the task sleeps: only the second's wait can wake it.
        let waiting = std::future::poll_fn(|cx| {
            if let Some(mut read) = one.take() {
                assert!(read.as_mut().poll(cx).is_pending());
                assert!(two.as_mut().poll(cx).is_pending());
                return Poll::Pending;
            }
            two.as_mut().poll(cx)
        });
        let started = std::time::Instant::now();
        let (count, buf) = proactor::time::timeout(crate::LIMIT, waiting)
            .await
            .expect("the other read is still woken");
        // A timeout polls what it limits once more when its time is up, which would find the
        // bytes: a read woken only by that took the whole limit.
        assert!(
            started.elapsed() < crate::LIMIT / 2,
            "the other read was not woken by its bytes"
        );
        assert_eq!(&buf[..count.unwrap()], b"bytes");
        drop(writer.await.unwrap());
    });
}

pub fn a_read_dropped_while_it_waits_loses_nothing(runtime: Runtime) {
    runtime.block_on(async {
        let (mut client, mut server) = crate::tcp_pair().await;
        for round in 0..20u8 {
            let waited = proactor::time::timeout(
                Duration::from_millis(1),
                server.read(Vec::with_capacity(64)),
            )
            .await;
            if let Ok((count, buf)) = waited {
                panic!(
                    "round {round}: read {:?} before anything was sent",
                    &buf[..count.unwrap()]
                );
            }
            client.write_all(vec![round; 3]).await.0.unwrap();
            let (result, buf) = server.read_exact(Vec::with_capacity(3)).await;
            result.unwrap();
            assert_eq!(buf, [round; 3], "round {round}");
        }
    });
}

/// Counts its wakes.
struct Counting(AtomicUsize);

impl Wake for Counting {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

pub fn a_read_under_another_waker_is_woken_through_it(runtime: Runtime) {
    runtime.block_on(async {
        let (mut client, mut server) = crate::tcp_pair().await;
        let counting = Arc::new(Counting(AtomicUsize::new(0)));
        let other = Waker::from(Arc::clone(&counting));
        let mut read = pin!(server.read(Vec::with_capacity(8)));
        assert!(read
            .as_mut()
            .poll(&mut Context::from_waker(&other))
            .is_pending());
        client.write_all(&b"wake"[..]).await.0.unwrap();
        // The runtime runs (this task sleeps) until the read's own waker is called.
        let deadline = std::time::Instant::now() + crate::LIMIT;
        while counting.0.load(Ordering::SeqCst) == 0 {
            assert!(std::time::Instant::now() < deadline, "never woken");
            proactor::time::sleep(Duration::from_millis(1)).await;
        }
        let (count, buf) = proactor::time::timeout(crate::LIMIT, read)
            .await
            .expect("ready once woken");
        assert_eq!(&buf[..count.unwrap()], b"wake");
    });
}

pub fn a_reader_that_never_waits_lets_other_tasks_run(runtime: Runtime) {
    use std::io::Write;
    use std::rc::Rc;
    use std::sync::atomic::AtomicBool;

    runtime.block_on(async {
        let (client, mut server) = crate::tcp_pair().await;
        let mut client = client.into_std().unwrap();
        client.set_nonblocking(false).unwrap();
        // A peer that puts 96 KiB in the socket before the reader starts, then keeps
        // writing: the reader's first 64 KiB are there before it asks, so on a readiness
        // backend none of those reads waits. Bounded: it gives up (and closes) after 5 s.
        let stop = Arc::new(AtomicBool::new(false));
        let (filled, filled_in) = std::sync::mpsc::channel();
        let writer = std::thread::spawn({
            let stop = Arc::clone(&stop);
            move || {
                let started = std::time::Instant::now();
                let chunk = [7u8; 16 * 1024];
                for _ in 0..6 {
                    client.write_all(&chunk).unwrap();
                }
                filled.send(()).unwrap();
                while !stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(5) {
                    if client.write_all(&chunk).is_err() {
                        break;
                    }
                }
            }
        });
        filled_in.recv_timeout(crate::LIMIT).unwrap();
        let reader = spawn(async move {
            let other_ran = Rc::new(std::cell::Cell::new(false));
            let mut buffer = Vec::with_capacity(64);
            let mut received = 0;
            while received < 64 * 1024 {
                buffer.clear();
                let (count, back) = server.read(buffer).await;
                buffer = back;
                received += count.unwrap();
                if received == 64 {
                    // Runs only when this task lets the others run.
                    let flag = Rc::clone(&other_ran);
                    spawn(async move { flag.set(true) });
                }
                if other_ran.get() {
                    return Ok(received);
                }
            }
            Err(received)
        });
        let result = reader.await.unwrap();
        stop.store(true, Ordering::SeqCst);
        writer.join().unwrap();
        assert!(
            result.is_ok(),
            "the other task never ran while the reader read {result:?} bytes"
        );
    });
}
