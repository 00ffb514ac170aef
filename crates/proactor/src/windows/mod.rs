//! What only Windows has.
//!
//! - [`named_pipe`]: Windows named pipes (`\\.\pipe\...`), server and client, read and written
//!   through the completion port like sockets.

pub mod named_pipe;
