//! Feedback on incident-context bundle items, and the rank factor it gives them.
//!
//! A responder says an item of a bundle (a change event id like `chg-0412`, a node id
//! like `service:payment`, a document id like `runbook:…`) was `useful` or `wrong` for
//! the bundle's focus node. The focus is given directly or read from the bundle id,
//! `<focus node id>@<unix seconds>~<hash>` (the part before the last `@`), and resolves
//! through the graph to a node id. Feedback is kept in the store's `feedback` tree
//! (`store/feedback.rs`); removing it ends its validity, history kept.
//!
//! [`Engine::feedback_factor`] is the multiplicative factor later bundles of the same
//! focus apply to the item's rank:
//!
//! ```text
//! factor = clamp(1.5^useful × 0.25^wrong, 1/16, 2.0)
//! ```
//!
//! over the current feedback on that focus and item: each `wrong` quarters (an engineer who
//! looked says it is not the cause: strong evidence), each `useful` multiplies by 1.5, and the net is bounded, so no amount of feedback buries an item or
//! makes it dominate. Feedback on another focus has no effect; removed feedback has none
//! (reversible). The counts are cached per feedback generation of the store, so a bundle
//! asking for a hundred items reads the store once.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use lore_schema::{Feedback, NodeId, Verdict};
use serde::Serialize;

use crate::Engine;
use crate::error::{Error, Result};

/// Factor of one `useful`.
pub const USEFUL_FACTOR: f64 = 1.5;
/// Factor of one `wrong`.
pub const WRONG_FACTOR: f64 = 0.25;
/// Lowest net factor.
pub const MIN_FACTOR: f64 = 1.0 / 16.0;
/// Highest net factor.
pub const MAX_FACTOR: f64 = 2.0;
/// Longest comment, in characters.
const MAX_COMMENT_CHARS: usize = 2_000;

/// Current (useful, wrong) counts by (focus id, item).
type Counts = BTreeMap<(String, String), (i32, i32)>;

/// Feedback counts of one feedback generation.
pub(crate) type FeedbackCache = Mutex<Option<(u64, Arc<Counts>)>>;

/// Feedback to add.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    /// The bundle the item was in (`<focus>@<secs>~<hash>`); gives the focus when `focus`
    /// is not set.
    pub bundle_id: Option<String>,
    /// The bundle's focus node: id, name or alias.
    pub focus: Option<String>,
    /// Id of the item.
    pub item: String,
    /// `useful` or `wrong`.
    pub verdict: String,
    /// Who says so.
    pub author: Option<String>,
    /// Why.
    pub comment: Option<String>,
}

/// Feedback as listings return it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedbackView {
    /// `fb-` and 12 hex digits.
    pub id: String,
    /// Node id of the bundle's focus.
    pub focus: String,
    /// The bundle, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bundle_id: Option<String>,
    /// Id of the item.
    pub item: String,
    /// Useful or wrong.
    pub verdict: Verdict,
    /// Who said so.
    pub author: Option<String>,
    /// Why.
    pub comment: Option<String>,
    /// When (RFC 3339).
    pub created: String,
}

/// The answer to a feedback listing.
#[derive(Debug, Clone, Serialize)]
pub struct FeedbackList {
    /// Current feedback, newest first.
    pub feedback: Vec<FeedbackView>,
}

impl From<&Feedback> for FeedbackView {
    fn from(f: &Feedback) -> FeedbackView {
        FeedbackView {
            id: f.id.clone(),
            focus: f.focus.clone(),
            bundle_id: f.bundle_id.clone(),
            item: f.item.clone(),
            verdict: f.verdict,
            author: f.author.clone(),
            comment: f.comment.clone(),
            created: crate::time::format(f.created),
        }
    }
}

/// The focus part of a bundle id (`service:checkout@1793491200~1a2b3c4d` →
/// `service:checkout`), if `bundle_id` has that form.
pub fn bundle_focus(bundle_id: &str) -> Option<&str> {
    let (focus, rest) = bundle_id.rsplit_once('@')?;
    let (secs, hash) = rest.split_once('~')?;
    let well_formed = !focus.is_empty() && secs.parse::<i64>().is_ok() && !hash.is_empty();
    well_formed.then_some(focus)
}

/// The net factor of `useful` and `wrong` counts (see the module docs).
pub fn factor(useful: i32, wrong: i32) -> f64 {
    (USEFUL_FACTOR.powi(useful) * WRONG_FACTOR.powi(wrong)).clamp(MIN_FACTOR, MAX_FACTOR)
}

fn invalid(name: &str, reason: impl Into<String>) -> Error {
    Error::InvalidParam { name: name.to_string(), reason: reason.into() }
}

fn optional(text: Option<&str>) -> Option<String> {
    text.map(str::trim).filter(|t| !t.is_empty()).map(str::to_string)
}

fn feedback_id(f: &Feedback) -> String {
    let mut hasher = blake3::Hasher::new();
    let created = f.created.to_string();
    for part in [
        f.focus.as_str(),
        f.bundle_id.as_deref().unwrap_or(""),
        &f.item,
        f.verdict.as_str(),
        f.author.as_deref().unwrap_or(""),
        f.comment.as_deref().unwrap_or(""),
        &created,
    ] {
        hasher.update(part.as_bytes());
        hasher.update(&[0]);
    }
    format!("fb-{}", &hasher.finalize().to_hex()[..12])
}

