//! Rough load figure, not a criterion benchmark: OPTIONS/200 round trips per
//! second through the whole stack (parse, transaction layer, TU, serialize)
//! over UDP and TCP on loopback, with 32 concurrent clients each waiting for
//! its answer before the next request. Client and server share the machine.
//! Only 200s count. UDP server transactions linger for Timer J (64*T1), so
//! T1 is 50 ms here (J = 3.2 s) and the transaction cap is raised: with the
//! defaults the 65 536 cap is reached within a second and the rest are 503s.
//!
//! `cargo bench -p sip-net --bench options_rps`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use sip_msg::{Frame, SipMessage, StreamDecoder};
use sip_net::{Ctx, ListenerSpec, NetConfig, SipServer, TransactionUser};
use sip_proto::{Peer, Tag, TransactionKey, Transport, stateless_response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio_util::sync::CancellationToken;

struct Echo;

impl TransactionUser for Echo {
    fn on_request(&mut self, ctx: &mut Ctx<'_>, key: TransactionKey, msg: SipMessage, _: Peer) {
        let ok = stateless_response(&msg, 200, Some(&Tag::from("b"))).unwrap();
        ctx.respond(key, ok);
    }
}

const CLIENTS: usize = 32;
const RUN: Duration = Duration::from_secs(3);

fn options(t: &str, local: std::net::SocketAddr, n: u64) -> String {
    format!(
        "OPTIONS sip:server@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/{t} {local};rport;branch=z9hG4bK{n}x{}\r\n\
Max-Forwards: 70\r\nFrom: <sip:c@127.0.0.1>;tag=c\r\nTo: <sip:server@127.0.0.1>\r\n\
Call-ID: {n}-{}@bench\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        local.port(),
        local.port()
    )
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let config = NetConfig {
            listeners: vec![
                ListenerSpec::new(Transport::Udp, "127.0.0.1:0".parse().unwrap()),
                ListenerSpec::new(Transport::Tcp, "127.0.0.1:0".parse().unwrap()),
            ],
            timers: sip_proto::Timers {
                t1: Duration::from_millis(50),
                ..sip_proto::Timers::default()
            },
            max_transactions: 1 << 20,
            ..NetConfig::default()
        };
        let server = SipServer::bind(config).await.unwrap();
        let udp = server.local_addr(Transport::Udp).unwrap();
        let tcp = server.local_addr(Transport::Tcp).unwrap();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(server.run(Echo, shutdown.clone()));

        let done = Arc::new(AtomicU64::new(0));
        let t0 = Instant::now();
        let mut clients = Vec::new();
        for _ in 0..CLIENTS {
            let done = Arc::clone(&done);
            clients.push(tokio::spawn(async move {
                let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                s.connect(udp).await.unwrap();
                let local = s.local_addr().unwrap();
                let mut buf = vec![0u8; 65535];
                let mut n = 0;
                while t0.elapsed() < RUN {
                    n += 1;
                    s.send(options("UDP", local, n).as_bytes()).await.unwrap();
                    if tokio::time::timeout(Duration::from_secs(1), s.recv(&mut buf))
                        .await
                        .is_ok()
                    {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        for c in clients.drain(..) {
            c.await.unwrap();
        }
        let udp_rps = done.load(Ordering::Relaxed) as f64 / t0.elapsed().as_secs_f64();

        done.store(0, Ordering::Relaxed);
        let t0 = Instant::now();
        for _ in 0..CLIENTS {
            let done = Arc::clone(&done);
            clients.push(tokio::spawn(async move {
                let mut s = TcpStream::connect(tcp).await.unwrap();
                s.set_nodelay(true).unwrap();
                let local = s.local_addr().unwrap();
                let mut buf = BytesMut::new();
                let mut dec = StreamDecoder::new(65535).client();
                let mut n = 0;
                while t0.elapsed() < RUN {
                    n += 1;
                    s.write_all(options("TCP", local, n).as_bytes())
                        .await
                        .unwrap();
                    loop {
                        if let Some(Frame::Message(m)) = dec.decode(&mut buf).unwrap() {
                            assert_eq!(m.status(), Some(200));
                            break;
                        }
                        assert!(s.read_buf(&mut buf).await.unwrap() > 0);
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        for c in clients {
            c.await.unwrap();
        }
        let tcp_rps = done.load(Ordering::Relaxed) as f64 / t0.elapsed().as_secs_f64();
        println!("OPTIONS round trips/s, {CLIENTS} clients: UDP {udp_rps:.0}, TCP {tcp_rps:.0}");
        shutdown.cancel();
        // UDP transactions linger in Completed (Timer J); the drain does not wait for them.
        task.await.unwrap().unwrap();
    });
}
