//! The agent's state as store rows and back.

use std::net::SocketAddr;

use simple_store::{Publication, Subscription};
use sip_proto::{
    Dialog, DialogParts, DialogState, FlowId, ServerSubscription, SubState, Transport,
};

use crate::agent::{PRESENCE, Pub, Watch};

/// The flow id that lets the transport layer choose (a restored
/// subscription's connection is gone).
const ANY_FLOW: FlowId = FlowId(0);

pub(crate) fn pub_row(aor: &str, p: &Pub) -> Publication {
    Publication {
        aor: aor.to_owned(),
        event: PRESENCE.to_owned(),
        etag: p.etag.clone(),
        content_type: p.content_type.clone(),
        body: p.body.clone(),
        expires_at_ms: p.expires_at_ms,
        updated_ms: p.updated_ms,
        created_ms: p.created_ms,
        publisher: p.publisher.clone(),
    }
}

pub(crate) fn pub_from_row(row: &Publication) -> Option<Pub> {
    let doc = simple_pidf::parse(&row.body).ok()?;
    Some(Pub {
        etag: row.etag.clone(),
        doc,
        content_type: row.content_type.clone(),
        body: row.body.clone(),
        expires_at_ms: row.expires_at_ms,
        updated_ms: row.updated_ms,
        created_ms: row.created_ms,
        publisher: row.publisher.clone(),
    })
}

fn state_token(s: &SubState) -> &'static str {
    match s {
        SubState::Pending => "pending",
        SubState::Active => "active",
        SubState::Terminated { .. } => "terminated",
    }
}

/// The row of a subscription; `local_cseq` is the reserved high-water mark,
/// not the last CSeq used.
pub(crate) fn sub_row(id: &str, w: &Watch) -> Subscription {
    let d = &w.sub.dialog;
    Subscription {
        id: id.to_owned(),
        aor: w.aor.to_string(),
        event: w.sub.package.to_string(),
        event_id: w.sub.id.as_deref().map(str::to_owned),
        watcher: w.watcher().to_owned(),
        state: state_token(&w.sub.state).to_owned(),
        expires_at_ms: w.sub.expires_at_ms,
        content_type: w.sub.content_type.to_string(),
        call_id: d.call_id().to_owned(),
        local_tag: d.local_tag().to_owned(),
        remote_tag: d.remote_tag().map(str::to_owned),
        local_uri: d.local_uri().to_owned(),
        remote_uri: d.remote_uri().to_owned(),
        remote_target: d.remote_target().to_owned(),
        route_set: d.route_set.to_vec(),
        secure: d.secure,
        local_cseq: w.cseq_reserved,
        remote_cseq: d.remote_seq.unwrap_or(0),
        transport: w.transport.via_token().to_ascii_lowercase(),
        remote_addr: w.remote.to_string(),
        created_ms: w.created_ms,
        updated_ms: w.updated_ms,
    }
}

pub(crate) fn watch_from_row(row: &Subscription, retries: u8) -> Option<Watch> {
    let state = match row.state.as_str() {
        "pending" => SubState::Pending,
        "active" => SubState::Active,
        _ => return None,
    };
    if row.event != PRESENCE && row.event != crate::agent::PRESENCE_WINFO {
        return None;
    }
    let transport = Transport::from_via_token(&row.transport)?;
    let remote: SocketAddr = row.remote_addr.parse().ok()?;
    // The watcher is the dialog's remote URI (both are the SUBSCRIBE's From
    // URI, RFC 3261 §12.1.1, and Herald writes them equal): a row where they
    // differ was not written by us, and the rules would judge someone else.
    if row.remote_uri.is_empty() || row.watcher != row.remote_uri {
        return None;
    }
    let dialog = Dialog::new(DialogParts {
        call_id: &row.call_id,
        local_tag: &row.local_tag,
        remote_tag: row.remote_tag.as_deref(),
        local_uri: &row.local_uri,
        remote_uri: &row.remote_uri,
        remote_target: &row.remote_target,
        route_set: row.route_set.clone(),
        state: DialogState::Confirmed,
        // The next NOTIFY goes above every CSeq the previous run may have
        // used (crate doc).
        local_seq: Some(row.local_cseq),
        remote_seq: Some(row.remote_cseq),
        secure: row.secure,
    });
    Some(Watch {
        sub: ServerSubscription {
            dialog,
            package: row.event.as_str().into(),
            id: row.event_id.as_deref().map(Box::from),
            state,
            expires_at_ms: row.expires_at_ms,
            content_type: row.content_type.as_str().into(),
        },
        aor: row.aor.as_str().into(),
        remote,
        flow: ANY_FLOW,
        transport,
        in_flight: None,
        dirty: false,
        retries_left: retries,
        // Decided again from the rules at restore.
        access: crate::authz::Access::everything(),
        winfo: None,
        waiting: false,
        cseq_reserved: row.local_cseq,
        created_ms: row.created_ms,
        updated_ms: row.updated_ms,
    })
}