impl Engine {
    /// Stores feedback given at `now`. The same feedback twice in one second is stored once.
    pub fn add_feedback(&self, req: &FeedbackRequest, now: i64) -> Result<FeedbackView> {
        let verdict: Verdict = req.verdict.parse().map_err(|e: String| invalid("verdict", e))?;
        let item = req.item.trim();
        if item.is_empty() {
            return Err(invalid("item", "is empty"));
        }
        let bundle_id = optional(req.bundle_id.as_deref());
        let from_bundle = match &bundle_id {
            Some(b) => Some(bundle_focus(b).ok_or_else(|| {
                invalid("bundle_id", format!("`{b}` is not a bundle id (<focus>@<secs>~<hash>)"))
            })?),
            None => None,
        };
        let graph = self.graph(None)?;
        let focus = match (optional(req.focus.as_deref()), from_bundle) {
            (Some(focus), bundle) => {
                let id = graph.lookup(&focus)?.id.clone();
                if let Some(b) = bundle
                    && graph.lookup(b)?.id != id
                {
                    return Err(invalid("bundle_id", format!("is a bundle of `{b}`, not `{id}`")));
                }
                id
            }
            (None, Some(b)) => graph.lookup(b)?.id.clone(),
            (None, None) => return Err(invalid("focus", "focus or bundle_id is required")),
        };
        let mut comment = optional(req.comment.as_deref());
        if let Some(c) = comment.as_mut() {
            crate::redact::in_place(c);
        }
        if comment.as_ref().is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS) {
            return Err(invalid(
                "comment",
                format!("is longer than {MAX_COMMENT_CHARS} characters"),
            ));
        }
        let mut feedback = Feedback {
            id: String::new(),
            focus: focus.to_string(),
            bundle_id,
            item: item.to_string(),
            verdict,
            author: optional(req.author.as_deref()),
            comment,
            created: now,
        };
        feedback.id = feedback_id(&feedback);
        self.store().put_feedback(&feedback, now)?;
        Ok(FeedbackView::from(&feedback))
    }

    /// Current feedback (on the node `focus` names, when given), newest first.
    pub fn feedback(&self, focus: Option<&str>) -> Result<FeedbackList> {
        let focus = match focus {
            Some(f) => Some(self.graph(None)?.lookup(f)?.id.to_string()),
            None => None,
        };
        let mut feedback: Vec<Feedback> = self
            .store()
            .feedback()?
            .into_iter()
            .filter(|s| s.valid_to.is_none())
            .map(|s| s.feedback)
            .filter(|f| focus.as_ref().is_none_or(|id| &f.focus == id))
            .collect();
        feedback.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        Ok(FeedbackList { feedback: feedback.iter().map(FeedbackView::from).collect() })
    }

    /// Removes feedback `id` at `now`: it no longer counts; it stays as history.
    pub fn remove_feedback(&self, id: &str, now: i64) -> Result<FeedbackView> {
        let id = id.trim();
        match self.store().close_feedback(id, now)? {
            Some(f) => Ok(FeedbackView::from(&f)),
            None => Err(Error::NotFound { what: "feedback", id: id.to_string() }),
        }
    }

    /// The rank factor of `item` in later bundles of `focus` (see the module docs): 1.0
    /// without feedback, within [`MIN_FACTOR`, `MAX_FACTOR`] with.
    pub fn feedback_factor(&self, focus: &NodeId, item: &str) -> Result<f64> {
        let counts = self.feedback_counts()?;
        let key = (focus.to_string(), item.to_string());
        Ok(counts.get(&key).map_or(1.0, |&(useful, wrong)| factor(useful, wrong)))
    }

    fn feedback_counts(&self) -> Result<Arc<Counts>> {
        let generation = self.store().feedback_generation()?;
        let lock = || {
            self.feedback_counts
                .lock()
                .map_err(|_| Error::Internal("feedback cache lock poisoned".into()))
        };
        if let Some((g, counts)) = lock()?.as_ref()
            && *g == generation
        {
            return Ok(counts.clone());
        }
        let mut counts = Counts::new();
        for stored in self.store().feedback()?.into_iter().filter(|s| s.valid_to.is_none()) {
            let f = stored.feedback;
            let entry = counts.entry((f.focus, f.item)).or_default();
            match f.verdict {
                Verdict::Useful => entry.0 += 1,
                Verdict::Wrong => entry.1 += 1,
            }
        }
        let counts = Arc::new(counts);
        *lock()? = Some((generation, counts.clone()));
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_are_multiplicative_and_bounded() {
        assert_eq!(factor(0, 0), 1.0);
        assert_eq!(factor(0, 1), 0.25);
        assert_eq!(factor(1, 0), 1.5);
        assert_eq!(factor(1, 1), 0.375);
        assert_eq!(factor(0, 5), MIN_FACTOR);
        assert_eq!(factor(5, 0), MAX_FACTOR);
    }

    #[test]
    fn bundle_ids_give_their_focus() {
        assert_eq!(bundle_focus("service:checkout@1793491200~1a2b3c4d"), Some("service:checkout"));
        assert_eq!(bundle_focus("a@b@1~x"), Some("a@b"));
        for bad in ["service:checkout", "@1~x", "s@x~y", "s@1~", "s@1"] {
            assert_eq!(bundle_focus(bad), None, "{bad}");
        }
    }
}
