//! UDP sockets.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

pub use proactor_driver::datagram::RecvMeta;
use proactor_driver::datagram::{try_recv_many, try_send_many};
use proactor_driver::{Address, Buffer, Descriptors, Op};

use super::{each_address, new_ip_socket, resolve, Descriptor, ToSocketAddrs};
use crate::io::{Interest, Ready};
use crate::runtime::op;
use crate::{BufResult, IoBuf};

/// A UDP socket.
///
/// # Examples
///
/// ```
/// use proactor::net::UdpSocket;
///
/// proactor::Runtime::new()?.block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await?;
///     let b = UdpSocket::bind("127.0.0.1:0").await?;
///     let (sent, _) = a.send_to(b"hello".to_vec(), b.local_addr()?).await;
///     assert_eq!(sent?, 5);
///     let (received, buffer) = b.recv_from(Vec::with_capacity(64)).await;
///     let (count, from) = received?;
///     assert_eq!((&buffer[..count], from), (&b"hello"[..], a.local_addr()?));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UdpSocket {
    descriptor: Descriptor,
    /// A one-element vector reused by every `send_to`/`recv_from`, so they allocate nothing.
    vector: RefCell<Option<Vec<Buffer>>>,
    /// The buffers and targets of a batch, reused by every `recv_many`/`send_many`.
    batch: RefCell<Batch>,
}

/// A batch's buffers, as the driver takes them, and its targets.
#[derive(Default)]
struct Batch {
    bufs: Vec<Buffer>,
    targets: Vec<SocketAddr>,
}

