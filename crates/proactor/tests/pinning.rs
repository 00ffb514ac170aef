//! A pinned runtime group stays within the cores it was given: `taskset -c 1 echo` must put
//! its runtime on core 1, not on core 0. Each test narrows the affinity of a thread of its own
//! (the group reads the calling thread's mask, which is what `taskset` sets for a whole
//! process), so the other tests in this binary keep every core.

#![cfg(target_os = "linux")]

use std::sync::mpsc;
use std::time::Duration;

use proactor::Builder;

/// The longest a test waits for its group to start, run and report.
const LIMIT: Duration = Duration::from_secs(10);

/// The cores the calling thread may run on.
fn allowed() -> Vec<usize> {
    // SAFETY: cpu_set_t is a plain bit set; zeroed is empty, and sched_getaffinity writes at
    // most its size into it.
    let set = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        assert_eq!(
            libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set),
            0,
            "sched_getaffinity: {}",
            std::io::Error::last_os_error()
        );
        set
    };
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: CPU_ISSET reads within the set for every core below CPU_SETSIZE.
        .filter(|&core| unsafe { libc::CPU_ISSET(core, &set) })
        .collect()
}

/// Lets the calling thread (and the threads it starts from now on) run only on `cores`.
fn restrict_to(cores: &[usize]) {
    // SAFETY: as in `allowed`; CPU_SET writes within the set for cores below CPU_SETSIZE,
    // which every core `allowed` returned is.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &core in cores {
            libc::CPU_SET(core, &mut set);
        }
        assert_eq!(
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set),
            0,
            "sched_setaffinity {cores:?}: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// On a thread of its own restricted to the cores `choose` picks from the ones it may use,
/// starts a pinned group of `threads` runtimes, and returns the cores it chose and, for each
/// runtime in order, the core it ran on and its affinity mask. `None` (with a message) when
/// this machine has too few cores for `choose`.
#[allow(clippy::type_complexity)]
fn run_pinned(
    threads: usize,
    choose: fn(&[usize]) -> Option<Vec<usize>>,
) -> Option<(Vec<usize>, Vec<(usize, Vec<usize>)>)> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let available = allowed();
        let Some(chosen) = choose(&available) else {
            eprintln!("skipped: this thread may only run on cores {available:?}");
            let _ = sender.send(None);
            return;
        };
        restrict_to(&chosen);
        let group = Builder::new()
            .threads(threads)
            .pin_to_cores(true)
            .build_group()
            .expect("a pinned group");
        let seen = group.run(|_| async {
            // SAFETY: sched_getcpu takes nothing and only reads the calling thread's state.
            let cpu = unsafe { libc::sched_getcpu() };
            (usize::try_from(cpu).expect("sched_getcpu"), allowed())
        });
        let _ = sender.send(Some((chosen, seen)));
    });
    receiver
        .recv_timeout(LIMIT)
        .expect("the group started, ran and reported in time")
}

#[test]
fn one_thread_goes_to_the_one_core_given_not_core_0() {
    let Some((chosen, seen)) = run_pinned(1, |available| {
        let core = *available.iter().find(|&&core| core != 0)?;
        Some(vec![core])
    }) else {
        return;
    };
    let core = chosen[0];
    assert_eq!(seen, [(core, vec![core])]);
}

#[test]
fn thread_i_goes_to_the_i_th_core_given_wrapping_around() {
    // The last two cores: on a machine with more than two, neither is core 0.
    let Some((chosen, seen)) = run_pinned(3, |available| {
        let [.., first, second] = *available else {
            return None;
        };
        Some(vec![first, second])
    }) else {
        return;
    };
    let [first, second] = chosen[..] else {
        unreachable!("two cores were chosen");
    };
    assert_eq!(
        seen,
        [
            (first, vec![first]),
            (second, vec![second]),
            (first, vec![first]),
        ]
    );
}
