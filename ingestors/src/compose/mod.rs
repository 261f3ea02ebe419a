//! docker-compose files (`compose*.yaml`, `docker-compose*.yml`): one Workload entity per
//! service, and the dependencies its configuration declares.
//!
//! Dependencies come from `environment` (list and map forms; a bare `- KEY` takes its value
//! from the `.env` file, as compose does), `command`/`entrypoint` arguments, `depends_on`
//! and `links`. `${VAR}` placeholders are interpolated with the `.env` variables first, so
//! `DB=postgres://u:pw@${POSTGRES_HOST}/db` names the host the stack really uses.
//!
//! A file named `compose.<layer>.yaml` or `docker-compose.<layer>.yml` is an overlay laid
//! over the base file with `-f`. Overlay services that only patch a base service (say, add
//! a `depends_on`) emit relations but no entity, so they never replace the base entity with
//! one that has no image. When the layer name contains one of [`OPTIONAL_LAYER_WORDS`]
//! (`compose.tests.yaml`, `compose.agent.yaml`), the layer is an opt-in add-on: a test
//! harness, a profiler, an AI agent. Its services are still recorded, marked with the
//! `optional_layer` attribute, but its edges are not on the production request path, so
//! they carry half confidence (500) and a note suffix naming the layer.

use std::collections::BTreeSet;

use lore_schema::{EdgeKind, Entity, EntityClass, NodeKind, NodeRef, Provenance, Record, Relation};
use serde_yaml::Value;

use crate::util::config_ref::{Store, config_ref};
use crate::util::deps::{VarSite, emit_args_refs, emit_var_relations};
use crate::util::yaml::{Child, YamlDoc, scalar_text, split_documents};
use crate::util::{classify, dotenv, mounts};
use crate::{Emitter, Input, Severity, Stability};

mod traefik;

/// Ingestor name.
pub const NAME: &str = "compose";
/// Stability of the output.
pub const STABILITY: Stability = Stability::Beta;

/// Words that, found in an overlay's layer name, make it an opt-in layer whose edges are
/// not on the production path.
pub const OPTIONAL_LAYER_WORDS: &[&str] = &[
    "test",
    "tests",
    "e2e",
    "ci",
    "dev",
    "debug",
    "profiling",
    "extras",
    "agent",
    "logging",
    "monitoring",
];

/// Confidence, in per mille, of the edges of an optional layer.
const OPTIONAL_CONFIDENCE: u16 = 500;

/// The layer of an overlay file: `compose.tests.yaml` → `tests`,
/// `docker-compose.override.yml` → `override`; `None` for a base file.
pub fn overlay_layer(file_name: &str) -> Option<&str> {
    let lower = file_name.to_ascii_lowercase();
    let stem_len = [".yaml", ".yml"].iter().find_map(|ext| lower.strip_suffix(ext))?.len();
    let stem = &file_name[..stem_len];
    let prefix = ["docker-compose.", "compose."]
        .iter()
        .find(|p| stem.to_ascii_lowercase().starts_with(**p))?;
    Some(&stem[prefix.len()..]).filter(|layer| !layer.is_empty())
}

/// Whether an overlay layer is opt-in: its name contains one of [`OPTIONAL_LAYER_WORDS`].
pub fn is_optional_layer(layer: &str) -> bool {
    layer
        .to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| OPTIONAL_LAYER_WORDS.contains(&word))
}

