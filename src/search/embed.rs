//! Sentence embeddings, offline: all-MiniLM-L6-v2 (by default its fp32 graph with
//! dynamically quantised MatMuls, `-qdyn`; mean pooling, 256 tokens, 384 dimensions,
//! L2-normalised) run by fastembed on an ONNX Runtime shared library loaded at run time.
//! The `-qdyn` variant is the default because it embeds 1.75x faster than the int8 export
//! with the same dev-set retrieval (docs/benchmarks.md); the int8 export stays available.
//!
//! `scripts/setup` fetches the assets into the git-ignored `.assets/`; [`Embedder::locate`]
//! finds them (env `LORE_MODEL_DIR` / `LORE_ORT_LIB` first) and [`Embedder::load`] builds the
//! model. `scripts/setup` builds the fp32 and dynamically quantised variants from the model's
//! weights; another is selected with `LORE_MODEL_DIR`; a `model_id` file in the model folder names
//! them, so cached vectors of one model are never mixed with another's. ONNX Runtime allows
//! one environment per process: the first load fixes the library for the life of the
//! process and later loads share it. Only `src/search/` touches fastembed and ort.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use fastembed::{
    InitOptionsUserDefined, Pooling, TextEmbedding, TokenizerFiles, UserDefinedEmbeddingModel,
};
use ort::environment::Environment;

use crate::error::{Error, Result};

/// Dimensions of every vector.
pub const DIM: usize = 384;

/// Texts per ONNX Runtime run. Small runs are faster on this model and a 2-core CPU: on
/// the real corpora 8 embeds 80.9 texts/s at ingest, 32 embeds 77.1, 16 72.8
/// (docs/benchmarks.md, "Embedding batch size").
const BATCH: usize = 8;
/// Tokens the model reads per text; the rest is cut off.
const MAX_LENGTH: usize = 256;
/// Identity of the default model, part of vector cache keys. A model folder may name
/// another identity in a `model_id` file (the variants `scripts/setup` builds do).
const MODEL_ID: &str = "all-MiniLM-L6-v2-int8";
/// Folder of the asset tree that `scripts/setup` fills.
const ASSETS_DIR: &str = ".assets";
/// Model folder under [`ASSETS_DIR`].
const MODEL_SUBDIR: &str = "all-MiniLM-L6-v2-qdyn";
/// ONNX Runtime library under [`ASSETS_DIR`].
const ORT_SUBPATH: &str = "onnxruntime/libonnxruntime.so.1.31.0";
/// Files the model folder must hold.
const MODEL_FILES: [&str; 5] = [
    "model.onnx",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "config.json",
];

/// The process's ONNX Runtime environment and the library it was loaded from.
static ORT_ENV: Mutex<Option<(PathBuf, Environment)>> = Mutex::new(None);

/// A loaded embedding model. Shareable across threads; runs are serialised per batch.
pub struct Embedder {
    model: Mutex<TextEmbedding>,
    id: String,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder").field("model", &self.id).finish()
    }
}

impl Embedder {
    /// Loads the model from `model_dir` with ONNX Runtime from `ort_lib` (absolute paths).
    ///
    /// The first successful call in a process loads `ort_lib`; later calls must name the
    /// same library.
    pub fn load(model_dir: &Path, ort_lib: &Path) -> Result<Embedder> {
        let read = |name: &str| {
            let path = model_dir.join(name);
            std::fs::read(&path).map_err(|e| {
                internal(format!(
                    "cannot read embedding model file {}: {e}; run scripts/setup",
                    path.display()
                ))
            })
        };
        let onnx = read("model.onnx")?;
        let id = match std::fs::read_to_string(model_dir.join("model_id")) {
            Ok(id) if !id.trim().is_empty() => id.trim().to_string(),
            _ => MODEL_ID.to_string(),
        };
        let tokenizer_files = TokenizerFiles {
            tokenizer_file: read("tokenizer.json")?,
            config_file: read("config.json")?,
            special_tokens_map_file: read("special_tokens_map.json")?,
            tokenizer_config_file: read("tokenizer_config.json")?,
        };
        let environment = environment(ort_lib)?;
        let model =
            UserDefinedEmbeddingModel::new(onnx, tokenizer_files).with_pooling(Pooling::Mean);
        // ONNX Runtime's pool threads spin after a run by default, taking the other core
        // from whatever runs beside them: BM25 ranking while the query embeds, then the
        // vector scan. Sleeping costs batches nothing measurable (docs/benchmarks.md).
        let options = InitOptionsUserDefined::new()
            .with_environment(environment)
            .with_max_length(MAX_LENGTH)
            .with_session_config("session.intra_op.allow_spinning", "0");
        let model = TextEmbedding::try_new_from_user_defined(model, options).map_err(|e| {
            internal(format!("cannot load the embedding model from {}: {e}", model_dir.display()))
        })?;
        Ok(Embedder { model: Mutex::new(model), id })
    }

