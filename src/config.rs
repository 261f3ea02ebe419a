//! `lore.toml`: settings a team keeps beside its data instead of in flags.
//!
//! Looked up at `--config PATH` (env `LORE_CONFIG`), else `./lore.toml` when present.
//! Flags and environment variables win over the file; the file wins over defaults.
//! Relative paths in the file are relative to the file's folder. Unknown keys are an
//! error naming the file, so a typo does not silently fall back to a default.
//!
//! ```toml
//! data_dir = ".lore"          # LORE_DATA_DIR, --data-dir
//! log_format = "json"         # LORE_LOG_FORMAT, --log-format (text | json)
//!
//! [serve]
//! bind = "127.0.0.1:7474"     # --bind
//!
//! [embedding]
//! model_dir = ".assets/all-MiniLM-L6-v2-qdyn"                      # LORE_MODEL_DIR
//! ort_lib = ".assets/onnxruntime/libonnxruntime.so.1.31.0"         # LORE_ORT_LIB
//!
//! [queries]
//! dir = "queries.d"           # LORE_QUERIES_DIR: named queries added to the built-ins
//!
//! [limits]                    # each an error naming what was over it
//! max_file_bytes = 16777216   # a bigger file is not read; its facts are kept
//! max_request_bytes = 4194304 # HTTP bodies (413)
//! max_query_chars = 2000      # search queries
//! max_results = 1000          # search `limit`
//! max_depth = 64              # impact `depth`
//! max_documents_per_file = 100000 # YAML documents; a bigger file is not parsed
//! max_name_chars = 253        # names, namespaces, aliases, hosts (record left out)
//! max_label_chars = 63        # label values and key names
//! max_document_chars = 1048576    # text of one document or event description
//! max_events_per_batch = 10000    # POST /v1/events
//!
//! [auth]                      # tokens of `lore serve` (see `auth.rs`); LORE_TOKENS adds more
//! allowed_hosts = ["lore.internal"]
//! [[auth.tokens]]
//! name = "ci"
//! scopes = ["write"]          # read | write | admin
//! token_blake3 = "…"          # or token = "…"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// File name looked up in the current directory.
pub const FILE_NAME: &str = "lore.toml";

/// The settings of a `lore.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Data directory holding the store.
    pub data_dir: Option<PathBuf>,
    /// Log format: `text` or `json`.
    pub log_format: Option<String>,
    /// `lore serve` and `lore demo`.
    #[serde(default)]
    pub serve: ServeConfig,
    /// Where the embedding model is.
    #[serde(default)]
    pub embedding: EmbeddingConfig,
    /// Named queries of the team (`queries.rs`).
    #[serde(default)]
    pub queries: QueriesConfig,
    /// Tokens and `Host` names of `lore serve` (`auth.rs`).
    #[serde(default)]
    pub auth: crate::auth::AuthConfig,
    /// Bounds on what ingest reads.
    #[serde(default)]
    pub limits: LimitsConfig,
}

/// `[limits]`: bounds on what ingest reads, each a diagnostic naming the file when hit
/// (the file keeps the facts it had).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest file read, in bytes. Trace files (streamed into figures, never kept) and
    /// JSON-lines change logs (a record per line) are excepted. Default 16 MiB: ten times
    /// the largest object Kubernetes stores.
    pub max_file_bytes: u64,
    /// Largest HTTP request body, in bytes (413 beyond).
    pub max_request_bytes: usize,
    /// Longest search query, in characters.
    pub max_query_chars: usize,
    /// Most results a search may ask for.
    pub max_results: usize,
    /// Deepest impact traversal a request may ask for (unbounded requests stay allowed:
    /// the walk visits each node once).
    pub max_depth: usize,
    /// Most YAML documents one file may hold (a bigger file is not parsed; its facts are
    /// kept).
    pub max_documents_per_file: usize,
    /// Longest name, namespace, alias, owner, system or host, in characters (Kubernetes:
    /// 253, a DNS subdomain).
    pub max_name_chars: usize,
    /// Longest label value and label key name (after any `prefix/`), in characters
    /// (Kubernetes: 63).
    pub max_label_chars: usize,
    /// Most characters of text in one document (title and sections) or one change
    /// event's description.
    pub max_document_chars: usize,
    /// Most change events in one `POST /v1/events`.
    pub max_events_per_batch: usize,
}

