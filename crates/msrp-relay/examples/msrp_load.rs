//! MSRP relay load: two clients (alice, bob) AUTH to a relay (RFC 4976
//! digest), then alice sends SENDs to bob through it (To-Path relay/alice
//! relay/bob bob) as fast as a window of undelivered messages allows; bob
//! answers every SEND 200. Reports messages/s, MB/s and — with `--pid` — the
//! relay's CPU time per message, read from /proc (utime+stime of the pid's
//! process group when it leads one, else of the pid and its descendants).
//!
//! ```text
//! msrp_load --relay 127.0.0.1:2855 [--pid PID] [--size 1024] [--seconds 10]
//!           [--window 256] [--user alice --user2 bob --password secret]
//! ```
//!
//! One output line, `key=value` pairs: `messages`, `seconds`, `msgs_per_s`,
//! `mb_per_s` (body bytes delivered to bob, 10^6 bytes), `cpu_s`,
//! `cpu_us_per_msg`, `msgs_per_cpu_s`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use msrp::{ByteRange, Decoder, Frame, Limits, MessageId, Method, MsrpUri, TransactionId};

struct Args {
    relay: SocketAddr,
    pid: Option<u32>,
    size: usize,
    seconds: f64,
    window: u64,
    user: String,
    user2: String,
    password: String,
}

fn args() -> Args {
    let mut a = Args {
        relay: "127.0.0.1:2855".parse().unwrap(),
        pid: None,
        size: 1024,
        seconds: 10.0,
        window: 256,
        user: "alice".into(),
        user2: "bob".into(),
        password: "secret".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--relay" => a.relay = v.parse().expect("--relay ADDR:PORT"),
            "--pid" => a.pid = Some(v.parse().expect("--pid N")),
            "--size" => a.size = v.parse().expect("--size BYTES"),
            "--seconds" => a.seconds = v.parse().expect("--seconds S"),
            "--window" => a.window = v.parse().expect("--window N"),
            "--user" => a.user = v,
            "--user2" => a.user2 = v,
            "--password" => a.password = v,
            other => panic!("unknown option {other}"),
        }
    }
    a
}

/// A blocking MSRP connection.
struct Conn {
    s: TcpStream,
    buf: BytesMut,
    dec: Decoder,
    me: MsrpUri,
    relay: MsrpUri,
}

impl Conn {
    fn open(relay: SocketAddr) -> Conn {
        let s = TcpStream::connect(relay).expect("connect to the relay");
        s.set_nodelay(true).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let l = s.local_addr().unwrap();
        Conn {
            me: MsrpUri::new(
                false,
                &l.ip().to_string(),
                Some(l.port()),
                Some(&MsrpUri::random_session_id()),
                "tcp",
            )
            .unwrap(),
            relay: MsrpUri::new(
                false,
                &relay.ip().to_string(),
                Some(relay.port()),
                None,
                "tcp",
            )
            .unwrap(),
            s,
            buf: BytesMut::with_capacity(1 << 20),
            dec: Decoder::new(Limits {
                max_body: 64 << 20,
                ..Limits::default()
            }),
        }
    }

    fn recv(&mut self) -> Frame {
        loop {
            if let Some(f) = self.dec.decode(&mut self.buf).expect("a good frame") {
                return f;
            }
            self.buf.reserve(1 << 16);
            let n = read_into(&mut self.s, &mut self.buf);
            assert!(n > 0, "relay closed the connection");
        }
    }

    fn auth_frame(&self, authorization: Option<&str>) -> Frame {
        let mut b = Frame::builder(Method::Auth)
            .to_path(std::slice::from_ref(&self.relay))
            .from_path(std::slice::from_ref(&self.me));
        if let Some(a) = authorization {
            b = b.header("Authorization", a);
        }
        b.build().unwrap()
    }

