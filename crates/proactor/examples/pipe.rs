//! Spawns a child, streams its stdout line by line, and prints its exit status.
//!
//! ```text
//! cargo run -p proactor --example pipe                  # runs `ls -l`
//! cargo run -p proactor --example pipe -- sh -c 'echo a; sleep 1; echo b'
//! ```

use std::ffi::OsString;

#[path = "common/args.rs"]
mod args;

use args::{Arg, Args};

const USAGE: &str = "\
usage: pipe [--] [PROGRAM [ARGS...]]

Runs PROGRAM (default: ls -l) with its output piped, prints the output line by line as it
comes, then how PROGRAM exited. Only arguments before PROGRAM are read as flags.

  -h, --help   print this text";

/// The program to run and its arguments.
fn options() -> (OsString, Vec<OsString>) {
    let mut args = Args::new("pipe", USAGE);
    match args.next() {
        None => ("ls".into(), vec!["-l".into()]),
        Some(Arg::Operand(program)) => (program, args.rest()),
        Some(flag) => args.unexpected(flag),
    }
}

#[cfg(unix)]
fn main() {
    use proactor::io::AsyncRead;
    use proactor::process::{Command, Stdio};

    let (program, rest) = options();
    let shown = program.to_string_lossy().into_owned();
    let runtime = match proactor::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => args::fail("pipe", format_args!("cannot start the runtime: {error}")),
    };
    let result = runtime.block_on(async {
        let mut child = Command::new(&program)
            .args(&rest)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|error| format!("cannot run: {shown}: {error}"))?;
        println!("spawned {shown} as pid {}", child.id());
        let Some(mut stdout) = child.stdout.take() else {
            return Err(format!("{shown}: stdout was not piped"));
        };

        let mut pending: Vec<u8> = Vec::new();
        let mut number = 0usize;
        let mut buffer = Vec::with_capacity(4096);
        loop {
            buffer.clear();
            let (result, back) = stdout.read(buffer).await;
            buffer = back;
            let read = result.map_err(|error| format!("cannot read from: {shown}: {error}"))?;
            pending.extend_from_slice(&buffer);
            // Print every complete line; keep a partial one for the next read.
            while let Some(end) = pending.iter().position(|&byte| byte == b'\n') {
                number += 1;
                println!("{number:4} | {}", String::from_utf8_lossy(&pending[..end]));
                pending.drain(..=end);
            }
            if read == 0 {
                if !pending.is_empty() {
                    number += 1;
                    println!("{number:4} | {}", String::from_utf8_lossy(&pending));
                }
                break;
            }
        }

        let status = child
            .wait()
            .await
            .map_err(|error| format!("cannot wait for: {shown}: {error}"))?;
        println!("{shown} exited: {status}");
        Ok(())
    });
    if let Err(message) = result {
        args::fail("pipe", message);
    }
}

#[cfg(not(unix))]
fn main() {
    let _ = options();
    args::fail("pipe", "this example needs a Unix system");
}
