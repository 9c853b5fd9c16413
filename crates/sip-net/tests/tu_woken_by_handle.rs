//! Async work comes back into the TU: another task wakes it through the
//! server handle, and the TU answers the request it had put aside.

// Helpers below unwrap like the tests they serve.
#![allow(clippy::unwrap_used)]

mod common;

use std::any::Any;
use std::collections::HashMap;

use bytes::BytesMut;
use common::*;
use sip_msg::SipMessage;
use sip_net::{Ctx, ListenerSpec, NetConfig, SipServer, TransactionUser};
use sip_proto::{Peer, Tag, TransactionKey, Transport, stateless_response};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Puts every request aside and answers it when woken with
/// `(key, status)`.
struct Deferred {
    pending: HashMap<TransactionKey, SipMessage>,
    keys: mpsc::UnboundedSender<TransactionKey>,
}

impl TransactionUser for Deferred {
    fn on_request(&mut self, _: &mut Ctx<'_>, key: TransactionKey, msg: SipMessage, _: Peer) {
        self.pending.insert(key, msg);
        self.keys.send(key).unwrap();
    }

    fn on_wake(&mut self, ctx: &mut Ctx<'_>, msg: Box<dyn Any + Send>) {
        let Ok(answer) = msg.downcast::<(TransactionKey, u16)>() else {
            return;
        };
        let (key, status) = *answer;
        if let Some(req) = self.pending.remove(&key) {
            let resp = stateless_response(&req, status, Some(&Tag::from("w"))).unwrap();
            ctx.respond(key, resp);
        }
    }
}

#[tokio::test]
async fn woken_tu_answers_a_deferred_request() {
    let config = NetConfig {
        listeners: vec![ListenerSpec::new(
            Transport::Tcp,
            "127.0.0.1:0".parse().unwrap(),
        )],
        ..NetConfig::default()
    };
    let server = SipServer::bind(config).await.unwrap();
    let addr = server.local_addr(Transport::Tcp).unwrap();
    let handle = server.handle();
    let (tx, mut keys) = mpsc::unbounded_channel();
    let shutdown = CancellationToken::new();
    let tu = Deferred {
        pending: HashMap::new(),
        keys: tx,
    };
    let task = tokio::spawn(server.run(tu, shutdown.clone()));

    let mut conn = TcpStream::connect(addr).await.unwrap();
    let local = conn.local_addr().unwrap();
    write_all(
        &mut conn,
        options("TCP", local, "wake@test", "z9hG4bKwake").as_bytes(),
    )
    .await;
    let key = keys.recv().await.unwrap();
    // Elsewhere, the slow work finishes and wakes the TU.
    tokio::spawn(async move { handle.wake((key, 202u16)).await.unwrap() });
    let mut buf = BytesMut::new();
    assert_answers(
        &read_message(&mut conn, &mut buf).await,
        202,
        "wake@test",
        "z9hG4bKwake",
    );

    shutdown.cancel();
    task.await.unwrap().unwrap();
}
