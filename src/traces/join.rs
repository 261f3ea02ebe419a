//! Spans into observations: who called whom, with the client side's figures.
//!
//! - A CLIENT span whose answering SERVER span is in another service is a call
//!   (`calls`), counted once, with the client span's duration and status. The two may
//!   arrive in either order: the first waits in a bounded window for the other.
//! - A SERVER span whose parent is another service's non-CLIENT span (no client
//!   instrumentation) is a call with the server side's figures.
//! - A CLIENT span with `db.system` (or `rpc.system` aws-api and a bucket), a PRODUCER and
//!   a CONSUMER span with a destination are uses of a datastore or topic (`depends_on`).
//! - SERVER and CONSUMER spans are the service's own RED figures.
//!
//! A CLIENT span left unanswered when the window closes is attributed by the address it
//! called (`peer.service`, `server.address`) when it names one; a SERVER span whose
//! caller never arrived is counted as unjoined. Nothing is dropped without a count.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::decode::{Kind, Peer, ServiceKey, Span};

/// What an observation points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// A service seen in traces.
    Service(Arc<ServiceKey>),
    /// A datastore or topic, by the names the span gives, best first.
    Store(Vec<String>),
    /// What an unanswered CLIENT span called, by the names it gives, best first.
    Address(Vec<String>),
    /// The service itself (RED from its SERVER/CONSUMER spans).
    Own,
}

/// One request seen.
#[derive(Debug, Clone)]
pub struct Observation {
    /// The caller (or the service, for [`Target::Own`]).
    pub from: Arc<ServiceKey>,
    /// The callee.
    pub to: Target,
    /// Start, unix nanoseconds.
    pub start_ns: i64,
    /// Duration, nanoseconds.
    pub dur_ns: i64,
    /// Whether it failed.
    pub error: bool,
    /// Trace id.
    pub trace: u128,
}

/// Counts of what could not be joined.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Unjoined {
    /// CLIENT spans never answered and naming no address.
    pub clients: u64,
    /// SERVER spans whose calling span never arrived.
    pub servers: u64,
    /// CLIENT spans never answered, attributed by address.
    pub by_address: u64,
}

struct Pending {
    service: Arc<ServiceKey>,
    start_ns: i64,
    dur_ns: i64,
    error: bool,
    peer: Peer,
}

/// The bounded join of spans into observations.
pub struct Joiner {
    /// CLIENT spans waiting for their SERVER span.
    clients: HashMap<(u128, u64), Pending>,
    /// SERVER spans waiting for their calling span, by the id they answer.
    servers: HashMap<(u128, u64), Span>,
    /// Recent non-CLIENT spans' services, for SERVER spans whose parent is one.
    seen: HashMap<(u128, u64), Arc<ServiceKey>>,
    /// Insertion order of the three maps, for eviction.
    order: VecDeque<(u8, (u128, u64))>,
    /// Most entries held.
    cap: usize,
    /// What could not be joined.
    pub unjoined: Unjoined,
}

impl std::fmt::Debug for Joiner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Joiner").field("held", &self.order.len()).finish()
    }
}

/// Names of a datastore or topic a span uses, best first; `None` when it uses none.
fn store_names(span: &Span) -> Option<Vec<String>> {
    let p = &span.peer;
    let names = match span.kind {
        Kind::Producer | Kind::Consumer => vec![p.destination.clone()?],
        Kind::Client if p.db_system.is_some() => {
            [&p.service, &p.address, &p.db_namespace].into_iter().flatten().cloned().collect()
        }
        Kind::Client if p.rpc_system.as_deref() == Some("aws-api") && p.bucket.is_some() => {
            [&p.bucket, &p.service, &p.address].into_iter().flatten().cloned().collect()
        }
        _ => return None,
    };
    (!names.is_empty()).then_some(names)
}

fn address_names(peer: &Peer) -> Vec<String> {
    [&peer.service, &peer.address].into_iter().flatten().cloned().collect()
}

impl Joiner {
    /// A joiner holding at most `cap` waiting spans.
    pub fn new(cap: usize) -> Joiner {
        Joiner {
            clients: HashMap::new(),
            servers: HashMap::new(),
            seen: HashMap::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
            unjoined: Unjoined::default(),
        }
    }

