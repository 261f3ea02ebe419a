//! `lore::ingest` (the file readers around the ingestors: bytes to UTF-8, empty files,
//! format detection, the `.env` a file uses) over mutated real files into a real store:
//! a clean read, then the same file mutated (raw bytes, so not always UTF-8) beside a
//! mutated `.env`. Ingest returns a report, within the deadline, and every error or
//! warning in it names `file:line` and a reason.

use std::time::Duration;

use lore::store::Store;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

use super::mutate::{Mutation, apply, mutations};
use super::{config, within};

/// Two ingests into a fresh sled store.
const STORE_DEADLINE: Duration = Duration::from_secs(10);

fn check(pick: &Index, edits: &[Mutation], env_edits: &[Mutation]) -> Result<(), TestCaseError> {
    let files: Vec<_> = super::ingestors::seeds()
        .iter()
        .filter(|(key, _)| *key != "dotenv")
        .flat_map(|(_, files)| files)
        .collect();
    let (path, seed) = files[pick.index(files.len())].clone();
    let name = path.rsplit('/').next().unwrap_or("file").to_string();
    let mutated = apply(seed.as_bytes(), edits);
    let env = apply(b"PORT=8080\nDB_HOST=orders-db\nURL=http://${DB_HOST}:5432\n", env_edits);
    let reports = within(&format!("ingest {path}"), STORE_DEADLINE, move || {
        let work = tempfile::tempdir().unwrap();
        let root = work.path().join("src");
        std::fs::create_dir_all(&root).unwrap();
        let store = Store::open(&work.path().join("data")).unwrap();
        std::fs::write(root.join(&name), seed.as_bytes()).unwrap();
        let clean = lore::ingest::ingest_path(&store, &root, 10).map_err(|e| e.to_string());
        std::fs::write(root.join(&name), &mutated).unwrap();
        std::fs::write(root.join(".env"), &env).unwrap();
        let dirty = lore::ingest::ingest_path(&store, &root, 20).map_err(|e| e.to_string());
        (root.to_string_lossy().into_owned(), clean, dirty)
    })?;
    let (root, clean, dirty) = reports;
    for report in [clean, dirty] {
        let report = report.map_err(|e| TestCaseError::fail(format!("ingest failed: {e}")))?;
        for d in report.diagnostics.iter().filter(|d| d.severity != "info") {
            let line = d.locator.strip_prefix(&root).and_then(|rest| rest.rsplit_once(':'));
            let named = line.is_some_and(|(_, n)| n.parse::<usize>().is_ok_and(|n| n >= 1));
            prop_assert!(named, "{} diagnostic without a line: {d:?}", d.severity);
            prop_assert!(!d.message.trim().is_empty(), "diagnostic without a reason: {d:?}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_files_beside_a_mutated_env_are_diagnosed_with_lines(
        pick in any::<Index>(),
        edits in mutations(),
        env_edits in mutations(),
    ) {
        check(&pick, &edits, &env_edits)?;
    }
}
