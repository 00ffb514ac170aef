//! What echo-bench asks of the OS: pinning, descriptor limits, and the scheduler's own
//! accounting (CPU time and run-queue wait per thread, steal per CPU) to tell starved runs.

use std::io;

/// Pins the calling thread (and the threads it starts afterwards) to `cpu`.
pub fn pin_to(cpu: usize) -> io::Result<()> {
    // SAFETY: cpu_set_t is a plain bit array; all zeroes is a valid (empty) set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    if cpu >= 8 * std::mem::size_of::<libc::cpu_set_t>() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "CPU out of range",
        ));
    }
    // SAFETY: `cpu` is below the set's capacity (checked above); CPU_SET writes one bit.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: `set` is a valid cpu_set_t of `size` bytes; the kernel only reads it.
    let result = unsafe { libc::sched_setaffinity(0, size, &set) };
    if result != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Raises the soft RLIMIT_NOFILE to the hard limit (1,000 connections need more than the
/// usual 1,024 descriptors once the ring, stdio and the listener are counted).
pub fn raise_nofile() {
    // SAFETY: rlimit is two integers; all zeroes is valid.
    let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: `limit` is a valid, writable rlimit.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return;
    }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max;
        // SAFETY: `limit` is a valid rlimit; the kernel only reads it.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    }
}

/// A thread's (or a sum of threads') scheduler accounting, from `/proc/.../schedstat`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sched {
    /// Time spent running on a CPU, ns.
    pub cpu_ns: u64,
    /// Time spent runnable but waiting for a CPU (run-queue delay), ns.
    pub wait_ns: u64,
}

impl Sched {
    pub fn since(self, earlier: Sched) -> Sched {
        Sched {
            cpu_ns: self.cpu_ns.saturating_sub(earlier.cpu_ns),
            wait_ns: self.wait_ns.saturating_sub(earlier.wait_ns),
        }
    }
}

fn parse_schedstat(text: &str) -> Sched {
    let mut fields = text
        .split_whitespace()
        .map(|f| f.parse::<u64>().unwrap_or(0));
    Sched {
        cpu_ns: fields.next().unwrap_or(0),
        wait_ns: fields.next().unwrap_or(0),
    }
}

/// The calling thread's accounting.
pub fn thread_sched() -> Sched {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .map(|text| parse_schedstat(&text))
        .unwrap_or_default()
}

/// The sum over every thread of process `pid`.
pub fn process_sched(pid: u32) -> Sched {
    let mut total = Sched::default();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return total;
    };
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) {
            let sched = parse_schedstat(&text);
            total.cpu_ns += sched.cpu_ns;
            total.wait_ns += sched.wait_ns;
        }
    }
    total
}

/// Steal time (the hypervisor ran someone else on our vCPU) of `cpus`, in ns, from /proc/stat.
pub fn steal_ns(cpus: &[usize]) -> u64 {
    // SAFETY: sysconf has no preconditions.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let Ok(text) = std::fs::read_to_string("/proc/stat") else {
        return 0;
    };
    let mut total = 0;
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some(name) = fields.next() else { continue };
        let Some(cpu) = name
            .strip_prefix("cpu")
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        if cpus.contains(&cpu) {
            // user nice system idle iowait irq softirq steal
            let steal = fields
                .nth(7)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0);
            total += steal * 1_000_000_000 / ticks_per_second;
        }
    }
    total
}

/// The kernel release, e.g. `6.8.0-45-generic`.
pub fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|text| text.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// The CPU model as /proc/cpuinfo names it.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|model| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}
