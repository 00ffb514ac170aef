//! Windows: a descriptor is a `SOCKET` or a `HANDLE` value, both carried as a `RawSocket`.

use std::io;
use std::mem::ManuallyDrop;
use std::os::windows::io::{
    BorrowedHandle, FromRawSocket, IntoRawHandle, IntoRawSocket, OwnedHandle, OwnedSocket,
    RawHandle,
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
