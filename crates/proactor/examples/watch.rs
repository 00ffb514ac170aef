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

#[path = "common/args.rs"]
mod args;

use args::{fail, Arg, Args};

const USAGE: &str = "\
usage: watch [--flat] [--poll MS] [PATH]

Prints changes under PATH (default: the current directory), recursively, until interrupted
or until PATH is removed.

  --flat       PATH's own entries only, not the whole tree
  --poll MS    look with stat every MS milliseconds instead of the OS's notifications
  -h, --help   print this text";

struct Options {
    path: PathBuf,
    recursive: bool,
    poll: Option<Duration>,
}

fn options() -> Options {
    let mut options = Options {
        path: PathBuf::from("."),
        recursive: true,
        poll: None,
    };
    let mut path = None;
    let mut args = Args::new("watch", USAGE);
    while let Some(arg) = args.next() {
        match arg {
            Arg::Flag(flag) if flag == "--flat" => options.recursive = false,
            Arg::Flag(flag) if flag == "--poll" => {
                options.poll = Some(Duration::from_millis(args.positive(&flag)))
            }
            Arg::Operand(operand) if path.is_none() => path = Some(PathBuf::from(operand)),
            other => args.unexpected(other),
        }
    }
    if let Some(path) = path {
        options.path = path;
    }
    options
}

fn main() {
    let options = options();
    let runtime = match proactor::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => fail("watch", format_args!("cannot start the runtime: {error}")),
    };
    runtime.block_on(watch(options));
}

async fn watch(options: Options) {
    let Options {
        path,
        recursive,
        poll,
    } = options;
    let watcher = match poll {
        Some(interval) => fs::poll_watch(&path, interval).await,
        None => fs::watch(&path, recursive).await,
    };
    let mut watcher = match watcher {
        Ok(watcher) => watcher,
        Err(error) => fail(
            "watch",
            format_args!("cannot watch: {}: {error}", path.display()),
        ),
    };
    println!("watching {} (ctrl-c to stop)", path.display());
    loop {
        let event = match watcher.next_event().await {
            Ok(Some(event)) => event,
            Ok(None) => {
                println!("{} is gone: nothing left to watch", path.display());
                return;
            }
            // Events may have been lost; the watcher goes on.
            Err(error) => {
                eprintln!("watch: error: {}: {error}", path.display());
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
}
