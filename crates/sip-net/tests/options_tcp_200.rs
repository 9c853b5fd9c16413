//! OPTIONS over TCP: the 200 comes back on the same connection, which stays
//! open for the next request.

mod common;

use bytes::BytesMut;
use common::*;
use sip_proto::Transport;
use tokio::net::TcpStream;

#[tokio::test]
async fn options_over_tcp_gets_200_on_the_same_connection() {
    let mut srv = start(&[Transport::Tcp], |_| {}).await;
    let mut conn = TcpStream::connect(srv.addr(Transport::Tcp)).await.unwrap();
    let local = conn.local_addr().unwrap();
    let mut buf = BytesMut::new();
    for i in 0..2 {
        let (call_id, branch) = (format!("tcp-{i}@test"), format!("z9hG4bKtcp{i}"));
        write_all(
            &mut conn,
            options("TCP", local, &call_id, &branch).as_bytes(),
        )
        .await;
        let resp = read_message(&mut conn, &mut buf).await;
        assert_answers(&resp, 200, &call_id, &branch);
        let (_, _, peer) = srv.next_request().await;
        assert_eq!(peer.transport, Transport::Tcp);
        assert_eq!(peer.remote, local);
    }
    srv.stop().await;
}