    /// Where assets are looked up: env `LORE_MODEL_DIR` / `LORE_ORT_LIB`, else
    /// `<repo>/.assets/...` found walking up from the current dir, then from the
    /// executable's dir. Returns `(model_dir, ort_lib)` as absolute paths, or a message
    /// saying to run `scripts/setup`.
    pub fn locate() -> std::result::Result<(PathBuf, PathBuf), String> {
        Embedder::locate_with(&crate::config::EmbeddingConfig::default())
    }

    /// As [`Embedder::locate`], with `config` (`lore.toml` `[embedding]`) between the
    /// environment and `.assets/`.
    pub fn locate_with(
        config: &crate::config::EmbeddingConfig,
    ) -> std::result::Result<(PathBuf, PathBuf), String> {
        let mut starts = Vec::new();
        if let Ok(dir) = std::env::current_dir() {
            starts.push(dir);
        }
        if let Some(dir) =
            std::env::current_exe().ok().and_then(|exe| exe.parent().map(Path::to_path_buf))
        {
            starts.push(dir);
        }
        let or_config = |env: &str, path: &Option<PathBuf>| {
            std::env::var_os(env)
                .filter(|v| !v.is_empty())
                .or_else(|| path.as_ref().map(|p| p.clone().into_os_string()))
        };
        locate_from(
            or_config("LORE_MODEL_DIR", &config.model_dir),
            or_config("LORE_ORT_LIB", &config.ort_lib),
            &starts,
        )
    }

    /// Embeds texts in batches of [`BATCH`], L2-normalised 384-d vectors, in input order.
    ///
    /// Texts are batched by length (a batch is padded to its longest text), then put back
    /// in input order.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out = vec![Vec::new(); texts.len()];
        for indices in order.chunks(BATCH) {
            let batch: Vec<&str> = indices.iter().map(|&i| texts[i]).collect();
            // The model keeps no state between runs, so a lock poisoned by a panic in
            // another caller is still usable.
            let mut model = self.model.lock().unwrap_or_else(PoisonError::into_inner);
            let vectors = model
                .embed(&batch, Some(BATCH))
                .map_err(|e| internal(format!("embedding failed: {e}")))?;
            drop(model);
            if vectors.len() != batch.len() || vectors.iter().any(|v| v.len() != DIM) {
                return Err(internal(format!(
                    "the embedding model returned {} vectors of {:?} dimensions for {} texts; \
                     expected {DIM} dimensions",
                    vectors.len(),
                    vectors.first().map(Vec::len),
                    batch.len()
                )));
            }
            for (&i, vector) in indices.iter().zip(vectors) {
                out[i] = vector;
            }
        }
        Ok(out)
    }

    /// Model identity for cache keys (`all-MiniLM-L6-v2-int8`, or the model folder's
    /// `model_id` file).
    pub fn model_id(&self) -> &str {
        &self.id
    }
}

/// The process's ONNX Runtime environment, created from `ort_lib` on first use.
fn environment(ort_lib: &Path) -> Result<Environment> {
    let lib = ort_lib.canonicalize().map_err(|e| {
        internal(format!(
            "cannot find the ONNX Runtime library {}: {e}; run scripts/setup",
            ort_lib.display()
        ))
    })?;
    let mut current = ORT_ENV.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((loaded, env)) = current.as_ref() {
        if *loaded == lib {
            return Ok(env.clone());
        }
        return Err(internal(format!(
            "ONNX Runtime is already loaded from {} in this process; cannot switch to {}",
            loaded.display(),
            lib.display()
        )));
    }
    let env = ort::init_from(&lib)
        .map_err(|e| internal(format!("cannot load ONNX Runtime: {e}")))?
        .with_name("lore")
        .build()
        .map_err(|e| {
            internal(format!(
                "cannot create the ONNX Runtime environment from {}: {e}",
                lib.display()
            ))
        })?;
    *current = Some((lib, env.clone()));
    Ok(env)
}

