//! Full-text search over runbooks, postmortems and alert rules (tantivy, BM25).
//!
//! The index is a projection of the store: one tantivy document per chunk (a document
//! section, or one alert rule), rebuilt whenever the stamp of the indexed facts differs
//! from the store's. Only this module touches tantivy.

mod chunks;
pub mod describe;
pub mod embed;
pub mod evidence;
pub mod rank;
pub mod text;
mod tokenizer;
pub mod vector;
pub(crate) mod vector_snapshot;
pub mod when;

pub(crate) use chunks::{ChunkSet, chunks};

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument, Term, doc};

use crate::error::{Error, Result};

/// One searchable chunk.
#[derive(Debug, Clone, Default, Hash)]
pub struct Chunk {
    /// Path of the file as given to ingest (the hit's `source`).
    pub source: String,
    /// Node id of the document.
    pub doc_id: String,
    /// `runbook`, `postmortem`, `note`, `other` or `alert`.
    pub kind: String,
    /// Document title.
    pub title: String,
    /// Heading path of the section, joined with ` > ` (the alert name for rules).
    pub section: String,
    /// Section text.
    pub body: String,
    /// Text searched by words but not embedded: an alert rule's PromQL expression.
    pub code: String,
    /// Line where the chunk starts.
    pub line: u64,
    /// Alert names the document is about.
    pub alerts: Vec<String>,
    /// Symptom text (summary, description) of the alert rules this runbook answers.
    pub alert_text: Vec<String>,
    /// Names and aliases of services the document is about.
    pub services: Vec<String>,
    /// Ids of services (and datastores) the document is about, for filters.
    pub service_ids: Vec<String>,
    /// Teams owning those services, for filters.
    pub teams: Vec<String>,
    /// Day the document is dated by (`YYYY-MM-DD`, [`when::dated`]).
    pub date: Option<String>,
}

impl Chunk {
    /// This chunk as a hit on its unit.
    pub fn hit(&self, score: f32, snippet: String) -> SearchHit {
        SearchHit {
            id: self.doc_id.clone(),
            kind: self.kind.clone(),
            title: self.title.clone(),
            source: self.source.clone(),
            section: self.section.clone(),
            line: self.line,
            score,
            snippet,
            weak: false,
            date: self.date.clone(),
        }
    }
}

/// Filters and limits of a search.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// The words.
    pub text: String,
    /// Kinds to keep (any of); all when empty.
    pub kinds: Vec<String>,
    /// Service or datastore ids to keep (any of); all when empty.
    pub service_ids: Vec<String>,
    /// Team to keep.
    pub team: Option<String>,
    /// Alert name to keep.
    pub alert: Option<String>,
    /// Documents to return.
    pub limit: usize,
}

/// A document with its best chunk.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct SearchHit {
    /// Node id of the document.
    pub id: String,
    /// Kind.
    pub kind: String,
    /// Title.
    pub title: String,
    /// File path as given to ingest.
    pub source: String,
    /// Heading path of the best section.
    pub section: String,
    /// Line of the best section.
    pub line: u64,
    /// Score on the scale of the mode that answered: `bm25` the BM25 score of the best
    /// section (0 up, unbounded); `vector` the cosine similarity of the best section to
    /// the query (-1 to 1, unrelated text about 0.1 to 0.35); `hybrid` the fused votes,
    /// 0 to 1 (1 = ranked first by every ranking with full evidence). In `bm25` and
    /// `hybrid`, times up to 1 + [`crate::retrieval::GRAPH_BOOST_MAX`] for documents about
    /// a service the query names (by name or by description), and times
    /// 1 + [`crate::retrieval::DATE_BOOST`] for documents dated inside the window it names.
    pub score: f32,
    /// Text around the matched words, which are wrapped in `**`.
    pub snippet: String,
    /// Below the relevance floor: nothing in the query matched this confidently
    /// (`search::evidence`).
    pub weak: bool,
    /// Day the document is dated by (a postmortem's incident), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    source: Field,
    doc_id: Field,
    kind: Field,
    title: Field,
    section: Field,
    body: Field,
    line: Field,
    alerts: Field,
    alert_text: Field,
    services: Field,
    service_ids: Field,
    teams: Field,
    alert_keys: Field,
    date: Field,
}

/// The tantivy index in `<data dir>/index`.
pub struct SearchIndex {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: Fields,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").field("dir", &self.dir).finish()
    }
}

fn err(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("search index: {e}"))
}

