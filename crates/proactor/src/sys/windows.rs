//! Windows: a descriptor is a `SOCKET` or a `HANDLE` value, both carried as a `RawSocket`.

use std::io;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::os::windows::io::{
    AsRawHandle, BorrowedHandle, FromRawHandle, FromRawSocket, IntoRawHandle, IntoRawSocket,
    OwnedHandle, OwnedSocket, RawHandle,
};
use std::path::Path;

use proactor_driver::Fd;
use windows_sys::Win32::Foundation::CloseHandle;
use windows_sys::Win32::Networking::WinSock::{closesocket, WSAGetLastError, WSAENOTSOCK};

/// Types whose socket or handle the crate can take over.
pub(crate) trait IntoFd {
    fn into_fd(self) -> Fd;
}

macro_rules! into_fd_from_socket {
    ($($type:ty),*) => {$(
        impl IntoFd for $type {
            fn into_fd(self) -> Fd {
                self.into_raw_socket()
            }
        }
    )*};
}

macro_rules! into_fd_from_handle {
    ($($type:ty),*) => {$(
        impl IntoFd for $type {
            fn into_fd(self) -> Fd {
                self.into_raw_handle() as Fd
            }
        }
    )*};
}

into_fd_from_socket!(
    OwnedSocket,
    socket2::Socket,
    std::net::TcpListener,
    std::net::TcpStream,
    std::net::UdpSocket
);
into_fd_from_handle!(OwnedHandle, std::fs::File);

/// socket2's view of the socket `fd`; it does not close the socket.
///
/// # Safety
///
/// `fd` must be an open socket for as long as the returned value is used.
pub(crate) unsafe fn borrow_socket(fd: Fd) -> ManuallyDrop<socket2::Socket> {
    // SAFETY: the caller keeps `fd` open; ManuallyDrop keeps the Socket from closing it.
    ManuallyDrop::new(unsafe { socket2::Socket::from_raw_socket(fd) })
}

/// A std type (or socket2's) owning the socket `fd`, which the crate gives up (`into_std`).
///
/// # Safety
///
/// The caller owns `fd`, an open socket of the kind `T` wraps, and gives it up.
pub(crate) unsafe fn take_ownership<T: FromRawSocket>(fd: Fd) -> T {
    // SAFETY: the caller hands over its ownership of the open socket `fd`.
    unsafe { T::from_raw_socket(fd) }
}

/// The socket `fd` of `owner`, borrowed for as long as `owner` is (`AsSocket`).
///
/// `owner` must keep `fd` open for as long as it lives (it closes `fd` only when dropped), as
/// every I/O type passing itself here does.
pub(crate) fn borrow_fd<T: ?Sized>(_owner: &T, fd: Fd) -> std::os::windows::io::BorrowedSocket<'_> {
    // SAFETY: `owner` keeps `fd` open while the borrow of it lasts (its contract above).
    unsafe { std::os::windows::io::BorrowedSocket::borrow_raw(fd) }
}

/// A std handle on a duplicate of the open file handle `fd` (`DuplicateHandle`): it stays
/// valid even if `fd` is closed meanwhile.
///
/// # Safety
///
/// `fd` must be an open handle for the duration of the call.
pub(crate) unsafe fn duplicate_file(fd: Fd) -> io::Result<std::fs::File> {
    // SAFETY: the caller keeps the handle open for the call; only the duplicate escapes.
    let borrowed = unsafe { BorrowedHandle::borrow_raw(fd as RawHandle) };
    Ok(std::fs::File::from(borrowed.try_clone_to_owned()?))
}

/// Closes `fd` outside the driver: `closesocket` for a socket, `CloseHandle` otherwise.
///
/// # Safety
///
/// The caller owns `fd` and gives it up.
pub(crate) unsafe fn close(fd: Fd) {
    // SAFETY: the caller owns `fd`. closesocket on a value that is not a socket fails with
    // WSAENOTSOCK and touches nothing; only then is it closed as a handle.
    unsafe {
        if closesocket(fd as usize) != 0 && WSAGetLastError() == WSAENOTSOCK {
            CloseHandle(fd as RawHandle);
        }
    }
}

/// Whether `path` holds a NUL character.
pub(crate) fn has_nul(path: &Path) -> bool {
    use std::os::windows::ffi::OsStrExt;
    path.as_os_str().encode_wide().any(|unit| unit == 0)
}

