//! The location service (RFC 3261 §10, §16.5): every live binding in memory,
//! with the flow each one registered over. The store holds the durable copy;
//! this is what routing reads, so a lookup never touches the disk.

use std::collections::{HashMap, HashSet};

/// Seeded fast hashing for the tables (SipHash showed in REGISTER profiles).
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type Set<K> = HashSet<K, foldhash::fast::RandomState>;

use simple_store::Binding;
use sip_msg::{Host, Uri};
use sip_proto::{FlowId, Peer, Transport};

/// A binding and, while this process runs, the flow it was registered over.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveBinding {
    /// The durable part.
    pub binding: Binding,
    /// The transport, address and flow the REGISTER came over (RFC 5626:
    /// requests go back over it while it is open). `None` after a restart.
    pub peer: Option<Peer>,
}

impl LiveBinding {
    /// Can the contact only be reached over the flow it registered on? An
    /// outbound binding (RFC 5626), a WebSocket client (RFC 7118 §5), or a
    /// contact whose host is not an address (`*.invalid`).
    pub fn needs_flow(&self) -> bool {
        let b = &self.binding;
        if b.instance.is_some() && b.reg_id.is_some() {
            return true;
        }
        if self
            .peer
            .is_some_and(|p| matches!(p.transport, Transport::Ws | Transport::Wss))
        {
            return true;
        }
        let by_udp = match self.peer {
            Some(p) => p.transport == Transport::Udp,
            None => b.received.as_deref().is_some_and(|r| r.starts_with("udp:")),
        };
        // A name we cannot resolve: over UDP the source address still
        // reaches the client; a closed connection does not.
        match Uri::parse(&b.contact) {
            Ok(Uri::Sip(s)) => !matches!(s.host, Host::V4(_) | Host::V6(_)) && !by_udp,
            _ => true,
        }
    }
}

/// AOR → bindings, plus the indexes routing and flow loss need.
#[derive(Debug, Default)]
pub struct Location {
    by_aor: Map<String, Vec<LiveBinding>>,
    /// Contact URI (as registered) → AOR: in-dialog requests sent to a
    /// contact find its flow here.
    /// Several AORs may register one contact URI (a multi-line phone's
    /// `sip:192.0.2.1:5060`): all of them are kept, the most recently set
    /// last, so that one dropping it leaves the others findable.
    by_contact: Map<String, Vec<String>>,
    /// Flow → AORs with a binding registered over it.
    by_flow: Map<FlowId, Set<String>>,
    count: usize,
}

impl Location {
    /// An empty location service.
    pub fn new() -> Self {
        Location::default()
    }

    /// Loads bindings from the store at startup (no flows: they died with
    /// the previous process).
    pub fn load(bindings: Vec<Binding>) -> Self {
        let mut grouped: HashMap<String, Vec<LiveBinding>> = HashMap::new();
        for b in bindings {
            grouped.entry(b.aor.clone()).or_default().push(LiveBinding {
                binding: b,
                peer: None,
            });
        }
        let mut loc = Location::new();
        for (aor, set) in grouped {
            loc.set(&aor, set);
        }
        loc
    }

    /// Number of bindings held.
    pub fn len(&self) -> usize {
        self.count
    }

    /// No bindings at all?
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Number of AORs with at least one binding.
    pub fn aors(&self) -> usize {
        self.by_aor.len()
    }

