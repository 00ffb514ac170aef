//! Spawns a child, streams its stdout line by line, and prints its exit status.
//!
//! ```text
//! cargo run -p proactor --example pipe                  # runs `ls -l`
//! cargo run -p proactor --example pipe -- sh -c 'echo a; sleep 1; echo b'
//! ```

#[cfg(unix)]
fn main() -> std::io::Result<()> {
    use proactor::io::AsyncRead;
    use proactor::process::{Command, Stdio};

    let mut args = std::env::args_os().skip(1);
    let (program, rest): (std::ffi::OsString, Vec<std::ffi::OsString>) = match args.next() {
        Some(program) => (program, args.collect()),
        None => ("ls".into(), vec!["-l".into()]),
    };

    proactor::Runtime::new()?.block_on(async move {
        let mut child = Command::new(&program)
            .args(&rest)
            .stdout(Stdio::piped())
            .spawn()?;
        println!("spawned {:?} as pid {}", program, child.id());
        let Some(mut stdout) = child.stdout.take() else {
            return Err(std::io::Error::other("stdout was not piped"));
        };

        let mut pending: Vec<u8> = Vec::new();
        let mut number = 0usize;
        let mut buffer = Vec::with_capacity(4096);
        loop {
            buffer.clear();
            let (result, back) = stdout.read(buffer).await;
            buffer = back;
            let ended = result? == 0;
            pending.extend_from_slice(&buffer);
            // Print every complete line; keep a partial one for the next read.
            while let Some(end) = pending.iter().position(|&byte| byte == b'\n') {
                number += 1;
                println!("{number:4} | {}", String::from_utf8_lossy(&pending[..end]));
                pending.drain(..=end);
            }
            if ended {
                if !pending.is_empty() {
                    number += 1;
                    println!("{number:4} | {}", String::from_utf8_lossy(&pending));
                }
                break;
            }
        }

        let status = child.wait().await?;
        println!("{program:?} exited: {status}");
        Ok(())
    })
}

#[cfg(not(unix))]
fn main() {
    eprintln!("this example needs a Unix system");
}