/// The cores the process may run on, in increasing order (`GetProcessAffinityMask`, what
/// `start /affinity` or a job object set). Empty for a process that spans processor groups,
/// for which Windows reports no mask: a group's threads then stay unpinned.
pub(crate) fn allowed_cores() -> Vec<usize> {
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, GetProcessAffinityMask};
    let (mut process, mut system) = (0usize, 0usize);
    // SAFETY: GetCurrentProcess returns a pseudo-handle that needs no closing; both out
    // pointers are valid, writable `usize`s.
    if unsafe { GetProcessAffinityMask(GetCurrentProcess(), &mut process, &mut system) } == 0 {
        return Vec::new();
    }
    (0..usize::BITS as usize)
        .filter(|core| process & (1 << core) != 0)
        .collect()
}

/// Pins the calling thread to `core` (`SetThreadAffinityMask`); cores past the mask's width
/// (processor groups beyond the first) leave the thread unpinned.
pub(crate) fn pin_to_core(core: usize) {
    use windows_sys::Win32::System::Threading::{GetCurrentThread, SetThreadAffinityMask};
    let Some(mask) = 1usize.checked_shl(core as u32) else {
        return;
    };
    // SAFETY: GetCurrentThread returns a pseudo-handle that needs no closing; a mask naming
    // a core the process may not use makes the call fail, which leaves the thread unpinned.
    unsafe {
        SetThreadAffinityMask(GetCurrentThread(), mask);
    }
}

/// What identifies a file and counts its names, which std's Windows metadata leaves out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileIds {
    /// The volume serial number.
    pub(crate) volume: u64,
    /// The file index, unique on its volume.
    pub(crate) index: u64,
    pub(crate) links: u64,
}

/// The identity and link count of an open file (`GetFileInformationByHandle`).
pub(crate) fn file_ids(file: &std::fs::File) -> io::Result<FileIds> {
    use windows_sys::Win32::Storage::FileSystem::{
        GetFileInformationByHandle, BY_HANDLE_FILE_INFORMATION,
    };
    let mut info = MaybeUninit::<BY_HANDLE_FILE_INFORMATION>::uninit();
    // SAFETY: `file` keeps the handle open for the call; `info` is writable memory of the
    // type the call fills, read only after it reports success.
    let info = unsafe {
        if GetFileInformationByHandle(file.as_raw_handle(), info.as_mut_ptr()) == 0 {
            return Err(io::Error::last_os_error());
        }
        info.assume_init()
    };
    Ok(FileIds {
        volume: info.dwVolumeSerialNumber.into(),
        index: u64::from(info.nFileIndexHigh) << 32 | u64::from(info.nFileIndexLow),
        links: info.nNumberOfLinks.into(),
    })
}

/// One of `NtQueryInformationFile`'s fixed-size answers about an open handle.
fn query_file<T>(file: &std::fs::File, class: i32) -> Option<T> {
    use windows_sys::Wdk::Storage::FileSystem::NtQueryInformationFile;
    use windows_sys::Win32::System::IO::IO_STATUS_BLOCK;
    let mut value = MaybeUninit::<T>::uninit();
    let mut status = MaybeUninit::<IO_STATUS_BLOCK>::uninit();
    // SAFETY: `file` keeps the handle open; `value` has room for the `size_of::<T>()` bytes
    // the caller's class answers with (a plain u32 struct for each class used here), and is
    // read only after the call reports success.
    unsafe {
        let result = NtQueryInformationFile(
            file.as_raw_handle(),
            status.as_mut_ptr(),
            value.as_mut_ptr().cast(),
            std::mem::size_of::<T>() as u32,
            class,
        );
        (result >= 0).then(|| value.assume_init())
    }
}

/// `file` ready for the driver, and whether it writes only at its end (opened with
/// `FILE_APPEND_DATA` but not `FILE_WRITE_DATA`, as std's `append(true)` does).
///
/// The driver's overlapped `ReadFile`/`WriteFile` need a handle opened with
/// `FILE_FLAG_OVERLAPPED`, which std's files are not unless asked: such a handle is
/// reopened (`ReOpenFile`, same file and access) overlapped. If that fails the file is kept
/// as it is.
pub(crate) fn overlapped_file(file: std::fs::File) -> (std::fs::File, bool) {
    use windows_sys::Wdk::Storage::FileSystem::{
        FileAccessInformation, FileModeInformation, FILE_ACCESS_INFORMATION, FILE_MODE_INFORMATION,
        FILE_SYNCHRONOUS_IO_ALERT, FILE_SYNCHRONOUS_IO_NONALERT,
    };
    use windows_sys::Win32::Foundation::INVALID_HANDLE_VALUE;
    use windows_sys::Win32::Storage::FileSystem::{
        ReOpenFile, FILE_APPEND_DATA, FILE_FLAG_BACKUP_SEMANTICS, FILE_FLAG_OVERLAPPED,
        FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE, FILE_WRITE_DATA,
    };

    let Some(access) = query_file::<FILE_ACCESS_INFORMATION>(&file, FileAccessInformation)
        .map(|information| information.AccessFlags)
    else {
        return (file, false);
    };
    let append = access & FILE_APPEND_DATA != 0 && access & FILE_WRITE_DATA == 0;
    let synchronous = query_file::<FILE_MODE_INFORMATION>(&file, FileModeInformation).is_some_and(
        |information| {
            information.Mode & (FILE_SYNCHRONOUS_IO_ALERT | FILE_SYNCHRONOUS_IO_NONALERT) != 0
        },
    );
    if !synchronous {
        return (file, append);
    }
    // SAFETY: `file` keeps the original handle open for the call; the new handle, when
    // there is one, is owned by nothing else and handed to a std File at once.
    unsafe {
        let reopened = ReOpenFile(
            file.as_raw_handle(),
            access,
            FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
            FILE_FLAG_OVERLAPPED | FILE_FLAG_BACKUP_SEMANTICS,
        );
        if reopened == INVALID_HANDLE_VALUE || reopened.is_null() {
            return (file, append);
        }
        (std::fs::File::from_raw_handle(reopened), append)
    }
}

