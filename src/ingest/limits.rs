//! `[limits]` on what one file gives: YAML documents per file, name and label lengths,
//! text per document. A file over the document limit is not parsed (its facts are kept,
//! as for a file over the size limit); a record over a length limit is left out with an
//! error naming its `file:line`, the field and the `[limits]` key, so the file keeps the
//! facts it had for it. Defaults are Kubernetes' own limits (names of 253 characters,
//! label values of 63, label keys of a 253-character prefix and a 63-character name).

use lore_ingestors::Format;
use lore_schema::{ChangeEvent, Document, Entity, NodeRef, Record, Relation};

use super::DiagnosticView;
use crate::config::LimitsConfig;

/// YAML documents in `text`, counted in one pass over its lines (`---` separators), when
/// the format is one read as YAML documents; `None` for other formats.
pub(super) fn yaml_documents(format: Format, text: &str) -> Option<usize> {
    let yaml = matches!(
        format,
        Format::Kubernetes
            | Format::Compose
            | Format::Backstage
            | Format::ServiceCatalog
            | Format::Envoy
            | Format::AlertRules
    );
    if !yaml {
        return None;
    }
    let separators = text
        .lines()
        .filter(|l| l.starts_with("---") && l[3..].chars().next().is_none_or(char::is_whitespace))
        .count();
    // A leading separator opens the first document rather than ending one.
    let leading = text.trim_start().starts_with("---");
    Some(separators + usize::from(!leading))
}

/// The records within the limits, and an error for each one left out.
pub(super) fn check_records(
    records: Vec<Record>,
    limits: &LimitsConfig,
) -> (Vec<Record>, Vec<DiagnosticView>) {
    let mut kept = Vec::with_capacity(records.len());
    let mut problems = Vec::new();
    for record in records {
        match over_limit(&record, limits) {
            None => kept.push(record),
            Some(reason) => problems.push(DiagnosticView {
                locator: record.provenance().locator.clone(),
                severity: "error".to_string(),
                message: format!(
                    "{reason}; the record is left out and the file keeps its earlier facts"
                ),
            }),
        }
    }
    (kept, problems)
}

/// Why `record` is over a limit, naming the field, its length and the `[limits]` key.
fn over_limit(record: &Record, limits: &LimitsConfig) -> Option<String> {
    let checks = Checks { limits };
    match record {
        Record::Entity(e) => checks.entity(e),
        Record::Relation(r) => checks.relation(r),
        Record::Document(d) => checks.document(d),
        Record::Change(c) => checks.change(c),
    }
}

/// Why a change event posted through the API is over a limit (`add_events`).
pub(crate) fn event_over_limit(event: &ChangeEvent, limits: &LimitsConfig) -> Option<String> {
    Checks { limits }.change(event)
}

struct Checks<'a> {
    limits: &'a LimitsConfig,
}

fn over(field: &str, value: &str, max: usize, key: &str) -> Option<String> {
    let n = value.chars().count();
    (n > max).then(|| {
        format!("{field} is {n} characters, over the limit of {max} ([limits] {key} in lore.toml)")
    })
}

impl Checks<'_> {
    fn name(&self, field: &str, value: &str) -> Option<String> {
        over(field, value, self.limits.max_name_chars, "max_name_chars")
    }

    /// A label key is an optional prefix (a name) and `/` and a name of label length.
    fn label(&self, field: &str, key: &str, value: &str) -> Option<String> {
        let (prefix, name) = key.rsplit_once('/').unwrap_or(("", key));
        let max = self.limits.max_label_chars;
        self.name(&format!("{field} key prefix"), prefix)
            .or_else(|| over(&format!("{field} key {name:.40}"), name, max, "max_label_chars"))
            .or_else(|| over(&format!("{field} {key:.40}"), value, max, "max_label_chars"))
    }

    fn entity(&self, e: &Entity) -> Option<String> {
        self.name("name", &e.name)
            .or_else(|| e.namespace.as_deref().and_then(|n| self.name("namespace", n)))
            .or_else(|| e.aliases.iter().find_map(|a| self.name("alias", a)))
            .or_else(|| e.owner.as_deref().and_then(|o| self.name("owner", o)))
            .or_else(|| e.system.as_deref().and_then(|s| self.name("system", s)))
            .or_else(|| e.labels.iter().find_map(|(k, v)| self.label("label", k, v)))
            .or_else(|| e.selector.iter().find_map(|(k, v)| self.label("selector", k, v)))
    }

    fn node_ref(&self, side: &str, r: &NodeRef) -> Option<String> {
        match r {
            NodeRef::Name { name, namespace, .. } => self
                .name(&format!("{side} name"), name)
                .or_else(|| namespace.as_deref().and_then(|n| self.name(side, n))),
            NodeRef::Host { host, namespace } => self
                .name(&format!("{side} host"), host)
                .or_else(|| namespace.as_deref().and_then(|n| self.name(side, n))),
            NodeRef::Selector { namespace, labels } => namespace
                .as_deref()
                .and_then(|n| self.name(side, n))
                .or_else(|| labels.iter().find_map(|(k, v)| self.label(side, k, v))),
        }
    }

    fn relation(&self, r: &Relation) -> Option<String> {
        self.node_ref("from", &r.from).or_else(|| self.node_ref("to", &r.to))
    }

    fn document(&self, d: &Document) -> Option<String> {
        let chars: usize = d.title.chars().count()
            + d.sections.iter().map(|s| s.text.chars().count()).sum::<usize>();
        let max = self.limits.max_document_chars;
        (chars > max).then(|| {
            format!(
                "the document's text is {chars} characters, over the limit of {max} ([limits] \
                 max_document_chars in lore.toml)"
            )
        })
    }

    fn change(&self, c: &ChangeEvent) -> Option<String> {
        self.name("id", &c.id).or_else(|| self.name("service", &c.service)).or_else(|| {
            over(
                "description",
                &c.description,
                self.limits.max_document_chars,
                "max_document_chars",
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_counted_by_separators() {
        assert_eq!(yaml_documents(Format::Kubernetes, "a: 1\n"), Some(1));
        assert_eq!(yaml_documents(Format::Kubernetes, "---\na: 1\n---\nb: 2\n"), Some(2));
        assert_eq!(yaml_documents(Format::Kubernetes, "a: 1\n---\nb: 2\n--- # c\nc: 3\n"), Some(3));
        assert_eq!(yaml_documents(Format::Kubernetes, "a: 1\n----\n"), Some(1));
        assert_eq!(yaml_documents(Format::Markdown, "---\nx: 1\n---\n# t\n"), None);
    }
}
