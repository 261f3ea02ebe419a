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
/// Fewest analysed terms a description needs to be restated at all.
const MIN_TERMS: usize = 3;
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
        let described: Vec<(NodeId, Vec<String>)> = texts
            .into_iter()
            .map(|(id, d)| (id, evidence::terms(&mut analyzer, &d)))
            .filter(|(_, terms)| terms.len() >= MIN_TERMS)
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
        Descriptions { services, totals, terms, postings }
    }

    /// The services whose description `query` restates, with that share (in [0, 1]), and
    /// the terms of those descriptions. Of services described alike, the ones `near`
    /// holds (graph neighbours of a service the query names: "… returning 503 to
    /// checkout") are the ones meant, when some are and some are not.
    pub fn restated_by(&self, query: &str, near: &dyn Fn(&NodeId) -> bool) -> Restated {
        if self.services.is_empty() {
            return Restated::default();
        }
        let mut analyzer = tokenizer::analyzer();
        let asked: BTreeSet<String> = evidence::terms(&mut analyzer, query).into_iter().collect();
        let mut found: HashMap<u32, f32> = HashMap::default();
        for (idf, list) in asked.iter().filter_map(|t| self.postings.get(t)) {
            for &(i, n) in list {
                *found.entry(i).or_default() += n as f32 * idf;
            }
        }
        // Services sharing no term with the query score 0: (share, idf found, service).
        let mut scored: Vec<(f32, f32, u32)> = found
            .into_iter()
            .map(|(i, f)| (f / self.totals[i as usize].max(f32::MIN_POSITIVE), f, i))
            .collect();
        scored.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| self.services[a.2 as usize].cmp(&self.services[b.2 as usize]))
        });
        let Some(&(best, _, _)) = scored.first() else { return Restated::default() };
        if best < MIN_COVERAGE {
            return Restated::default();
        }
        // Descriptions restated (nearly) as well as the best one are resolved together.
        let tied = scored.iter().take_while(|(s, _, _)| best - s < MIN_MARGIN / 2.0).count();
        let next = scored.get(tied).map_or(0.0, |(s, _, _)| *s);
        if best - next < MIN_MARGIN {
            return Restated::default();
        }
        scored.truncate(tied);
        if scored.iter().any(|(_, _, i)| near(&self.services[*i as usize])) {
            scored.retain(|(_, _, i)| near(&self.services[*i as usize]));
        }
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

/// What runbooks say of the services they are about: the first sentence that starts
/// with one of those services' names (or "The" and a name), without the name, by name;
/// the first runbook in `chunks` order wins.
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
            let lower = lower.strip_prefix("the ").unwrap_or(&lower);
            let said = names.iter().find_map(|name| {
                let rest = lower.strip_prefix(name.as_str())?.strip_prefix(' ')?;
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
            runbook(&["cart"], "Check the dashboard first."),
            Chunk { kind: "postmortem".into(), ..runbook(&["cart"], "cart failed for an hour.") },
        ];
        let said = described_by_runbooks(&chunks);
        assert_eq!(said["orders-db"], "stores every order");
        // Asides and markup go; the first runbook wins.
        assert_eq!(said["ledger-writer"], "appends every transaction to the ledger");
        // No sentence starting with the name, or not a runbook: nothing said.
        assert!(!said.contains_key("cart"), "{said:?}");
    }

    #[test]
    fn of_services_described_alike_the_neighbours_of_a_named_one_are_meant() {
        let id = |name: &str| format!("service:{name}").parse::<NodeId>().unwrap();
        let alike = "orchestrates the multi-step tier workflow";
        let texts = ["a", "b", "c"].map(|n| (id(n), alike.to_string()));
        let other = (id("d"), "sends route notifications to customers".to_string());
        let descriptions = Descriptions::of(texts.into_iter().chain([other]).collect());
        let query = "the service that orchestrates the multi-step tier workflow returning 503";
        let names = |r: Restated| r.services.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
        assert_eq!(names(descriptions.restated_by(query, &|_| false)), [id("a"), id("b"), id("c")]);
        assert_eq!(names(descriptions.restated_by(query, &|n| *n == id("b"))), [id("b")]);
        // A neighbour described otherwise changes nothing.
        assert_eq!(names(descriptions.restated_by(query, &|n| *n == id("d"))).len(), 3);
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