/// [`Embedder::locate`] with its inputs explicit: the two env values and the folders to
/// walk up from.
fn locate_from(
    model_env: Option<OsString>,
    ort_env: Option<OsString>,
    starts: &[PathBuf],
) -> std::result::Result<(PathBuf, PathBuf), String> {
    const HINT: &str = "run scripts/setup (or set LORE_MODEL_DIR and LORE_ORT_LIB)";
    let model_env = model_env.filter(|v| !v.is_empty()).map(PathBuf::from);
    let ort_env = ort_env.filter(|v| !v.is_empty()).map(PathBuf::from);
    let assets = if model_env.is_some() && ort_env.is_some() { None } else { find_assets(starts) };
    let model_dir = match (model_env, &assets) {
        (Some(dir), _) => dir,
        (None, Some(assets)) => assets.join(MODEL_SUBDIR),
        (None, None) => {
            return Err(format!(
                "embedding model not found: no {ASSETS_DIR}/{MODEL_SUBDIR} above {}; {HINT}",
                display_all(starts)
            ));
        }
    };
    let ort_lib = match (ort_env, &assets) {
        (Some(lib), _) => lib,
        (None, Some(assets)) => assets.join(ORT_SUBPATH),
        (None, None) => {
            return Err(format!(
                "ONNX Runtime not found: no {ASSETS_DIR}/{ORT_SUBPATH} above {}; {HINT}",
                display_all(starts)
            ));
        }
    };
    if let Some(missing) = MODEL_FILES.iter().map(|f| model_dir.join(f)).find(|p| !p.is_file()) {
        return Err(format!(
            "embedding model incomplete: {} is missing; {HINT}",
            missing.display()
        ));
    }
    if !ort_lib.is_file() {
        return Err(format!("ONNX Runtime library {} is missing; {HINT}", ort_lib.display()));
    }
    let absolute = |p: &Path| std::path::absolute(p).map_err(|e| format!("{}: {e}", p.display()));
    Ok((absolute(&model_dir)?, absolute(&ort_lib)?))
}

/// The first `.assets` folder holding the model or the library, walking up from each start.
fn find_assets(starts: &[PathBuf]) -> Option<PathBuf> {
    starts.iter().find_map(|start| {
        start.ancestors().map(|dir| dir.join(ASSETS_DIR)).find(|a| {
            a.join(MODEL_SUBDIR).join(MODEL_FILES[0]).is_file() || a.join(ORT_SUBPATH).is_file()
        })
    })
}

fn display_all(paths: &[PathBuf]) -> String {
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    if shown.is_empty() { "the current directory".to_string() } else { shown.join(" or ") }
}