/// Adds `handler` to the console control handlers, for the rest of the process.
pub(crate) fn add_console_ctrl_handler(handler: extern "system" fn(u32) -> i32) -> io::Result<()> {
    use windows_sys::Win32::System::Console::SetConsoleCtrlHandler;
    // SAFETY: a function item lives for the whole program, as SetConsoleCtrlHandler needs of
    // a handler it may call at any time; it is never removed.
    if unsafe { SetConsoleCtrlHandler(Some(handler), 1) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `GetAddrInfoW(host, port)` with `options` as its hints: the IP addresses, in the
/// resolver's order. Blocks while the resolver asks DNS; Winsock is started by the runtime's
/// driver.
pub(crate) fn lookup(
    host: Option<&str>,
    port: u16,
    options: &crate::dns::LookupOptions,
) -> io::Result<Vec<std::net::SocketAddr>> {
    use crate::dns::{Family, SocketType};
    use windows_sys::Win32::Networking::WinSock::{
        FreeAddrInfoW, GetAddrInfoW, ADDRINFOW, AF_INET, AF_INET6, AF_UNSPEC, AI_ADDRCONFIG,
        AI_NUMERICHOST, AI_PASSIVE, SOCK_DGRAM, SOCK_STREAM,
    };

    if host.is_some_and(|host| host.contains('\0')) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a host name with a NUL character",
        ));
    }
    let host: Option<Vec<u16>> = host.map(|host| host.encode_utf16().chain([0]).collect());
    // A numeric service: the resolver looks no service name up.
    let service: Vec<u16> = port.to_string().encode_utf16().chain([0]).collect();
    let mut hints = ADDRINFOW {
        ai_family: match options.family {
            Family::Any => AF_UNSPEC,
            Family::V4 => AF_INET,
            Family::V6 => AF_INET6,
        } as i32,
        ai_socktype: match options.socket_type {
            SocketType::Any => 0,
            SocketType::Stream => SOCK_STREAM,
            SocketType::Datagram => SOCK_DGRAM,
        },
        ..ADDRINFOW::default()
    };
    for (wanted, flag) in [
        (options.addrconfig, AI_ADDRCONFIG),
        (options.numeric_host, AI_NUMERICHOST),
        (options.passive, AI_PASSIVE),
    ] {
        if wanted {
            hints.ai_flags |= flag as i32;
        }
    }
    let mut list: *mut ADDRINFOW = std::ptr::null_mut();
    // SAFETY: the strings are NUL-terminated UTF-16 and live across the call; `hints` is a
    // valid ADDRINFOW; `list` is writable.
    let code = unsafe {
        GetAddrInfoW(
            host.as_ref().map_or(std::ptr::null(), |host| host.as_ptr()),
            service.as_ptr(),
            &hints,
            &mut list,
        )
    };
    if code != 0 {
        return Err(resolver_error(code, "lookup"));
    }
    let mut addresses = Vec::new();
    let mut entry = list;
    while !entry.is_null() {
        // SAFETY: an entry of GetAddrInfoW's list, valid until FreeAddrInfoW below.
        let info = unsafe { &*entry };
        // SAFETY: the resolver's `ai_addr` holds `ai_addrlen` bytes.
        if let Some(address) = unsafe { super::ip_address(info.ai_addr.cast(), info.ai_addrlen) } {
            addresses.push(address);
        }
        entry = info.ai_next;
    }
    // SAFETY: the list GetAddrInfoW returned, freed once; no entry is used after this.
    unsafe { FreeAddrInfoW(list) };
    Ok(addresses)
}

