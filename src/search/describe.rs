//! Services named by what they do: "the service that archives old allocation data to
//! cold storage" resolves, through catalog descriptions, to the service described so.
//!
//! A service's description is restated by a query when the query holds most of the
//! description's information: the idf (over all descriptions) of the description's
//! analysed terms found in the query, over the idf of all of them. Words every
//! description shares ("data", "service") weigh little; the one that tells two archivers
//! apart weighs most. Only a description restated well, and clearly better than the
//! next, resolves. Of descriptions restated equally, the ones that explain more of the
//! query win: "scores rate records" restates both "Scores rate records" and "Scores
//! score records", but only the first uses `rate`.
//!
//! A service the catalog does not describe is described by its runbooks, which lead with
//! what it does: the first sentence of a runbook about it that starts with its name
//! ("ledger-writer appends every transaction to the ledger").

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap as HashMap;

use lore_schema::{NodeId, NodeKind};

use super::{Chunk, evidence, tokenizer};
use crate::graph::Graph;

/// Share of a description's idf the query must contain.
const MIN_COVERAGE: f32 = 0.8;
/// Lead of the best description over the next one outside the resolved set.
const MIN_MARGIN: f32 = 0.1;
/// Share at which a description counts as restated whole (all of its terms, in one
/// phrase).
const WHOLE: f32 = 0.999;
/// Fewest analysed terms a description needs to be restated at all.
const MIN_TERMS: usize = 3;
/// Words a restatement may spread over beyond the description's own length: "archives
/// old ticket data to cold storage" is restated within a phrase, not by "user" ten words
/// later ("users complain").
const SLACK_WORDS: usize = 3;
/// Most services one query resolves to (descriptions restated equally well): a
/// description more services share names a kind of service ("aggregates domain APIs into
/// screens for the web app"), not the one to look at.
const MAX_SERVICES: usize = 8;

/// The analysed catalog descriptions of one graph's services, as postings (term → the
/// services whose description has it, and how often) with each description's total idf:
/// built once per store generation (`Engine::descriptions`), asked per query, where only
/// the services sharing a term with the query are visited.
#[derive(Debug, Default)]
pub struct Descriptions {
    services: Vec<NodeId>,
    /// Sum of the idf of each description's terms (repeats counted).
    totals: Vec<f32>,
    /// Each description's distinct analysed terms.
    terms: Vec<Vec<String>>,
    /// Each description's length in words (first to last analysed term).
    spans: Vec<usize>,
    /// Term → its idf and the (service, occurrences) that have it.
    postings: HashMap<String, (f32, Vec<(u32, u32)>)>,
}

impl Descriptions {
    /// Analyses every service description of `graph`, and for services it does not
    /// describe, what their runbooks among `chunks` say they do.
    pub fn new(graph: &Graph, chunks: &[Chunk]) -> Descriptions {
        let mut texts: BTreeMap<NodeId, String> = graph
            .nodes()
            .iter()
            .filter(|n| n.kind == NodeKind::Service)
            .filter_map(|n| n.attrs.get("description").map(|d| (n.id.clone(), d.to_string())))
            .collect();
        for (name, text) in described_by_runbooks(chunks) {
            if let Ok(node) = graph.lookup(&name) {
                if node.kind == NodeKind::Service {
                    texts.entry(node.id.clone()).or_insert(text);
                }
            }
        }
        Descriptions::of(texts)
    }

    /// Analyses the descriptions `texts` of services.
    fn of(texts: BTreeMap<NodeId, String>) -> Descriptions {
        let mut analyzer = tokenizer::analyzer();
        let mut spans = Vec::new();
        let described: Vec<(NodeId, Vec<String>)> = texts
            .into_iter()
            .map(|(id, d)| (id, positioned(&mut analyzer, &d)))
            .filter(|(_, terms)| terms.len() >= MIN_TERMS)
            .map(|(id, terms)| {
                let (first, last) = (terms[0].1, terms[terms.len() - 1].1);
                spans.push(last - first + 1);
                let mut distinct: Vec<String> = Vec::new();
                for (t, _) in terms {
                    if !distinct.contains(&t) {
                        distinct.push(t);
                    }
                }
                (id, distinct)
            })
            .collect();
        let mut postings: HashMap<String, (f32, Vec<(u32, u32)>)> = HashMap::default();
        for (i, (_, terms)) in described.iter().enumerate() {
            let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
            for t in terms {
                *counts.entry(t).or_default() += 1;
            }
            for (t, n) in counts {
                postings.entry(t.to_string()).or_default().1.push((i as u32, n));
            }
        }
        // Document frequency counts repeats, as the share below does.
        let n = described.len() as f32;
        for (idf, list) in postings.values_mut() {
            let df: u32 = list.iter().map(|(_, c)| c).sum();
            *idf = (1.0 + n / df.max(1) as f32).ln();
        }
        let totals = described
            .iter()
            .map(|(_, terms)| terms.iter().map(|t| postings[t.as_str()].0).sum())
            .collect();
        let (services, terms) = described.into_iter().unzip();
        Descriptions { services, totals, terms, spans, postings }
    }

