//! What only Windows has: a completion port many threads share, and named pipes.
//!
//! Named pipes are created and opened here (overlapped, so the driver can run their reads,
//! writes and [`Op::ConnectNamedPipe`](crate::Op::ConnectNamedPipe) through its port); the
//! `proactor` crate builds tokio-shaped `ServerOptions`/`ClientOptions` on these.

use std::ffi::OsStr;
use std::io;
use std::os::windows::io::OwnedHandle;

pub use crate::completion_port::{CompletionPort, Packet};
use crate::{sys, Fd};

/// How to create the server end of a named pipe (`CreateNamedPipeW`).
///
/// # Examples
///
/// ```
/// use proactor_driver::windows::{create_named_pipe, PipeServerConfig};
///
/// let name = format!(r"\\.\pipe\proactor-doc-{}", std::process::id());
/// let server = create_named_pipe(&name, &PipeServerConfig::default())?;
/// # drop(server);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct PipeServerConfig {
    /// The server reads (the client writes).
    pub inbound: bool,
    /// The server writes (the client reads).
    pub outbound: bool,
    /// Messages instead of a byte stream: each write is one message, read whole (a read into
    /// a smaller buffer gets the first part).
    pub message_mode: bool,
    /// Fail with `ERROR_ACCESS_DENIED` if an instance of this name exists already (a guard
    /// against another process serving the name first).
    pub first_pipe_instance: bool,
    /// Refuse clients on other machines.
    pub reject_remote_clients: bool,
    /// Most instances of this name at once: 1 to 254, or 255 for no limit.
    pub max_instances: u32,
    /// Bytes the system reserves for output (advisory).
    pub out_buffer_size: u32,
    /// Bytes the system reserves for input (advisory).
    pub in_buffer_size: u32,
}

impl Default for PipeServerConfig {
    /// Both directions, byte stream, remote clients refused, no limit on instances, 64 KiB
    /// buffers.
    fn default() -> PipeServerConfig {
        PipeServerConfig {
            inbound: true,
            outbound: true,
            message_mode: false,
            first_pipe_instance: false,
            reject_remote_clients: true,
            max_instances: 255,
            out_buffer_size: 65_536,
            in_buffer_size: 65_536,
        }
    }
}

/// How to open the client end of a named pipe.
///
/// # Examples
///
/// ```
/// let config = proactor_driver::windows::PipeClientConfig { read: true, write: false, message_mode: false };
/// # let _ = config;
/// ```
#[derive(Debug, Clone)]
pub struct PipeClientConfig {
    /// Open for reading.
    pub read: bool,
    /// Open for writing.
    pub write: bool,
    /// Read whole messages (the server must be in message mode).
    pub message_mode: bool,
}

impl Default for PipeClientConfig {
    /// Read and write, byte stream.
    fn default() -> PipeClientConfig {
        PipeClientConfig {
            read: true,
            write: true,
            message_mode: false,
        }
    }
}

/// Creates an instance of the named pipe `name` (`\\.\pipe\...`), ready for
/// [`Op::ConnectNamedPipe`](crate::Op::ConnectNamedPipe).
///
/// # Errors
///
/// `InvalidInput` for a name with a NUL character or a bad `max_instances`; the OS's error
/// otherwise (`ERROR_ACCESS_DENIED` for a taken first instance, `ERROR_PIPE_BUSY` when
/// `max_instances` exist).
///
/// # Examples
///
/// ```
/// use proactor_driver::windows::{create_named_pipe, PipeServerConfig};
///
/// let error = create_named_pipe("\\\\.\\pipe\\bad\0name", &PipeServerConfig::default()).unwrap_err();
/// assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
/// ```
pub fn create_named_pipe(
    name: impl AsRef<OsStr>,
    config: &PipeServerConfig,
) -> io::Result<OwnedHandle> {
    sys::create_named_pipe(name.as_ref(), config)
}

/// Opens the client end of the named pipe `name`.
///
/// # Errors
///
/// `NotFound` when no server has created the pipe; `ERROR_PIPE_BUSY` (231) when every
/// instance is connected (retry after a short wait, as Windows clients do).
///
/// # Examples
///
/// ```
/// use proactor_driver::windows::{open_named_pipe, PipeClientConfig};
///
/// let error = open_named_pipe(r"\\.\pipe\proactor-nobody-serves-this", &PipeClientConfig::default()).unwrap_err();
/// assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
/// ```
pub fn open_named_pipe(
    name: impl AsRef<OsStr>,
    config: &PipeClientConfig,
) -> io::Result<OwnedHandle> {
    sys::open_named_pipe(name.as_ref(), config)
}

