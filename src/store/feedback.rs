//! Feedback on bundle items, in its own tree: [`Store::put_feedback`] adds one,
//! [`Store::close_feedback`] ends its validity (history kept), [`Store::feedback`] reads
//! them all. Every write bumps [`Store::feedback_generation`], which caches of derived
//! rank factors compare against.

use std::sync::Mutex;

use lore_schema::Feedback;
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, codec, keys};

/// Feedback writes read, compare and write; two at once on the same id would lose one.
static FEEDBACK_LOCK: Mutex<()> = Mutex::new(());

/// One piece of feedback with its validity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFeedback {
    /// The feedback.
    pub feedback: Feedback,
    /// Unix seconds when it was stored.
    pub valid_from: i64,
    /// Unix seconds when it was removed; `None` while it counts.
    pub valid_to: Option<i64>,
}

impl Store {
    /// Stores `feedback` at `now`. Returns false (and writes nothing) when feedback of the
    /// same id is already stored and current: the same post twice counts once.
    pub fn put_feedback(&self, feedback: &Feedback, now: i64) -> Result<bool, StoreError> {
        let _guard = FEEDBACK_LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = feedback.id.as_bytes();
        if let Some(value) = self.feedback.get(key)?
            && codec::decode_feedback(key, &value)?.valid_to.is_none()
        {
            return Ok(false);
        }
        let stored = StoredFeedback { feedback: feedback.clone(), valid_from: now, valid_to: None };
        self.feedback.insert(key, codec::encode_feedback(&stored))?;
        self.bump_feedback_generation()?;
        self.db.flush()?;
        Ok(true)
    }

    /// Ends the validity of feedback `id` at `now`, keeping it as history. Returns the
    /// closed feedback, or `None` when no current feedback has that id.
    pub fn close_feedback(&self, id: &str, now: i64) -> Result<Option<Feedback>, StoreError> {
        let _guard = FEEDBACK_LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = id.as_bytes();
        let Some(value) = self.feedback.get(key)? else { return Ok(None) };
        let mut stored = codec::decode_feedback(key, &value)?;
        if stored.valid_to.is_some() {
            return Ok(None);
        }
        stored.valid_to = Some(now.max(stored.valid_from));
        self.feedback.insert(key, codec::encode_feedback(&stored))?;
        self.bump_feedback_generation()?;
        self.db.flush()?;
        Ok(Some(stored.feedback))
    }

    /// Every piece of feedback ever stored, removed ones included, by id.
    pub fn feedback(&self) -> Result<Vec<StoredFeedback>, StoreError> {
        self.feedback
            .iter()
            .map(|item| {
                let (key, value) = item?;
                codec::decode_feedback(&key, &value)
            })
            .collect()
    }

    /// A counter bumped by every feedback write.
    pub fn feedback_generation(&self) -> Result<u64, StoreError> {
        Ok(self.meta.get(keys::FEEDBACK_GENERATION_KEY)?.map_or(0, |v| {
            let bytes: [u8; 8] = v.as_ref().try_into().unwrap_or([0; 8]);
            u64::from_be_bytes(bytes)
        }))
    }

    fn bump_feedback_generation(&self) -> Result<(), StoreError> {
        let next = self.feedback_generation()? + 1;
        self.meta.insert(keys::FEEDBACK_GENERATION_KEY, &next.to_be_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use lore_schema::Verdict;

    use super::*;

    #[test]
    fn feedback_is_stored_once_and_closed_with_history() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let fb = Feedback {
            id: "fb-1".into(),
            focus: "service:cart".into(),
            bundle_id: None,
            item: "chg-1".into(),
            verdict: Verdict::Wrong,
            author: None,
            comment: None,
            created: 10,
        };
        assert!(store.put_feedback(&fb, 10).unwrap());
        assert!(!store.put_feedback(&fb, 11).unwrap());
        assert_eq!(store.feedback_generation().unwrap(), 1);
        assert_eq!(store.generation().unwrap(), 0, "feedback is not a fact");
        assert_eq!(store.close_feedback("fb-1", 12).unwrap(), Some(fb.clone()));
        assert_eq!(store.close_feedback("fb-1", 13).unwrap(), None);
        assert_eq!(store.close_feedback("fb-2", 13).unwrap(), None);
        let all = store.feedback().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].valid_to, Some(12));
        assert!(store.put_feedback(&fb, 14).unwrap(), "removed feedback may be given again");
    }
}