/// Parses one compose file.
pub fn ingest(input: &Input<'_>, out: &mut Emitter) {
    for (idx, line) in input.text.lines().enumerate() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        for problem in dotenv::interpolation_problems(line) {
            out.diagnostic(Severity::Error, idx + 1, problem);
        }
    }
    let docs = split_documents(input.text);
    let mut parsed = Vec::new();
    for doc in &docs {
        match doc.parse() {
            Ok(mut value) => {
                if let Err(err) = value.apply_merge() {
                    let msg = format!("cannot apply YAML merge keys: {err}");
                    out.diagnostic(Severity::Warning, doc.start_line, msg);
                }
                parsed.push((doc, value));
            }
            Err((line, msg)) => {
                out.diagnostic(Severity::Error, line, format!("invalid YAML: {msg}"));
                return;
            }
        }
    }
    let layer = overlay_layer(input.file_name());
    let file = File { input, layer, optional: layer.filter(|l| is_optional_layer(l)) };
    for (doc, value) in parsed {
        let services_line =
            doc.children(None).into_iter().find(|c| !c.item && c.head == "services");
        let services_line = services_line.map(|c| c.line);
        let lines = services_line.map(|l| doc.children(Some(l))).unwrap_or_default();
        let fallback = services_line.unwrap_or(doc.start_line);
        match value.get("services") {
            Some(Value::Mapping(services)) => {
                let mut named = Vec::new();
                for (key, body) in services {
                    let Some(name) = scalar_text(key) else { continue };
                    let line = lines.iter().find(|c| c.head == name).map_or(fallback, |c| c.line);
                    if !(body.is_mapping() || body.is_null()) {
                        let msg = format!(
                            "service {name} is {}, expected a mapping; skipped",
                            crate::util::yaml::type_name(body)
                        );
                        out.diagnostic(Severity::Error, line, msg);
                        continue;
                    }
                    named.push((name, body, line));
                }
                let mut all = Vec::new();
                for (name, body, line) in &named {
                    let (body, line) = (*body, *line);
                    let keys = doc.children(Some(line));
                    let svc = Service { file: &file, doc, name, body, line, keys };
                    service(&svc, out);
                    all.push(svc);
                }
                traefik::routes(&all, out);
            }
            Some(Value::Null) => {}
            Some(other) => out.diagnostic(
                Severity::Error,
                fallback,
                format!(
                    "`services` is {}, expected a mapping of service names",
                    crate::util::yaml::type_name(other)
                ),
            ),
            None => out.diagnostic(Severity::Info, doc.start_line, "no `services` in document"),
        }
    }
}

/// What the file name says about every record of the file.
struct File<'f, 'a> {
    input: &'f Input<'a>,
    layer: Option<&'f str>,
    optional: Option<&'f str>,
}

struct Service<'s, 'a> {
    file: &'s File<'s, 'a>,
    doc: &'s YamlDoc<'a>,
    name: &'s str,
    body: &'s Value,
    /// Line of the service key.
    line: usize,
    /// Keys of the service block, with their lines.
    keys: Vec<Child>,
}

impl Service<'_, '_> {
    fn text(&self, key: &str) -> Option<String> {
        let raw = self.body.get(key).and_then(scalar_text)?;
        Some(dotenv::interpolate(&raw, self.file.input.env).trim().to_string())
            .filter(|s| !s.is_empty())
    }

    /// Line of `key:` in the service block, or the service's line.
    fn key_line(&self, key: &str) -> usize {
        self.keys.iter().find(|c| !c.item && c.head == key).map_or(self.line, |c| c.line)
    }

    /// Line of the first entry of the `key:` block that `matches`, or the key's line.
    fn entry_line(&self, key: &str, matches: impl Fn(&Child) -> bool) -> usize {
        let key_line = self.key_line(key);
        if key_line == self.line {
            return key_line;
        }
        self.doc.children(Some(key_line)).iter().find(|c| matches(c)).map_or(key_line, |c| c.line)
    }

    fn me(&self) -> NodeRef {
        NodeRef::name(None, self.name, None)
    }

    fn locator(&self, line: usize) -> String {
        self.file.input.locator(line)
    }
}