/// Ends a server instance's connection (`DisconnectNamedPipe`), so the instance can wait for
/// the next client with another [`Op::ConnectNamedPipe`](crate::Op::ConnectNamedPipe). Data
/// the client has not read is discarded.
///
/// # Examples
///
/// ```
/// use std::os::windows::io::AsRawHandle;
/// use proactor_driver::windows::{create_named_pipe, disconnect_named_pipe, PipeServerConfig};
///
/// let name = format!(r"\\.\pipe\proactor-doc-disconnect-{}", std::process::id());
/// let server = create_named_pipe(&name, &PipeServerConfig::default())?;
/// // Not connected: Windows says so.
/// assert!(disconnect_named_pipe(server.as_raw_handle() as proactor_driver::Fd).is_err());
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn disconnect_named_pipe(pipe: Fd) -> io::Result<()> {
    sys::disconnect_named_pipe(pipe)
}

/// Opens a directory for [`Op::ReadDirectoryChanges`](crate::Op::ReadDirectoryChanges):
/// overlapped, and sharing every access, so watching it stops nobody from changing it.
///
/// # Errors
///
/// `NotFound` for a missing directory; the OS's error otherwise.
///
/// # Examples
///
/// ```
/// let dir = proactor_driver::windows::open_directory(std::env::temp_dir())?;
/// # drop(dir);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn open_directory(path: impl AsRef<std::path::Path>) -> io::Result<OwnedHandle> {
    sys::open_directory(path.as_ref())
}

/// What happened to a name in a watched directory, as `ReadDirectoryChangesW` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChangeAction {
    /// Created (or moved in).
    Added,
    /// Deleted (or moved out).
    Removed,
    /// Its contents or attributes changed.
    Modified,
    /// Renamed: this is the old name; the new one follows in a [`ChangeAction::RenamedTo`].
    RenamedFrom,
    /// Renamed: this is the new name.
    RenamedTo,
    /// An action code this version does not know.
    Other(u32),
}

/// One change: the action and the name relative to the watched directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryChange {
    /// What happened.
    pub action: ChangeAction,
    /// The name, relative to the watched directory (`sub\file.txt` for a recursive watch).
    pub name: std::ffi::OsString,
}

/// Parses the `FILE_NOTIFY_INFORMATION` records an
/// [`Op::ReadDirectoryChanges`](crate::Op::ReadDirectoryChanges) wrote. Records are read
/// unaligned (Wine does not align them); a truncated or malformed record ends the list.
///
/// # Examples
///
/// ```
/// use proactor_driver::windows::{directory_changes, ChangeAction};
///
/// // One record: next offset 0, action 1 (added), name "a" (2 bytes of UTF-16).
/// let mut record = Vec::new();
/// record.extend(0u32.to_le_bytes());
/// record.extend(1u32.to_le_bytes());
/// record.extend(2u32.to_le_bytes());
/// record.extend(u16::from(b'a').to_le_bytes());
/// let changes: Vec<_> = directory_changes(&record).collect();
/// assert_eq!(changes.len(), 1);
/// assert_eq!(changes[0].action, ChangeAction::Added);
/// assert_eq!(changes[0].name, "a");
/// ```
pub fn directory_changes(records: &[u8]) -> impl Iterator<Item = DirectoryChange> + '_ {
    use std::os::windows::ffi::OsStringExt;

    let mut offset = Some(0usize);
    std::iter::from_fn(move || {
        let start = offset?;
        let field = |at: usize| -> Option<u32> {
            let bytes = records.get(start + at..start + at + 4)?;
            Some(u32::from_le_bytes(bytes.try_into().ok()?))
        };
        let (next, action, name_len) = (field(0)?, field(4)?, field(8)? as usize);
        let name_bytes = records.get(start + 12..start + 12 + name_len)?;
        let name: Vec<u16> = name_bytes
            .chunks_exact(2)
            .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
            .collect();
        offset = (next != 0).then_some(start + next as usize);
        let action = match action {
            1 => ChangeAction::Added,
            2 => ChangeAction::Removed,
            3 => ChangeAction::Modified,
            4 => ChangeAction::RenamedFrom,
            5 => ChangeAction::RenamedTo,
            other => ChangeAction::Other(other),
        };
        Some(DirectoryChange {
            action,
            name: std::ffi::OsString::from_wide(&name),
        })
    })
}