    /// The AOR's bindings (expired ones included until [`expire`](Self::expire) runs).
    pub fn get(&self, aor: &str) -> &[LiveBinding] {
        self.by_aor.get(aor).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The AOR's bindings not expired at `now_ms`.
    pub fn live(&self, aor: &str, now_ms: i64) -> impl Iterator<Item = &LiveBinding> {
        self.get(aor)
            .iter()
            .filter(move |b| b.binding.expires_at_ms > now_ms)
    }

    /// The binding registered with this contact URI (exact string), if any;
    /// of several AORs' bindings, the most recently set one.
    pub fn by_contact(&self, contact: &str) -> Option<&LiveBinding> {
        let aor = self.by_contact.get(contact)?.last()?;
        self.get(aor).iter().find(|b| b.binding.contact == contact)
    }

    /// Replaces the AOR's binding set.
    pub fn set(&mut self, aor: &str, bindings: Vec<LiveBinding>) {
        // A refresh keeps the AOR's entry and index keys: only what
        // changed is removed or inserted (no key re-allocated per REGISTER).
        let old = if bindings.is_empty() {
            self.by_aor.remove(aor).unwrap_or_default()
        } else if let Some(slot) = self.by_aor.get_mut(aor) {
            std::mem::replace(slot, bindings)
        } else {
            self.by_aor.insert(aor.to_owned(), bindings);
            Vec::new()
        };
        let new = self.by_aor.get(aor).map(Vec::as_slice).unwrap_or(&[]);
        self.count = self.count - old.len() + new.len();
        let flow_of =
            |b: &LiveBinding| b.peer.filter(|p| p.transport.is_reliable()).map(|p| p.flow);
        for b in &old {
            let contact = &b.binding.contact;
            if !new.iter().any(|n| &n.binding.contact == contact)
                && let Some(aors) = self.by_contact.get_mut(contact)
            {
                aors.retain(|a| a != aor);
                if aors.is_empty() {
                    self.by_contact.remove(contact);
                }
            }
            if let Some(p) = b.peer
                && !new.iter().any(|n| flow_of(n) == Some(p.flow))
                && let Some(set) = self.by_flow.get_mut(&p.flow)
            {
                set.remove(aor);
                if set.is_empty() {
                    self.by_flow.remove(&p.flow);
                }
            }
        }
        for b in new {
            match self.by_contact.get_mut(&b.binding.contact) {
                // Already the most recent: a refresh changes nothing.
                Some(aors) if aors.last().is_some_and(|a| a == aor) => {}
                Some(aors) => {
                    aors.retain(|a| a != aor);
                    aors.push(aor.to_owned());
                }
                None => {
                    self.by_contact
                        .insert(b.binding.contact.clone(), vec![aor.to_owned()]);
                }
            }
            if let Some(flow) = flow_of(b) {
                let set = self.by_flow.entry(flow).or_default();
                if !set.contains(aor) {
                    set.insert(aor.to_owned());
                }
            }
        }
    }

    /// A flow closed (RFC 5626 §5.2: the registrar stops using it). Bindings
    /// that can only be reached over it are removed; the others forget it.
    /// Returns the AORs whose durable set changed, with the new set.
    pub fn flow_closed(&mut self, flow: FlowId) -> Vec<(String, Vec<Binding>)> {
        let Some(aors) = self.by_flow.remove(&flow) else {
            return Vec::new();
        };
        let mut changed = Vec::new();
        for aor in aors {
            let old = self.get(&aor).to_vec();
            let mut removed = false;
            let mut kept = Vec::with_capacity(old.len());
            for mut b in old {
                if b.peer.is_some_and(|p| p.flow == flow) {
                    if b.needs_flow() {
                        removed = true;
                        continue;
                    }
                    b.peer = None;
                }
                kept.push(b);
            }
            let durable: Vec<Binding> = kept.iter().map(|b| b.binding.clone()).collect();
            self.set(&aor, kept);
            if removed {
                changed.push((aor, durable));
            }
        }
        changed
    }

    /// Drops bindings expired at `now_ms`; returns how many.
    pub fn expire(&mut self, now_ms: i64) -> usize {
        let stale: Vec<String> = self
            .by_aor
            .iter()
            .filter(|(_, v)| v.iter().any(|b| b.binding.expires_at_ms <= now_ms))
            .map(|(k, _)| k.clone())
            .collect();
        let mut n = 0;
        for aor in stale {
            let old = self.get(&aor).to_vec();
            let before = old.len();
            let kept: Vec<LiveBinding> = old
                .into_iter()
                .filter(|b| b.binding.expires_at_ms > now_ms)
                .collect();
            n += before - kept.len();
            self.set(&aor, kept);
        }
        n
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn binding(aor: &str, contact: &str, exp: i64) -> Binding {
        Binding {
            aor: aor.into(),
            contact: contact.into(),
            params: String::new(),
            q: None,
            expires_at_ms: exp,
            call_id: "c".into(),
            cseq: 1,
            instance: None,
            reg_id: None,
            path: vec![],
            received: None,
            user_agent: None,
            updated_ms: 0,
        }
    }

    fn peer(t: Transport, flow: u64) -> Option<Peer> {
        Some(Peer::new(t, "127.0.0.1:9".parse().unwrap(), FlowId(flow)))
    }

    #[test]
    fn set_get_expire() {
        let mut l = Location::new();
        l.set(
            "sip:a@x",
            vec![
                LiveBinding {
                    binding: binding("sip:a@x", "sip:a@127.0.0.1", 100),
                    peer: None,
                },
                LiveBinding {
                    binding: binding("sip:a@x", "sip:a@127.0.0.2", 200),
                    peer: None,
                },
            ],
        );
        assert_eq!(l.len(), 2);
        assert_eq!(l.live("sip:a@x", 150).count(), 1);
        assert!(l.by_contact("sip:a@127.0.0.2").is_some());
        assert_eq!(l.expire(150), 1);
        assert_eq!(l.len(), 1);
        assert!(l.by_contact("sip:a@127.0.0.1").is_none());
        l.set("sip:a@x", vec![]);
        assert!(l.is_empty());
        assert_eq!(l.aors(), 0);
    }

    #[test]
    fn closed_flow_removes_only_flow_bound_bindings() {
        let mut l = Location::new();
        l.set(
            "sip:a@x",
            vec![
                // A WebSocket client: unreachable without its flow.
                LiveBinding {
                    binding: binding("sip:a@x", "sip:a@df7jal23ls0d.invalid;transport=ws", 100),
                    peer: peer(Transport::Ws, 7),
                },
                // A TCP client with a routable contact: kept, flow forgotten.
                LiveBinding {
                    binding: binding("sip:a@x", "sip:a@127.0.0.1:5999;transport=tcp", 100),
                    peer: peer(Transport::Tcp, 7),
                },
                LiveBinding {
                    binding: binding("sip:a@x", "sip:a@127.0.0.3", 100),
                    peer: peer(Transport::Tcp, 8),
                },
            ],
        );
        let changed = l.flow_closed(FlowId(7));
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].1.len(), 2);
        assert_eq!(l.len(), 2);
        assert!(
            l.by_contact("sip:a@127.0.0.1:5999;transport=tcp")
                .unwrap()
                .peer
                .is_none()
        );
        assert!(l.flow_closed(FlowId(7)).is_empty());
        assert!(l.flow_closed(FlowId(8)).is_empty(), "routable: kept");
        assert_eq!(l.len(), 2);
    }

