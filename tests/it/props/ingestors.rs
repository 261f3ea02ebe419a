//! Every ingestor (`lore_ingestors::ingest` per format, `git_history`, `.env` parsing,
//! format detection) over arbitrary bytes and over mutations of real files: no panic, no
//! hang, and every diagnostic is `path:line` (a line of the file) with a reason.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use lore_ingestors::{Detection, Format, Input, Output, Severity};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

use super::mutate::{Mutation, apply, arbitrary_bytes, mutations};
use super::{DEADLINE, config, line_count, locator_line, within};

/// Real files per format: all of examples/org's, and up to this many from the corpora.
const CORPUS_FILES_PER_FORMAT: usize = 16;

/// Files larger than this are left out of the seeds (a case should stay milliseconds).
const MAX_SEED_BYTES: u64 = 128 * 1024;

pub(crate) type Seeds = BTreeMap<String, Vec<(String, Arc<str>)>>;

/// Real files grouped by the format `detect` gives them, named as ingest names them.
pub(crate) fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut seeds = Seeds::new();
        let org = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/org");
        collect(&org, "org", usize::MAX, &mut seeds);
        for dir in ["topology", "runbooks", "postmortems"] {
            collect(&crate::support::corpus(dir), dir, CORPUS_FILES_PER_FORMAT, &mut seeds);
        }
        seeds
    })
}

fn collect(root: &Path, name: &str, per_format: usize, seeds: &mut Seeds) {
    let mut found: Seeds = Seeds::new();
    for entry in walkdir::WalkDir::new(root).sort_by_file_name().into_iter().flatten() {
        let too_big = entry.metadata().map_or(true, |m| m.len() > MAX_SEED_BYTES);
        if !entry.file_type().is_file() || too_big {
            continue;
        }
        let rel = entry.path().strip_prefix(root).unwrap().to_string_lossy().into_owned();
        let path = format!("{name}/{rel}");
        let Ok(text) = std::fs::read_to_string(entry.path()) else { continue };
        let key = if rel.ends_with(".env") {
            "dotenv".to_string()
        } else {
            match lore_ingestors::detect(&path, &text) {
                Detection::Ingest(format) => format!("{format:?}"),
                _ => continue,
            }
        };
        found.entry(key).or_default().push((path, text.into()));
    }
    for (key, files) in found {
        // Spread the picks over the corpus (its files are sorted by path).
        let step = files.len().div_ceil(per_format.min(files.len()).max(1));
        seeds.entry(key).or_default().extend(files.into_iter().step_by(step.max(1)));
    }
}

/// The seeds of `key`, failing the test (not the case) when the corpora hold none.
fn seeds_of(key: &str) -> &'static [(String, Arc<str>)] {
    let files = seeds().get(key).map(Vec::as_slice).unwrap_or_default();
    assert!(!files.is_empty(), "no real {key} file to mutate in examples/org or the corpora");
    files
}

/// Checks every diagnostic of `out` names a line of `text` in `path` and a reason.
fn check_diagnostics(out: &Output, path: &str, text: &str) -> Result<(), TestCaseError> {
    let lines = line_count(text);
    for d in &out.diagnostics {
        // A summary of the whole file ("skipped 8 commits that touch no service path",
        // "no static clusters") may name the file alone; a problem names its line.
        if d.severity == Severity::Info && d.locator == path {
            continue;
        }
        let line = locator_line(&d.locator, path);
        prop_assert!(line.is_some(), "diagnostic without a line: {d:?}");
        let line = line.unwrap_or_default();
        prop_assert!(line <= lines, "line {line} past the end ({lines} lines): {d:?}");
        prop_assert!(!d.message.trim().is_empty(), "diagnostic without a reason: {d:?}");
    }
    Ok(())
}

/// Parses `text` as `format` under the deadline and checks its diagnostics.
fn check_format(format: Format, path: &str, text: String) -> Result<(), TestCaseError> {
    let (owned_path, owned_text) = (path.to_string(), text.clone());
    let out = within(&format!("{format:?} {path}"), DEADLINE, move || {
        let env = BTreeMap::from([("PORT".to_string(), "8080".to_string())]);
        let input = Input { path: &owned_path, text: &owned_text, env: &env };
        let _ = lore_ingestors::detect(&owned_path, &owned_text);
        lore_ingestors::ingest(format, &input)
    })?;
    check_diagnostics(&out, path, &text)
}

fn mutated(seeds: &[(String, Arc<str>)], pick: &Index, edits: &[Mutation]) -> (String, String) {
    let (path, seed) = &seeds[pick.index(seeds.len())];
    let bytes = apply(seed.as_bytes(), edits);
    (path.clone(), String::from_utf8_lossy(&bytes).into_owned())
}