const STAMP_FILE: &str = "lore-stamp";
/// Hash of each document's chunks as indexed (`ChunkSet::docs`), for incremental updates.
const DOCS_FILE: &str = "lore-docs.json";

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |stored: bool| {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(tokenizer::NAME)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions);
        let opts = TextOptions::default().set_indexing_options(indexing);
        if stored { opts.set_stored() } else { opts }
    };
    let fields = Fields {
        source: b.add_text_field("source", STRING | STORED),
        // Fast too: a ranking skips the further chunks of a unit it already has without
        // reading them from the document store.
        doc_id: b.add_text_field("doc_id", STRING | STORED | FAST),
        kind: b.add_text_field("kind", STRING | STORED),
        title: b.add_text_field("title", text(true)),
        section: b.add_text_field("section", text(true)),
        body: b.add_text_field("body", text(true)),
        line: b.add_u64_field("line", STORED),
        alerts: b.add_text_field("alerts", text(false)),
        alert_text: b.add_text_field("alert_text", text(true)),
        services: b.add_text_field("services", text(false)),
        service_ids: b.add_text_field("service_ids", STRING),
        teams: b.add_text_field("teams", STRING),
        alert_keys: b.add_text_field("alert_keys", STRING),
        date: b.add_text_field("date", STRING | STORED),
    };
    (b.build(), fields)
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it (or recreating it, if its schema is from
    /// another version) as needed.
    pub fn open(dir: &Path) -> Result<SearchIndex> {
        std::fs::create_dir_all(dir).map_err(err)?;
        let (schema, fields) = schema();
        let index = match Index::open_in_dir(dir) {
            Ok(index) if index.schema() == schema => index,
            _ => {
                std::fs::remove_dir_all(dir).map_err(err)?;
                std::fs::create_dir_all(dir).map_err(err)?;
                Index::create_in_dir(dir, schema).map_err(err)?
            }
        };
        index.tokenizers().register(tokenizer::NAME, tokenizer::analyzer());
        let reader =
            index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(err)?;
        Ok(SearchIndex { dir: dir.to_path_buf(), index, reader, fields })
    }

    /// The stamp of the facts the index was last built from.
    pub fn stamp(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.join(STAMP_FILE)).ok()
    }

    /// Brings the index to `set`: the documents whose chunks changed are replaced, those
    /// gone are removed, the others are left alone (a whole rebuild when the index does not
    /// know what it holds). Returns how many documents were written or removed.
    pub fn update(&self, set: &ChunkSet) -> Result<usize> {
        let known: Option<BTreeMap<String, u64>> = std::fs::read(self.dir.join(DOCS_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let Some(known) = known else {
            self.rebuild(&set.chunks, &set.stamp())?;
            return Ok(set.docs.len());
        };
        let changed: BTreeSet<&str> = set
            .docs
            .iter()
            .filter(|(id, h)| known.get(*id) != Some(*h))
            .map(|(id, _)| id.as_str())
            .chain(known.keys().filter(|id| !set.docs.contains_key(*id)).map(String::as_str))
            .collect();
        if !changed.is_empty() {
            let mut writer = self.writer()?;
            for id in &changed {
                writer.delete_term(Term::from_field_text(self.fields.doc_id, id));
            }
            for c in set.chunks.iter().filter(|c| changed.contains(c.doc_id.as_str())) {
                writer.add_document(self.document(c)).map_err(err)?;
            }
            writer.commit().map_err(err)?;
            self.reader.reload().map_err(err)?;
        }
        self.record(set.docs.clone(), &set.stamp())?;
        Ok(changed.len())
    }

    fn writer(&self) -> Result<tantivy::IndexWriter<TantivyDocument>> {
        self.index.writer::<TantivyDocument>(64 * 1024 * 1024).map_err(err)
    }

    fn record(&self, docs: BTreeMap<String, u64>, stamp: &str) -> Result<()> {
        // The stamp last: a crash in between leaves an index that rebuilds.
        let _ = std::fs::remove_file(self.dir.join(STAMP_FILE));
        std::fs::write(self.dir.join(DOCS_FILE), serde_json::to_vec(&docs).map_err(err)?)
            .map_err(err)?;
        std::fs::write(self.dir.join(STAMP_FILE), stamp).map_err(err)
    }

    /// Replaces the whole index by `chunks` and records `stamp`.
    pub fn rebuild(&self, chunks: &[Chunk], stamp: &str) -> Result<()> {
        let mut writer = self.writer()?;
        writer.delete_all_documents().map_err(err)?;
        let _ = std::fs::remove_file(self.dir.join(DOCS_FILE));
        for c in chunks {
            writer.add_document(self.document(c)).map_err(err)?;
        }
        writer.commit().map_err(err)?;
        writer.wait_merging_threads().map_err(err)?;
        self.reader.reload().map_err(err)?;
        let docs = ChunkSet::new(chunks.to_vec()).docs;
        self.record(docs, stamp)
    }

    fn document(&self, c: &Chunk) -> TantivyDocument {
        let f = self.fields;
        {
            // An alert's expression is searched by words, after its prose.
            let body =
                if c.code.is_empty() { c.body.clone() } else { format!("{}\n{}", c.body, c.code) };
            let mut d = doc!(
                f.source => c.source.clone(),
                f.doc_id => c.doc_id.clone(),
                f.kind => c.kind.clone(),
                f.title => c.title.clone(),
                f.section => c.section.clone(),
                f.body => body,
                f.line => c.line,
                f.alerts => c.alerts.join(" "),
                f.alert_text => c.alert_text.join("\n"),
                f.services => c.services.join(" "),
            );
            for id in &c.service_ids {
                d.add_text(f.service_ids, id);
            }
            for t in &c.teams {
                d.add_text(f.teams, t);
            }
            for a in &c.alerts {
                d.add_text(f.alert_keys, a.to_ascii_lowercase());
            }
            if let Some(date) = &c.date {
                d.add_text(f.date, date);
            }
            d
        }
    }

    /// BM25 search with field boosts; one hit per unit (a document, or one alert rule),
    /// its best chunk.
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<SearchHit>> {
        Ok(self.search_with_evidence(q)?.0)
    }

    /// [`SearchIndex::search`] with the evidence of its ranking ([`evidence::bm25`]).
    pub fn search_with_evidence(
        &self,
        q: &SearchQuery,
    ) -> Result<(Vec<SearchHit>, evidence::Evidence)> {
        let f = self.fields;
        let mut parser = tantivy::query::QueryParser::for_index(
            &self.index,
            vec![f.title, f.section, f.body, f.alerts, f.alert_text, f.services],
        );
        parser.set_field_boost(f.title, 2.0);
        parser.set_field_boost(f.section, 1.5);
        parser.set_field_boost(f.alerts, 2.0);
        parser.set_field_boost(f.services, 1.0);
        // The symptoms of the alerts a runbook answers count less than its own words.
        parser.set_field_boost(f.alert_text, 0.7);
        let (text_query, _errors) = parser.parse_query_lenient(&sanitize(&q.text));
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text_query.box_clone())];
        let any_of = |field: Field, values: &[String]| -> Box<dyn Query> {
            let terms: Vec<(Occur, Box<dyn Query>)> = values
                .iter()
                .map(|v| {
                    let t: Box<dyn Query> = Box::new(TermQuery::new(
                        Term::from_field_text(field, v),
                        IndexRecordOption::Basic,
                    ));
                    (Occur::Should, t)
                })
                .collect();
            Box::new(BooleanQuery::new(terms))
        };
        if !q.kinds.is_empty() {
            clauses.push((Occur::Must, any_of(f.kind, &q.kinds)));
        }
        if !q.service_ids.is_empty() {
            clauses.push((Occur::Must, any_of(f.service_ids, &q.service_ids)));
        }
        if let Some(team) = &q.team {
            clauses.push((Occur::Must, any_of(f.teams, std::slice::from_ref(team))));
        }
        if let Some(alert) = &q.alert {
            clauses.push((Occur::Must, any_of(f.alert_keys, &[alert.to_ascii_lowercase()])));
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let limit = q.limit.max(1);
        let top = searcher.search(&query, &TopDocs::with_limit(limit * 20)).map_err(err)?;
        let mut snippets =
            SnippetGenerator::create(&searcher, &*text_query, f.body).map_err(err)?;
        snippets.set_max_num_chars(240);
        // The unit of a chunk by its term ordinal in the segment's `doc_id` column.
        let units: Vec<Option<tantivy::columnar::StrColumn>> = (searcher.segment_readers().iter())
            .map(|r| r.fast_fields().str("doc_id").ok().flatten())
            .collect();
        let mut seen: BTreeSet<(u32, u64)> = BTreeSet::new();
        // Units already ranked, by id: a unit's chunks in another segment have other
        // ordinals.
        let mut ranked: BTreeSet<String> = BTreeSet::new();
        let mut hits: Vec<SearchHit> = Vec::new();
        let mut top_text = String::new();
        for (score, addr) in top {
            let ord = units.get(addr.segment_ord as usize).and_then(Option::as_ref);
            if let Some(ord) = ord.and_then(|c| c.term_ords(addr.doc_id).next())
                && !seen.insert((addr.segment_ord, ord))
            {
                continue;
            }
            if hits.len() >= limit {
                break;
            }
            let d: TantivyDocument = searcher.doc(addr).map_err(err)?;
            let get = |field: Field| {
                d.get_first(field).and_then(|v| v.as_str()).unwrap_or("").to_string()
            };
            let unit = get(f.doc_id);
            if ranked.contains(&unit) {
                continue;
            }
            let body = get(f.body);
            if hits.is_empty() {
                top_text =
                    [get(f.title), get(f.section), body.clone(), get(f.alert_text)].join("\n");
            }
            let snippet = snippets.snippet(&body);
            ranked.insert(unit.clone());
            hits.push(SearchHit {
                id: unit,
                kind: get(f.kind),
                title: get(f.title),
                source: get(f.source),
                section: get(f.section),
                line: d.get_first(f.line).and_then(|v| v.as_u64()).unwrap_or(0),
                score,
                snippet: highlight(&snippet, &body),
                weak: false,
                date: d.get_first(f.date).and_then(|v| v.as_str()).map(str::to_string),
            });
        }
        let mut analyzer = tokenizer::analyzer();
        let query_terms = evidence::terms(&mut analyzer, &sanitize(&q.text));
        let fields = [f.title, f.section, f.body, f.alerts, f.alert_text, f.services];
        let idf = evidence::idfs(&searcher, &fields, &query_terms);
        let top_terms = evidence::terms(&mut analyzer, &top_text);
        let (_, ev) = evidence::bm25(&query_terms, &idf, &top_terms);
        Ok((hits, ev))
    }
}

