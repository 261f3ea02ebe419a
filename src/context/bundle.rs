//! A bundle before and after its budget: every ranked item ([`Full`]), the fill that
//! fits a budget (`Full::fit`), and the bundles kept for `more`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::items::{
    BlastItem, ChangeItem, IncidentItem, Markdown, NoteItem, RunbookItem, Suspect, TelemetryItem,
};
use super::{Bundle, FocusView, Format, KEPT, MIN_ITEM_TOKENS, More, SECTIONS, budget, render};
use crate::error::{Error, Result};

/// Every ranked item of a bundle, before the budget.
#[derive(Debug, Clone)]
pub(crate) struct Full {
    pub(super) id: String,
    pub(super) at: i64,
    pub(super) since: i64,
    pub(super) focus: FocusView,
    pub(super) blast_radius: Vec<BlastItem>,
    pub(super) suspects: Vec<Suspect>,
    pub(super) changes: Vec<ChangeItem>,
    pub(super) runbooks: Vec<RunbookItem>,
    pub(super) incidents: Vec<IncidentItem>,
    pub(super) telemetry: Vec<TelemetryItem>,
    pub(super) notes: Vec<NoteItem>,
    pub(super) notices: Vec<String>,
}

impl Full {
    /// Per section (in [`SECTIONS`] order): each item's JSON and markdown.
    fn rendered(&self, section: usize, format: Format, cap: usize) -> Vec<String> {
        fn each<T: Serialize + Markdown>(items: &[T], format: Format, cap: usize) -> Vec<String> {
            items
                .iter()
                .take(cap)
                .map(|i| match format {
                    Format::Json => serde_json::to_string(i).unwrap_or_default(),
                    Format::Markdown => i.markdown(),
                })
                .collect()
        }
        match section {
            0 => each(&self.suspects, format, cap),
            1 => each(&self.changes, format, cap),
            2 => each(&self.runbooks, format, cap),
            3 => each(&self.notes, format, cap),
            4 => each(&self.blast_radius, format, cap),
            5 => each(&self.incidents, format, cap),
            _ => each(&self.telemetry, format, cap),
        }
    }

    pub(super) fn len(&self, section: usize) -> usize {
        match section {
            0 => self.suspects.len(),
            1 => self.changes.len(),
            2 => self.runbooks.len(),
            3 => self.notes.len(),
            4 => self.blast_radius.len(),
            5 => self.incidents.len(),
            _ => self.telemetry.len(),
        }
    }

    pub(super) fn json_items(&self, section: usize, from: usize) -> Vec<serde_json::Value> {
        fn each<T: Serialize>(items: &[T], from: usize) -> Vec<serde_json::Value> {
            items.iter().skip(from).map(|i| serde_json::to_value(i).unwrap_or_default()).collect()
        }
        match section {
            0 => each(&self.suspects, from),
            1 => each(&self.changes, from),
            2 => each(&self.runbooks, from),
            3 => each(&self.notes, from),
            4 => each(&self.blast_radius, from),
            5 => each(&self.incidents, from),
            _ => each(&self.telemetry, from),
        }
    }

    /// The bundle with the first `taken[s]` items of each section.
    fn assemble(&self, taken: &[usize], budget: usize) -> Bundle {
        let mut more = BTreeMap::new();
        for (s, (name, _)) in SECTIONS.iter().enumerate() {
            let left = self.len(s).saturating_sub(taken[s]);
            if left > 0 {
                more.insert(
                    name.to_string(),
                    More { count: left, cursor: format!("{name}:{}", taken[s]) },
                );
            }
        }
        Bundle {
            bundle_id: self.id.clone(),
            at: crate::time::format(self.at),
            since: crate::time::format(self.since),
            focus: self.focus.clone(),
            tokens: 0,
            budget_tokens: budget,
            suspects: self.suspects[..taken[0]].to_vec(),
            changes: self.changes[..taken[1]].to_vec(),
            runbooks: self.runbooks[..taken[2]].to_vec(),
            notes: self.notes[..taken[3]].to_vec(),
            blast_radius: self.blast_radius[..taken[4]].to_vec(),
            incidents: self.incidents[..taken[5]].to_vec(),
            telemetry: self.telemetry[..taken[6]].to_vec(),
            more,
            notices: self.notices.clone(),
        }
    }

    /// The bundle that fits `budget` tokens in `format`, and its rendering.
    pub(super) fn fit(&self, budget: usize, format: Format) -> Result<(Bundle, String)> {
        let empty = [0; SECTIONS.len()];
        let base = render::render(&self.assemble(&empty, budget), format);
        let overhead = budget::count(&base) + 4;
        if overhead > budget {
            return Err(Error::InvalidParam {
                name: "budget_tokens".into(),
                reason: format!("{budget} tokens cannot hold the focus alone ({overhead} tokens)"),
            });
        }
        let mut costs = Vec::new();
        // Every item costs more than MIN_ITEM_TOKENS, so no section can take more than
        // budget / MIN_ITEM_TOKENS items: the rest need no rendering or counting.
        let cap = budget / MIN_ITEM_TOKENS;
        for s in 0..SECTIONS.len() {
            for (rank, text) in self.rendered(s, format, cap).iter().enumerate() {
                costs.push(budget::Cost { section: s, rank, tokens: budget::count(text) });
            }
        }
        let weights: Vec<f64> = SECTIONS.iter().map(|(_, w)| *w).collect();
        let mut available = budget - overhead;
        loop {
            let taken = budget::fill(&costs, &weights, available);
            let mut bundle = self.assemble(&taken, budget);
            // The count includes its own digits: settle it.
            let mut text = String::new();
            for _ in 0..3 {
                text = render::render(&bundle, format);
                let n = budget::count(&text);
                if n == bundle.tokens {
                    break;
                }
                bundle.tokens = n;
            }
            if bundle.tokens <= budget {
                return Ok((bundle, text));
            }
            let over = bundle.tokens - budget;
            if available == 0 {
                return Err(Error::Internal("context bundle does not fit its budget".into()));
            }
            available = available.saturating_sub(over + 8);
        }
    }
}

/// Bundles kept for `more`, newest last.
#[derive(Debug, Default)]
pub(crate) struct BundleCache(Mutex<VecDeque<Arc<Full>>>);

impl BundleCache {
    pub(super) fn put(&self, full: Arc<Full>) {
        if let Ok(mut q) = self.0.lock() {
            q.retain(|f| f.id != full.id);
            q.push_back(full);
            while q.len() > KEPT {
                q.pop_front();
            }
        }
    }

    pub(super) fn get(&self, id: &str) -> Option<Arc<Full>> {
        self.0.lock().ok()?.iter().find(|f| f.id == id).cloned()
    }
}