    /// AUTH, 401, AUTH with credentials (RFC 4976 §5.1): the Use-Path URI.
    fn auth(&mut self, user: &str, password: &str) -> MsrpUri {
        self.s.write_all(&self.auth_frame(None).to_bytes()).unwrap();
        let ch = self.recv();
        let resp = if ch.status() == Some(401) {
            let offer = ch.www_authenticate().expect("WWW-Authenticate");
            let challenge = sip_msg::auth::Challenge::parse(offer).unwrap();
            let a = sip_auth::authorize(
                &challenge,
                &sip_auth::ClientCredentials {
                    username: user,
                    password,
                },
                "AUTH",
                self.relay.as_str(),
                b"",
                "0a4f113b",
                1,
            )
            .unwrap();
            self.s
                .write_all(&self.auth_frame(Some(&a)).to_bytes())
                .unwrap();
            self.recv()
        } else {
            ch
        };
        assert_eq!(resp.status(), Some(200), "AUTH as {user}: {resp:?}");
        resp.use_path().unwrap().expect("Use-Path").remove(0)
    }
}

fn read_into(s: &mut TcpStream, buf: &mut BytesMut) -> usize {
    let mut chunk = [0u8; 65536];
    match s.read(&mut chunk) {
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            n
        }
        Err(e) => panic!("read from the relay: {e}"),
    }
}

