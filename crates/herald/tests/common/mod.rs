//! Runs the real `herald` binary on loopback for behaviour tests: ephemeral
//! ports, a temporary data dir, addresses read from what the server prints.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub mod msrp;

pub struct Server {
    pub child: Child,
    pub data_dir: PathBuf,
    pub udp: Option<SocketAddr>,
    pub tcp: Option<SocketAddr>,
    pub ws: Option<SocketAddr>,
    pub wss: Option<SocketAddr>,
    /// The MSRP relay's listener, when started with `--listen msrp:...`.
    pub msrp: Option<SocketAddr>,
    /// The MSRP relay's TLS listener (`--listen msrps:...`).
    pub msrps: Option<SocketAddr>,
    pub lines: mpsc::Receiver<String>,
}

static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

impl Server {
    /// `herald --data-dir DIR serve --domain example.test --listen ...` (the
    /// form independent tests use), with ephemeral ports.
    pub fn start(extra: &[&str]) -> Server {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let data_dir = std::env::temp_dir().join(format!("herald-test-{}-{n}", std::process::id()));
        Server::start_with(data_dir, extra)
    }

    fn start_with(data_dir: PathBuf, extra: &[&str]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_herald"));
        cmd.arg("--data-dir")
            .arg(&data_dir)
            .args(["serve", "--domain", "example.test"])
            .args([
                "--listen",
                "udp:127.0.0.1:0",
                "--listen",
                "tcp:127.0.0.1:0",
                "--listen",
                "ws:127.0.0.1:0",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("start herald");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut s = Server {
            child,
            data_dir,
            udp: None,
            tcp: None,
            ws: None,
            wss: None,
            msrp: None,
            msrps: None,
            lines: rx,
        };
        // "herald: listening on udp:127.0.0.1:PORT", then the domains line.
        loop {
            let line = s
                .lines
                .recv_timeout(Duration::from_secs(20))
                .expect("herald printed its listeners");
            if let Some(rest) = line.strip_prefix("herald: listening on ") {
                let (t, a) = rest.split_once(':').unwrap();
                let a: SocketAddr = a.parse().unwrap();
                match t {
                    "udp" => s.udp = Some(a),
                    "tcp" => s.tcp = Some(a),
                    "ws" => s.ws = Some(a),
                    "wss" => s.wss = Some(a),
                    "msrp" => s.msrp = Some(a),
                    "msrps" => s.msrps = Some(a),
                    _ => {}
                }
            } else if line.starts_with("herald: domains") {
                break;
            }
        }
        s
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then the exit code (graceful shutdown must give 0).
    pub fn stop(mut self) -> Option<i32> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let code = wait_timeout(&mut self.child, Duration::from_secs(40));
        let _ = std::fs::remove_dir_all(&self.data_dir);
        code
    }

    /// SIGTERM and the exit code, keeping the data dir for a restart
    /// ([`Server::start_in`]); it is removed when this value drops.
    pub fn stop_keeping_data(&mut self) -> Option<i32> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        wait_timeout(&mut self.child, Duration::from_secs(40))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

fn wait_timeout(child: &mut Child, limit: Duration) -> Option<i32> {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(st)) = child.try_wait() {
            return st.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// A request with our own loopback Via (with rport) on top.
pub fn request(method: &str, uri: &str, via: SocketAddr, transport: &str, extra: &str) -> String {
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!(
        "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/{transport} {via};branch=z9hG4bKt{n}x{};rport\r\n\
Max-Forwards: 70\r\nFrom: <sip:alice@example.test>;tag=t{n}\r\nTo: <{uri}>\r\n\
Call-ID: test{n}@127.0.0.1\r\nCSeq: 1 {method}\r\n{extra}Content-Length: 0\r\n\r\n",
        std::process::id()
    )
}

pub struct Udp {
    pub sock: UdpSocket,
    pub server: SocketAddr,
}

impl Udp {
    pub fn new(server: SocketAddr) -> Udp {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        Udp { sock, server }
    }
    pub fn local(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }
    pub fn send(&self, data: &[u8]) {
        self.sock.send_to(data, self.server).unwrap();
    }
    /// The next message, skipping provisional responses; `None` on timeout.
    pub fn recv_final(&self) -> Option<String> {
        self.recv_final_matching(|_| true)
    }

    /// The next final response whose Call-ID is `call_id` (late answers to
    /// earlier requests are skipped).
    pub fn recv_final_for(&self, call_id: &str) -> Option<String> {
        self.recv_final_matching(|r| {
            header(r, "Call-ID").or_else(|| header(r, "i")) == Some(call_id)
        })
    }

    fn recv_final_matching(&self, want: impl Fn(&str) -> bool) -> Option<String> {
        let mut buf = vec![0u8; 65536];
        loop {
            let (n, _) = self.sock.recv_from(&mut buf).ok()?;
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            if !text.starts_with("SIP/2.0 1") && want(&text) {
                return Some(text);
            }
        }
    }
}

pub struct Tcp {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Tcp {
    pub fn connect(server: SocketAddr) -> Tcp {
        let stream = TcpStream::connect(server).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        Tcp {
            stream,
            buf: Vec::new(),
        }
    }
    pub fn local(&self) -> SocketAddr {
        self.stream.local_addr().unwrap()
    }
    pub fn send(&mut self, data: &[u8]) {
        self.stream.write_all(data).unwrap();
    }
    /// The next complete final response (framed by Content-Length); `None` on
    /// timeout or close.
    pub fn recv_final(&mut self) -> Option<String> {
        loop {
            if let Some(msg) = self.take_frame() {
                if !msg.starts_with("SIP/2.0 1") {
                    return Some(msg);
                }
                continue;
            }
            let mut chunk = [0u8; 8192];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }
    fn take_frame(&mut self) -> Option<String> {
        let text = String::from_utf8_lossy(&self.buf).into_owned();
        let head_end = text.find("\r\n\r\n")?;
        let cl = text[..head_end]
            .lines()
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                let n = n.trim().to_ascii_lowercase();
                (n == "content-length" || n == "l").then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        let total = head_end + 4 + cl;
        if self.buf.len() < total {
            return None;
        }
        let msg = String::from_utf8_lossy(&self.buf[..total]).into_owned();
        self.buf.drain(..total);
        Some(msg)
    }
}

/// Status code and reason of a response.
pub fn status_line(resp: &str) -> (u16, String) {
    let line = resp.lines().next().unwrap_or("");
    let mut parts = line.splitn(3, ' ');
    let _ = parts.next();
    let code = parts.next().and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, parts.next().unwrap_or("").to_owned())
}

/// Value of the first header named `name` (case-insensitive) in a response.
pub fn header<'a>(resp: &'a str, name: &str) -> Option<&'a str> {
    resp.split("\r\n\r\n")
        .next()?
        .lines()
        .skip(1)
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
}

impl Server {
    /// Like [`Server::start`] but on an existing data dir (a restart).
    pub fn start_in(data_dir: &std::path::Path, extra: &[&str]) -> Server {
        Server::start_with(data_dir.to_owned(), extra)
    }
}

/// `herald --data-dir DIR user add USER --password PASSWORD`: the CLI an
/// operator runs, here while the server runs (it must see the user at once).
pub fn add_user(data_dir: &std::path::Path, user: &str, password: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["user", "add", user, "--password", password])
        .output()
        .expect("run herald user add");
    assert!(
        out.status.success(),
        "herald user add {user}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A file in the temp dir, removed when dropped (configs, injection files).
pub struct TempFile(pub PathBuf);

impl TempFile {
    pub fn new(name: &str, contents: &str) -> TempFile {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("herald-test-{}-{n}-{name}", std::process::id()));
        std::fs::write(&path, contents).expect("write temp file");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// What a bounded peer run produced.
pub struct PeerRun {
    pub status: Option<std::process::ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

/// A loopback port free for both UDP and TCP right now, for a peer that
/// must be told its own port: sipp without `-p` listens on 5060, and the
/// tests of one binary run at once (two sipp runs over TCP collided there:
/// "Unable to listen main socket, errno = 98").
pub fn free_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Runs an external peer (sipp, baresip, a pjsua2 script) with piped output;
/// kills it, by its pid, when it is still running after `limit`. Panics
/// naming `package` when the program cannot be started (a missing peer is a
/// failure, not a skip).
pub fn run_bounded(cmd: &mut Command, limit: Duration, package: &str) -> PeerRun {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {:?} ({e}): install {package} (.ci/run does)",
                cmd.get_program()
            )
        });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let start = std::time::Instant::now();
    let mut status = None;
    let mut timed_out = false;
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            status = Some(st);
            break;
        }
        if start.elapsed() > limit {
            timed_out = true;
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    PeerRun {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
        timed_out,
    }
}
