//! OPTIONS over TLS (rcgen certificate, rustls client): the 200 comes back
//! on the same connection.

mod common;

use bytes::BytesMut;
use common::*;
use sip_proto::Transport;

#[tokio::test]
async fn options_over_tls_gets_200_on_the_same_connection() {
    let mut srv = start(&[Transport::Tls], |_| {}).await;
    let mut conn = tls_connect(srv.addr(Transport::Tls), &srv.ca_pem).await;
    let local = conn.get_ref().0.local_addr().unwrap();
    let mut buf = BytesMut::new();
    for i in 0..2 {
        let (call_id, branch) = (format!("tls-{i}@test"), format!("z9hG4bKtls{i}"));
        write_all(
            &mut conn,
            options("TLS", local, &call_id, &branch).as_bytes(),
        )
        .await;
        let resp = read_message(&mut conn, &mut buf).await;
        assert_answers(&resp, 200, &call_id, &branch);
        let (_, _, peer) = srv.next_request().await;
        assert_eq!(peer.transport, Transport::Tls);
        assert_eq!(peer.remote, local);
    }
    srv.stop().await;
}
