//! `lore audit`: the audit log of writes (API and CLI), oldest first; and the entries the
//! CLI's own writes add (who `cli:<user>`, from `local`).

use std::io::Write;
use std::process::ExitCode;

use lore::Engine;
use lore::store::AuditEntry;

/// Records a write the CLI made (`what`: `ingest PATH`, `note add`, ...).
pub(crate) fn record(engine: &Engine, what: String) -> anyhow::Result<()> {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".to_string());
    let entry = AuditEntry {
        ts: lore::time::now(),
        who: format!("cli:{user}"),
        what,
        from: "local".into(),
        status: 0,
    };
    engine.store().append_audit(&entry)?;
    Ok(())
}

/// Prints the audit log.
pub(crate) fn list(engine: &Engine, json: bool) -> anyhow::Result<ExitCode> {
    let entries = engine.store().audit()?;
    if json {
        super::output::json(&serde_json::json!({ "entries": entries }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    for e in &entries {
        let status = if e.status == 0 { String::new() } else { format!(" -> {}", e.status) };
        writeln!(out, "{} {} {} from {}{status}", lore::time::format(e.ts), e.who, e.what, e.from)?;
    }
    if entries.is_empty() {
        writeln!(out, "no writes recorded")?;
    }
    Ok(ExitCode::SUCCESS)
}