    /// The services whose description `query` restates, with that share (in [0, 1]), and
    /// the terms of those descriptions.
    pub fn restated_by(&self, query: &str) -> Restated {
        if self.services.is_empty() {
            return Restated::default();
        }
        let mut analyzer = tokenizer::analyzer();
        let asked = positioned(&mut analyzer, query);
        let mut found: HashMap<u32, Vec<(usize, &str, f32)>> = HashMap::default();
        for (term, at) in &asked {
            let Some((idf, list)) = self.postings.get(term) else { continue };
            for &(i, _) in list {
                found.entry(i).or_default().push((*at, term.as_str(), *idf));
            }
        }
        // Services sharing no term with the query score 0: (share, idf found, service),
        // what the query holds within one phrase of the description's length.
        let mut scored: Vec<(f32, f32, u32)> = found
            .into_iter()
            .map(|(i, hits)| {
                let f = within_phrase(&hits, self.spans[i as usize] + SLACK_WORDS);
                (f / self.totals[i as usize].max(f32::MIN_POSITIVE), f, i)
            })
            .collect();
        scored.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| self.services[a.2 as usize].cmp(&self.services[b.2 as usize]))
        });
        let top = scored.iter().take(6).map(|(s, _, i)| (self.services[*i as usize].as_str(), *s));
        tracing::debug!(candidates = ?top.collect::<Vec<_>>(), "descriptions the query restates");
        let Some(&(best, _, _)) = scored.first() else { return Restated::default() };
        if best < MIN_COVERAGE {
            return Restated::default();
        }
        // Descriptions restated (nearly) as well as the best one are resolved together.
        let tied = scored.iter().take_while(|(s, _, _)| best - s < MIN_MARGIN / 2.0).count();
        let next = scored.get(tied).map_or(0.0, |(s, _, _)| *s);
        // A description restated whole needs no lead beyond the tie band.
        if best - next < MIN_MARGIN && best < WHOLE {
            return Restated::default();
        }
        scored.truncate(tied);
        // Of those, the ones that use more of the query.
        let most = scored.iter().map(|(_, f, _)| *f).fold(0.0, f32::max);
        scored.retain(|(_, f, _)| *f >= most * (1.0 - MIN_MARGIN / 2.0));
        if scored.len() > MAX_SERVICES {
            return Restated::default();
        }
        let terms =
            scored.iter().flat_map(|(_, _, i)| self.terms[*i as usize].iter().cloned()).collect();
        let services =
            scored.into_iter().map(|(s, _, i)| (self.services[i as usize].clone(), s)).collect();
        Restated { services, terms }
    }
}

/// The analysed terms of `text` with their word positions, in order.
fn positioned(analyzer: &mut tantivy::tokenizer::TextAnalyzer, text: &str) -> Vec<(String, usize)> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        let t = stream.token();
        out.push((t.text.clone(), t.position));
    }
    out
}

/// The most idf of distinct terms among `hits` (position, term, idf; in position order)
/// that lie within `width` words of each other.
fn within_phrase(hits: &[(usize, &str, f32)], width: usize) -> f32 {
    let mut best = 0.0f32;
    for (start, &(from, _, _)) in hits.iter().enumerate() {
        let mut seen: Vec<&str> = Vec::new();
        let mut sum = 0.0;
        for &(_, term, idf) in hits[start..].iter().take_while(|(at, _, _)| at - from < width) {
            if !seen.contains(&term) {
                seen.push(term);
                sum += idf;
            }
        }
        best = best.max(sum);
    }
    best
}

/// What a query's words say about the services it describes.
#[derive(Debug, Default)]
pub struct Restated {
    /// The services described, each with the share of its description the query holds.
    pub services: Vec<(NodeId, f32)>,
    /// The analysed terms of their descriptions.
    pub terms: BTreeSet<String>,
}

impl Restated {
    /// The words of `query` its descriptions did not use, in order: what tells the
    /// described services' documents apart ("… pods killed with exit code 137").
    pub fn rest_of(&self, query: &str) -> String {
        let mut analyzer = tokenizer::analyzer();
        query
            .split_whitespace()
            .filter(|w| evidence::terms(&mut analyzer, w).iter().all(|t| !self.terms.contains(t)))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What runbooks say of the services they are about: the first sentence whose subject
/// is one of those services (it starts with the name, after "The" or a short lead-in
/// such as "In short,"), without the name, or what an apposition says of one ("… on
/// ledger-writer, the service that appends every transaction"), by name; the first
/// runbook in `chunks` order wins.
fn described_by_runbooks(chunks: &[Chunk]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for c in chunks.iter().filter(|c| c.kind == "runbook") {
        let names: Vec<String> = c.services.iter().map(|n| n.to_lowercase()).collect();
        // The first runbook wins: one whose services all have a sentence already is
        // not read.
        if names.iter().all(|n| out.contains_key(n)) {
            continue;
        }
        for sentence in c.body.split(['\n', '.']) {
            let lower = sentence.replace(['*', '`'], "").trim().to_lowercase();
            let said = names.iter().find_map(|name| {
                let rest = subject_of(&lower, name).or_else(|| apposition_of(&lower, name))?;
                Some((name, without_asides(rest)))
            });
            if let Some((name, said)) = said {
                if !said.is_empty() && !out.contains_key(name) {
                    out.insert(name.clone(), said);
                }
                break;
            }
        }
    }
    out
}

/// What `sentence` says of `name` when `name` is its subject: the words after it, where
/// it comes first, after "the", or after a lead-in of at most three words and a comma.
fn subject_of<'a>(sentence: &'a str, name: &str) -> Option<&'a str> {
    let after = |s: &'a str| {
        let s = s.strip_prefix("the ").unwrap_or(s);
        s.strip_prefix(name)?.strip_prefix(' ')
    };
    after(sentence).or_else(|| {
        let (lead, rest) = sentence.split_once(", ")?;
        (lead.split_whitespace().count() <= 3).then(|| after(rest))?
    })
}

