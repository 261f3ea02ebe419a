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

/// The analysed catalog descriptions of one graph's services, with their document
/// frequencies: built once per store generation (`Engine::descriptions`), asked per query.
#[derive(Debug, Default)]
pub struct Descriptions {
    services: Vec<(NodeId, Vec<String>)>,
    df: BTreeMap<String, usize>,
}

impl Descriptions {
    /// Analyses every service description of `graph`.
    pub fn new(graph: &Graph) -> Descriptions {
        let mut analyzer = tokenizer::analyzer();
        let services: Vec<(NodeId, Vec<String>)> = graph
            .nodes()
            .iter()
            .filter(|n| n.kind == NodeKind::Service)
            .filter_map(|n| n.attrs.get("description").map(|d| (n.id.clone(), d)))
            .map(|(id, d)| (id, evidence::terms(&mut analyzer, d)))
            .filter(|(_, terms)| terms.len() >= MIN_TERMS)
            .collect();
        let mut df: BTreeMap<String, usize> = BTreeMap::new();
        for (_, terms) in &services {
            for t in terms {
                *df.entry(t.clone()).or_default() += 1;
            }
        }
        Descriptions { services, df }
    }

    /// The services whose description `query` restates, with that share (in [0, 1]).
    pub fn restated_by(&self, query: &str) -> Vec<(NodeId, f32)> {
        if self.services.is_empty() {
            return Vec::new();
        }
        let n = self.services.len() as f32;
        let idf = |t: &str| (1.0 + n / self.df.get(t).copied().unwrap_or(1) as f32).ln();
        let mut analyzer = tokenizer::analyzer();
        let asked: BTreeSet<String> = evidence::terms(&mut analyzer, query).into_iter().collect();
        let mut scored: Vec<(f32, &NodeId)> = self
            .services
            .iter()
            .map(|(id, terms)| {
                let total: f32 = terms.iter().map(|t| idf(t)).sum();
                let found: f32 = terms.iter().filter(|t| asked.contains(*t)).map(|t| idf(t)).sum();
                (found / total.max(f32::MIN_POSITIVE), id)
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