macro_rules! format_props {
    ($($name:ident: $format:ident at $path:literal;)*) => {$(
        mod $name {
            use super::*;

            proptest! {
                #![proptest_config(config())]

                #[test]
                fn arbitrary_bytes_are_diagnosed_with_lines(bytes in arbitrary_bytes()) {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    check_format(Format::$format, $path, text)?;
                }

                #[test]
                fn mutated_real_files_are_diagnosed_with_lines(
                    pick in any::<Index>(),
                    edits in mutations(),
                ) {
                    let (path, text) = mutated(seeds_of(stringify!($format)), &pick, &edits);
                    check_format(Format::$format, &path, text)?;
                }
            }
        }
    )*};
}

format_props! {
    kubernetes: Kubernetes at "org/k8s/app.yaml";
    compose: Compose at "org/compose.yaml";
    backstage: Backstage at "org/catalog-info.yaml";
    service_catalog: ServiceCatalog at "org/services.yml";
    envoy: Envoy at "org/envoy.yaml";
    nginx: Nginx at "org/nginx.conf";
    deploy_events: DeployEvents at "org/deploys.ndjson";
    markdown: Markdown at "org/runbooks/x.md";
    alert_rules: AlertRules at "org/alerts/rules.yaml";
}

/// `git log` output in the format `git_history` reads, from this repository's history.
fn git_log() -> &'static str {
    static LOG: OnceLock<String> = OnceLock::new();
    LOG.get_or_init(|| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(env!("CARGO_MANIFEST_DIR"))
            .args(lore_ingestors::git_history::log_args())
            .args(["-n", "40"])
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git log failed");
        String::from_utf8(out.stdout).expect("git log is UTF-8")
    })
}

fn check_git(text: String) -> Result<(), TestCaseError> {
    let (path, owned) = ("org/git.log", text.clone());
    let out = within("git_history", DEADLINE, move || {
        let env = BTreeMap::new();
        let input = Input { path, text: &owned, env: &env };
        let cfg = lore_ingestors::git_history::Config {
            rules: vec![
                ("src/<service>/".into(), "<service>".into()),
                ("tests/".into(), "t".into()),
            ],
        };
        let mut emitter = lore_ingestors::Emitter::new(path);
        lore_ingestors::git_history::ingest(&input, &cfg, &mut emitter);
        emitter.finish()
    })?;
    check_diagnostics(&out, path, &text)
}

/// `.env` problems: each names a line of the file and a reason.
fn check_dotenv(text: String) -> Result<(), TestCaseError> {
    let owned = text.clone();
    let (problems, _) = within("dotenv", DEADLINE, move || {
        let problems = lore_ingestors::util::dotenv::problems(&owned);
        let vars = lore_ingestors::util::dotenv::parse(&owned);
        let _ = lore_ingestors::util::dotenv::interpolate(&owned, &vars);
        let _ = lore_ingestors::util::dotenv::interpolation_problems(&owned);
        (problems, vars.len())
    })?;
    let lines = line_count(&text);
    for (line, reason) in problems {
        prop_assert!((1..=lines).contains(&line), "line {line} of {lines}: {reason}");
        prop_assert!(!reason.trim().is_empty(), "no reason at line {line}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn git_history_arbitrary_bytes(bytes in arbitrary_bytes()) {
        check_git(String::from_utf8_lossy(&bytes).into_owned())?;
    }

    #[test]
    fn git_history_mutated_real_log(edits in mutations()) {
        check_git(String::from_utf8_lossy(&apply(git_log().as_bytes(), &edits)).into_owned())?;
    }

    #[test]
    fn dotenv_arbitrary_bytes(bytes in arbitrary_bytes()) {
        check_dotenv(String::from_utf8_lossy(&bytes).into_owned())?;
    }

    #[test]
    fn dotenv_mutated_real_files(pick in any::<Index>(), edits in mutations()) {
        let (_, text) = mutated(seeds_of("dotenv"), &pick, &edits);
        check_dotenv(text)?;
    }
}

#[test]
fn every_format_has_real_files_to_mutate() {
    for key in [
        "Kubernetes",
        "Compose",
        "Backstage",
        "ServiceCatalog",
        "DeployEvents",
        "Markdown",
        "AlertRules",
        "dotenv",
    ] {
        assert!(!seeds_of(key).is_empty());
    }
    assert!(git_log().contains('\u{1e}'), "git log gave no commits");
}
