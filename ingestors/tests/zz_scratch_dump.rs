//! Temporary dump (deleted before handing over).
use lore_ingestors::schema::Record;
use lore_ingestors::{Detection, Input, detect, ingest};
use std::collections::BTreeMap;
use std::fmt::Write;

fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() { walk(&p, out) } else { out.push(p) }
    }
}

#[test]
#[ignore]
fn dump() {
    let root = std::path::Path::new("/work/shared/corpora");
    let mut files = Vec::new();
    for sub in ["runbooks", "postmortems"] {
        walk(&root.join(sub), &mut files);
    }
    if let Ok(extra) = std::env::var("EXTRA") {
        walk(std::path::Path::new(&extra), &mut files);
    }
    let mut s = String::new();
    let env = BTreeMap::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else { continue };
        let path = f.strip_prefix(root).unwrap_or(&f).to_string_lossy().to_string();
        let Detection::Ingest(fmt) = detect(&path, &text) else { continue };
        let out = ingest(fmt, &Input { path: &path, text: &text, env: &env });
        for d in &out.diagnostics {
            writeln!(s, "DIAG {:?} {} {}", d.severity, d.locator, d.message).unwrap();
        }
        for r in &out.records {
            match r {
                Record::Document(d) => {
                    writeln!(
                        s,
                        "DOC {} | {:?} | {} | secs={} links={} fm={:?}",
                        d.path,
                        d.kind,
                        d.title,
                        d.sections.len(),
                        d.links.len(),
                        d.front_matter.keys().collect::<Vec<_>>()
                    )
                    .unwrap();
                    for sec in &d.sections {
                        writeln!(
                            s,
                            "  SEC {} {:?} len={}",
                            sec.line,
                            sec.heading_path,
                            sec.text.len()
                        )
                        .unwrap();
                    }
                    if let Some(pm) = &d.postmortem {
                        let short = |o: &Option<String>| {
                            o.as_ref()
                                .map(|t| t.chars().take(60).collect::<String>().replace('\n', "/"))
                        };
                        writeln!(s, "  PM summary={:?} impact={:?} root={:?} trigger={:?} res={:?} det={:?}", short(&pm.summary), short(&pm.impact), short(&pm.root_cause), short(&pm.trigger), short(&pm.resolution), short(&pm.detection)).unwrap();
                        for a in &pm.action_items {
                            writeln!(s, "  ACT {}", a.chars().take(80).collect::<String>())
                                .unwrap();
                        }
                        for t in &pm.timeline {
                            writeln!(
                                s,
                                "  TL {} => {}",
                                t.when,
                                t.text.chars().take(60).collect::<String>()
                            )
                            .unwrap();
                        }
                    }
                }
                Record::Entity(e) => writeln!(
                    s,
                    "ENT {} {} {} {:?}",
                    e.provenance.locator,
                    e.kind,
                    e.name,
                    e.attrs.keys().collect::<Vec<_>>()
                )
                .unwrap(),
                Record::Relation(r) => {
                    writeln!(s, "REL {} {} {}", r.from.key(), r.kind, r.to.key()).unwrap()
                }
                other => writeln!(s, "OTHER {:?}", other).unwrap(),
            }
        }
    }
    std::fs::write(std::env::var("OUT").unwrap_or("/tmp/h4/dump.txt".into()), s).unwrap();
}

#[test]
#[ignore]
fn one() {
    let path = std::env::var("FILE").unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let env = BTreeMap::new();
    let Detection::Ingest(fmt) = detect(&path, &text) else { panic!() };
    let out = ingest(fmt, &Input { path: &path, text: &text, env: &env });
    for r in &out.records {
        if let Record::Document(d) = r {
            for s in &d.sections { println!("=== {} {:?}\n{}", s.line, s.heading_path, s.text); }
            println!("LINKS {:?}", d.links);
        }
    }
}

#[test]
#[ignore]
fn detect_all() {
    let mut files = Vec::new();
    walk(std::path::Path::new("/work/shared/corpora/topology"), &mut files);
    walk(std::path::Path::new("/tmp/g300"), &mut files);
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else { continue };
        let p = f.to_string_lossy();
        if let Detection::Ingest(fmt) = detect(&p, &text) {
            if matches!(fmt, lore_ingestors::Format::AlertRules) { println!("ALERT {p}"); }
            if matches!(fmt, lore_ingestors::Format::Markdown) { println!("MD {p}"); }
        }
    }
}
