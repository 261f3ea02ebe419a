//! Semantic and hybrid search with the real embedding model (scripts/setup fetches it):
//! meaning without shared words, hybrid as the default, embeddings reused by content.

use std::sync::OnceLock;

use lore::Engine;
use lore::engine::SearchRequest;
use lore::retrieval::EmbedReport;

use crate::support::corpus;

/// The prometheus-operator runbooks (about 120 documents), ingested and embedded once.
fn engine() -> Option<&'static (tempfile::TempDir, Engine, EmbedReport)> {
    static ENGINE: OnceLock<Option<(tempfile::TempDir, Engine, EmbedReport)>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let dir = corpus("runbooks/prometheus-operator/content/runbooks");
            if !dir.is_dir() {
                eprintln!("skipping: ../shared/corpora not found");
                return None;
            }
            let tmp = tempfile::tempdir().unwrap();
            let engine = Engine::open(tmp.path()).unwrap();
            engine.ingest(&[dir], 1_000).unwrap();
            let report = engine.embed_pending().unwrap();
            assert!(
                report.notice.is_none(),
                "model missing: {:?} (run scripts/setup)",
                report.notice
            );
            Some((tmp, engine, report))
        })
        .as_ref()
}

fn files(engine: &Engine, query: &str, mode: &str) -> (String, Vec<String>) {
    let req = SearchRequest { query: query.into(), mode: mode.into(), ..SearchRequest::default() };
    let view = engine.search(&req).unwrap();
    assert!(view.notice.is_none(), "{:?}", view.notice);
    let names = view
        .results
        .iter()
        .map(|h| h.source.rsplit('/').next().unwrap_or_default().to_string())
        .collect();
    (view.mode, names)
}

#[test]
fn a_query_sharing_no_word_with_a_runbook_finds_it() {
    let Some((_, engine, _)) = engine() else { return };
    let query = "a mirrored drive broke";
    // BM25 finds nothing: no word of the query (after stemming and stop words) is in any
    // of these runbooks.
    let (_, lexical) = files(engine, query, "bm25");
    assert!(lexical.is_empty(), "the query shares words with the corpus: {lexical:?}");
    for mode in ["vector", "hybrid"] {
        let (_, found) = files(engine, query, mode);
        assert_eq!(found.first().map(String::as_str), Some("NodeRAIDDiskFailure.md"), "{mode}");
    }
}

#[test]
fn hybrid_is_the_default_mode() {
    let Some((_, engine, _)) = engine() else { return };
    let (mode, found) = files(engine, "pods keep restarting after OOM", "");
    assert_eq!(mode, "hybrid");
    assert!(found.iter().take(3).any(|f| f == "KubePodCrashLooping.md"), "{found:?}");
}

#[test]
fn an_alert_name_finds_its_runbook_first() {
    let Some((_, engine, _)) = engine() else { return };
    // Runbooks named after an alert are what an alert-name query should return, once.
    let (_, found) = files(engine, "KubePodNotReady", "hybrid");
    assert_eq!(found.first().map(String::as_str), Some("KubePodNotReady.md"));
    let unique: std::collections::BTreeSet<_> = found.iter().collect();
    assert_eq!(unique.len(), found.len(), "one hit per file: {found:?}");
}

#[test]
fn reingesting_unchanged_runbooks_embeds_nothing() {
    let Some((_, engine, first)) = engine() else { return };
    assert!(first.embedded > 100, "first ingest embedded {}", first.embedded);
    let dir = corpus("runbooks/prometheus-operator/content/runbooks");
    engine.ingest(&[dir], 1_000).unwrap();
    let again = engine.embed_pending().unwrap();
    assert_eq!(again.embedded, 0);
    assert_eq!(again.unchanged, first.embedded + first.unchanged);
}

#[test]
fn a_query_does_not_embed_a_whole_corpus_left_unembedded() {
    let dir = corpus("runbooks/prometheus-operator/content/runbooks");
    if !dir.is_dir() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let engine = Engine::open(tmp.path()).unwrap();
    engine.ingest(&[dir], 1_000).unwrap(); // as `lore ingest --no-embed`: nothing embedded
    let req = SearchRequest { query: "etcd has no leader".into(), ..SearchRequest::default() };
    for _ in 0..2 {
        let view = engine.search(&req).unwrap();
        assert_eq!(view.mode, "hybrid");
        let notice = view.notice.unwrap_or_default();
        assert!(notice.contains("not embedded yet") && notice.contains("lore ingest"), "{notice}");
        assert!(view.results.iter().any(|h| h.source.ends_with("etcdNoLeader.md")));
    }
}

/// Nonsense and out-of-domain queries, written for this test (none is a dev case).
const OFF_TOPIC: [&str; 20] = [
    "xyzzy plugh",
    "qwerty asdf zxcv",
    "chocolate cake recipe with vanilla frosting",
    "who won the world cup in 1998",
    "best hiking trails near the alps",
    "how to knit a wool scarf",
    "translate hello into french",
    "the mitochondria is the powerhouse of the cell",
    "my cat keeps sleeping on the keyboard",
    "lyrics of a famous pop song",
    "what is the capital of mongolia",
    "cheap flights to lisbon in august",
    "how long should I boil an egg",
    "renaissance painters of florence",
    "train my puppy to sit",
    "flarn gribble snorkwax",
    "tomato plants have yellow leaves",
    "a sonnet about the autumn moon",
    "marathon training plan for beginners",
    "which wine goes with grilled salmon",
];

#[test]
fn off_topic_queries_return_no_confident_result() {
    let Some((_, engine, _)) = engine() else { return };
    for query in OFF_TOPIC {
        for mode in ["bm25", "vector", "hybrid"] {
            let req = SearchRequest {
                query: query.into(),
                mode: mode.into(),
                ..SearchRequest::default()
            };
            let view = engine.search(&req).unwrap();
            let confident: Vec<_> =
                view.results.iter().filter(|h| !h.weak).map(|h| &h.source).collect();
            assert!(confident.is_empty(), "{mode} `{query}`: {confident:?}");
        }
    }
    // And a real symptom is confident.
    let req = SearchRequest {
        query: "pods keep restarting after OOM".into(),
        ..SearchRequest::default()
    };
    let view = engine.search(&req).unwrap();
    assert!(view.results.first().is_some_and(|h| !h.weak), "{:?}", view.results.first());
}