/// The host name of `address` (`GetNameInfoW` with `NI_NAMEREQD`); Winsock is started by the
/// runtime's driver.
pub(crate) fn host_name(address: &socket2::SockAddr) -> io::Result<String> {
    use windows_sys::Win32::Networking::WinSock::{GetNameInfoW, NI_MAXHOST, NI_NAMEREQD};
    let mut host = [0u16; NI_MAXHOST as usize];
    // SAFETY: `address` is a valid socket address of the length given; `host` is writable
    // for its length (in UTF-16 units, as the call counts); no service buffer is asked for.
    let code = unsafe {
        GetNameInfoW(
            address.as_ptr().cast(),
            address.len(),
            host.as_mut_ptr(),
            host.len() as u32,
            std::ptr::null_mut(),
            0,
            NI_NAMEREQD as i32,
        )
    };
    if code != 0 {
        return Err(resolver_error(code, "reverse lookup"));
    }
    let len = host
        .iter()
        .position(|&unit| unit == 0)
        .unwrap_or(host.len());
    Ok(String::from_utf16_lossy(&host[..len]))
}

/// The error for a resolver's code (a `WSA*` error, which is what Winsock's `EAI_*` are).
fn resolver_error(code: i32, what: &str) -> io::Error {
    use windows_sys::Win32::Networking::WinSock::{
        WSAEAFNOSUPPORT, WSAHOST_NOT_FOUND, WSANO_DATA, WSATRY_AGAIN, WSA_NOT_ENOUGH_MEMORY,
    };
    let kind = match code {
        WSAHOST_NOT_FOUND | WSANO_DATA => io::ErrorKind::NotFound,
        WSATRY_AGAIN => io::ErrorKind::WouldBlock,
        WSA_NOT_ENOUGH_MEMORY => io::ErrorKind::OutOfMemory,
        WSAEAFNOSUPPORT => io::ErrorKind::Unsupported,
        _ => return io::Error::from_raw_os_error(code),
    };
    io::Error::new(
        kind,
        format!("{what} failed: {}", io::Error::from_raw_os_error(code)),
    )
}

/// What Windows reports about the volume holding a directory, in bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DiskSpace {
    /// The allocation unit (a cluster).
    pub(crate) cluster: u64,
    pub(crate) total: u64,
    pub(crate) free: u64,
    /// Free to the caller (quotas apply).
    pub(crate) available: u64,
    /// The longest file name a path component may have.
    pub(crate) name_max: u64,
}

/// `path` as a NUL-terminated UTF-16 string.
fn wide(path: &std::path::Path) -> Vec<u16> {
    use std::os::windows::ffi::OsStrExt;
    path.as_os_str().encode_wide().chain([0]).collect()
}

/// The space of the volume holding the directory `dir` (`GetDiskFreeSpaceExW`, with the
/// cluster size from `GetDiskFreeSpaceW` and the name limit from `GetVolumeInformationW` on
/// its root, from `GetVolumePathNameW`).
pub(crate) fn disk_space(dir: &Path) -> io::Result<DiskSpace> {
    use windows_sys::Win32::Storage::FileSystem::{
        GetDiskFreeSpaceExW, GetDiskFreeSpaceW, GetVolumeInformationW, GetVolumePathNameW,
    };
    let dir = wide(dir);
    let (mut available, mut total, mut free) = (0u64, 0u64, 0u64);
    let mut root = [0u16; 1024];
    let (mut sectors, mut sector_size, mut free_clusters, mut clusters) = (0u32, 0u32, 0u32, 0u32);
    let mut name_max = 0u32;
    // SAFETY: `dir` is NUL-terminated; every out pointer is to a local of the type the call
    // writes; `root` is writable for the length given, and NUL-terminated by the call when
    // it succeeds; null name buffers come with zero lengths, as the calls allow.
    unsafe {
        if GetDiskFreeSpaceExW(dir.as_ptr(), &mut available, &mut total, &mut free) == 0
            || GetVolumePathNameW(dir.as_ptr(), root.as_mut_ptr(), root.len() as u32) == 0
            || GetDiskFreeSpaceW(
                root.as_ptr(),
                &mut sectors,
                &mut sector_size,
                &mut free_clusters,
                &mut clusters,
            ) == 0
            || GetVolumeInformationW(
                root.as_ptr(),
                std::ptr::null_mut(),
                0,
                std::ptr::null_mut(),
                &mut name_max,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                0,
            ) == 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(DiskSpace {
        cluster: (u64::from(sectors) * u64::from(sector_size)).max(1),
        total,
        free,
        available,
        name_max: name_max.into(),
    })
}
