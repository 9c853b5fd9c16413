//! SIP over UDP (RFC 3261 §18): one socket per listener, one message per
//! datagram.
//!
//! Batching, to spend fewer system calls and wake-ups per message: the
//! receive loop drains the socket with `recvmmsg(2)`, up to [`BATCH`]
//! datagrams per call, and the driver queues what it sends during one
//! wake-up per socket ([`SendQueue`]) and flushes it with `sendmmsg(2)`
//! before it waits again. Requests the TU answers statelessly
//! ([`TransactionUser::stateless_hook`](crate::TransactionUser::stateless_hook):
//! an OPTIONS to the server, a 420, ...) are answered by the receive loop
//! itself, the answers of one read in one `sendmmsg`, without waking the
//! driver. Both calls are Linux-only; elsewhere the same loops make
//! one `recv_from`/`send_to` per datagram. (Waiting between reads under load
//! to batch more was tried and removed: every datagram arriving during the
//! wait still woke the runtime, and it cost CPU per message in the sipp
//! OPTIONS benchmark at 8000/s and 32000/s.)

use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use sip_msg::{Method, SipMessage, parse_datagram};
use sip_proto::{FlowId, Peer, ResponseTarget, TransactionKey, Transport, response_route};
use tokio::net::UdpSocket;
use tokio::sync::mpsc::error::TrySendError;

use crate::driver::StatelessHook;
use crate::inbound::{Event, Shared, Verdict, vet};
use crate::stats::NetStats;

/// Largest UDP payload (RFC 3261 §18.1.1 leaves it to the IP layer).
const MAX_DATAGRAM: usize = 65_535;

/// Datagrams per `recvmmsg`/`sendmmsg` call.
pub(crate) const BATCH: usize = 32;

/// Receives datagrams until the server stops. Keeps reading while draining:
/// responses and ACKs for live transactions still arrive here.
pub(crate) async fn recv_loop(
    shared: Arc<Shared>,
    sock: Arc<UdpSocket>,
    flow: FlowId,
    hook: Option<StatelessHook>,
) {
    let local = sock.local_addr().ok();
    let mut batch = RecvBatch::new();
    // Answers given here (`hook`), sent together after each read.
    let mut answers = SendQueue::default();
    let mut unsent = Vec::new();
    // The last read filled the whole batch: more is waiting, read on.
    let mut full = false;
    'read: loop {
        if full {
            // Let the driver answer what was read before reading more.
            tokio::task::yield_now().await;
        }
        let r = tokio::select! {
            biased;
            _ = shared.stop_all.cancelled() => break,
            r = sock.readable() => r,
        };
        let r = r.and_then(|()| batch.recv(&sock));
        let n = match r {
            Ok(n) => n,
            // The readiness was stale; it is cleared now.
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                full = false;
                continue;
            }
            Err(e) => {
                // ICMP errors surface here on some platforms; never spin.
                if !matches!(
                    e.kind(),
                    ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused
                ) {
                    tracing::warn!(local = ?local, error = %e, "UDP receive failed");
                }
                full = false;
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        full = n == BATCH;
        for (data, source) in batch.datagrams(n) {
            let d = Datagram { data, source, flow };
            let go_on = handle_datagram(&shared, &sock, d, hook.as_deref(), &mut answers).await;
            if !go_on {
                answers.flush(&sock, &shared.stats, &mut unsent);
                break 'read;
            }
        }
        if answers.len() > 0 {
            answers.flush(&sock, &shared.stats, &mut unsent);
            unsent.clear();
        }
    }
    tracing::info!(transport = %Transport::Udp, local = ?local, "SIP listener stopped");
}

/// What a [`StatelessHook`] points to.
type StatelessFn = dyn Fn(&SipMessage) -> Option<SipMessage> + Send + Sync;

/// One received datagram.
struct Datagram<'a> {
    data: &'a [u8],
    source: SocketAddr,
    /// The listener's flow.
    flow: FlowId,
}

