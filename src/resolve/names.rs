//! Name normalisation and the name index used to match references and catalog entries.
//!
//! Matching goes from strict to loose, and a loose level only matches when it finds
//! exactly one candidate:
//! 1. exact name or alias (case-insensitive);
//! 2. separators folded (`order_engine` = `order-engine`, `checkout-service` = `checkoutservice`);
//! 3. service affixes dropped (`svc-x`, `app-x`, `x-svc`, `x-app`, `x-service`, `xservice` = `x`);
//! 4. an `-api` suffix dropped (`store` = `store-api`);
//! 5. a plural `s` dropped (`cart` = `carts`).

use std::collections::{BTreeMap, BTreeSet};

/// Number of loose levels after the exact one.
pub(crate) const LEVELS: usize = 4;

/// The key of `name` at loose level `level` (0-based, after exact).
pub(crate) fn normalized(name: &str, level: usize) -> String {
    let mut key: String = name
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    key = key.trim_matches('-').to_string();
    if level >= 1 {
        for prefix in ["svc-", "app-"] {
            if let Some(rest) = key.strip_prefix(prefix) {
                key = rest.to_string();
                break;
            }
        }
        for suffix in ["-svc", "-service", "-app", "service", "svc"] {
            if key.len() > suffix.len() + 1 && key.ends_with(suffix) {
                key.truncate(key.len() - suffix.len());
                break;
            }
        }
    }
    if level >= 2 {
        for suffix in ["-api", "api"] {
            if key.len() > suffix.len() + 1 && key.ends_with(suffix) {
                key.truncate(key.len() - suffix.len());
                break;
            }
        }
    }
    key.retain(|c| c != '-');
    if level >= 3 && key.len() > 3 && key.ends_with('s') {
        key.pop();
    }
    key
}

/// Human description of a level, for merge explanations.
pub(crate) fn level_rule(level: usize) -> &'static str {
    match level {
        0 => "same name once separators are folded",
        1 => "same name once service affixes (svc-, app-, -svc, -app, -service) are dropped",
        2 => "same name once an -api suffix is dropped",
        _ => "same name once a plural s is dropped",
    }
}

/// Index from names to clusters (`T` is a cluster handle).
#[derive(Debug)]
pub(crate) struct NameIndex<T> {
    exact: BTreeMap<String, BTreeSet<T>>,
    loose: Vec<BTreeMap<String, BTreeSet<T>>>,
}

impl<T: Ord + Copy> NameIndex<T> {
    pub(crate) fn new() -> NameIndex<T> {
        NameIndex { exact: BTreeMap::new(), loose: vec![BTreeMap::new(); LEVELS] }
    }

    pub(crate) fn insert(&mut self, name: &str, value: T) {
        self.exact.entry(name.to_ascii_lowercase()).or_default().insert(value);
        for (level, map) in self.loose.iter_mut().enumerate() {
            map.entry(normalized(name, level)).or_default().insert(value);
        }
    }

    pub(crate) fn exact(&self, name: &str) -> Vec<T> {
        self.exact
            .get(&name.to_ascii_lowercase())
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The unique candidate at the first loose level that has any, with the level. Where
    /// several share the loose key, or none does, a candidate whose own name is the
    /// stripped name (`svc-x` and `x-app` -> `x`, not also `x-svc`) fits if it alone does.
    pub(crate) fn loose(&self, name: &str, accept: impl Fn(T) -> bool) -> Option<(T, usize)> {
        for (level, map) in self.loose.iter().enumerate() {
            let key = normalized(name, level);
            let found: Vec<T> = map
                .get(&key)
                .map(|s| s.iter().copied().filter(|v| accept(*v)).collect())
                .unwrap_or_default();
            let plain: Vec<T> = if level == 0 || found.len() == 1 {
                Vec::new()
            } else {
                self.loose[0]
                    .get(&key)
                    .map(|s| s.iter().copied().filter(|v| accept(*v)).collect())
                    .unwrap_or_default()
            };
            match (found.as_slice(), plain.as_slice()) {
                ([one], _) => return Some((*one, level)),
                (_, [one]) => return Some((*one, level)),
                ([], []) => continue,
                _ => return None,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise_level_by_level() {
        assert_eq!(normalized("order_engine", 0), normalized("order-engine", 0));
        assert_eq!(normalized("checkout-service", 1), normalized("checkoutservice", 1));
        assert_eq!(normalized("checkout-svc", 1), "checkout");
        assert_eq!(normalized("svc-licensing", 1), "licensing");
        assert_eq!(normalized("billing-app", 1), "billing");
        assert_eq!(normalized("app-billing", 1), "billing");
        assert_eq!(normalized("order_engine-svc", 1), normalized("order-engine", 1));
        assert_eq!(normalized("store-api", 2), "store");
        assert_eq!(normalized("carts", 3), normalized("cart", 3));
        assert_ne!(normalized("checkout-service", 0), normalized("checkout", 0));
    }

    #[test]
    fn a_stripped_name_prefers_the_candidate_named_exactly_so() {
        let mut index = NameIndex::new();
        index.insert("stop-manager", 1);
        index.insert("stop-manager-svc", 2);
        assert_eq!(index.loose("svc-stop-manager", |_| true), Some((1, 1)));
        // Without a plain `x`, `svc-x` and `x-svc` stay ambiguous.
        let mut index = NameIndex::new();
        index.insert("svc-cart", 1);
        index.insert("cart-svc", 2);
        assert_eq!(index.loose("cart-app", |_| true), None);
    }

    #[test]
    fn loose_matches_need_a_unique_candidate() {
        let mut index = NameIndex::new();
        index.insert("checkoutservice", 1);
        index.insert("carts", 2);
        index.insert("store-api", 3);
        index.insert("store-web", 4);
        assert_eq!(index.loose("checkout-service", |_| true), Some((1, 0)));
        assert_eq!(index.loose("cart", |_| true), Some((2, 3)));
        assert_eq!(index.loose("store", |_| true), Some((3, 2)));
        assert_eq!(index.loose("nothing", |_| true), None);
    }
}
