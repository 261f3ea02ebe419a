//! Trace files and payloads into [`Span`]s: OTLP/JSON and OTLP protobuf
//! (`ExportTraceServiceRequest`, the `opentelemetry-proto` types), Jaeger JSON (the UI/API
//! export: `data[].spans` with `processes`) and Zipkin v2 and v1 JSON.
//!
//! Only what aggregation needs is kept: ids, the service (resource identity), kind,
//! times, error status and the attributes that name a peer.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use serde_json::Value;

/// A span's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Makes a call.
    Client,
    /// Serves a call.
    Server,
    /// Publishes a message.
    Producer,
    /// Consumes a message.
    Consumer,
    /// In-process work.
    Internal,
}

/// Who emitted a span: the resource attributes that identify a service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceKey {
    /// `service.name`.
    pub name: String,
    /// `service.namespace`.
    pub namespace: String,
    /// `k8s.deployment.name`.
    pub deployment: String,
    /// `k8s.namespace.name`.
    pub k8s_namespace: String,
}

/// Attributes that name what a CLIENT/PRODUCER/CONSUMER span talks to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Peer {
    /// `server.address` (or `net.peer.name`, Zipkin's remote endpoint).
    pub address: Option<String>,
    /// `peer.service`.
    pub service: Option<String>,
    /// `db.system` / `db.system.name`.
    pub db_system: Option<String>,
    /// `db.namespace` / `db.name`.
    pub db_namespace: Option<String>,
    /// `messaging.destination.name`.
    pub destination: Option<String>,
    /// `rpc.system`.
    pub rpc_system: Option<String>,
    /// `aws.s3.bucket`.
    pub bucket: Option<String>,
}

/// One span, as aggregation needs it.
#[derive(Debug, Clone)]
pub struct Span {
    /// Trace id.
    pub trace: u128,
    /// Span id.
    pub id: u64,
    /// The span this one answers: a SERVER span's calling CLIENT span (its parent; for
    /// Zipkin's shared spans, its own id).
    pub joins: Option<u64>,
    /// Emitting service.
    pub service: Arc<ServiceKey>,
    /// Kind.
    pub kind: Kind,
    /// Start, unix nanoseconds.
    pub start_ns: i64,
    /// Duration, nanoseconds.
    pub dur_ns: i64,
    /// Status ERROR (or an error tag).
    pub error: bool,
    /// Peer attributes.
    pub peer: Peer,
}

/// Trace formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OTLP/JSON `ExportTraceServiceRequest`.
    OtlpJson,
    /// OTLP protobuf `ExportTraceServiceRequest`.
    OtlpProto,
    /// Jaeger UI/API JSON.
    Jaeger,
    /// Zipkin v1 or v2 JSON (a list of spans, or of traces).
    Zipkin,
}

/// The trace format of a file, from its name and first bytes; `None` for other files.
pub fn detect(name: &str, bytes: &[u8]) -> Option<Format> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".pb") || lower.ends_with(".binpb") || lower.ends_with(".protobuf") {
        return Some(Format::OtlpProto);
    }
    if !lower.ends_with(".json") {
        return None;
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let compact: String = head.split_whitespace().collect();
    if compact.starts_with("{\"resourceSpans\"") || compact.contains("\"resourceSpans\":[") {
        return Some(Format::OtlpJson);
    }
    if compact.starts_with("{\"data\":[") && compact.contains("\"spans\":[") {
        return Some(Format::Jaeger);
    }
    if compact.starts_with('[') && compact.contains("\"traceId\"") && compact.contains("\"id\"") {
        return Some(Format::Zipkin);
    }
    None
}

/// Decodes `bytes` of `format` into spans, with how many spans were rejected (no valid
/// span id, no service).
pub fn decode(format: Format, bytes: &[u8]) -> Result<(Vec<Span>, u64), String> {
    match format {
        Format::OtlpJson => {
            let req: ExportTraceServiceRequest = serde_json::from_slice(bytes)
                .map_err(|e| format!("not an OTLP/JSON ExportTraceServiceRequest: {e}"))?;
            Ok(from_otlp(req))
        }
        Format::OtlpProto => {
            let req = <ExportTraceServiceRequest as prost::Message>::decode(bytes)
                .map_err(|e| format!("not an OTLP protobuf ExportTraceServiceRequest: {e}"))?;
            Ok(from_otlp(req))
        }
        Format::Jaeger => {
            let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
            from_jaeger(&v)
        }
        Format::Zipkin => {
            let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
            from_zipkin(&v)
        }
    }
}

fn id64(bytes: &[u8]) -> Option<u64> {
    (bytes.len() == 8).then(|| u64::from_be_bytes(bytes.try_into().unwrap_or_default()))
}

fn id128(bytes: &[u8]) -> u128 {
    let mut buf = [0u8; 16];
    let n = bytes.len().min(16);
    buf[16 - n..].copy_from_slice(&bytes[bytes.len() - n..]);
    u128::from_be_bytes(buf)
}