fn service(svc: &Service<'_, '_>, out: &mut Emitter) {
    let image = svc.text("image");
    let container_name = svc.text("container_name");
    let hostname = svc.text("hostname");
    let build = match svc.body.get("build") {
        Some(Value::Mapping(m)) => {
            Some(m.get("context").and_then(scalar_text).unwrap_or_else(|| ".".to_string()))
        }
        Some(other) => scalar_text(other),
        None => None,
    };
    let mut names: BTreeSet<String> = BTreeSet::from([svc.name.to_ascii_lowercase()]);
    if svc.file.layer.is_none() || image.is_some() || build.is_some() {
        let datastore = image
            .as_deref()
            .and_then(classify::datastore_from_image)
            .or_else(|| classify::datastore_from_name(svc.name));
        let kind = if datastore.is_some() { NodeKind::Datastore } else { NodeKind::Service };
        let prov = Provenance::declared(
            NAME,
            svc.locator(svc.line),
            format!("compose service {}", svc.name),
        );
        let mut entity = Entity::new(kind, svc.name, EntityClass::Workload, prov);
        entity.datastore = datastore;
        entity.role = classify::role(image.as_deref(), svc.name);
        for alias in [&container_name, &hostname].into_iter().flatten() {
            if alias != svc.name && !entity.aliases.contains(alias) {
                entity.aliases.push(alias.clone());
            }
        }
        let attrs = &mut entity.attrs;
        if let Some(image) = &image {
            // `${NAMESPACE}/api:${TAG}` without a `.env` reads better as written.
            let raw = svc.body.get("image").and_then(scalar_text).unwrap_or_default();
            let shown =
                if dotenv::has_unset(&raw, svc.file.input.env) { raw } else { image.clone() };
            attrs.insert("image".to_string(), shown);
        }
        let input = svc.file.input;
        if let Some(build) = build {
            if let Some(dir) = mounts::compose_path(&build, input.path, input.env) {
                attrs.insert(mounts::BUILD_ATTR.to_string(), dir);
            }
            attrs.insert("build".to_string(), build);
        }
        let mounts = mounts::bind_mounts(svc.body.get("volumes"), input.path, input.env);
        if !mounts.is_empty() {
            attrs.insert(
                mounts::MOUNTS_ATTR.to_string(),
                mounts.join(&mounts::SEPARATOR.to_string()),
            );
        }
        attrs.insert("compose_file".to_string(), svc.file.input.file_name().to_string());
        if let Some(layer) = svc.file.layer {
            attrs.insert("compose_layer".to_string(), layer.to_string());
        }
        if let Some(layer) = svc.file.optional {
            attrs.insert("optional_layer".to_string(), layer.to_string());
        }
        out.record(Record::Entity(entity));
    }
    names.extend([container_name, hostname].into_iter().flatten().map(|n| n.to_ascii_lowercase()));

    let mut records = Vec::new();
    for (key, value, line) in env_vars(svc) {
        let locator = svc.locator(line);
        let site = VarSite { ingestor: NAME, locator: &locator, holder: "env" };
        records.extend(collect(|e| emit_var_relations(&svc.me(), None, &key, &value, site, e)));
    }
    for key in ["entrypoint", "command"] {
        let args: Vec<String> = match svc.body.get(key) {
            Some(Value::Sequence(items)) => items.iter().filter_map(scalar_text).collect(),
            Some(other) => scalar_text(other).into_iter().collect(),
            None => continue,
        };
        let args: Vec<String> =
            args.iter().map(|a| dotenv::interpolate(a, svc.file.input.env)).collect();
        let locator = svc.locator(svc.key_line(key));
        let site = VarSite { ingestor: NAME, locator: &locator, holder: key };
        records.extend(collect(|e| emit_args_refs(&svc.me(), None, &args, site, e)));
    }
    records.extend(env_file_links(svc));
    records.extend(declared_deps(svc));
    emit(svc.file, &names, records, out);
}

/// Links to the env files of `env_file:` (a path, a list of paths, or `{path, required}`
/// entries): the service takes over what each file's keys imply (`crate::env_file`).
fn env_file_links(svc: &Service<'_, '_>) -> Vec<Record> {
    let paths: Vec<String> = match svc.body.get("env_file") {
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(|item| match item {
                Value::Mapping(_) => item.get("path").and_then(scalar_text),
                other => scalar_text(other),
            })
            .collect(),
        Some(other) => scalar_text(other).into_iter().collect(),
        None => return Vec::new(),
    };
    let input = svc.file.input;
    let line = svc.key_line("env_file");
    paths
        .iter()
        .filter_map(|p| Some((p, mounts::compose_path(p, input.path, input.env)?)))
        .map(|(written, path)| {
            Record::Relation(Relation {
                from: svc.me(),
                to: config_ref(Store::EnvFile, &path, None, None),
                kind: EdgeKind::Calls,
                provenance: Provenance::declared(
                    NAME,
                    svc.locator(line),
                    format!("env_file {written}"),
                ),
            })
        })
        .collect()
}

/// Records that `f` emits for one variable or command line (sorted, one per key).
fn collect(f: impl FnOnce(&mut Emitter)) -> Vec<Record> {
    let mut scratch = Emitter::new("");
    f(&mut scratch);
    scratch.finish().records
}

/// Emits `records` of one service: the first of each key wins (so evidence points at the
/// earliest line), references to the service itself are dropped, and edges of an optional
/// layer are marked.
fn emit(file: &File<'_, '_>, names: &BTreeSet<String>, records: Vec<Record>, out: &mut Emitter) {
    let mut seen = BTreeSet::new();
    for mut record in records {
        if !seen.insert(record.key()) {
            continue;
        }
        match &mut record {
            Record::Relation(r) => {
                let target = match &r.to {
                    NodeRef::Host { host, .. } => Some(host.as_str()),
                    NodeRef::Name { name, .. } => Some(name.as_str()),
                    NodeRef::Selector { .. } => None,
                };
                if target.is_some_and(|t| names.contains(&t.to_ascii_lowercase())) {
                    continue;
                }
                if let Some(layer) = file.optional {
                    r.provenance.confidence = OPTIONAL_CONFIDENCE;
                    r.provenance.note.push_str(&format!(" (optional layer {layer})"));
                }
            }
            Record::Entity(e) => {
                if let Some(layer) = file.optional {
                    e.attrs.insert("optional_layer".to_string(), layer.to_string());
                }
            }
            _ => {}
        }
        out.record(record);
    }
}

