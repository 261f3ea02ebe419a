//! ConfigMaps and Secrets: the values a file's workloads read from them, and, for
//! workloads in other files, the relations each key implies held by the object (see
//! [`crate::util::config_ref`]).
//!
//! A Secret's values are only read to find the hosts they name (relations carry the key
//! and the host, never the value); keys that name credentials are not read at all.

use std::collections::BTreeMap;

use serde_yaml::Value;

use super::{NAME, Object};
use crate::Emitter;
use crate::util::config_ref::{Store, config_ref, is_credential_key};
use crate::util::deps::{VarSite, emit_var_relations};
use crate::util::yaml::{str_at, string_map};

/// ConfigMaps and the readable keys of Secrets in one file, by kind, namespace and name.
pub(super) type ConfigMaps = BTreeMap<(Store, Option<String>, String), BTreeMap<String, String>>;

/// The ConfigMaps and Secrets of a file, with their readable keys.
pub(super) fn collect(objects: &[Object<'_, '_>]) -> ConfigMaps {
    let mut maps = ConfigMaps::new();
    for obj in objects {
        let Some((store, name, ns, data)) = config_object(obj) else { continue };
        maps.insert((store, ns.map(str::to_string), name.to_string()), data);
    }
    maps
}

/// A ConfigMap or Secret object: store, name, namespace and readable data.
type ConfigObject<'v> = (Store, &'v str, Option<&'v str>, BTreeMap<String, String>);

/// The ConfigMap or Secret `obj` is, if it is one.
fn config_object<'v>(obj: &'v Object<'_, '_>) -> Option<ConfigObject<'v>> {
    let meta = obj.value.get("metadata").unwrap_or(&Value::Null);
    let name = str_at(meta, "name")?;
    let ns = str_at(meta, "namespace");
    match str_at(&obj.value, "kind") {
        Some("ConfigMap") => Some((Store::ConfigMap, name, ns, string_map(obj.value.get("data")))),
        Some("Secret") => Some((Store::Secret, name, ns, secret_data(&obj.value))),
        _ => None,
    }
}

/// Emits, for every ConfigMap and Secret of the file, the relations its keys imply, held
/// by the object, for workloads of other files to take over by reference. A value of
/// several lines is a mounted file: each `key: value` (or `key=value`) line counts.
pub(super) fn emit_held_relations(
    input: &crate::Input<'_>,
    objects: &[Object<'_, '_>],
    out: &mut Emitter,
) {
    for obj in objects {
        let Some((store, name, ns, data)) = config_object(obj) else { continue };
        let holder = format!("{} {name}", store.word());
        for (key, value) in &data {
            let from = config_ref(store, name, Some(key), ns);
            let locator = input.locator(obj.doc.line_of(&format!("{key}:"), obj.line));
            let site = VarSite { ingestor: NAME, locator: &locator, holder: &holder };
            for (var, text) in key_values(key, value) {
                emit_var_relations(&from, ns, &var, &text, site, out);
            }
        }
    }
}

/// The `(variable, value)` pairs of one data entry: the entry itself, or, for a file
/// (several lines), each `key: value` line as `<file>_<key>`.
pub(super) fn key_values(key: &str, value: &str) -> Vec<(String, String)> {
    if !value.trim_end().contains('\n') {
        return vec![(key.to_string(), value.to_string())];
    }
    value
        .lines()
        .filter_map(|line| line.split_once([':', '=']))
        .map(|(k, v)| {
            (format!("{key}_{}", k.trim().trim_start_matches("- ")), v.trim().to_string())
        })
        .collect()
}

fn secret_data(secret: &Value) -> BTreeMap<String, String> {
    let mut data: BTreeMap<String, String> = string_map(secret.get("data"))
        .into_iter()
        .filter_map(|(k, v)| base64_text(&v).map(|v| (k, v)))
        .collect();
    data.extend(string_map(secret.get("stringData")));
    data.retain(|k, _| !is_credential_key(k));
    data
}

/// Standard base64 decoded as UTF-8 text; `None` when it is not.
fn base64_text(encoded: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut n_bits = 0;
    let mut bytes = Vec::new();
    for c in encoded.trim().bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        n_bits += 6;
        if n_bits >= 8 {
            n_bits -= 8;
            bytes.push((bits >> n_bits) as u8);
            bits &= (1 << n_bits) - 1;
        }
    }
    String::from_utf8(bytes).ok()
}
