//! Prometheus `/metrics`: Lore's own golden signals (requests, errors, latency, graph size).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;

const REQUESTS: &str = "lore_http_requests_total";
const DURATION: &str = "lore_http_request_duration_seconds";
const GRAPH_NODES: &str = "lore_graph_nodes";
const GRAPH_EDGES: &str = "lore_graph_edges";
const BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0];

#[derive(Debug, Default)]
struct RouteStats {
    by_status: BTreeMap<u16, u64>,
    buckets: [u64; 8],
    sum: f64,
    count: u64,
}

/// Request counters and latency histograms per route.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    routes: Mutex<BTreeMap<String, RouteStats>>,
}

pub(crate) async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route =
        req.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_string();
    let start = Instant::now();
    let res = next.run(req).await;
    let secs = start.elapsed().as_secs_f64();
    if let Ok(mut routes) = state.metrics.routes.lock() {
        let stats = routes.entry(route).or_default();
        *stats.by_status.entry(res.status().as_u16()).or_default() += 1;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                stats.buckets[i] += 1;
            }
        }
        stats.sum += secs;
        stats.count += 1;
    }
    res
}

pub(crate) async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let mut out = String::new();
    out.push_str(&format!(
        "# HELP {REQUESTS} HTTP requests by route and status.\n# TYPE {REQUESTS} counter\n"
    ));
    let routes = state.metrics.routes.lock().map(|r| {
        r.iter()
            .map(|(k, v)| (k.clone(), v.by_status.clone(), v.buckets, v.sum, v.count))
            .collect::<Vec<_>>()
    });
    let routes = routes.unwrap_or_default();
    for (route, statuses, _, _, _) in &routes {
        for (status, n) in statuses {
            out.push_str(&format!("{REQUESTS}{{route=\"{route}\",status=\"{status}\"}} {n}\n"));
        }
    }
    out.push_str(&format!(
        "# HELP {DURATION} HTTP request latency.\n# TYPE {DURATION} histogram\n"
    ));
    for (route, _, buckets, sum, count) in &routes {
        for (b, n) in BUCKETS.iter().zip(buckets) {
            out.push_str(&format!("{DURATION}_bucket{{route=\"{route}\",le=\"{b}\"}} {n}\n"));
        }
        out.push_str(&format!("{DURATION}_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}\n"));
        out.push_str(&format!("{DURATION}_sum{{route=\"{route}\"}} {sum}\n{DURATION}_count{{route=\"{route}\"}} {count}\n"));
    }
    let t = state.receiver.summary();
    let u = t.unjoined;
    out.push_str(&format!(
        "# HELP lore_otlp_spans_total Spans received on POST /v1/traces.\n\
         # TYPE lore_otlp_spans_total counter\nlore_otlp_spans_total {}\n\
         # HELP lore_otlp_spans_rejected_total Spans rejected (no valid span id).\n\
         # TYPE lore_otlp_spans_rejected_total counter\nlore_otlp_spans_rejected_total {}\n\
         # HELP lore_otlp_spans_unjoined_total Spans whose other side never arrived: CLIENT \
         spans naming no address, SERVER spans without their caller, CLIENT spans attributed \
         by the address they called.\n\
         # TYPE lore_otlp_spans_unjoined_total counter\n\
         lore_otlp_spans_unjoined_total{{side=\"client\"}} {}\n\
         lore_otlp_spans_unjoined_total{{side=\"server\"}} {}\n\
         lore_otlp_spans_unjoined_total{{side=\"client_by_address\"}} {}\n\
         # HELP lore_otlp_spans_waiting Spans waiting in the join window for their other side.\n\
         # TYPE lore_otlp_spans_waiting gauge\nlore_otlp_spans_waiting {}\n",
        t.spans, t.rejected, u.clients, u.servers, u.by_address, t.waiting
    ));
    if let Ok(graph) = state.engine.graph(None) {
        out.push_str(&format!(
            "# TYPE {GRAPH_NODES} gauge\n{GRAPH_NODES} {}\n",
            graph.nodes().len()
        ));
        out.push_str(&format!(
            "# TYPE {GRAPH_EDGES} gauge\n{GRAPH_EDGES} {}\n",
            graph.edge_count()
        ));
    }
    ([("content-type", "text/plain; version=0.0.4")], out)
}