/// Vets one datagram and passes it on, or answers it: a 400 at once, a
/// request `hook` answers into `answers`. `false`: the driver is gone.
async fn handle_datagram(
    shared: &Shared,
    sock: &UdpSocket,
    d: Datagram<'_>,
    hook: Option<&StatelessFn>,
    answers: &mut SendQueue,
) -> bool {
    let Datagram { data, source, flow } = d;
    // Each datagram copied out at its own size: the parsed message keeps its
    // bytes alive as long as its transaction (up to 64*T1), so slicing the
    // shared receive buffers would pin 64 KiB per message.
    let data = Bytes::copy_from_slice(data);
    let verdict = match parse_datagram(data.clone()) {
        // Bare CRLFs: a NAT keep-alive (RFC 5626 §4.4.1 specifies STUN on
        // UDP; many phones send CRLFs). Nothing to answer.
        Ok(sip_msg::Datagram::KeepAlive) => {
            NetStats::inc(&shared.stats.keepalives);
            return true;
        }
        Ok(sip_msg::Datagram::Message(m)) => vet(Ok(m), &data, source, &shared.stats),
        Err(e) => vet(Err(e), &data, source, &shared.stats),
    };
    match verdict {
        Verdict::Deliver(msg) => {
            if let Some(h) = hook
                && msg.is_request()
                && !matches!(msg.method(), Some(Method::Ack | Method::Cancel))
                && let Some(resp) = ask_hook(h, &msg, source)
            {
                // What the driver would have done with the TU's
                // `answer_statelessly`, without the hop: RFC 3261 §18.2.2 /
                // RFC 3581 §4, to `received`/`rport` of the stamped top Via.
                NetStats::inc(&shared.stats.received);
                let to = match msg.via().map(|v| response_route(&v).target) {
                    Ok(ResponseTarget::Addr(a)) => a,
                    _ => source,
                };
                answers.push(resp.to_bytes(), to, None);
                return true;
            }
            let peer = Peer::new(Transport::Udp, source, flow);
            // Without waiting when there is room (the common case); the
            // bounded channel still holds the reader back when the driver
            // falls behind (then the kernel buffers, and drops).
            let asked = hook.is_some();
            match shared.events.try_send(Event::Received { msg, peer, asked }) {
                Ok(()) => true,
                Err(TrySendError::Full(ev)) => {
                    // The answers already made go out before waiting for
                    // the driver: they do not depend on it.
                    answers.flush(sock, &shared.stats, &mut Vec::new());
                    shared.emit(ev).await
                }
                Err(TrySendError::Closed(_)) => false,
            }
        }
        Verdict::Answer(a) => {
            // RFC 3261 §18.2.2 / RFC 3581 §4: to `received` and `rport` of
            // the stamped top Via; the source when the Via is unusable.
            let to = a.route.unwrap_or(source);
            match sock.try_send_to(&a.bytes, to) {
                Ok(_) => {
                    NetStats::inc(&shared.stats.answered_400);
                    NetStats::inc(&shared.stats.sent);
                }
                Err(e) => {
                    NetStats::inc(&shared.stats.send_failures);
                    tracing::debug!(%to, error = %e, "cannot send error response");
                }
            }
            true
        }
        Verdict::Drop => true,
    }
}

/// The hook's answer to `msg`, in the debug span the driver would have
/// given it. A panicking hook costs the request, not the listener: it is
/// logged and the request dropped (the client retransmits; a TU bug that
/// panics on a request would take the driver down the same way).
fn ask_hook(h: &StatelessFn, msg: &SipMessage, source: SocketAddr) -> Option<SipMessage> {
    let span = if tracing::enabled!(tracing::Level::DEBUG) {
        tracing::debug_span!(
            "sip",
            call_id = msg.header(sip_msg::HeaderName::CallId).unwrap_or_default(),
            branch = msg.via().ok().and_then(|v| v.branch()).unwrap_or_default(),
            transport = %Transport::Udp,
            remote = %source,
        )
    } else {
        tracing::Span::none()
    };
    let _entered = span.enter();
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| h(msg))) {
        Ok(r) => r,
        Err(_) => {
            tracing::error!(remote = %source, "the stateless hook panicked; request dropped");
            None
        }
    }
}

/// Receive buffers for one socket, reused for every read: [`BATCH`] slots of
/// [`MAX_DATAGRAM`] bytes (2 MiB of address space; the kernel only touches
/// the pages datagrams land in) and where each datagram came from.
struct RecvBatch {
    bufs: Vec<u8>,
    lens: [usize; BATCH],
    from: [Option<SocketAddr>; BATCH],
    #[cfg(target_os = "linux")]
    names: Vec<libc::sockaddr_storage>,
}

impl RecvBatch {
    fn new() -> Self {
        RecvBatch {
            bufs: vec![0; BATCH * MAX_DATAGRAM],
            lens: [0; BATCH],
            from: [None; BATCH],
            #[cfg(target_os = "linux")]
            names: vec![sys::zeroed_storage(); BATCH],
        }
    }

