//! echo-bench: a TCP ping-pong of proactor against tokio, compio, monoio and raw io_uring echo
//! servers. See README.md ("TCP echo ping-pong").

pub mod bench;
pub mod cli;
pub mod client;
pub mod histogram;
pub mod raw;
pub mod server;
pub mod sys;