impl Default for LimitsConfig {
    fn default() -> LimitsConfig {
        LimitsConfig {
            max_file_bytes: 16 << 20,
            max_request_bytes: crate::server::MAX_BODY_BYTES,
            max_query_chars: 2_000,
            max_results: 1_000,
            max_depth: 64,
            max_documents_per_file: 100_000,
            max_name_chars: 253,
            max_label_chars: 63,
            max_document_chars: 1 << 20,
            max_events_per_batch: crate::changes::MAX_EVENTS_PER_REQUEST,
        }
    }
}

impl LimitsConfig {
    /// An error naming `name` when `value` is over `max` (the `[limits]` key `key`).
    pub fn check(name: &str, value: usize, max: usize, key: &str, unit: &str) -> Result<()> {
        if value > max {
            return Err(Error::InvalidParam {
                name: name.into(),
                reason: format!("{value} {unit}; at most {max} ([limits] {key} in lore.toml)"),
            });
        }
        Ok(())
    }
}

/// `[queries]`: a folder of `*.toml` named queries adding to (or overriding) the built-ins.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QueriesConfig {
    /// The folder.
    pub dir: Option<PathBuf>,
}

/// `[serve]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// Address to listen on (keep it on 127.0.0.1 unless something in front guards it).
    pub bind: Option<String>,
}

/// `[embedding]`: model folder and ONNX Runtime library, when not in `.assets/`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingConfig {
    /// Folder with `model.onnx` and the tokenizer files.
    pub model_dir: Option<PathBuf>,
    /// Path of `libonnxruntime.so.*`.
    pub ort_lib: Option<PathBuf>,
}

impl Config {
    /// The config at `explicit`, which must exist, else `./lore.toml` if there is one,
    /// else the defaults; with the path it was read from.
    pub fn load(explicit: Option<&Path>) -> Result<(Config, Option<PathBuf>)> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None if Path::new(FILE_NAME).is_file() => PathBuf::from(FILE_NAME),
            None => return Ok((Config::default(), None)),
        };
        let input = |reason: String| Error::Input { path: path.clone(), reason };
        let text = std::fs::read_to_string(&path).map_err(|e| input(e.to_string()))?;
        let mut config: Config = toml::from_str(&text).map_err(|e| input(e.to_string()))?;
        if let Some(format) = &config.log_format
            && !["text", "json"].contains(&format.as_str())
        {
            return Err(input(format!("log_format `{format}`: expected text or json")));
        }
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let resolve = |p: &mut Option<PathBuf>| {
            if let Some(p) = p
                && p.is_relative()
            {
                *p = base.join(&*p);
            }
        };
        resolve(&mut config.data_dir);
        resolve(&mut config.embedding.model_dir);
        resolve(&mut config.embedding.ort_lib);
        resolve(&mut config.queries.dir);
        Ok((config, Some(path)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_settings_and_resolves_paths_beside_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lore.toml");
        std::fs::write(
            &path,
            "data_dir = \"data\"\nlog_format = \"json\"\n[serve]\nbind = \"127.0.0.1:9000\"\n\
             [embedding]\nmodel_dir = \"/opt/model\"\n[limits]\nmax_depth = 3\n",
        )
        .unwrap();
        let (config, from) = Config::load(Some(&path)).unwrap();
        assert_eq!(from.as_deref(), Some(path.as_path()));
        assert_eq!(config.data_dir, Some(dir.path().join("data")));
        assert_eq!(config.log_format.as_deref(), Some("json"));
        assert_eq!(config.serve.bind.as_deref(), Some("127.0.0.1:9000"));
        assert_eq!(config.embedding.model_dir, Some(PathBuf::from("/opt/model")));
        assert_eq!(config.embedding.ort_lib, None);
        assert_eq!(config.limits.max_depth, 3);
        assert_eq!(config.limits.max_file_bytes, LimitsConfig::default().max_file_bytes);
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lore.toml");
        for (text, needle) in [
            ("[embeding]\nmodel_dir = \"x\"\n", "embeding"),
            ("log_format = \"yaml\"\n", "log_format"),
            ("data_dir = [1\n", "lore.toml"),
            ("[limits]\nmax_dept = 3\n", "max_dept"),
        ] {
            std::fs::write(&path, text).unwrap();
            let err = Config::load(Some(&path)).unwrap_err().to_string();
            assert!(err.contains("lore.toml") && err.contains(needle), "{err}");
        }
        let missing = dir.path().join("nope.toml");
        assert!(Config::load(Some(&missing)).unwrap_err().to_string().contains("nope.toml"));
    }
}