fn internal(message: String) -> Error {
    Error::Internal(message)
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;

    /// The real model, loaded once per test binary. Panics (fails the test) when the
    /// assets are missing: CI runs scripts/setup first, so that is a broken setup.
    fn embedder() -> &'static Embedder {
        static EMBEDDER: OnceLock<Embedder> = OnceLock::new();
        EMBEDDER.get_or_init(|| {
            let (model_dir, ort_lib) =
                Embedder::locate().unwrap_or_else(|e| panic!("embedding assets missing: {e}"));
            Embedder::load(&model_dir, &ort_lib)
                .unwrap_or_else(|e| panic!("loading the embedding model failed: {e}"))
        })
    }

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    fn one(text: &str) -> Vec<f32> {
        let mut v = embedder().embed(&[text]).expect("embed");
        v.pop().expect("one vector")
    }

    /// The unquantised fp32 variant `scripts/setup` builds beside the default.
    fn fp32() -> &'static Embedder {
        static FP32: OnceLock<Embedder> = OnceLock::new();
        FP32.get_or_init(|| {
            let (model_dir, ort_lib) =
                Embedder::locate().unwrap_or_else(|e| panic!("embedding assets missing: {e}"));
            let dir = model_dir.with_file_name("all-MiniLM-L6-v2-fp32");
            Embedder::load(&dir, &ort_lib)
                .unwrap_or_else(|e| panic!("loading {} failed: {e}", dir.display()))
        })
    }

    /// The pipeline (tokenizer, pooling, normalisation) on the unquantised graph gives the
    /// published model's vector, and the default (quantised) model stays close to it.
    #[test]
    fn reference_vector_of_the_published_model() {
        let text = "This is an example sentence";
        let exact = fp32().embed(&[text]).expect("embed").pop().expect("one vector");
        let v = one(text);
        assert_eq!(v.len(), DIM);
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
        let close = cosine(&v, &exact);
        assert!(close > 0.98, "the default model is {close} from the fp32 graph");
        let v = exact;
        let reference = [0.06766_f32, 0.06350, 0.04871, 0.07930, 0.03745];
        eprintln!("reference check, first values: {:?}", &v[..5]);
        for (i, (got, want)) in v.iter().zip(reference).enumerate() {
            assert!(
                (got - want).abs() < 0.01,
                "value {i}: got {got}, published {want} (all: {:?})",
                &v[..5]
            );
        }
    }

    #[test]
    fn similar_meaning_scores_higher() {
        let pool = one("database connection pool exhausted");
        let postgres = one("postgres too many connections");
        let css = one("frontend CSS broken");
        let (near, far) = (cosine(&pool, &postgres), cosine(&pool, &css));
        eprintln!("cosine near {near:.3}, far {far:.3}");
        assert!(near > far + 0.1, "near {near}, far {far}");
    }

    #[test]
    fn batches_keep_input_order() {
        let topics = [
            "the payments database ran out of disk space",
            "a TLS certificate expired on the ingress",
            "kafka consumer lag keeps growing",
            "pods are OOM killed after the deploy",
            "DNS lookups time out inside the cluster",
        ];
        let texts: Vec<String> = (0..(2 * BATCH + 5))
            .map(|i| format!("{} (incident {i})", topics[i % topics.len()]))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let all = embedder().embed(&refs).expect("embed");
        assert_eq!(all.len(), texts.len());
        for i in [0, BATCH - 1, BATCH, 2 * BATCH + 4] {
            let alone = one(&texts[i]);
            let other = one(&texts[if i + 1 < texts.len() { i + 1 } else { i - 1 }]);
            let (same, next) = (cosine(&all[i], &alone), cosine(&all[i], &other));
            // Exact models give ~1.0; the dynamically quantised variant depends slightly on
            // the batch it runs in.
            assert!(same > 0.98 && same > next, "text {i}: own {same}, neighbour {next}");
        }
        assert!(embedder().embed(&[]).expect("embed nothing").is_empty());
        assert!(embedder().model_id().starts_with("all-MiniLM-L6-v2"));
    }

    #[test]
    fn second_load_shares_the_runtime() {
        let (model_dir, ort_lib) = Embedder::locate().expect("assets: run scripts/setup");
        embedder();
        let again = Embedder::load(&model_dir, &ort_lib).expect("second load");
        assert_eq!(again.embed(&["x"]).expect("embed")[0].len(), DIM);
    }

    #[test]
    fn missing_assets_say_what_to_run() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = locate_from(None, None, &[dir.path().to_path_buf()]).expect_err("missing");
        assert!(err.contains("run scripts/setup"), "{err}");

        let model = dir.path().join("model");
        std::fs::create_dir_all(&model).expect("mkdir");
        let lib = dir.path().join("libonnxruntime.so");
        std::fs::write(&lib, b"").expect("write");
        let err = locate_from(Some(model.clone().into()), Some(lib.clone().into()), &[])
            .expect_err("incomplete");
        assert!(err.contains("model.onnx") && err.contains("run scripts/setup"), "{err}");

        for f in MODEL_FILES {
            std::fs::write(model.join(f), b"{}").expect("write");
        }
        let found = locate_from(Some(model.clone().into()), Some(lib.into()), &[]);
        assert_eq!(found.map(|(m, _)| m), Ok(model.clone()));

        let err = Embedder::load(&dir.path().join("nowhere"), Path::new("/nonexistent.so"))
            .expect_err("no model");
        assert!(err.to_string().contains("run scripts/setup"), "{err}");
    }

    #[test]
    fn assets_found_by_walking_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        let assets = dir.path().join(ASSETS_DIR);
        let model = assets.join(MODEL_SUBDIR);
        std::fs::create_dir_all(&model).expect("mkdir");
        for f in MODEL_FILES {
            std::fs::write(model.join(f), b"{}").expect("write");
        }
        let lib = assets.join(ORT_SUBPATH);
        std::fs::create_dir_all(lib.parent().expect("parent")).expect("mkdir");
        std::fs::write(&lib, b"").expect("write");
        let deep = dir.path().join("target").join("debug").join("deps");
        std::fs::create_dir_all(&deep).expect("mkdir");
        let (m, l) = locate_from(None, None, &[deep]).expect("found");
        assert_eq!((m, l), (model, lib));
    }
}