/// `(key, value, line)` of the service's environment, interpolated with the `.env` vars.
fn env_vars(svc: &Service<'_, '_>) -> Vec<(String, String, usize)> {
    let env = svc.file.input.env;
    let mut vars = Vec::new();
    let mut push = |key: &str, value: Option<String>, item: bool| {
        let key = key.trim();
        let Some(value) = value else { return };
        if key.is_empty() {
            return;
        }
        let prefix = format!("{key}=");
        let line = svc.entry_line("environment", |c| {
            c.item == item && (c.head == key || (item && c.head.starts_with(&prefix)))
        });
        vars.push((key.to_string(), value, line));
    };
    match svc.body.get("environment") {
        Some(Value::Sequence(items)) => {
            for text in items.iter().filter_map(scalar_text) {
                match text.split_once('=') {
                    Some((key, value)) => push(key, Some(dotenv::interpolate(value, env)), true),
                    None => push(&text, env.get(text.trim()).cloned(), true),
                }
            }
        }
        Some(Value::Mapping(map)) => {
            for (key, value) in map {
                let Some(key) = scalar_text(key) else { continue };
                let value = match value {
                    Value::Null => env.get(key.trim()).cloned(),
                    other => scalar_text(other).map(|v| dotenv::interpolate(&v, env)),
                };
                push(&key, value, false);
            }
        }
        _ => {}
    }
    vars
}