    /// Spans waiting for their other side.
    pub fn held(&self) -> usize {
        self.clients.len() + self.servers.len()
    }

    /// Adds a span; observations it completes go to `out`.
    pub fn push(&mut self, span: Span, out: &mut Vec<Observation>) {
        let obs = |from: &Arc<ServiceKey>, to, s: &Span| Observation {
            from: from.clone(),
            to,
            start_ns: s.start_ns,
            dur_ns: s.dur_ns,
            error: s.error,
            trace: s.trace,
        };
        if matches!(span.kind, Kind::Server | Kind::Consumer) {
            out.push(obs(&span.service, Target::Own, &span));
        }
        if let Some(names) = store_names(&span) {
            out.push(obs(&span.service, Target::Store(names), &span));
            if span.kind != Kind::Consumer {
                return;
            }
        }
        match span.kind {
            Kind::Client => {
                let key = (span.trace, span.id);
                if let Some(server) = self.servers.remove(&key) {
                    if server.service != span.service {
                        out.push(obs(&span.service, Target::Service(server.service), &span));
                    }
                    return;
                }
                let pending = Pending {
                    service: span.service.clone(),
                    start_ns: span.start_ns,
                    dur_ns: span.dur_ns,
                    error: span.error,
                    peer: span.peer.clone(),
                };
                self.clients.insert(key, pending);
                self.order.push_back((0, key));
            }
            Kind::Server => {
                let Some(answers) = span.joins else { return self.remember(&span) };
                let key = (span.trace, answers);
                if let Some(client) = self.clients.remove(&key) {
                    if client.service != span.service {
                        out.push(Observation {
                            from: client.service,
                            to: Target::Service(span.service.clone()),
                            start_ns: client.start_ns,
                            dur_ns: client.dur_ns,
                            error: client.error,
                            trace: span.trace,
                        });
                    }
                } else {
                    self.servers.insert(key, span.clone());
                    self.order.push_back((1, key));
                }
                self.remember(&span);
            }
            _ => self.remember(&span),
        }
        while self.order.len() > self.cap {
            if let Some((which, key)) = self.order.pop_front() {
                self.evict(which, key, out);
            }
        }
    }

    fn remember(&mut self, span: &Span) {
        let key = (span.trace, span.id);
        if self.seen.insert(key, span.service.clone()).is_none() {
            self.order.push_back((2, key));
        }
    }

    fn evict(&mut self, which: u8, key: (u128, u64), out: &mut Vec<Observation>) {
        match which {
            0 => {
                if let Some(c) = self.clients.remove(&key) {
                    let names = address_names(&c.peer);
                    if names.is_empty() {
                        self.unjoined.clients += 1;
                    } else {
                        self.unjoined.by_address += 1;
                        out.push(Observation {
                            from: c.service,
                            to: Target::Address(names),
                            start_ns: c.start_ns,
                            dur_ns: c.dur_ns,
                            error: c.error,
                            trace: key.0,
                        });
                    }
                }
            }
            1 => {
                if let Some(s) = self.servers.remove(&key) {
                    match self.seen.get(&key) {
                        Some(caller) if *caller != s.service => out.push(Observation {
                            from: caller.clone(),
                            to: Target::Service(s.service.clone()),
                            start_ns: s.start_ns,
                            dur_ns: s.dur_ns,
                            error: s.error,
                            trace: s.trace,
                        }),
                        Some(_) => {}
                        None => self.unjoined.servers += 1,
                    }
                }
            }
            _ => {
                self.seen.remove(&key);
            }
        }
    }

    /// Closes the window: every waiting span is attributed or counted.
    pub fn flush(&mut self, out: &mut Vec<Observation>) {
        // Servers first, while the spans they may answer are still remembered.
        let servers: Vec<_> = self.order.iter().filter(|(w, _)| *w == 1).copied().collect();
        for (which, key) in servers {
            self.evict(which, key, out);
        }
        while let Some((which, key)) = self.order.pop_front() {
            self.evict(which, key, out);
        }
    }
}
