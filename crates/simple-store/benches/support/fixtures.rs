//! Rows the store benchmarks write: one registration with the RFC 5626
//! parameters and a Path, a ~1 KiB PIDF publication, a presence subscription
//! with its dialog (shared by `bindings.rs` and `cpu_per_op.rs`).

use simple_store::{Binding, Publication, Subscription};

/// The binding of AOR number `i`, as an RFC 5626 client registers it.
pub(crate) fn binding(i: usize, expires_at_ms: i64) -> Binding {
    Binding {
        aor: format!("sip:user{i}@example.test"),
        contact: format!("sip:user{i}@192.0.2.{}:5060;transport=tcp;ob", i % 250),
        params: format!(";+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-{i:012}>\";reg-id=1"),
        q: Some(1000),
        expires_at_ms,
        call_id: format!("{i}-call@192.0.2.1"),
        cseq: 2,
        instance: Some(format!("<urn:uuid:00000000-0000-0000-0000-{i:012}>")),
        reg_id: Some(1),
        path: vec!["<sip:edge.example.test;lr;ob>".to_owned()],
        received: Some(format!("tcp:192.0.2.{}:49152", i % 250)),
        user_agent: Some("Herald-Bench/0.1".to_owned()),
        updated_ms: expires_at_ms - 1,
    }
}

/// A ~1 KiB PIDF publication of AOR number `i`.
pub(crate) fn publication(i: usize, etag: String, expires_at_ms: u64) -> Publication {
    Publication {
        aor: format!("user{i}@example.test"),
        event: "presence".to_owned(),
        etag,
        content_type: "application/pidf+xml".to_owned(),
        body: vec![b'x'; 1024],
        expires_at_ms,
        updated_ms: expires_at_ms,
        created_ms: 1,
        publisher: format!("sip:user{i}@example.test"),
    }
}

/// A presence subscription of watcher number `i`, dialog state as after a NOTIFY.
pub(crate) fn subscription(i: usize, local_cseq: u32, expires_at_ms: u64) -> Subscription {
    Subscription {
        id: format!("sub-{i:08x}"),
        aor: format!("sip:user{}@example.test", i % 1000),
        event: "presence".to_owned(),
        event_id: None,
        watcher: format!("sip:watcher{i}@example.test"),
        state: "active".to_owned(),
        expires_at_ms,
        content_type: "application/pidf+xml".to_owned(),
        call_id: format!("{i}-sub@192.0.2.1"),
        local_tag: format!("ltag-{i:08x}"),
        remote_tag: Some(format!("rtag-{i:08x}")),
        local_uri: format!("sip:user{}@example.test", i % 1000),
        remote_uri: format!("sip:watcher{i}@example.test"),
        remote_target: format!("sip:watcher{i}@192.0.2.{}:5060;transport=tcp", i % 250),
        route_set: vec!["<sip:edge.example.test;lr>".to_owned()],
        secure: false,
        local_cseq,
        remote_cseq: 1,
        transport: "tcp".to_owned(),
        remote_addr: format!("192.0.2.{}:49152", i % 250),
        created_ms: 1,
        updated_ms: expires_at_ms,
    }
}
