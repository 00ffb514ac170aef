//! Arming and cancelling many timers: proactor's timer heap against tokio's wheel, in one run.
//!
//! Each round arms N sleeps (each polled once, so it is registered with its runtime), then
//! drops them all (cancelling every one), on a proactor runtime and on a tokio current-thread
//! runtime, interleaved; the table gives medians and the ratio.
//!
//! ```text
//! cargo run --release -p proactor-bench --bin timer-bench -- [--timers N] [--rounds R]
//! ```

#[cfg(target_os = "linux")]
fn main() {
    linux::main();
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("timer-bench runs on Linux only");
}

#[cfg(target_os = "linux")]
mod linux {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::Poll;
    use std::time::{Duration, Instant};

    /// Polls `future` once, so a sleep registers its timer, then leaves it pending.
    async fn poll_once<F: Future + Unpin>(future: &mut F) {
        std::future::poll_fn(|cx| {
            let _ = Pin::new(&mut *future).poll(cx);
            Poll::Ready(())
        })
        .await;
    }

    async fn arm_and_cancel<S, F>(timers: u64, mut make: F) -> Duration
    where
        S: Future + Unpin,
        F: FnMut(Duration) -> S,
    {
        let start = Instant::now();
        let mut sleeps = Vec::with_capacity(timers as usize);
        for index in 0..timers {
            // Spread deadlines over a range, as real timeouts are.
            let mut sleep = make(Duration::from_secs(60 + index % 1000));
            poll_once(&mut sleep).await;
            sleeps.push(sleep);
        }
        drop(sleeps);
        start.elapsed()
    }

    fn median(values: &mut [Duration]) -> Duration {
        values.sort();
        values[values.len() / 2]
    }

    pub fn main() {
        let mut timers = 100_000u64;
        let mut rounds = 9usize;
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let value = args.next().and_then(|value| value.parse::<u64>().ok());
            match (flag.as_str(), value) {
                ("--timers", Some(value)) => timers = value.max(1),
                ("--rounds", Some(value)) => rounds = value.max(1) as usize,
                _ => {
                    eprintln!("usage: timer-bench [--timers N] [--rounds R]");
                    std::process::exit(2);
                }
            }
        }
        let proactor = proactor::Runtime::new().expect("proactor runtime");
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("tokio runtime");
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            ours.push(proactor.block_on(arm_and_cancel(timers, |duration| {
                Box::pin(proactor::time::sleep(duration))
            })));
            theirs.push(tokio.block_on(arm_and_cancel(timers, |duration| {
                Box::pin(tokio::time::sleep(duration))
            })));
        }
        let (ours, theirs) = (median(&mut ours), median(&mut theirs));
        let per_timer = |total: Duration| total.as_nanos() as f64 / timers as f64;
        println!(
            "| runtime | {timers} timers armed and cancelled (median of {rounds}) | ns per timer |"
        );
        println!("|---|---:|---:|");
        println!("| proactor | {ours:?} | {:.0} |", per_timer(ours));
        println!("| tokio | {theirs:?} | {:.0} |", per_timer(theirs));
        println!(
            "\nproactor / tokio time: {:.2}×",
            ours.as_secs_f64() / theirs.as_secs_f64()
        );
    }
}