/// `depends_on` (list or map) and `links` (`svc` or `svc:alias`) as calls.
fn declared_deps(svc: &Service<'_, '_>) -> Vec<Record> {
    let mut targets: Vec<(String, usize, String)> = Vec::new();
    match svc.body.get("depends_on") {
        Some(Value::Sequence(items)) => {
            for target in items.iter().filter_map(scalar_text) {
                let line = svc.entry_line("depends_on", |c| c.head == target);
                targets.push((target.clone(), line, format!("depends_on {target}")));
            }
        }
        Some(Value::Mapping(map)) => {
            for target in map.keys().filter_map(scalar_text) {
                let line = svc.entry_line("depends_on", |c| c.head == target);
                targets.push((target.clone(), line, format!("depends_on {target}")));
            }
        }
        _ => {}
    }
    if let Some(Value::Sequence(items)) = svc.body.get("links") {
        for link in items.iter().filter_map(scalar_text) {
            let target = link.split(':').next().unwrap_or("").trim().to_string();
            let line = svc.entry_line("links", |c| c.head == link);
            targets.push((target, line, format!("links {link}")));
        }
    }
    targets
        .into_iter()
        .filter(|(target, _, _)| !target.is_empty())
        .map(|(target, line, note)| {
            Record::Relation(Relation {
                from: svc.me(),
                to: NodeRef::name(None, target, None),
                kind: EdgeKind::Calls,
                provenance: Provenance::declared(NAME, svc.locator(line), note),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records of `text` read as `path` with `.env` text `env`, one line each, then
    /// diagnostics.
    fn check(path: &str, text: &str, env: &str) -> Vec<String> {
        let env = dotenv::parse(env);
        let output = crate::ingest(crate::Format::Compose, &Input { path, text, env: &env });
        crate::emitter::render::lines(&output, |r| match r {
            Record::Entity(e) => format!(
                "entity {}:{} ds={} role={} aliases={} attrs={:?} @{}",
                e.kind,
                e.name,
                e.datastore.map_or("-", |d| d.as_str()),
                e.role.map_or("-", |r| r.as_str()),
                e.aliases.join(","),
                e.attrs,
                e.provenance.locator
            ),
            Record::Relation(r) => format!(
                "{} {} {} @{} {} {}",
                r.from.key(),
                r.kind,
                r.to.key(),
                r.provenance.locator,
                r.provenance.confidence,
                r.provenance.note
            ),
            other => format!("{other:?}"),
        })
    }

    const ENV: &str =
        "PG_HOST=orders-db\nPG_IMAGE=postgres:16\nCART_ADDR=cart:7070\nFLAGD_HOST=flagd\n";

    #[test]
    fn services_env_forms_and_declared_dependencies() {
        let text = "\
x-common: &common
  restart: always
services:
  checkout:
    image: shop/checkout:1
    container_name: checkout-1
    <<: *common
    environment:
      - CART_ADDR
      - FLAGD_HOST
      - UNSET_VAR
      - DB=postgres://u:pw@${PG_HOST}:5432/o
      - SELF=checkout:5050
    depends_on:
      orders-db:
        condition: service_healthy
    links:
      - \"mailer:smtp\"
  orders-db:
    image: ${PG_IMAGE}
    environment:
      POSTGRES_HOST: ${PG_HOST}
      REPLICA_HOST: replica
  sim:
    build: ./sim
    command: \"-d 60 -h edge-router\"
    depends_on: [checkout]
";
        assert_eq!(
            check("deploy/compose.yaml", text, ENV),
            [
                "entity service:checkout ds=- role=- aliases=checkout-1 attrs={\"compose_file\": \"compose.yaml\", \"image\": \"shop/checkout:1\"} @deploy/compose.yaml:4",
                "entity service:sim ds=- role=- aliases= attrs={\"build\": \"./sim\", \"build_dir\": \"deploy/sim\", \"compose_file\": \"compose.yaml\"} @deploy/compose.yaml:24",
                "entity datastore:orders-db ds=postgres role=- aliases= attrs={\"compose_file\": \"compose.yaml\", \"image\": \"postgres:16\"} @deploy/compose.yaml:19",
                "checkout calls mailer @deploy/compose.yaml:18 1000 links mailer:smtp",
                "checkout calls orders-db @deploy/compose.yaml:15 1000 depends_on orders-db",
                "checkout calls host:cart @deploy/compose.yaml:9 1000 env CART_ADDR -> cart:7070",
                "checkout calls host:flagd @deploy/compose.yaml:10 1000 env FLAGD_HOST -> flagd",
                "checkout depends_on host:orders-db @deploy/compose.yaml:12 1000 env DB -> orders-db:5432",
                "orders-db calls host:replica @deploy/compose.yaml:23 1000 env REPLICA_HOST -> replica",
                "sim calls checkout @deploy/compose.yaml:27 1000 depends_on checkout",
                "sim calls host:edge-router @deploy/compose.yaml:26 1000 command ARG_HOST -> edge-router",
            ]
        );
    }

    #[test]
    fn overlay_layers_patch_and_optional_layers_are_marked() {
        let text = "services:\n  frontend-proxy:\n    depends_on:\n      - chatbot\n  chatbot:\n    image: acme/chatbot:1\n    environment:\n      FLAGD: ${FLAGD_HOST}:8013\n";
        assert_eq!(
            check("compose.agent.yaml", text, ENV),
            [
                "entity service:chatbot ds=- role=- aliases= attrs={\"compose_file\": \"compose.agent.yaml\", \"compose_layer\": \"agent\", \"image\": \"acme/chatbot:1\", \"optional_layer\": \"agent\"} @compose.agent.yaml:5",
                "chatbot calls host:flagd @compose.agent.yaml:8 500 env FLAGD -> flagd:8013 (optional layer agent)",
                "frontend-proxy calls chatbot @compose.agent.yaml:4 500 depends_on chatbot (optional layer agent)",
            ]
        );
        let full = check("docker-compose.full.yml", text, ENV);
        assert!(full.iter().all(|l| !l.contains("optional") && !l.contains("frontend-proxy ds")));
        assert!(
            full.contains(
                &"frontend-proxy calls chatbot @docker-compose.full.yml:4 1000 depends_on chatbot"
                    .to_string()
            ),
            "{full:#?}"
        );
        assert_eq!(overlay_layer("compose.yaml"), None);
        assert_eq!(overlay_layer("docker-compose-tls.yml"), None);
        assert_eq!(overlay_layer("compose.e2e-tests.yml"), Some("e2e-tests"));
        assert!(is_optional_layer("e2e-tests") && is_optional_layer("Profiling"));
        assert!(!is_optional_layer("observability") && !is_optional_layer("devices"));
    }

    #[test]
    fn bad_yaml_and_bad_services_are_diagnosed() {
        assert_eq!(
            check("compose.yaml", "services:\n  a:\n    image: [\n", ""),
            ["error compose.yaml:4 invalid YAML: did not find expected node content"]
        );
        assert_eq!(
            check(
                "compose.yaml",
                "services:\n  a: 3\n  b:\n  c:\n    image: ${NS}/c:${TAG:-1}\n",
                ""
            ),
            [
                "entity service:b ds=- role=- aliases= attrs={\"compose_file\": \"compose.yaml\"} @compose.yaml:3",
                "entity service:c ds=- role=- aliases= attrs={\"compose_file\": \"compose.yaml\", \"image\": \"${NS}/c:${TAG:-1}\"} @compose.yaml:4",
                "error compose.yaml:2 service a is a number (3), expected a mapping; skipped",
            ]
        );
    }
}