impl UdpSocket {
    /// Binds a socket to `addr`.
    ///
    /// # Errors
    ///
    /// `AddrInUse`, or the OS error of the last address tried.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let socket = proactor::net::UdpSocket::bind("[::1]:0").await?;
    ///     assert!(socket.local_addr()?.is_ipv6());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        each_address(resolve(addr).await?, |address| async move {
            let descriptor = new_ip_socket(&address, socket2::Type::DGRAM).await?;
            descriptor.socket().bind(&address.into())?;
            Ok(UdpSocket {
                descriptor,
                vector: RefCell::new(None),
                batch: RefCell::default(),
            })
        })
        .await
    }

    /// Sets the default destination for [`send`](UdpSocket::send) and the only source
    /// [`recv`](UdpSocket::recv) accepts. It never blocks.
    ///
    /// # Errors
    ///
    /// The OS error, e.g. for an address of the other family.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let a = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     assert_eq!(a.peer_addr()?, b.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let mut last = None;
        for address in resolve(addr).await? {
            match self.descriptor.socket().connect(&address.into()) {
                Ok(()) => return Ok(()),
                Err(error) => last = Some(error),
            }
        }
        Err(last
            .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to try")))
    }

    /// Sends a datagram to the connected peer.
    ///
    /// # Errors
    ///
    /// `NotConnected` without [`connect`](UdpSocket::connect), or the OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// # let a = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// a.connect(b.local_addr()?).await?;
    /// let (sent, _) = a.send(&b"ping"[..]).await;
    /// assert_eq!(sent?, 4);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn send<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
        super::send(self.descriptor.fd(), buf).await
    }

    /// Receives a datagram from the connected peer; a datagram longer than the buffer is
    /// truncated.
    ///
    /// # Errors
    ///
    /// The OS error, e.g. `ConnectionRefused` after an ICMP port-unreachable.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// # let a = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # a.connect(b.local_addr()?).await?;
    /// # b.connect(a.local_addr()?).await?;
    /// # a.send(&b"ping"[..]).await.0?;
    /// let (received, buffer) = b.recv(Vec::with_capacity(1500)).await;
    /// assert_eq!(&buffer[..received?], b"ping");
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn recv<B: IoBuf>(&self, buf: B) -> BufResult<usize, B> {
        super::recv(self.descriptor.fd(), buf).await
    }

    fn vector_with(&self, buffer: Buffer) -> Vec<Buffer> {
        let mut vector = self
            .vector
            .borrow_mut()
            .take()
            .unwrap_or_else(|| Vec::with_capacity(1));
        vector.clear();
        vector.push(buffer);
        vector
    }

    fn return_vector(&self, mut vector: Vec<Buffer>) -> Buffer {
        let buffer = vector
            .pop()
            .unwrap_or_else(|| unreachable!("the vector holds the one buffer it was given"));
        *self.vector.borrow_mut() = Some(vector);
        buffer
    }

    /// Sends a datagram to `target`.
    ///
    /// # Errors
    ///
    /// The OS error, e.g. `EAFNOSUPPORT` for an address of the other family.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let socket = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let receiver = std::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     let (sent, buffer) = socket.send_to(b"to std".to_vec(), receiver.local_addr()?).await;
    ///     assert_eq!(sent?, buffer.len());
    ///     let mut received = [0u8; 16];
    ///     let (count, from) = receiver.recv_from(&mut received)?;
    ///     assert_eq!((&received[..count], from), (&b"to std"[..], socket.local_addr()?));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn send_to<B: IoBuf>(
        &self,
        buf: B,
        target: impl ToSocketAddrs,
    ) -> BufResult<usize, B> {
        let target = match resolve(target).await {
            Ok(addresses) => addresses[0],
            Err(error) => return (Err(error), buf),
        };
        let completion = op::submit(Op::SendMsg {
            fd: self.descriptor.fd(),
            bufs: self.vector_with(buf.into_buffer()),
            addr: Some(target.into()),
            fds: Descriptors::new(),
            flags: 0,
        })
        .await;
        let vector = completion
            .op
            .into_buffers()
            .unwrap_or_else(|| unreachable!("sendmsg carries its buffers"));
        (
            completion.result,
            B::from_buffer(self.return_vector(vector)),
        )
    }

    /// Receives a datagram and its sender's address.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let socket = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let sender = std::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     sender.send_to(b"from std", socket.local_addr()?)?;
    ///     let (received, buffer) = socket.recv_from(Vec::with_capacity(64)).await;
    ///     let (count, from) = received?;
    ///     assert_eq!((&buffer[..count], from), (&b"from std"[..], sender.local_addr()?));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn recv_from<B: IoBuf>(&self, buf: B) -> BufResult<(usize, SocketAddr), B> {
        let completion = op::submit(Op::RecvMsg {
            fd: self.descriptor.fd(),
            bufs: self.vector_with(buf.into_buffer()),
            flags: 0,
            source: None,
            max_fds: 0,
            fds: Descriptors::new(),
            fds_truncated: false,
        })
        .await;
        let (vector, source) = match completion.op {
            Op::RecvMsg { bufs, source, .. } => (bufs, source),
            _ => unreachable!("the completion of a recvmsg is a recvmsg"),
        };
        let buffer = B::from_buffer(self.return_vector(vector));
        let result = completion.result.and_then(|count| {
            let source = match source {
                Some(Address::Ip(source)) => Some(source),
                _ => None,
            };
            let source = source
                .ok_or_else(|| io::Error::other("the datagram carried no IP source address"))?;
            Ok((count, source))
        });
        (result, buffer)
    }

    /// Receives the datagrams waiting, as many as there are buffers, with one system call
    /// where the OS has one (`recvmmsg` on Linux); waits only while none is there.
    ///
    /// Datagram `i` goes into `bufs[i]` (filled as [`recv_from`](UdpSocket::recv_from)
    /// fills its buffer: a `Vec<u8>` after its bytes), and `meta[i]` says how long it is,
    /// who sent it and whether it was cut to fit. The result is how many arrived: at least
    /// one, never waiting for the batch to fill; the buffers past it are as they were given.
    /// An empty batch is `Ok(0)` at once, as a read into an empty buffer is.
    ///
    /// A receive of many datagrams for QUIC, DNS or game servers: quinn-udp's
    /// `UdpSocketState::recv` (buffers and `RecvMeta`s side by side) with proactor's owned
    /// buffers. tokio has no batched receive. Every backend waits for readiness, then makes
    /// the attempt: one `recvmmsg` per 32 datagrams on Linux (io_uring and epoll alike: one
    /// ring entry per datagram costs more, see proactor-bench's README), one `recvmsg` each
    /// on macOS and the BSDs, one `WSARecvFrom` each on Windows.
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `meta` is shorter than `bufs` or a buffer has no room to receive
    /// into (at once); the OS error, e.g. `ConnectionRefused` after an ICMP port-unreachable
    /// on Linux. An error after datagrams came in the same attempt is kept by the socket
    /// for the next receive, and this one returns the datagrams.
    ///
    /// # Buffer ownership
    ///
    /// The buffers come back with the result, whatever it is. The kernel writes into them
    /// only during the non-blocking attempt, never while the receive waits: a receive dropped
    /// while waiting has taken no datagram (the next receive gets them all), and its buffers
    /// are dropped with it.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::net::{RecvMeta, UdpSocket};
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let sender = std::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     for datagram in [&b"one"[..], b"two", b"three"] {
    ///         sender.send_to(datagram, socket.local_addr()?)?;
    ///     }
    ///     let bufs: Vec<Vec<u8>> = (0..8).map(|_| Vec::with_capacity(1500)).collect();
    ///     let mut meta = [RecvMeta::default(); 8];
    ///     let mut received = Vec::new();
    ///     let mut bufs = Some(bufs);
    ///     // Loopback delivers at once, but the three may come in more than one receive.
    ///     while received.len() < 3 {
    ///         let (count, mut back) = socket.recv_many(bufs.take().unwrap(), &mut meta).await;
    ///         for (buf, meta) in back.iter_mut().zip(&meta).take(count?) {
    ///             assert_eq!((buf.len(), meta.addr), (meta.len, sender.local_addr()?));
    ///             received.push(std::mem::take(buf));
    ///         }
    ///         back.iter_mut().for_each(|buf| buf.reserve(1500));
    ///         bufs = Some(back);
    ///     }
    ///     assert_eq!(received, [&b"one"[..], b"two", b"three"]);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn recv_many<B: IoBuf>(
        &self,
        mut bufs: Vec<B>,
        meta: &mut [RecvMeta],
    ) -> BufResult<usize, Vec<B>> {
        let mut batch = self.batch.take();
        batch.bufs.clear();
        batch.bufs.extend(bufs.drain(..).map(IoBuf::into_buffer));
        let result = loop {
            match try_recv_many(self.descriptor.fd(), &mut batch.bufs, meta) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    if let Err(error) = self.descriptor.ready(Interest::READABLE).await {
                        break Err(error);
                    }
                }
                result => break result,
            }
        };
        bufs.extend(batch.bufs.drain(..).map(B::from_buffer));
        *self.batch.borrow_mut() = batch;
        (result, bufs)
    }

    /// Sends each buffer as one datagram to the connected peer, in order, with one system
    /// call per batch where the OS has one (`sendmmsg` on Linux), waiting for room as needed.
    ///
    /// The batched [`send`](UdpSocket::send); see [`send_many_to`](UdpSocket::send_many_to)
    /// for what it returns and how each OS sends. tokio has no batched send.
    ///
    /// # Errors
    ///
    /// `NotConnected` (or the OS's "destination address required") without
    /// [`connect`](UdpSocket::connect), or the error the first datagram met.
    ///
    /// # Buffer ownership
    ///
    /// As [`send_many_to`](UdpSocket::send_many_to).
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// # let a = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let b = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// a.connect(b.local_addr()?).await?;
    /// let (sent, bufs) = a.send_many(vec![&b"ping"[..], b"pong"]).await;
    /// assert_eq!((sent?, bufs.len()), (2, 2));
    /// let (received, buffer) = b.recv_from(Vec::with_capacity(16)).await;
    /// assert_eq!(&buffer[..received?.0], b"ping");
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn send_many<B: IoBuf>(&self, mut bufs: Vec<B>) -> BufResult<usize, Vec<B>> {
        let mut batch = self.batch.take();
        batch.bufs.clear();
        batch.targets.clear();
        batch.bufs.extend(bufs.drain(..).map(IoBuf::into_buffer));
        let result = self.send_batch(&batch).await;
        bufs.extend(batch.bufs.drain(..).map(B::from_buffer));
        *self.batch.borrow_mut() = batch;
        (result, bufs)
    }

    /// Sends each buffer as one datagram to its address, in order, with one system call per
    /// batch where the OS has one (`sendmmsg` on Linux), waiting for room as needed.
    ///
    /// Returns how many were sent, from the first: all of them, unless one failed after
    /// others had gone, which ends the batch with their count (send the rest again to learn
    /// the error). An empty batch is `Ok(0)`.
    ///
    /// The send side of quinn-udp's batching (`UdpSocketState::send` of many transmits), with
    /// owned buffers; tokio has no batched send. Every backend makes the attempt at once and
    /// waits for writability only when the socket has no room: one `sendmmsg` per 32
    /// datagrams on Linux (io_uring and epoll alike), one `sendmsg` each on macOS and the
    /// BSDs, one `WSASendTo` each on Windows.
    ///
    /// # Errors
    ///
    /// The error the first datagram met, e.g. for an address of the other family.
    ///
    /// # Buffer ownership
    ///
    /// The datagrams come back with the result, whatever it is. The kernel reads the buffers
    /// only during a non-blocking attempt: a send dropped while it waits for room has sent
    /// the datagrams before the one that waited, and none after.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::net::UdpSocket;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let a = std::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     let b = std::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     let datagrams = vec![
    ///         (b"to a".to_vec(), a.local_addr()?),
    ///         (b"to b".to_vec(), b.local_addr()?),
    ///     ];
    ///     let (sent, datagrams) = socket.send_many_to(datagrams).await;
    ///     assert_eq!(sent?, datagrams.len());
    ///     let mut bytes = [0; 16];
    ///     let count = b.recv(&mut bytes)?;
    ///     assert_eq!(&bytes[..count], b"to b");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn send_many_to<B: IoBuf>(
        &self,
        mut datagrams: Vec<(B, SocketAddr)>,
    ) -> BufResult<usize, Vec<(B, SocketAddr)>> {
        let mut batch = self.batch.take();
        batch.bufs.clear();
        batch.targets.clear();
        for (buf, target) in datagrams.drain(..) {
            batch.bufs.push(buf.into_buffer());
            batch.targets.push(target);
        }
        let result = self.send_batch(&batch).await;
        datagrams.extend(
            batch
                .bufs
                .drain(..)
                .map(B::from_buffer)
                .zip(batch.targets.iter().copied()),
        );
        *self.batch.borrow_mut() = batch;
        (result, datagrams)
    }

    /// Sends every datagram of `batch`, waiting for room between attempts; an error once
    /// some went ends it with their count.
    async fn send_batch(&self, batch: &Batch) -> io::Result<usize> {
        let mut sent = 0;
        while sent < batch.bufs.len() {
            let targets = batch.targets.get(sent..).unwrap_or_default();
            let error = match try_send_many(self.descriptor.fd(), &batch.bufs[sent..], targets) {
                Ok(count) => {
                    sent += count;
                    continue;
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    match self.descriptor.ready(Interest::WRITABLE).await {
                        Ok(_) => continue,
                        Err(error) => error,
                    }
                }
                Err(error) => error,
            };
            return if sent > 0 { Ok(sent) } else { Err(error) };
        }
        Ok(sent)
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockname`.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     // Port 0 asks the OS for a free port; `local_addr` says which one it chose.
    ///     let socket = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let address = socket.local_addr()?;
    ///     assert!(address.ip().is_loopback());
    ///     assert_ne!(address.port(), 0);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        inet(self.descriptor.socket().local_addr()?)
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// `NotConnected` without [`connect`](UdpSocket::connect).
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let a = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     // Not connected yet: no peer.
    ///     assert_eq!(a.peer_addr().unwrap_err().kind(), std::io::ErrorKind::NotConnected);
    ///     a.connect(b.local_addr()?).await?;
    ///     assert_eq!(a.peer_addr()?, b.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        inet(self.descriptor.socket().peer_addr()?)
    }

    /// Allows sending to broadcast addresses.
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UdpSocket::bind("0.0.0.0:0").await?;
    /// socket.set_broadcast(true)?;
    /// assert!(socket.broadcast()?);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_broadcast(&self, broadcast: bool) -> io::Result<()> {
        self.descriptor.socket().set_broadcast(broadcast)
    }

    /// Whether broadcast is allowed.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let socket = proactor::net::UdpSocket::bind("0.0.0.0:0").await?;
    ///     assert!(!socket.broadcast()?); // off until asked for
    ///     socket.set_broadcast(true)?;
    ///     assert!(socket.broadcast()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn broadcast(&self) -> io::Result<bool> {
        self.descriptor.socket().broadcast()
    }

    /// Joins an IPv4 multicast group on `interface` (`0.0.0.0`: the default).
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # proactor::Runtime::new()?.block_on(async {
    /// use std::net::Ipv4Addr;
    /// let socket = proactor::net::UdpSocket::bind("0.0.0.0:5353").await?;
    /// socket.join_multicast_v4(Ipv4Addr::new(224, 0, 0, 251), Ipv4Addr::UNSPECIFIED)?;
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn join_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.descriptor
            .socket()
            .join_multicast_v4(&group, &interface)
    }

    /// Leaves an IPv4 multicast group.
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let socket = proactor::net::UdpSocket::bind("0.0.0.0:0").await?;
    ///     let group = Ipv4Addr::new(239, 255, 0, 1);
    ///     // Multicast needs a route; on a host without one, joining fails with the OS error.
    ///     if socket.join_multicast_v4(group, Ipv4Addr::UNSPECIFIED).is_ok() {
    ///         socket.leave_multicast_v4(group, Ipv4Addr::UNSPECIFIED)?;
    ///         // A group left already cannot be left again.
    ///         assert!(socket.leave_multicast_v4(group, Ipv4Addr::UNSPECIFIED).is_err());
    ///     }
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn leave_multicast_v4(&self, group: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.descriptor
            .socket()
            .leave_multicast_v4(&group, &interface)
    }

    /// Joins an IPv6 multicast group on interface index `interface` (0: the default).
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UdpSocket::bind("[::]:5353").await?;
    /// socket.join_multicast_v6("ff02::fb".parse().unwrap(), 0)?;
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn join_multicast_v6(&self, group: Ipv6Addr, interface: u32) -> io::Result<()> {
        self.descriptor
            .socket()
            .join_multicast_v6(&group, interface)
    }

    /// Leaves an IPv6 multicast group.
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Ipv6Addr;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let socket = proactor::net::UdpSocket::bind("[::]:0").await?;
    ///     let group = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x1234);
    ///     // Interface 0: the default. Without IPv6 multicast, joining fails with the OS error.
    ///     if socket.join_multicast_v6(group, 0).is_ok() {
    ///         socket.leave_multicast_v6(group, 0)?;
    ///     }
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn leave_multicast_v6(&self, group: Ipv6Addr, interface: u32) -> io::Result<()> {
        self.descriptor
            .socket()
            .leave_multicast_v6(&group, interface)
    }

    /// Whether multicast datagrams this socket sends loop back to local listeners (IPv4).
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UdpSocket::bind("0.0.0.0:0").await?;
    /// socket.set_multicast_loop_v4(false)?;
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_multicast_loop_v4(&self, enabled: bool) -> io::Result<()> {
        self.descriptor.socket().set_multicast_loop_v4(enabled)
    }

    /// Whether multicast datagrams this socket sends loop back to local listeners (IPv4); on
    /// by default.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UdpSocket::bind("0.0.0.0:0").await?;
    /// socket.set_multicast_loop_v4(false)?;
    /// assert!(!socket.multicast_loop_v4()?);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.descriptor.socket().multicast_loop_v4()
    }

    /// Sets the time-to-live of outgoing IPv4 multicast datagrams: how many routers they may
    /// cross. The default, 1, keeps them on the local network.
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UdpSocket::bind("0.0.0.0:0").await?;
    /// socket.set_multicast_ttl_v4(4)?;
    /// assert_eq!(socket.multicast_ttl_v4()?, 4);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.descriptor.socket().set_multicast_ttl_v4(ttl)
    }

    /// The time-to-live of outgoing IPv4 multicast datagrams.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UdpSocket::bind("0.0.0.0:0").await?;
    /// assert_eq!(socket.multicast_ttl_v4()?, 1); // the local network only, by default
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.descriptor.socket().multicast_ttl_v4()
    }

    /// Sets the local interface, by its IPv4 address, that IPv4 multicast datagrams leave by
    /// (`0.0.0.0`: the one the routing table picks).
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`, e.g. `AddrNotAvailable` for an address no interface
    /// has.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    ///
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UdpSocket::bind("0.0.0.0:0").await?;
    /// socket.set_multicast_if_v4(Ipv4Addr::LOCALHOST)?;
    /// assert_eq!(socket.multicast_if_v4()?, Ipv4Addr::LOCALHOST);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_multicast_if_v4(&self, interface: Ipv4Addr) -> io::Result<()> {
        self.descriptor.socket().set_multicast_if_v4(&interface)
    }

    /// The local interface IPv4 multicast datagrams leave by (`0.0.0.0` until set).
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UdpSocket::bind("0.0.0.0:0").await?;
    /// assert!(socket.multicast_if_v4()?.is_unspecified());
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn multicast_if_v4(&self) -> io::Result<Ipv4Addr> {
        self.descriptor.socket().multicast_if_v4()
    }

    /// Joins a source-specific IPv4 multicast channel: datagrams sent to `group` by `source`
    /// only, received on `interface` (`0.0.0.0`: the one the routing table picks).
    /// `IP_ADD_SOURCE_MEMBERSHIP`; SSM groups are `232.0.0.0/8`.
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`, e.g. when the host has no multicast route.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::net::Ipv4Addr;
    ///
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UdpSocket::bind("0.0.0.0:5000").await?;
    /// let (source, group) = (Ipv4Addr::new(192, 0, 2, 7), Ipv4Addr::new(232, 1, 2, 3));
    /// socket.join_ssm_v4(source, group, Ipv4Addr::UNSPECIFIED)?;
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn join_ssm_v4(
        &self,
        source: Ipv4Addr,
        group: Ipv4Addr,
        interface: Ipv4Addr,
    ) -> io::Result<()> {
        self.descriptor
            .socket()
            .join_ssm_v4(&source, &group, &interface)
    }

    /// Leaves a source-specific IPv4 multicast channel joined with
    /// [`join_ssm_v4`](UdpSocket::join_ssm_v4).
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`, e.g. for a channel not joined.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    ///
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UdpSocket::bind("0.0.0.0:0").await?;
    /// let (source, group) = (Ipv4Addr::LOCALHOST, Ipv4Addr::new(232, 1, 2, 3));
    /// // Without a multicast route, joining fails with the OS error.
    /// if socket.join_ssm_v4(source, group, Ipv4Addr::LOCALHOST).is_ok() {
    ///     socket.leave_ssm_v4(source, group, Ipv4Addr::LOCALHOST)?;
    /// }
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn leave_ssm_v4(
        &self,
        source: Ipv4Addr,
        group: Ipv4Addr,
        interface: Ipv4Addr,
    ) -> io::Result<()> {
        self.descriptor
            .socket()
            .leave_ssm_v4(&source, &group, &interface)
    }

    /// Whether multicast datagrams this socket sends loop back to local listeners (IPv6); on
    /// by default.
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`, e.g. on an IPv4 socket.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UdpSocket::bind("[::]:0").await?;
    /// socket.set_multicast_loop_v6(false)?;
    /// assert!(!socket.multicast_loop_v6()?);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_multicast_loop_v6(&self, enabled: bool) -> io::Result<()> {
        self.descriptor.socket().set_multicast_loop_v6(enabled)
    }

    /// Whether multicast datagrams this socket sends loop back to local listeners (IPv6).
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`, e.g. on an IPv4 socket.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UdpSocket::bind("[::]:0").await?;
    /// assert!(socket.multicast_loop_v6()?); // on by default
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.descriptor.socket().multicast_loop_v6()
    }

    /// Sets the interface, by index, that IPv6 multicast datagrams leave by (0: the one the
    /// routing table picks). An interface's index comes from `if_nametoindex`.
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`, e.g. for an index no interface has.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UdpSocket::bind("[::]:0").await?;
    /// socket.set_multicast_if_v6(0)?;
    /// assert_eq!(socket.multicast_if_v6()?, 0);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_multicast_if_v6(&self, interface: u32) -> io::Result<()> {
        self.descriptor.socket().set_multicast_if_v6(interface)
    }

    /// The index of the interface IPv6 multicast datagrams leave by (0 until set).
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`, e.g. on an IPv4 socket.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UdpSocket::bind("[::]:0").await?;
    /// assert_eq!(socket.multicast_if_v6()?, 0);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn multicast_if_v6(&self) -> io::Result<u32> {
        self.descriptor.socket().multicast_if_v6()
    }

    /// Sets the hop limit of outgoing IPv6 multicast datagrams, IPv6's
    /// [`set_multicast_ttl_v4`](UdpSocket::set_multicast_ttl_v4). The default, 1, keeps them
    /// on the local network.
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`, e.g. on an IPv4 socket.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UdpSocket::bind("[::]:0").await?;
    /// socket.set_multicast_hops_v6(8)?;
    /// assert_eq!(socket.multicast_hops_v6()?, 8);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_multicast_hops_v6(&self, hops: u32) -> io::Result<()> {
        self.descriptor.socket().set_multicast_hops_v6(hops)
    }

    /// The hop limit of outgoing IPv6 multicast datagrams.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`, e.g. on an IPv4 socket.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UdpSocket::bind("[::]:0").await?;
    /// assert_eq!(socket.multicast_hops_v6()?, 1);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn multicast_hops_v6(&self) -> io::Result<u32> {
        self.descriptor.socket().multicast_hops_v6()
    }

    /// Sets the time-to-live of outgoing datagrams.
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// socket.set_ttl(16)?;
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.descriptor.socket().set_ttl_v4(ttl)
    }

    /// The time-to-live of outgoing IPv4 datagrams.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// socket.set_ttl(16)?;
    /// assert_eq!(socket.ttl()?, 16);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        self.descriptor.socket().ttl_v4()
    }

    /// Sets the type-of-service byte (`IP_TOS`: DSCP and ECN bits) of outgoing IPv4
    /// datagrams. tokio's name; its older `set_tos` is deprecated for this one.
    ///
    /// # Errors
    ///
    /// The OS error from `setsockopt`; Windows documents that not every version honours
    /// `IP_TOS`.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// socket.set_tos_v4(0x10)?; // DSCP 4: low delay
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        self.descriptor.socket().set_tos_v4(tos)
    }

    /// The type-of-service byte of outgoing IPv4 datagrams.
    ///
    /// # Errors
    ///
    /// The OS error from `getsockopt`.
    ///
    /// # Examples
    ///
    /// ```
    /// # proactor::Runtime::new()?.block_on(async {
    /// let socket = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// assert_eq!(socket.tos_v4()?, 0);
    /// # Ok::<(), std::io::Error>(())
    /// # })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn tos_v4(&self) -> io::Result<u32> {
        self.descriptor.socket().tos_v4()
    }
}