fn text(v: &AnyValue) -> Option<String> {
    match v.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        any_value::Value::IntValue(i) => Some(i.to_string()),
        any_value::Value::BoolValue(b) => Some(b.to_string()),
        any_value::Value::DoubleValue(d) => Some(d.to_string()),
        _ => None,
    }
}

fn attr(attrs: &[KeyValue], keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| {
        attrs.iter().find(|a| a.key == *k).and_then(|a| a.value.as_ref()).and_then(text)
    })
}

fn peer_of(get: impl Fn(&[&str]) -> Option<String>) -> Peer {
    Peer {
        address: get(&[
            "server.address",
            "net.peer.name",
            "network.peer.address",
            "net.sock.peer.name",
        ]),
        service: get(&["peer.service"]),
        db_system: get(&["db.system.name", "db.system"]),
        db_namespace: get(&["db.namespace", "db.name"]),
        destination: get(&["messaging.destination.name", "messaging.destination"]),
        rpc_system: get(&["rpc.system"]),
        bucket: get(&["aws.s3.bucket"]),
    }
}

/// Spans of an OTLP request, with the count of spans rejected (an id that is not 8 bytes).
pub fn from_otlp(req: ExportTraceServiceRequest) -> (Vec<Span>, u64) {
    let mut out = Vec::new();
    let mut rejected = 0;
    for rs in req.resource_spans {
        let attrs = rs.resource.map(|r| r.attributes).unwrap_or_default();
        let service = Arc::new(ServiceKey {
            name: attr(&attrs, &["service.name"]).unwrap_or_else(|| "unknown_service".into()),
            namespace: attr(&attrs, &["service.namespace"]).unwrap_or_default(),
            deployment: attr(&attrs, &["k8s.deployment.name"]).unwrap_or_default(),
            k8s_namespace: attr(&attrs, &["k8s.namespace.name"]).unwrap_or_default(),
        });
        for ss in rs.scope_spans {
            for s in ss.spans {
                let kind = match s.kind {
                    2 => Kind::Server,
                    3 => Kind::Client,
                    4 => Kind::Producer,
                    5 => Kind::Consumer,
                    _ => Kind::Internal,
                };
                let Some(id) = id64(&s.span_id) else {
                    rejected += 1;
                    continue;
                };
                let parent = id64(&s.parent_span_id);
                out.push(Span {
                    trace: id128(&s.trace_id),
                    id,
                    joins: parent,
                    service: service.clone(),
                    kind,
                    start_ns: s.start_time_unix_nano as i64,
                    dur_ns: s.end_time_unix_nano.saturating_sub(s.start_time_unix_nano) as i64,
                    error: s.status.as_ref().is_some_and(|st| st.code == 2),
                    peer: peer_of(|keys| attr(&s.attributes, keys)),
                });
            }
        }
    }
    (out, rejected)
}

fn hex(v: Option<&Value>) -> Option<u128> {
    let s = v?.as_str()?;
    u128::from_str_radix(s.trim_start_matches("0x"), 16).ok()
}

fn tag_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `[{"key", "value"}]` lists (Jaeger tags, Zipkin v1 binary annotations) as pairs.
fn key_values(list: Option<&Value>) -> Vec<(String, String)> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| Some((t.get("key")?.as_str()?.to_string(), tag_text(t.get("value")?)?)))
        .collect()
}

fn from_jaeger(v: &Value) -> Result<(Vec<Span>, u64), String> {
    let data =
        v.get("data").and_then(Value::as_array).ok_or("data: expected an array of traces")?;
    let mut out = Vec::new();
    let mut rejected = 0;
    for (t, trace) in data.iter().enumerate() {
        let processes = trace.get("processes").and_then(Value::as_object);
        let spans = trace
            .get("spans")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("data[{t}].spans: expected an array"))?;
        for s in spans {
            let tags = key_values(s.get("tags"));
            let tag = |keys: &[&str]| {
                keys.iter()
                    .find_map(|k| tags.iter().find(|(tk, _)| tk == k).map(|(_, v)| v.clone()))
            };
            let process =
                s.get("processID").and_then(Value::as_str).and_then(|p| processes?.get(p));
            let ptags = key_values(process.and_then(|p| p.get("tags")));
            let ptag = |k: &str| {
                ptags.iter().find(|(tk, _)| tk == k).map(|(_, v)| v.clone()).unwrap_or_default()
            };
            let name = process
                .and_then(|p| p.get("serviceName"))
                .and_then(Value::as_str)
                .unwrap_or("unknown_service");
            let service = Arc::new(ServiceKey {
                name: name.to_string(),
                namespace: ptag("service.namespace"),
                deployment: ptag("k8s.deployment.name"),
                k8s_namespace: ptag("k8s.namespace.name"),
            });
            let kind = match tag(&["span.kind"]).as_deref() {
                Some("client") => Kind::Client,
                Some("server") => Kind::Server,
                Some("producer") => Kind::Producer,
                Some("consumer") => Kind::Consumer,
                _ => Kind::Internal,
            };
            let parent = s
                .get("references")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|r| r.get("refType").and_then(Value::as_str) == Some("CHILD_OF"))
                .and_then(|r| hex(r.get("spanID")))
                .map(|p| p as u64);
            let Some(id) = hex(s.get("spanID")) else {
                rejected += 1;
                continue;
            };
            let error = tag(&["error"]).as_deref() == Some("true")
                || tag(&["otel.status_code"]).as_deref() == Some("ERROR");
            out.push(Span {
                trace: hex(s.get("traceID")).unwrap_or_default(),
                id: id as u64,
                joins: parent,
                service,
                kind,
                start_ns: s.get("startTime").and_then(Value::as_i64).unwrap_or(0) * 1000,
                dur_ns: s.get("duration").and_then(Value::as_i64).unwrap_or(0) * 1000,
                error,
                peer: peer_of(|keys| tag(keys)),
            });
        }
    }
    Ok((out, rejected))
}

