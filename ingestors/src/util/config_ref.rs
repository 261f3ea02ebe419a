//! References to Kubernetes ConfigMaps and Secrets that another file may hold.
//!
//! A workload often takes its configuration from a ConfigMap declared in another file
//! (`envFrom: [{configMapRef: {name: service-api-config}}]`, the ConfigMap in
//! `config.yaml`). One file cannot see the other, so the ingestor records both halves and
//! the main crate joins them:
//! - every ConfigMap and Secret records the relations its keys imply, *held* by the
//!   ConfigMap: `from` is a [`NodeRef::Name`] spelled `configmap/<name>#<key>` (or
//!   `secret/...`), which no Kubernetes object name can be (names have no `/`);
//! - a workload whose reference is not satisfied in its own file records a *link* to
//!   `configmap/<name>` (every key: `envFrom`, a mounted volume) or
//!   `configmap/<name>#<key>` (one `configMapKeyRef`).
//!
//! Held relations carry the key and the host they name, never the value, so a Secret's
//! values are never stored.

use lore_schema::NodeRef;

/// Which kind of object holds the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Store {
    /// A ConfigMap.
    ConfigMap,
    /// A Secret (only keys that do not name credentials are read).
    Secret,
    /// An env file a compose service reads (`env_file:`), named by its path; keys that
    /// name credentials are not read.
    EnvFile,
}

impl Store {
    fn prefix(self) -> &'static str {
        match self {
            Store::ConfigMap => "configmap/",
            Store::Secret => "secret/",
            Store::EnvFile => "envfile/",
        }
    }

    /// Lowercase word for notes (`configmap`, `secret`).
    pub fn word(self) -> &'static str {
        match self {
            Store::ConfigMap => "configmap",
            Store::Secret => "secret",
            Store::EnvFile => "env file",
        }
    }
}

/// A parsed ConfigMap or Secret reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigRef<'a> {
    /// ConfigMap or Secret.
    pub store: Store,
    /// Object name.
    pub name: &'a str,
    /// One key, or `None` for every key.
    pub key: Option<&'a str>,
    /// Namespace of the object (held) or of the referring workload (link).
    pub namespace: Option<&'a str>,
}

/// The reference to `key` (or every key) of the ConfigMap or Secret `name`.
pub fn config_ref(store: Store, name: &str, key: Option<&str>, namespace: Option<&str>) -> NodeRef {
    let mut text = format!("{}{name}", store.prefix());
    if let Some(key) = key {
        text.push('#');
        text.push_str(key);
    }
    NodeRef::name(None, text, namespace)
}

/// Keys whose values are credentials, never read from a Secret or an env file.
pub fn is_credential_key(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    ["PASS", "PWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "CERT", "PRIVATE", "SALT"]
        .iter()
        .any(|w| upper.contains(w))
}

/// The ConfigMap or Secret `r` refers to, if it is such a reference.
pub fn parse(r: &NodeRef) -> Option<ConfigRef<'_>> {
    let NodeRef::Name { kind: None, name, namespace } = r else { return None };
    let (store, rest) = [Store::ConfigMap, Store::Secret, Store::EnvFile]
        .into_iter()
        .find_map(|s| name.strip_prefix(s.prefix()).map(|rest| (s, rest)))?;
    let (name, key) = match rest.split_once('#') {
        Some((name, key)) => (name, Some(key)),
        None => (rest, None),
    };
    Some(ConfigRef { store, name, key, namespace: namespace.as_deref() })
        .filter(|r| !r.name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_round_trip_and_plain_names_are_not_references() {
        let r = config_ref(Store::Secret, "db", Some("DB_HOST"), Some("shop"));
        assert_eq!(
            parse(&r),
            Some(ConfigRef {
                store: Store::Secret,
                name: "db",
                key: Some("DB_HOST"),
                namespace: Some("shop")
            })
        );
        let all = config_ref(Store::ConfigMap, "cfg", None, None);
        assert_eq!(
            parse(&all).map(|r| (r.store, r.name, r.key)),
            Some((Store::ConfigMap, "cfg", None))
        );
        assert_eq!(parse(&NodeRef::name(None, "configmap", None)), None);
        assert_eq!(parse(&NodeRef::name(None, "configmap/", None)), None);
        let host = NodeRef::Host { host: "configmap/x".to_string(), namespace: None };
        assert_eq!(parse(&host), None);
    }
}