fn inet(address: socket2::SockAddr) -> io::Result<std::net::SocketAddr> {
    address
        .as_socket()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not an IP socket address"))
}

/// Conversions to and from std's `UdpSocket`, as tokio's.
impl UdpSocket {
    /// Wraps a socket made with std; it is switched to non-blocking mode.
    ///
    /// # Errors
    ///
    /// The OS error from switching modes.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let std = std::net::UdpSocket::bind("127.0.0.1:0")?;
    ///     let socket = proactor::net::UdpSocket::from_std(std)?;
    ///     # let _ = socket;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            descriptor: Descriptor::adopt(socket),
            vector: RefCell::new(None),
            batch: RefCell::default(),
        })
    }

    /// Gives the socket to std's `UdpSocket`, still in non-blocking mode; the runtime
    /// forgets it.
    ///
    /// # Errors
    ///
    /// None today (an `io::Result` as tokio's).
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let socket = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let address = socket.local_addr()?;
    ///     let socket: std::net::UdpSocket = socket.into_std()?;
    ///     assert_eq!(socket.local_addr()?, address);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        Ok(self.descriptor.into_std())
    }
}

/// Readiness and non-blocking attempts, as tokio's.
impl UdpSocket {
    /// Waits until the socket is ready for something in `interest` and says what it found,
    /// as tokio's `UdpSocket::ready` (level-triggered: a socket ready now answers at once).
    ///
    /// # Errors
    ///
    /// What the wait met; `InvalidInput` for an empty `interest`.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::io::Interest;
    /// use proactor::net::UdpSocket;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let socket = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let ready = socket.ready(Interest::READABLE | Interest::WRITABLE).await?;
    ///     assert!(ready.is_writable() && !ready.is_readable());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.descriptor.ready(interest).await
    }

    /// Waits until a datagram is there to receive.
    ///
    /// # Errors
    ///
    /// What the wait met.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::net::UdpSocket;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.try_send_to(b"ping", a.local_addr()?)?;
    ///     a.readable().await?;
    ///     let mut bytes = [0; 16];
    ///     let (count, from) = a.try_recv_from(&mut bytes)?;
    ///     assert_eq!((&bytes[..count], from), (&b"ping"[..], b.local_addr()?));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn readable(&self) -> io::Result<()> {
        self.ready(Interest::READABLE).await.map(drop)
    }

    /// Waits until a send would not wait.
    ///
    /// # Errors
    ///
    /// What the wait met.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let socket = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     socket.writable().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn writable(&self) -> io::Result<()> {
        self.ready(Interest::WRITABLE).await.map(drop)
    }

    /// Receives one datagram from the connected peer into `buf` without waiting (cut to
    /// `buf`'s length); `WouldBlock` when none is there.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when no datagram is there; what the receive met.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let socket = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let nothing = socket.try_recv(&mut [0; 8]).unwrap_err();
    ///     assert_eq!(nothing.kind(), std::io::ErrorKind::WouldBlock);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.descriptor.try_recv(buf)
    }

    /// Sends `buf` as one datagram to the connected peer without waiting; `WouldBlock`
    /// when the socket has no room.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when there is no room; what the send met (not connected, say).
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::net::UdpSocket;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     assert_eq!(a.try_send(b"datagram")?, 8);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.descriptor.try_send(buf)
    }

    /// Receives one datagram into `buf` without waiting, with its sender's address;
    /// `WouldBlock` when none is there.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when no datagram is there; what the receive met.
    ///
    /// # Examples
    ///
    /// ```
    /// proactor::Runtime::new()?.block_on(async {
    ///     let socket = proactor::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let nothing = socket.try_recv_from(&mut [0; 8]).unwrap_err();
    ///     assert_eq!(nothing.kind(), std::io::ErrorKind::WouldBlock);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let (count, from) = self.descriptor.try_recv_from(buf)?;
        Ok((count, super::readiness::ip_address(from)?))
    }

    /// Sends `buf` as one datagram to `target` without waiting; `WouldBlock` when the
    /// socket has no room. `target` is an address, not a name: resolving one may wait.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when there is no room; what the send met.
    ///
    /// # Examples
    ///
    /// ```
    /// use proactor::net::UdpSocket;
    ///
    /// proactor::Runtime::new()?.block_on(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert_eq!(a.try_send_to(b"hi", b.local_addr()?)?, 2);
    ///     let (result, bytes) = b.recv(Vec::with_capacity(8)).await;
    ///     assert_eq!(&bytes[..result?], b"hi");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.descriptor.try_send_to(buf, &target.into())
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("fd", &self.descriptor.fd())
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

lend_descriptor!(UdpSocket, |this| this.descriptor);
