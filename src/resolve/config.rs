//! ConfigMaps and Secrets read by workloads of another file: each link (`envFrom`, a
//! `configMapKeyRef`, a mounted volume) takes over the relations the object's keys imply
//! (see `lore_ingestors::util::config_ref`), as if the values were written in the
//! workload's own env.
//!
//! The object a link names is looked for among the ConfigMaps (or Secrets) of that name
//! in a compatible namespace. When several files declare it (a base and its overlays, a
//! copy under `extras/`), the one in the link's source whose directory is nearest the
//! workload's file is taken, and only when exactly one file is nearest; otherwise the
//! link stays unresolved, with the candidates named. A link to an object that holds no
//! reference (or that no ingested file declares) adds nothing.

use std::collections::BTreeMap;

use lore_ingestors::util::config_ref::{self, ConfigRef};
use lore_schema::{Record, Relation};

use super::{SourcedRecord, Unresolved, file_of, ns_compatible};

/// Whether `rel` is one half of a ConfigMap or Secret reference (held by an object, or a
/// workload's link), which only [`expand`] reads.
pub(super) fn is_config_half(rel: &Relation) -> bool {
    config_ref::parse(&rel.from).is_some() || config_ref::parse(&rel.to).is_some()
}

/// A relation held by a ConfigMap or Secret key.
struct Held<'r> {
    record: &'r SourcedRecord,
    rel: &'r Relation,
    at: ConfigRef<'r>,
}

/// Number of leading directories two file paths share.
fn shared_dirs(a: &str, b: &str) -> usize {
    let dirs = |p: &str| -> Vec<String> {
        let mut parts: Vec<String> = p.split(['/', '\\']).map(str::to_string).collect();
        parts.pop();
        parts
    };
    dirs(a).iter().zip(dirs(b).iter()).take_while(|(x, y)| x == y).count()
}

/// The relations links take over from the objects they name, owned by the link's
/// source, and the links that found no single object.
pub(super) fn expand(records: &[SourcedRecord]) -> (Vec<SourcedRecord>, Vec<Unresolved>) {
    let mut held: BTreeMap<(config_ref::Store, &str), Vec<Held<'_>>> = BTreeMap::new();
    let mut links = Vec::new();
    for record in records {
        let Record::Relation(rel) = &record.record else { continue };
        if let Some(at) = config_ref::parse(&rel.from) {
            held.entry((at.store, at.name)).or_default().push(Held { record, rel, at });
        } else if let Some(to) = config_ref::parse(&rel.to) {
            links.push((record, rel, to));
        }
    }
    let mut out = Vec::new();
    let mut unresolved = Vec::new();
    for (record, link, to) in links {
        let link_file = file_of(&link.provenance.locator);
        let candidates: Vec<&Held<'_>> = held
            .get(&(to.store, to.name))
            .into_iter()
            .flatten()
            .filter(|h| ns_compatible(to.namespace, h.at.namespace))
            .filter(|h| to.key.is_none_or(|k| h.at.key == Some(k)))
            .collect();
        // Files declaring the object, ranked: same source first, then nearest directory.
        let mut files: BTreeMap<(&str, &str), (bool, usize)> = BTreeMap::new();
        for h in &candidates {
            let file = file_of(&h.rel.provenance.locator);
            let rank = (h.record.source == record.source, shared_dirs(file, link_file));
            files.insert((h.record.source.as_str(), file), rank);
        }
        let best = files.values().max().copied();
        let nearest: Vec<(&str, &str)> =
            files.iter().filter(|(_, r)| Some(**r) == best).map(|(k, _)| *k).collect();
        let [(source, file)] = nearest.as_slice() else {
            // No file holds a reference under that name: nothing to take over.
            if nearest.is_empty() {
                continue;
            }
            let names: Vec<&str> = nearest.iter().map(|(_, f)| *f).collect();
            unresolved.push(Unresolved {
                reference: link.to.key(),
                locator: link.provenance.locator.clone(),
                note: format!(
                    "{}: declared by several files ({})",
                    link.provenance.note,
                    names.join(", ")
                ),
            });
            continue;
        };
        for h in candidates
            .iter()
            .filter(|h| h.record.source == *source && file_of(&h.rel.provenance.locator) == *file)
        {
            let mut provenance = link.provenance.clone();
            provenance.note = format!(
                "{}; {} at {}",
                link.provenance.note, h.rel.provenance.note, h.rel.provenance.locator
            );
            let valid_to = match (record.valid_to, h.record.valid_to) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            out.push(SourcedRecord {
                source: record.source.clone(),
                record: Record::Relation(Relation {
                    from: link.from.clone(),
                    to: h.rel.to.clone(),
                    kind: h.rel.kind,
                    provenance,
                }),
                valid_from: record.valid_from.max(h.record.valid_from),
                valid_to,
            });
        }
    }
    (out, unresolved)
}
