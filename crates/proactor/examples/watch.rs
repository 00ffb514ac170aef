//! Prints changes under a directory (default: the current one), recursively, until
//! interrupted (or until the directory is removed).
//!
//! ```text
//! cargo run -p proactor --example watch                 # the current directory
//! cargo run -p proactor --example watch -- /tmp         # another directory
//! cargo run -p proactor --example watch -- --flat /tmp  # its entries only, not the tree
//! cargo run -p proactor --example watch -- --poll 500 Cargo.toml  # stat every 500 ms
//! ```

use std::path::PathBuf;
use std::time::Duration;

use proactor::fs::{self, Event};

fn main() -> std::io::Result<()> {
    let mut recursive = true;
    let mut poll = None;
    let mut path = PathBuf::from(".");
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        match arg.to_str() {
            Some("--flat") => recursive = false,
            Some("--poll") => {
                let millis = args
                    .next()
                    .and_then(|value| value.to_str()?.parse().ok())
                    .ok_or_else(|| std::io::Error::other("--poll takes milliseconds"))?;
                poll = Some(Duration::from_millis(millis));
            }
            _ => path = PathBuf::from(arg),
        }
    }

    proactor::Runtime::new()?.block_on(async move {
        let mut watcher = match poll {
            Some(interval) => fs::poll_watch(&path, interval).await?,
            None => fs::watch(&path, recursive).await?,
        };
        println!("watching {} (ctrl-c to stop)", path.display());
        loop {
            let event = match watcher.next_event().await {
                Ok(Some(event)) => event,
                Ok(None) => {
                    println!("{} is gone: nothing left to watch", path.display());
                    return Ok(());
                }
                Err(error) => {
                    eprintln!("error: {error}");
                    continue;
                }
            };
            match event {
                Event::Created(path) => println!("created   {}", path.display()),
                Event::Modified(path) => println!("modified  {}", path.display()),
                Event::Removed(path) => println!("removed   {}", path.display()),
                Event::Renamed { from, to } => {
                    println!("renamed   {} -> {}", from.display(), to.display())
                }
                Event::RenamedFrom(path) => println!("moved out {}", path.display()),
                Event::RenamedTo(path) => println!("moved in  {}", path.display()),
                Event::Overflow => println!("overflow: events were lost, look again"),
                other => println!("{other:?}"),
            }
        }
    })
}
