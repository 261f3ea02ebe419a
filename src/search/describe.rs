//! Services named by what they do: "the service that archives old allocation data to
//! cold storage" resolves, through catalog descriptions, to the service described so.
//!
//! A service's description is restated by a query when the query holds most of the
//! description's information: the idf (over all descriptions) of the description's
//! analysed terms found in the query, over the idf of all of them. Words every
//! description shares ("data", "service") weigh little; the one that tells two archivers
//! apart weighs most. Only a description restated well, and clearly better than the
//! next, resolves.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap as HashMap;

use lore_schema::{NodeId, NodeKind};

use super::{evidence, tokenizer};
use crate::graph::Graph;

/// Share of a description's idf the query must contain.
const MIN_COVERAGE: f32 = 0.8;
/// Lead of the best description over the next one outside the resolved set.
const MIN_MARGIN: f32 = 0.1;
/// Fewest analysed terms a description needs to be restated at all.
const MIN_TERMS: usize = 3;
/// Most services one query resolves to (descriptions restated equally well).
const MAX_SERVICES: usize = 3;

/// The analysed catalog descriptions of one graph's services, as postings (term → the
/// services whose description has it, and how often) with each description's total idf:
/// built once per store generation (`Engine::descriptions`), asked per query, where only
/// the services sharing a term with the query are visited.
#[derive(Debug, Default)]
pub struct Descriptions {
    services: Vec<NodeId>,
    /// Sum of the idf of each description's terms (repeats counted).
    totals: Vec<f32>,
    /// Term → its idf and the (service, occurrences) that have it.
    postings: HashMap<String, (f32, Vec<(u32, u32)>)>,
}

impl Descriptions {
    /// Analyses every service description of `graph`.
    pub fn new(graph: &Graph) -> Descriptions {
        let mut analyzer = tokenizer::analyzer();
        let described: Vec<(NodeId, Vec<String>)> = graph
            .nodes()
            .iter()
            .filter(|n| n.kind == NodeKind::Service)
            .filter_map(|n| n.attrs.get("description").map(|d| (n.id.clone(), d)))
            .map(|(id, d)| (id, evidence::terms(&mut analyzer, d)))
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
        Descriptions {
            services: described.into_iter().map(|(id, _)| id).collect(),
            totals,
            postings,
        }
    }

    /// The services whose description `query` restates, with that share (in [0, 1]).
    pub fn restated_by(&self, query: &str) -> Vec<(NodeId, f32)> {
        if self.services.is_empty() {
            return Vec::new();
        }
        let mut analyzer = tokenizer::analyzer();
        let asked: BTreeSet<String> = evidence::terms(&mut analyzer, query).into_iter().collect();
        let mut found: HashMap<u32, f32> = HashMap::default();
        for (idf, list) in asked.iter().filter_map(|t| self.postings.get(t)) {
            for &(i, n) in list {
                *found.entry(i).or_default() += n as f32 * idf;
            }
        }
        // Services sharing no term with the query score 0.
        let mut scored: Vec<(f32, &NodeId)> = found
            .into_iter()
            .map(|(i, f)| {
                (f / self.totals[i as usize].max(f32::MIN_POSITIVE), &self.services[i as usize])
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        let Some(&(best, _)) = scored.first() else { return Vec::new() };
        if best < MIN_COVERAGE {
            return Vec::new();
        }
        // Descriptions restated (nearly) as well as the best one are resolved together.
        let tied = scored.iter().take_while(|(s, _)| best - s < MIN_MARGIN / 2.0).count();
        let next = scored.get(tied).map_or(0.0, |(s, _)| *s);
        if tied > MAX_SERVICES || best - next < MIN_MARGIN {
            return Vec::new();
        }
        scored.into_iter().take(tied).map(|(s, id)| (id.clone(), s)).collect()
    }
}
