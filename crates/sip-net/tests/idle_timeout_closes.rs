//! A connection without traffic for idle_timeout is closed; one that keeps
//! sending keep-alives stays open.

mod common;

use std::time::{Duration, Instant};

use common::*;
use sip_net::NetStats;
use sip_proto::Transport;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

#[tokio::test]
async fn idle_connection_is_closed() {
    let idle = Duration::from_millis(300);
    let srv = start(&[Transport::Tcp], |c| c.idle_timeout = idle).await;
    let addr = srv.addr(Transport::Tcp);
    let t0 = Instant::now();
    let mut quiet = TcpStream::connect(addr).await.unwrap();
    let mut busy = TcpStream::connect(addr).await.unwrap();

    // `busy` pings every 100 ms and reads its pongs for 600 ms.
    let keep = async {
        for _ in 0..6 {
            write_all(&mut busy, b"\r\n\r\n").await;
            let mut pong = [0u8; 2];
            busy.read_exact(&mut pong).await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let (_, ()) = tokio::join!(expect_closed(&mut quiet, Duration::from_secs(5)), keep);
    let closed_after = t0.elapsed();
    assert!(
        closed_after >= idle - Duration::from_millis(50),
        "{closed_after:?}"
    );
    assert_eq!(NetStats::get(&srv.stats.connections_idle_closed), 1);

    // Still open after twice the idle timeout.
    write_all(&mut busy, b"\r\n\r\n").await;
    let mut pong = [0u8; 2];
    busy.read_exact(&mut pong).await.unwrap();
    assert_eq!(&pong, b"\r\n");
    srv.stop().await;
}