fn from_zipkin(v: &Value) -> Result<(Vec<Span>, u64), String> {
    let list = v.as_array().ok_or("expected a JSON array of spans")?;
    // A list of traces (each a list of spans) or a list of spans.
    let spans: Vec<&Value> = if list.first().is_some_and(Value::is_array) {
        list.iter().filter_map(Value::as_array).flatten().collect()
    } else {
        list.iter().collect()
    };
    let mut out = Vec::new();
    let mut rejected = 0;
    for s in spans {
        let Some(id) = hex(s.get("id")).map(|i| i as u64) else {
            rejected += 1;
            continue;
        };
        let trace = hex(s.get("traceId")).unwrap_or_default();
        let parent = hex(s.get("parentId")).map(|p| p as u64);
        let start_ns = s.get("timestamp").and_then(Value::as_i64).unwrap_or(0) * 1000;
        let dur_ns = s.get("duration").and_then(Value::as_i64).unwrap_or(0) * 1000;
        let tags: Vec<(String, String)> = match s.get("tags").and_then(Value::as_object) {
            Some(map) => map.iter().filter_map(|(k, v)| Some((k.clone(), tag_text(v)?))).collect(),
            None => key_values(s.get("binaryAnnotations")),
        };
        let tag = |keys: &[&str]| {
            keys.iter().find_map(|k| tags.iter().find(|(tk, _)| tk == k).map(|(_, v)| v.clone()))
        };
        let error =
            tag(&["error"]).is_some() || tag(&["otel.status_code"]).as_deref() == Some("ERROR");
        let endpoint_service = |e: Option<&Value>| {
            e.and_then(|e| e.get("serviceName"))
                .and_then(Value::as_str)
                .map(|n| Arc::new(ServiceKey { name: n.to_string(), ..ServiceKey::default() }))
        };
        let span = |kind, service, joins, peer| Span {
            trace,
            id,
            joins,
            service,
            kind,
            start_ns,
            dur_ns,
            error,
            peer,
        };
        if let Some(kind) = s.get("kind").and_then(Value::as_str) {
            // v2: one side per span; a SERVER span shares its CLIENT span's id.
            let Some(service) = endpoint_service(s.get("localEndpoint")) else {
                rejected += 1;
                continue;
            };
            let remote = s.get("remoteEndpoint");
            let mut peer = peer_of(|keys| tag(keys));
            if peer.service.is_none() {
                peer.service = remote
                    .and_then(|r| r.get("serviceName"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
            }
            let kind = match kind {
                "CLIENT" => Kind::Client,
                "SERVER" => Kind::Server,
                "PRODUCER" => Kind::Producer,
                "CONSUMER" => Kind::Consumer,
                _ => Kind::Internal,
            };
            let shared = s.get("shared").and_then(Value::as_bool).unwrap_or(false);
            let joins = if kind == Kind::Server && shared { Some(id) } else { parent };
            out.push(span(kind, service, joins, peer));
            continue;
        }
        // v1: annotations cs/cr name the client side, sr/ss the server side, in one span.
        let annotations =
            s.get("annotations").and_then(Value::as_array).cloned().unwrap_or_default();
        let side = |values: &[&str]| {
            annotations
                .iter()
                .find(|a| {
                    a.get("value").and_then(Value::as_str).is_some_and(|v| values.contains(&v))
                })
                .and_then(|a| endpoint_service(a.get("endpoint")))
        };
        let client = side(&["cs", "cr"]);
        let server = side(&["sr", "ss"]);
        match (client, server) {
            (Some(c), Some(srv)) => {
                out.push(span(Kind::Client, c, parent, Peer::default()));
                out.push(span(Kind::Server, srv, Some(id), Peer::default()));
            }
            (Some(c), None) => out.push(span(Kind::Client, c, parent, Peer::default())),
            (None, Some(srv)) => {
                let joins = parent.map(|_| id);
                out.push(span(Kind::Server, srv, joins, Peer::default()));
            }
            (None, None) => rejected += 1,
        }
    }
    Ok((out, rejected))
}
