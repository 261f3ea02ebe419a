//! A container's environment: plain values, `$(VAR)` expansion, and values taken from
//! ConfigMaps and Secrets. Those of the same file are read here; those of another file
//! become links the main crate resolves (see [`crate::util::config_ref`]).

use std::collections::BTreeMap;

use lore_schema::{EdgeKind, Record, Relation};
use serde_yaml::Value;

use super::Ctx;
use super::config::ConfigMaps;
use crate::util::config_ref::{Store, config_ref, is_credential_key};
use crate::util::dotenv;
use crate::util::yaml::{scalar_text, seq, str_at};
use crate::{Emitter, Severity};

/// The ConfigMap or Secret an `envFrom` entry or a `valueFrom` names.
fn source_of(value: &Value, configmap: &str, secret: &str) -> Option<(Store, Value)> {
    if let Some(v) = value.get(configmap) {
        return Some((Store::ConfigMap, v.clone()));
    }
    value.get(secret).map(|v| (Store::Secret, v.clone()))
}

/// A container's env vars with their lines: plain values, `$(VAR)` expansion, and values
/// from ConfigMaps and Secrets in the same file. References to ConfigMaps and Secrets the
/// file does not hold are emitted as links.
pub(super) fn container_env(
    ctx: &Ctx<'_, '_, '_>,
    container: &Value,
    configmaps: &ConfigMaps,
    out: &mut Emitter,
) -> Vec<(String, String, usize)> {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let mut env = Vec::new();
    let ns = ctx.namespace.map(str::to_string);
    for from in seq(container.get("envFrom")) {
        let Some((store, source)) = source_of(from, "configMapRef", "secretRef") else {
            continue;
        };
        let Some(name) = str_at(&source, "name") else { continue };
        let line = ctx.line_of(&format!("name: {name}"));
        match configmaps.get(&(store, ns.clone(), name.to_string())) {
            Some(data) => {
                for (k, v) in data {
                    vars.insert(k.clone(), v.clone());
                    env.push((k.clone(), v.clone(), line));
                }
            }
            None => {
                let note = format!("envFrom {} {name}", store.word());
                link(ctx, store, name, None, line, note, out);
            }
        }
    }
    for var in seq(container.get("env")) {
        let Some(key) = str_at(var, "name") else { continue };
        let line = ctx.line_of(&format!("name: {key}"));
        let value = if let Some(v) = var.get("value").and_then(scalar_text) {
            expand_kube_vars(&v, &vars)
        } else if let Some((store, r)) =
            var.get("valueFrom").and_then(|from| source_of(from, "configMapKeyRef", "secretKeyRef"))
        {
            let name = str_at(&r, "name").unwrap_or("");
            let k = str_at(&r, "key").unwrap_or("");
            match configmaps.get(&(store, ns.clone(), name.to_string())) {
                Some(data) => match data.get(k) {
                    Some(v) => v.clone(),
                    None => continue,
                },
                // The held side never reads a Secret's credentials: nothing to link to.
                None if store == Store::Secret && is_credential_key(k) => continue,
                None if !name.is_empty() && !k.is_empty() => {
                    let note = format!("env {key} from {} {name} key {k}", store.word());
                    link(ctx, store, name, Some(k), line, note, out);
                    continue;
                }
                None => continue,
            }
        } else {
            continue;
        };
        if value.contains("{{") {
            out.diagnostic(Severity::Warning, line, format!("env {key} holds a template; skipped"));
            continue;
        }
        vars.insert(key.to_string(), value.clone());
        env.push((key.to_string(), value, line));
    }
    env
}

/// Records that the workload reads `key` (or every key) of a ConfigMap or Secret that
/// another file holds.
pub(super) fn link(
    ctx: &Ctx<'_, '_, '_>,
    store: Store,
    name: &str,
    key: Option<&str>,
    line: usize,
    note: String,
    out: &mut Emitter,
) {
    out.record(Record::Relation(Relation {
        from: ctx.me(),
        to: config_ref(store, name, key, ctx.namespace),
        kind: EdgeKind::Calls,
        provenance: ctx.provenance(line, note),
    }));
}

/// `$(VAR)` references to earlier env vars, as the kubelet expands them; variables whose
/// values are not in the manifest (secrets) expand to nothing.
pub(super) fn expand_kube_vars(value: &str, vars: &BTreeMap<String, String>) -> String {
    if !value.contains("$(") {
        return value.to_string();
    }
    let mut out = String::new();
    let mut rest = value;
    while let Some(idx) = rest.find("$(") {
        out.push_str(&rest[..idx]);
        let after = &rest[idx + 2..];
        match after.find(')') {
            Some(end) => {
                let name = &after[..end];
                // Unknown here (a secretKeyRef, a fieldRef): leave the position empty
                // so `postgres://u:$(PW)@db:5432` still names `db`.
                if let Some(v) = vars.get(name) {
                    out.push_str(v);
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[idx..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    dotenv::interpolate(&out.replace('$', "$$"), &BTreeMap::new())
}