/// Query text without the query language's operators, so symptoms with colons, quotes
/// and parentheses search as words.
/// Query text the parser reads: punctuation dropped, and each identifier followed by
/// its words (`KubePodCrashLooping` → `KubePodCrashLooping Kube Pod Crash Looping`).
/// The parser reads a word that analyses to several terms as a phrase, which only a
/// document spelling the identifier the same way matches; its words alone match the
/// documents that spell it otherwise (`PodCrashLooping`, "pods crash-looping").
fn sanitize(text: &str) -> String {
    let plain: String = text
        .chars()
        .map(|c| if c.is_alphanumeric() || c.is_whitespace() || c == '_' { c } else { ' ' })
        .collect();
    let mut out = String::with_capacity(plain.len() * 2);
    for word in plain.split_whitespace() {
        out.push_str(word);
        out.push(' ');
        let words = text::humanize(word);
        if words.contains(' ') {
            out.push_str(&words);
            out.push(' ');
        }
    }
    out
}

fn highlight(snippet: &tantivy::snippet::Snippet, body: &str) -> String {
    let fragment = snippet.fragment();
    if fragment.is_empty() {
        return body
            .chars()
            .take(200)
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
    }
    // Adjacent ranges (parts of one identifier) are merged into one highlight.
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    for r in snippet.highlighted() {
        match ranges.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => ranges.push(r.clone()),
        }
    }
    let mut out = String::new();
    let mut at = 0;
    for r in ranges {
        if r.start < at || r.end > fragment.len() {
            continue;
        }
        out.push_str(&fragment[at..r.start]);
        out.push_str("**");
        out.push_str(&fragment[r.start..r.end]);
        out.push_str("**");
        at = r.end;
    }
    out.push_str(&fragment[at..]);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runbook(source: &str, alerts: &[&str], body: &str) -> Chunk {
        Chunk {
            source: source.into(),
            doc_id: format!("runbook:{source}"),
            kind: "runbook".into(),
            title: source.into(),
            body: body.into(),
            alerts: alerts.iter().map(|a| a.to_string()).collect(),
            ..Chunk::default()
        }
    }

    #[test]
    fn an_identifier_spelled_otherwise_still_finds_its_words() {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(dir.path()).unwrap();
        let chunks = vec![
            runbook("crash.md", &["PodCrashLooping"], "Pods keep restarting: crash looping."),
            runbook("disk.md", &["DiskFilling"], "The volume is nearly full."),
        ];
        index.rebuild(&chunks, "test").unwrap();
        let ask = |text: &str| {
            let q = SearchQuery { text: text.into(), limit: 5, ..SearchQuery::default() };
            index.search(&q).unwrap().into_iter().map(|h| h.source).collect::<Vec<_>>()
        };
        // The kube-prometheus name of the alert the runbook calls PodCrashLooping.
        assert_eq!(ask("KubePodCrashLooping"), ["crash.md"]);
        assert_eq!(ask("PodCrashLooping"), ["crash.md"]);
        assert!(ask("KubeNodeNotReady").is_empty());
    }
}
