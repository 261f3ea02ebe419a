//! The input handed to an ingestor by the caller.

use std::collections::BTreeMap;

/// One file to parse.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Path as given to ingest (used in locators).
    pub path: &'a str,
    /// File content (the caller reports non-UTF-8 files itself).
    pub text: &'a str,
    /// Variables from the nearest `.env` file, for `${VAR}` interpolation.
    pub env: &'a BTreeMap<String, String>,
}

impl Input<'_> {
    /// `path:line` for a 1-based line.
    pub fn locator(&self, line: usize) -> String {
        format!("{}:{}", self.path, line)
    }

    /// The file name without directories.
    pub fn file_name(&self) -> &str {
        self.path.rsplit(['/', '\\']).next().unwrap_or(self.path)
    }
}