    /// A refresh over another connection moves the binding to the new flow;
    /// a contact now registered by another AOR points there; the indexes
    /// follow every change of the set.
    #[test]
    fn set_keeps_the_indexes_in_step() {
        let ws = "sip:a@df7jal23ls0d.invalid;transport=ws";
        let mut l = Location::new();
        // A set of one binding of `aor` for `contact`.
        let single = |aor: &str, contact: &str, peer: Option<Peer>| {
            vec![LiveBinding {
                binding: binding(aor, contact, 100),
                peer,
            }]
        };
        let one = |flow| single("sip:a@x", ws, peer(Transport::Ws, flow));
        l.set("sip:a@x", one(1));
        l.set("sip:a@x", one(2));
        assert_eq!(l.len(), 1);
        assert!(
            !l.by_flow.contains_key(&FlowId(1)),
            "the old flow is forgotten"
        );
        assert!(l.by_flow[&FlowId(2)].contains("sip:a@x"));
        l.set("sip:a@x", one(3));
        // The same contact registered for another AOR: found under that one.
        l.set("sip:b@x", single("sip:b@x", ws, None));
        assert_eq!(l.by_contact(ws).unwrap().binding.aor, "sip:b@x");
        // a's set emptied: b keeps the contact index.
        l.set("sip:a@x", vec![]);
        assert_eq!(l.by_contact(ws).unwrap().binding.aor, "sip:b@x");
        assert_eq!((l.len(), l.aors()), (1, 1));
        assert!(l.by_flow.is_empty(), "a's flow is gone with it");
        l.set("sip:b@x", vec![]);
        assert!(l.by_contact(ws).is_none());
        assert!(l.is_empty());
        // Two AORs on one contact (a multi-line phone): the newest one
        // dropping it leaves the other findable.
        let phone = "sip:127.0.0.1:5066";
        let shared = |aor: &str| single(aor, phone, None);
        let owner = |l: &Location| l.by_contact(phone).map(|b| b.binding.aor.clone());
        l.set("sip:a@x", shared("sip:a@x"));
        l.set("sip:b@x", shared("sip:b@x"));
        assert_eq!(owner(&l).as_deref(), Some("sip:b@x"));
        l.set("sip:b@x", vec![]);
        assert_eq!(owner(&l).as_deref(), Some("sip:a@x"));
        // A refresh of a makes it the newest again; b coming back is newer.
        l.set("sip:b@x", shared("sip:b@x"));
        l.set("sip:a@x", shared("sip:a@x"));
        assert_eq!(owner(&l).as_deref(), Some("sip:a@x"));
        l.set("sip:a@x", vec![]);
        l.set("sip:b@x", vec![]);
        assert_eq!(owner(&l), None);
        assert!(l.by_contact.is_empty());
    }
}
