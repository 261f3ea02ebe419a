//! Feedback on an item of an incident-context bundle: was it useful or wrong.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a responder says of a bundle item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The item helped.
    Useful,
    /// The item was wrong or misleading.
    Wrong,
}

impl Verdict {
    /// Snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Useful => "useful",
            Verdict::Wrong => "wrong",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Verdict {
    type Err = String;

    fn from_str(s: &str) -> Result<Verdict, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "useful" => Ok(Verdict::Useful),
            "wrong" => Ok(Verdict::Wrong),
            other => Err(format!("unknown verdict `{other}` (expected useful or wrong)")),
        }
    }
}

/// One piece of feedback, as stored.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Feedback {
    /// `fb-` and 12 hex digits of a hash of the content and time.
    pub id: String,
    /// Node id of the bundle's focus.
    pub focus: String,
    /// The bundle the item was in, when known (`<focus>@<unix secs>~<hash>`).
    pub bundle_id: Option<String>,
    /// Id of the item: a change event, node or document id.
    pub item: String,
    /// Useful or wrong.
    pub verdict: Verdict,
    /// Who said so.
    pub author: Option<String>,
    /// Why.
    pub comment: Option<String>,
    /// Unix seconds when it was given.
    pub created: i64,
}