    /// Reads what is waiting, up to [`BATCH`] datagrams; `WouldBlock` when
    /// nothing is (and the socket's readiness is cleared).
    #[cfg(target_os = "linux")]
    fn recv(&mut self, sock: &UdpSocket) -> io::Result<usize> {
        use std::os::fd::AsRawFd;
        let fd = sock.as_raw_fd();
        sock.try_io(tokio::io::Interest::READABLE, || sys::recv_batch(fd, self))
    }

    /// Reads what is waiting, up to [`BATCH`] datagrams, one call each.
    #[cfg(not(target_os = "linux"))]
    fn recv(&mut self, sock: &UdpSocket) -> io::Result<usize> {
        let mut n = 0;
        for (slot, buf) in self.bufs.chunks_exact_mut(MAX_DATAGRAM).enumerate() {
            match sock.try_recv_from(buf) {
                Ok((len, from)) => {
                    self.lens[slot] = len;
                    self.from[slot] = Some(from);
                    n += 1;
                }
                Err(e) if n > 0 && e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => return if n > 0 { Ok(n) } else { Err(e) },
            }
        }
        Ok(n)
    }

    /// The first `n` datagrams of the last read, with their sources.
    fn datagrams(&self, n: usize) -> impl Iterator<Item = (&[u8], SocketAddr)> {
        self.bufs
            .chunks_exact(MAX_DATAGRAM)
            .zip(self.lens.iter().zip(&self.from))
            .take(n)
            .filter_map(|(buf, (&len, from))| Some((buf.get(..len)?, (*from)?)))
    }
}

/// One datagram the driver queued.
#[derive(Debug)]
struct Outbound {
    bytes: Bytes,
    to: SocketAddr,
    /// The transaction to tell when it cannot be sent.
    key: Option<TransactionKey>,
}

/// What the driver sends through one UDP socket during one wake-up, sent
/// together by [`flush`](Self::flush) (`sendmmsg`, [`BATCH`] per call).
#[derive(Debug, Default)]
pub(crate) struct SendQueue {
    items: Vec<Outbound>,
    /// Destination addresses of the batch being sent, reused.
    #[cfg(target_os = "linux")]
    addrs: Vec<socket2::SockAddr>,
}

impl SendQueue {
    pub(crate) fn push(&mut self, bytes: Bytes, to: SocketAddr, key: Option<TransactionKey>) {
        self.items.push(Outbound { bytes, to, key });
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Sends everything queued, in order, and empties the queue. A full
    /// socket buffer (`WouldBlock`) drops the datagram as if lost on the
    /// wire: counted, and the transaction layer retransmits (RFC 3261
    /// §17.1.1.2). Any other failure adds the datagram's transaction to
    /// `failed` (a transport error, §18.4).
    pub(crate) fn flush(
        &mut self,
        sock: &UdpSocket,
        stats: &NetStats,
        failed: &mut Vec<TransactionKey>,
    ) {
        let mut start = 0;
        while start < self.items.len() {
            let (sent, err) = self.send_some(sock, start);
            stats.sent.fetch_add(sent as u64, Ordering::Relaxed);
            start += sent;
            if let Some(e) = err
                && let Some(item) = self.items.get(start)
            {
                // The first datagram not sent failed: skip it, go on with
                // the next one.
                NetStats::inc(&stats.send_failures);
                if e.kind() == ErrorKind::WouldBlock {
                    tracing::debug!(remote = %item.to, "UDP send buffer full, datagram dropped");
                } else {
                    tracing::warn!(remote = %item.to, error = %e, "UDP send failed");
                    failed.extend(item.key);
                }
                start += 1;
            }
        }
        self.items.clear();
    }

    /// Sends from `items[start]` on, up to [`BATCH`]: how many went out, and
    /// the error of the first that did not when that is why it stopped.
    #[cfg(target_os = "linux")]
    fn send_some(&mut self, sock: &UdpSocket, start: usize) -> (usize, Option<io::Error>) {
        use std::os::fd::AsRawFd;
        let end = self.items.len().min(start + BATCH);
        let Some(items) = self.items.get(start..end) else {
            return (0, None);
        };
        self.addrs.clear();
        self.addrs
            .extend(items.iter().map(|o| socket2::SockAddr::from(o.to)));
        let fd = sock.as_raw_fd();
        let addrs = &self.addrs;
        match sock.try_io(tokio::io::Interest::WRITABLE, || {
            sys::send_batch(fd, items, addrs)
        }) {
            // sendmmsg sends at least one or fails; "none" would loop
            // forever, so it counts as a failure of the first.
            Ok(0) => (0, Some(ErrorKind::WriteZero.into())),
            Ok(n) => (n, None),
            Err(e) => (0, Some(e)),
        }
    }

    /// Sends from `items[start]` on, one call each, up to the first failure.
    #[cfg(not(target_os = "linux"))]
    fn send_some(&mut self, sock: &UdpSocket, start: usize) -> (usize, Option<io::Error>) {
        let mut sent = 0;
        for o in self.items.iter().skip(start).take(BATCH) {
            if let Err(e) = sock.try_send_to(&o.bytes, o.to) {
                return (sent, Some(e));
            }
            sent += 1;
        }
        (sent, None)
    }
}

/// The two system calls, on raw descriptors.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod sys {
    use std::io;
    use std::mem;
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
    use std::os::fd::RawFd;