/// What an apposition in `sentence` says of `name`: the words after "NAME, the service
/// that" (or "a service that", "which").
fn apposition_of<'a>(sentence: &'a str, name: &str) -> Option<&'a str> {
    let at = sentence.find(&format!("{name}, "))?;
    let rest = &sentence[at + name.len() + 2..];
    ["the service that ", "a service that ", "which "]
        .iter()
        .find_map(|lead| rest.strip_prefix(lead))
}

/// `text` without its parenthesised asides ("(kotlin, HTTP on port 8081)"), trimmed.
fn without_asides(text: &str) -> String {
    let mut depth = 0usize;
    let kept: String = text
        .chars()
        .filter(|&ch| match ch {
            '(' => {
                depth += 1;
                false
            }
            ')' => {
                depth = depth.saturating_sub(1);
                false
            }
            _ => depth == 0,
        })
        .collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runbook(services: &[&str], body: &str) -> Chunk {
        Chunk {
            kind: "runbook".into(),
            services: services.iter().map(|s| s.to_string()).collect(),
            body: body.into(),
            ..Chunk::default()
        }
    }

    #[test]
    fn runbooks_describe_the_services_they_lead_with() {
        let chunks = [
            runbook(&["orders-db"], "Connections pile up. orders-db stores every order."),
            runbook(
                &["ledger-writer", "ledger"],
                "**ledger-writer** (rust, gRPC on port 50051) appends every transaction to the \
                 ledger. It runs in namespace `ledger`.",
            ),
            runbook(&["ledger-writer"], "ledger-writer is slow when the disk fills."),
            runbook(&["cart"], "Check the dashboard first. Users of cart, not ours, wait."),
            runbook(
                &["orders-sync"],
                "Scope: the `HighLatency` alert for orders-sync. In short, orders-sync \
                 synchronises payouts with the legacy system.",
            ),
            runbook(
                &["receipt-adapter"],
                "Responding to `PodCrashLooping` on receipt-adapter, the service that adapts \
                 the receipt provider API.",
            ),
            Chunk { kind: "postmortem".into(), ..runbook(&["cart"], "cart failed for an hour.") },
        ];
        let said = described_by_runbooks(&chunks);
        assert_eq!(said["orders-db"], "stores every order");
        // Asides and markup go; the first runbook wins.
        assert_eq!(said["ledger-writer"], "appends every transaction to the ledger");
        // After a short lead-in, or in an apposition.
        assert_eq!(said["orders-sync"], "synchronises payouts with the legacy system");
        assert_eq!(said["receipt-adapter"], "adapts the receipt provider api");
        // No sentence with the name as its subject, or not a runbook: nothing said.
        assert!(!said.contains_key("cart"), "{said:?}");
    }

    #[test]
    fn a_description_is_restated_within_one_phrase() {
        let id = |name: &str| format!("service:{name}").parse::<NodeId>().unwrap();
        let texts = [
            ("ticket-archiver", "Archives old ticket data to cold storage."),
            ("user-archiver", "Archives old user data to cold storage."),
            ("label-archiver", "Archives old label data to cold storage."),
            ("notifier", "Sends route notifications to customers."),
        ];
        let descriptions =
            Descriptions::of(texts.iter().map(|(n, d)| (id(n), d.to_string())).collect());
        let names = |r: Restated| r.services.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
        // "users" five words after the phrase (beyond the slack) does not restate the user
        // archiver's description, and a whole restatement resolves though the next one
        // lacks only one word.
        let query = "the service that archives old ticket data to cold storage is slow and \
                     lately our users complain";
        assert_eq!(names(descriptions.restated_by(query)), [id("ticket-archiver")]);
        let near = "archives old data to cold storage for users";
        assert_eq!(names(descriptions.restated_by(near)), [id("user-archiver")]);
    }

    #[test]
    fn the_rest_of_a_query_is_what_its_descriptions_did_not_use() {
        let mut analyzer = tokenizer::analyzer();
        let terms = evidence::terms(&mut analyzer, "Renders basket documents and previews.");
        let restated = Restated { services: Vec::new(), terms: terms.into_iter().collect() };
        assert_eq!(
            restated.rest_of("the service that renders basket documents pods killed with exit 137"),
            "the service that pods killed with exit 137"
        );
    }
}
