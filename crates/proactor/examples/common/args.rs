//! The command line as the examples read it: `-h` / `--help` prints the usage and exits with
//! status 0; a bad or unknown argument prints what is wrong and the usage line, and exits with
//! status 2; a failure at run time prints `NAME: error: WHAT: ERROR` (never Rust's debug form)
//! and exits with status 1. Each example includes this file with
//! `#[path = "common/args.rs"] mod args;`.

// Each example uses only part of it.
#![allow(dead_code)]

use std::ffi::OsString;
use std::fmt::Display;
use std::net::{SocketAddr, ToSocketAddrs};
use std::str::FromStr;

use proactor::Backend;

/// One argument: a flag (`--addr`) or an operand (a path, a URL, a program to run).
pub enum Arg {
    Flag(String),
    Operand(OsString),
}

/// An example's command line, read argument by argument.
pub struct Args {
    name: &'static str,
    usage: &'static str,
    args: std::env::ArgsOs,
    /// After `--` every argument is an operand, even one that starts with `-`.
    operands_only: bool,
}

impl Args {
    /// The command line of the example `name`; `usage` is its help text, whose first line is
    /// the synopsis repeated after a mistake.
    pub fn new(name: &'static str, usage: &'static str) -> Args {
        let mut args = std::env::args_os();
        // The program's own name.
        args.next();
        Args {
            name,
            usage,
            args,
            operands_only: false,
        }
    }

    /// The next argument. `-h` or `--help` prints the usage and exits; `--` is skipped and
    /// makes every argument after it an operand.
    pub fn next(&mut self) -> Option<Arg> {
        let arg = self.args.next()?;
        if self.operands_only || arg == "-" || !arg.to_string_lossy().starts_with('-') {
            return Some(Arg::Operand(arg));
        }
        if arg == "--" {
            self.operands_only = true;
            return self.next();
        }
        if arg == "-h" || arg == "--help" {
            println!("{}", self.usage);
            std::process::exit(0);
        }
        Some(Arg::Flag(arg.to_string_lossy().into_owned()))
    }

    /// The next argument, which must be a flag: an operand is refused.
    pub fn next_flag(&mut self) -> Option<String> {
        match self.next()? {
            Arg::Flag(flag) => Some(flag),
            operand => self.unexpected(operand),
        }
    }

    /// Every argument left, as given: the command line of a program to run.
    pub fn rest(self) -> Vec<OsString> {
        self.args.collect()
    }

    /// The value that must follow `flag`.
    pub fn value(&mut self, flag: &str) -> OsString {
        match self.args.next() {
            Some(value) => value,
            None => self.refuse(format_args!("{flag} needs a value")),
        }
    }

    /// The value of `flag`, as text.
    pub fn text(&mut self, flag: &str) -> String {
        let value = self.value(flag);
        match value.into_string() {
            Ok(text) => text,
            Err(value) => self.refuse(format_args!(
                "{flag} {}: not UTF-8",
                value.to_string_lossy()
            )),
        }
    }

    /// The value of `flag`, a number of at least 1.
    pub fn positive<T>(&mut self, flag: &str) -> T
    where
        T: FromStr + Default + PartialEq,
        T::Err: Display,
    {
        let value = self.text(flag);
        match value.parse::<T>() {
            Ok(number) if number == T::default() => {
                self.refuse(format_args!("{flag} {value}: must be at least 1"))
            }
            Ok(number) => number,
            Err(error) => self.refuse(format_args!("{flag} {value}: {error}")),
        }
    }

    /// The value of `flag`, `HOST:PORT`, resolved: the first address the name has
    /// (`localhost:8080` as well as `127.0.0.1:8080` or `[::1]:8080`).
    pub fn address(&mut self, flag: &str) -> SocketAddr {
        let value = self.text(flag);
        match value
            .to_socket_addrs()
            .map(|mut addresses| addresses.next())
        {
            Ok(Some(address)) => address,
            Ok(None) => self.refuse(format_args!("{flag} {value}: the name has no address")),
            Err(error) => self.refuse(format_args!("{flag} {value}: {error}")),
        }
    }

    /// The value of `flag`, the name of one of `backends`.
    pub fn backend(&mut self, flag: &str, backends: &[Backend]) -> Backend {
        let value = self.text(flag);
        if let Some(&backend) = backends.iter().find(|backend| backend.to_string() == value) {
            return backend;
        }
        let names: Vec<String> = backends.iter().map(Backend::to_string).collect();
        self.refuse(format_args!(
            "{flag} {value}: expected one of {}",
            names.join(", ")
        ))
    }

    /// Refuses a flag the example does not know.
    pub fn unknown(&self, flag: &str) -> ! {
        self.refuse(format_args!("unknown flag {flag}"))
    }

    /// Refuses an argument the example does not take.
    pub fn unexpected(&self, arg: Arg) -> ! {
        match arg {
            Arg::Flag(flag) => self.unknown(&flag),
            Arg::Operand(operand) => self.refuse(format_args!(
                "unexpected argument {}",
                operand.to_string_lossy()
            )),
        }
    }

    /// Refuses the command line: what is wrong, then the synopsis; exit status 2.
    pub fn refuse(&self, message: impl Display) -> ! {
        let synopsis = self.usage.lines().next().unwrap_or_default();
        eprintln!("{}: {message}\n{synopsis}\n(--help says more)", self.name);
        std::process::exit(2);
    }
}

/// Ends the example `name` after a failure at run time: `NAME: error: MESSAGE` on stderr,
/// exit status 1. The message says what failed and on what (a path, an address) before the
/// error's own text.
pub fn fail(name: &str, message: impl Display) -> ! {
    eprintln!("{name}: error: {message}");
    std::process::exit(1);
}