    use super::{BATCH, MAX_DATAGRAM, Outbound, RecvBatch};

    pub(super) fn zeroed_storage() -> libc::sockaddr_storage {
        // SAFETY: `sockaddr_storage` is plain integers; all zeros is valid.
        unsafe { mem::zeroed() }
    }

    /// `recvmmsg(2)` into the batch's slots, without blocking.
    pub(super) fn recv_batch(fd: RawFd, batch: &mut RecvBatch) -> io::Result<usize> {
        // SAFETY: `iovec` and `mmsghdr` are plain integers and pointers; all
        // zeros (null pointers, zero lengths) is valid.
        let mut iov: [libc::iovec; BATCH] = unsafe { mem::zeroed() };
        // SAFETY: as above.
        let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { mem::zeroed() };
        let slots = batch.bufs.chunks_exact_mut(MAX_DATAGRAM);
        for (((buf, v), h), name) in slots.zip(&mut iov).zip(&mut hdrs).zip(&mut batch.names) {
            v.iov_base = buf.as_mut_ptr().cast();
            v.iov_len = buf.len();
            h.msg_hdr.msg_name = (name as *mut libc::sockaddr_storage).cast();
            h.msg_hdr.msg_namelen = storage_len();
            h.msg_hdr.msg_iov = v;
            h.msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: every header points at a live iovec for a distinct
        // MAX_DATAGRAM-byte slot of `bufs` and at a distinct address buffer
        // of the stated length, all borrowed mutably for the whole call; the
        // kernel writes at most BATCH headers and within those bounds.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                hdrs.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
        for (i, h) in hdrs.iter().enumerate().take(n) {
            batch.lens[i] = (h.msg_len as usize).min(MAX_DATAGRAM);
            batch.from[i] = socket_addr(&batch.names[i], h.msg_hdr.msg_namelen);
        }
        Ok(n)
    }

    /// `sendmmsg(2)` of `items` to `addrs` (same length, at most BATCH):
    /// how many were sent, or the error of the first.
    pub(super) fn send_batch(
        fd: RawFd,
        items: &[Outbound],
        addrs: &[socket2::SockAddr],
    ) -> io::Result<usize> {
        // SAFETY: plain integers and pointers; all zeros is valid.
        let mut iov: [libc::iovec; BATCH] = unsafe { mem::zeroed() };
        // SAFETY: as above.
        let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { mem::zeroed() };
        let mut count: usize = 0;
        for (((o, a), v), h) in items.iter().zip(addrs).zip(&mut iov).zip(&mut hdrs) {
            // The kernel only reads through these pointers.
            v.iov_base = o.bytes.as_ptr().cast_mut().cast();
            v.iov_len = o.bytes.len();
            h.msg_hdr.msg_name = a.as_ptr().cast_mut().cast();
            h.msg_hdr.msg_namelen = a.len();
            h.msg_hdr.msg_iov = v;
            h.msg_hdr.msg_iovlen = 1;
            count += 1;
        }
        // SAFETY: the first `count` headers point at live iovecs over the
        // datagrams' bytes and at initialised addresses of the stated
        // lengths, all borrowed for the whole call; the kernel reads them
        // and writes only each header's `msg_len`.
        let n = unsafe { libc::sendmmsg(fd, hdrs.as_mut_ptr(), count as libc::c_uint, 0) };
        usize::try_from(n).map_err(|_| io::Error::last_os_error())
    }

    fn storage_len() -> libc::socklen_t {
        mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t
    }

    /// The IPv4 or IPv6 address the kernel wrote.
    fn socket_addr(s: &libc::sockaddr_storage, len: libc::socklen_t) -> Option<SocketAddr> {
        let len = len as usize;
        match libc::c_int::from(s.ss_family) {
            libc::AF_INET if len >= mem::size_of::<libc::sockaddr_in>() => {
                // SAFETY: the family says the storage holds a `sockaddr_in`;
                // `sockaddr_storage` is large and aligned enough for it.
                let a =
                    unsafe { &*(s as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
                let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
                Some(SocketAddr::from((ip, u16::from_be(a.sin_port))))
            }
            libc::AF_INET6 if len >= mem::size_of::<libc::sockaddr_in6>() => {
                // SAFETY: as above, for `sockaddr_in6`.
                let a =
                    unsafe { &*(s as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
                Some(SocketAddr::V6(SocketAddrV6::new(
                    Ipv6Addr::from(a.sin6_addr.s6_addr),
                    u16::from_be(a.sin6_port),
                    a.sin6_flowinfo,
                    a.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    async fn pair() -> (UdpSocket, UdpSocket) {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        (a, b)
    }

    #[tokio::test]
    async fn one_read_takes_many_datagrams() {
        let (rx, tx) = pair().await;
        let to = rx.local_addr().unwrap();
        for i in 0..100 {
            tx.send_to(format!("datagram {i}").as_bytes(), to)
                .await
                .unwrap();
        }
        let mut batch = RecvBatch::new();
        let mut got = Vec::new();
        let mut reads = 0;
        while got.len() < 100 {
            rx.readable().await.unwrap();
            match batch.recv(&rx) {
                Ok(n) => {
                    reads += 1;
                    for (data, from) in batch.datagrams(n) {
                        assert_eq!(from, tx.local_addr().unwrap());
                        got.push(String::from_utf8(data.to_vec()).unwrap());
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("{e}"),
            }
        }
        let want: Vec<String> = (0..100).map(|i| format!("datagram {i}")).collect();
        assert_eq!(got, want);
        // All 100 were queued before the first read: BATCH per read.
        assert_eq!(reads, 100_usize.div_ceil(BATCH));
    }

    #[tokio::test]
    async fn flush_sends_everything_in_order() {
        let (rx, tx) = pair().await;
        let to = rx.local_addr().unwrap();
        let stats = NetStats::default();
        let mut q = SendQueue::default();
        for i in 0..100 {
            q.push(Bytes::from(format!("out {i}")), to, None);
        }
        // As in the server, where the runtime has seen the socket writable
        // before the driver sends (`try_io` does not even try before).
        tx.writable().await.unwrap();
        let mut failed = Vec::new();
        q.flush(&tx, &stats, &mut failed);
        assert!(failed.is_empty());
        assert_eq!(q.len(), 0);
        assert_eq!(NetStats::get(&stats.sent), 100);
        let mut buf = [0u8; 64];
        for i in 0..100 {
            let (n, _) = tokio::time::timeout(Duration::from_secs(5), rx.recv_from(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(&buf[..n], format!("out {i}").as_bytes());
        }
    }

    #[tokio::test]
    async fn a_failed_datagram_is_reported_and_the_rest_still_go() {
        let (rx, tx) = pair().await;
        let to = rx.local_addr().unwrap();
        // An IPv6 destination on an IPv4 socket: the kernel refuses it
        // (EAFNOSUPPORT) without anything reaching the wire. In the middle
        // of a batch, sendmmsg stops short there and the rest is sent by
        // the next call.
        let bad: SocketAddr = "[::1]:9".parse().unwrap();
        let (k1, k2) = (TransactionKey::detached(1), TransactionKey::detached(2));
        let stats = NetStats::default();
        let mut q = SendQueue::default();
        q.push(Bytes::from_static(b"first"), to, None);
        q.push(Bytes::from_static(b"refused 1"), bad, Some(k1));
        q.push(Bytes::from_static(b"second"), to, None);
        for i in 0..40 {
            q.push(Bytes::from(format!("more {i}")), to, None);
        }
        q.push(Bytes::from_static(b"refused 2"), bad, Some(k2));
        q.push(Bytes::from_static(b"last"), to, None);
        // As in the server, where the runtime has seen the socket writable
        // before the driver sends (`try_io` does not even try before).
        tx.writable().await.unwrap();
        let mut failed = Vec::new();
        q.flush(&tx, &stats, &mut failed);
        assert_eq!(failed, vec![k1, k2]);
        assert_eq!(NetStats::get(&stats.sent), 43);
        assert_eq!(NetStats::get(&stats.send_failures), 2);
        let mut buf = [0u8; 64];
        let mut got = Vec::new();
        for _ in 0..43 {
            let (n, _) = tokio::time::timeout(Duration::from_secs(5), rx.recv_from(&mut buf))
                .await
                .unwrap()
                .unwrap();
            got.push(String::from_utf8(buf[..n].to_vec()).unwrap());
        }
        assert_eq!(got[0], "first");
        assert_eq!(got[1], "second");
        assert_eq!(got[41], "more 39");
        assert_eq!(got[42], "last");
    }
}