/// CPU seconds (utime+stime) of the relay: the pid's process group when it
/// leads one, else the pid and its descendants.
fn cpu_seconds(pid: u32) -> f64 {
    let tck = 100.0; // USER_HZ on Linux
    let stat = |p: &str| -> Option<Vec<String>> {
        let s = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
        let rest = &s[s.rfind(')')? + 2..];
        Some(rest.split_whitespace().map(str::to_owned).collect())
    };
    let all: Vec<(u32, Vec<String>)> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let p: u32 = name.parse().ok()?;
            Some((p, stat(&name)?))
        })
        .collect();
    // rest[0] is field 3: ppid = field 4, pgrp = field 5, utime 14, stime 15.
    let field = |f: &[String], n: usize| {
        f.get(n - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let leader = all
        .iter()
        .find(|(p, _)| *p == pid)
        .is_some_and(|(_, f)| field(f, 5) == u64::from(pid));
    let mut members: Vec<u32> = Vec::new();
    if leader {
        members = all
            .iter()
            .filter(|(_, f)| field(f, 5) == u64::from(pid))
            .map(|(p, _)| *p)
            .collect();
    } else {
        let mut todo = vec![pid];
        while let Some(p) = todo.pop() {
            members.push(p);
            todo.extend(
                all.iter()
                    .filter(|(_, f)| field(f, 4) == u64::from(p))
                    .map(|(c, _)| *c),
            );
        }
    }
    let ticks: u64 = all
        .iter()
        .filter(|(p, _)| members.contains(p))
        .map(|(_, f)| field(f, 14) + field(f, 15))
        .sum();
    ticks as f64 / tck
}

#[derive(Default)]
struct Progress {
    delivered: AtomicU64,
    bytes: AtomicU64,
    done: AtomicBool,
}

fn main() {
    let a = args();
    let mut alice = Conn::open(a.relay);
    let ua = alice.auth(&a.user, &a.password);
    let mut bob = Conn::open(a.relay);
    let ub = bob.auth(&a.user2, &a.password);
    let to_bob = [ua, ub, bob.me.clone()];

    let progress = Arc::new(Progress::default());
    let gate = Arc::new((Mutex::new(()), Condvar::new()));

    // Bob: read SENDs, answer each 200 (one write per read), count.
    let bob_progress = progress.clone();
    let bob_gate = gate.clone();
    let bob_thread = std::thread::spawn(move || {
        let mut out = BytesMut::with_capacity(1 << 16);
        bob.s
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut chunk = vec![0u8; 1 << 20];
        loop {
            loop {
                match bob.dec.decode(&mut bob.buf) {
                    Ok(Some(f)) => {
                        if f.method() == Some(&Method::Send) {
                            let n = f.body().map_or(0, Bytes::len) as u64;
                            f.response(200, Some("OK")).unwrap().encode_into(&mut out);
                            bob_progress.bytes.fetch_add(n, Ordering::Relaxed);
                            bob_progress.delivered.fetch_add(1, Ordering::Release);
                        }
                    }
                    Ok(None) => break,
                    Err(e) => panic!("bob: bad frame: {e}"),
                }
            }
            if !out.is_empty() {
                bob.s.write_all(&out).unwrap();
                out.clear();
                bob_gate.1.notify_all();
            }
            if bob_progress.done.load(Ordering::Acquire) {
                return;
            }
            match bob.s.read(&mut chunk) {
                Ok(0) => return,
                Ok(n) => bob.buf.extend_from_slice(&chunk[..n]),
                Err(_) => {}
            }
        }
    });

    // Alice's reader: drains the relay's 200s.
    let mut alice_rd = alice.s.try_clone().unwrap();
    alice_rd
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let alice_done = progress.clone();
    let alice_reader = std::thread::spawn(move || {
        let mut chunk = vec![0u8; 1 << 16];
        let mut n200 = 0u64;
        let mut buf = BytesMut::new();
        let mut dec = Decoder::new(Limits::default());
        loop {
            while let Ok(Some(f)) = dec.decode(&mut buf) {
                if f.status() == Some(200) {
                    n200 += 1;
                } else {
                    eprintln!("alice got {:?} {:?}", f.status(), f.method());
                }
            }
            if alice_done.done.load(Ordering::Acquire) {
                return n200;
            }
            match alice_rd.read(&mut chunk) {
                Ok(0) => return n200,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(_) => {}
            }
        }
    });

    let body = Bytes::from(vec![b'x'; a.size]);
    let mid = MessageId::random();
    let template = Frame::builder(Method::Send)
        .to_path(&to_bob)
        .from_path(std::slice::from_ref(&alice.me))
        .message_id(&mid)
        .byte_range(ByteRange::new(1, Some(a.size as u64), Some(a.size as u64)))
        .body("text/plain", body)
        .build()
        .unwrap();
    // Batches of at most a quarter window per write.
    let batch = (a.window / 4).max(1);
    let cpu0 = a.pid.map(cpu_seconds);
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs_f64(a.seconds);
    let mut sent = 0u64;
    let mut wbuf = BytesMut::with_capacity(1 << 20);
    let mut f = template;
    while Instant::now() < deadline {
        {
            let mut g = gate.0.lock().unwrap();
            while sent - progress.delivered.load(Ordering::Acquire) + batch > a.window {
                g = gate.1.wait_timeout(g, Duration::from_millis(50)).unwrap().0;
                if Instant::now() >= deadline {
                    break;
                }
            }
        }
        for _ in 0..batch {
            sent += 1;
            f.set_transaction_id(TransactionId::new(format!("tx{sent:08x}")).unwrap());
            if a.size >= 64 * 1024 {
                // Large bodies: head, body and tail without a copy.
                wbuf.clear();
                f.encode_head_into(&mut wbuf);
                alice.s.write_all(&wbuf).unwrap();
                alice.s.write_all(f.body().unwrap()).unwrap();
                wbuf.clear();
                f.encode_tail_into(&mut wbuf);
                alice.s.write_all(&wbuf).unwrap();
            } else {
                f.encode_into(&mut wbuf);
            }
        }
        if !wbuf.is_empty() && a.size < 64 * 1024 {
            alice.s.write_all(&wbuf).unwrap();
            wbuf.clear();
        }
    }
    // Wait for what is in flight (up to 10 s).
    let drain_until = Instant::now() + Duration::from_secs(10);
    while progress.delivered.load(Ordering::Acquire) < sent && Instant::now() < drain_until {
        std::thread::sleep(Duration::from_millis(2));
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu = match (a.pid, cpu0) {
        (Some(p), Some(c0)) => Some(cpu_seconds(p) - c0),
        _ => None,
    };
    progress.done.store(true, Ordering::Release);
    let delivered = progress.delivered.load(Ordering::Acquire);
    let bytes = progress.bytes.load(Ordering::Acquire);
    let _ = bob_thread.join();
    let n200 = alice_reader.join().unwrap_or(0);
    let mut line = format!(
        "size={} sent={sent} messages={delivered} relay_200s={n200} seconds={elapsed:.2} msgs_per_s={:.0} mb_per_s={:.1}",
        a.size,
        delivered as f64 / elapsed,
        bytes as f64 / elapsed / 1e6
    );
    if let Some(c) = cpu {
        line.push_str(&format!(
            " cpu_s={c:.2} cpu_us_per_msg={:.1} msgs_per_cpu_s={:.0}",
            c * 1e6 / delivered.max(1) as f64,
            delivered as f64 / c.max(0.01)
        ));
    }
    println!("{line}");
}
