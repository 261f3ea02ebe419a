//! Tribal notes and bundle feedback over HTTP (`router(..).oneshot(..)`) and the CLI, on
//! the example organisation: notes are listed, shown, searched, expire and are removed
//! with their history kept; feedback moves an item's rank factor for its focus only, and
//! removing it undoes that.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::StatusCode;
use lore::Engine;
use lore_schema::{NodeId, Record};
use serde_json::{Value, json};

use crate::support::{call, lore_bin};

fn org(part: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/org").join(part)
}

/// An engine over the example organisation's topology, catalog, postmortems and alerts.
fn org_engine() -> (tempfile::TempDir, Arc<Engine>) {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).unwrap();
    let paths: Vec<PathBuf> = ["k8s", "catalog", "postmortems", "alerts"].map(org).into();
    engine.ingest(&paths, 1_000).unwrap();
    (dir, Arc::new(engine))
}

fn ids(list: &Value, field: &str) -> Vec<String> {
    list[field].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_string()).collect()
}

fn search_ids(body: &Value) -> Vec<(String, String)> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["id"].as_str().unwrap().to_string(), h["kind"].as_str().unwrap().to_string()))
        .collect()
}

/// The stored note documents (every version, current or not) with their `valid_to`.
fn stored_notes(engine: &Engine) -> Vec<(String, Option<i64>)> {
    let mut out = Vec::new();
    for fact in engine.store().facts() {
        let fact = fact.unwrap();
        if fact.source != lore::notes::NOTES_SOURCE {
            continue;
        }
        for v in &fact.versions {
            if let Record::Document(d) = &v.record {
                out.push((d.front_matter["id"].clone(), v.valid_to));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn notes_are_listed_shown_searched_expire_and_are_removed() {
    let (_dir, engine) = org_engine();
    let app = lore::server::router(engine.clone());
    let text = "Flamingo cache warms slowly after deploys; wait five minutes before paging";
    let body = json!({"node": "checkout", "text": text, "author": "ana", "tags": ["deploys"]});
    let (status, note) = call(&app, "POST", "/v1/notes", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    let id = note["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("note-"), "{id}");
    assert_eq!(note["node"], "service:checkout");
    assert_eq!(note["source"], "api:notes");
    assert_eq!(note["locator"], format!("api:notes/{id}"));
    assert_eq!(note["tags"], json!(["deploys"]));

    let (status, list) = call(&app, "GET", "/v1/notes?node=checkout", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&list, "notes"), [id.as_str()]);
    assert_eq!(list["notes"][0], note, "listing returns the note as posted");
    let (_, show) = call(&app, "GET", "/v1/nodes/checkout", None).await;
    assert_eq!(ids(&show, "notes"), [id.as_str()]);
    let (_, other) = call(&app, "GET", "/v1/notes?node=payment", None).await;
    assert!(ids(&other, "notes").is_empty());

    let note_node = format!("note:{id}");
    let (status, found) = call(&app, "GET", "/v1/search?q=flamingo&mode=bm25", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(search_ids(&found).first(), Some(&(note_node.clone(), "note".to_string())));
    let (_, only_notes) = call(&app, "GET", "/v1/search?q=cache&mode=bm25&kind=note", None).await;
    assert_eq!(search_ids(&only_notes), [(note_node.clone(), "note".to_string())]);
    let (_, no_notes) =
        call(&app, "GET", "/v1/search?q=flamingo&mode=bm25&kind=postmortem", None).await;
    assert!(search_ids(&no_notes).is_empty(), "{no_notes}");

    // An expired note is kept in the store but leaves listings, show and search.
    let old = json!({"node": "service:checkout", "text": "Zeppelin canary is flaky", "expires": "2020-01-01"});
    let (status, expired) = call(&app, "POST", "/v1/notes", Some(old)).await;
    assert_eq!(status, StatusCode::CREATED, "{expired}");
    let expired_id = expired["id"].as_str().unwrap().to_string();
    assert_eq!(expired["expires"], "2020-01-01T00:00:00Z");
    let (_, list) = call(&app, "GET", "/v1/notes?node=checkout", None).await;
    assert_eq!(ids(&list, "notes"), [id.as_str()]);
    let (_, all) = call(&app, "GET", "/v1/notes?node=checkout&all=true", None).await;
    assert!(ids(&all, "notes").contains(&expired_id));
    let (_, found) = call(&app, "GET", "/v1/search?q=zeppelin&mode=bm25", None).await;
    assert!(search_ids(&found).is_empty(), "{found}");
    let checkout: NodeId = "service:checkout".parse().unwrap();
    let about = engine.notes_about(std::slice::from_ref(&checkout), lore::time::now()).unwrap();
    assert_eq!(about.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
    assert!(stored_notes(&engine).contains(&(expired_id.clone(), None)));

    // A short duration from now is an expiry too.
    let soon = json!({"node": "checkout", "text": "Quokka flag rollout ongoing", "expires": "2h"});
    let (status, soon) = call(&app, "POST", "/v1/notes", Some(soon)).await;
    assert_eq!(status, StatusCode::CREATED, "{soon}");
    let soon_id = soon["id"].as_str().unwrap().to_string();
    let later = lore::time::now() + 3 * 3600;
    let live = |at: i64| -> Vec<String> {
        let notes = engine.notes_about(std::slice::from_ref(&checkout), at).unwrap();
        notes.into_iter().map(|n| n.id).collect()
    };
    assert!(live(lore::time::now()).contains(&soon_id));
    assert!(!live(later).contains(&soon_id));

    // Removing closes the fact: gone from listings and search, kept as history.
    let (status, removed) = call(&app, "DELETE", &format!("/v1/notes/{id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{removed}");
    assert_eq!(removed["id"], id.as_str());
    let (_, list) = call(&app, "GET", "/v1/notes?node=checkout&all=true", None).await;
    assert!(!ids(&list, "notes").contains(&id));
    let (_, found) = call(&app, "GET", "/v1/search?q=flamingo&mode=bm25", None).await;
    assert!(search_ids(&found).is_empty(), "{found}");
    assert!(stored_notes(&engine).iter().any(|(n, to)| n == &id && to.is_some()));
    let (status, again) = call(&app, "DELETE", &format!("/v1/notes/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(again["error"]["code"], "not_found");

    // Bad input names the field.
    let (status, err) =
        call(&app, "POST", "/v1/notes", Some(json!({"node": "checkout", "text": "  "}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["error"]["message"].as_str().unwrap().contains("`text`"), "{err}");
    let (status, err) = call(&app, "POST", "/v1/notes", Some(json!({"node": "checkout"}))).await;
    assert!(status.is_client_error());
    assert!(err["error"]["message"].as_str().unwrap().contains("text"), "{err}");
    let (status, err) =
        call(&app, "POST", "/v1/notes", Some(json!({"node": "nope", "text": "x"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["error"]["code"], "not_found");
    let bad_time = json!({"node": "checkout", "text": "x", "expires": "someday"});
    let (status, err) = call(&app, "POST", "/v1/notes", Some(bad_time)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["error"]["message"].as_str().unwrap().contains("`expires`"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn feedback_moves_the_factor_of_its_focus_only_and_is_reversible() {
    let (_dir, engine) = org_engine();
    let app = lore::server::router(engine.clone());
    let checkout: NodeId = "service:checkout".parse().unwrap();
    let payment: NodeId = "service:payment".parse().unwrap();
    let body =
        json!({"focus": "checkout", "item": "chg-0412", "verdict": "wrong", "author": "ana"});
    let (status, wrong) = call(&app, "POST", "/v1/feedback", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{wrong}");
    assert_eq!(wrong["focus"], "service:checkout");
    assert_eq!(wrong["verdict"], "wrong");
    assert_eq!(engine.feedback_factor(&checkout, "chg-0412").unwrap(), 0.25);
    assert_eq!(engine.feedback_factor(&payment, "chg-0412").unwrap(), 1.0);
    assert_eq!(engine.feedback_factor(&checkout, "chg-0001").unwrap(), 1.0);

    // The bundle id gives the focus.
    let body = json!({"bundle_id": "service:payment@1793491200~1a2b3c4d", "item": "chg-0412", "verdict": "useful"});
    let (status, useful) = call(&app, "POST", "/v1/feedback", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{useful}");
    assert_eq!(useful["focus"], "service:payment");
    assert_eq!(engine.feedback_factor(&payment, "chg-0412").unwrap(), 1.5);
    assert_eq!(engine.feedback_factor(&checkout, "chg-0412").unwrap(), 0.25);

    let (status, list) = call(&app, "GET", "/v1/feedback?focus=checkout", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&list, "feedback"), [wrong["id"].as_str().unwrap()]);
    let (_, list) = call(&app, "GET", "/v1/feedback", None).await;
    assert_eq!(ids(&list, "feedback").len(), 2);

    let uri = format!("/v1/feedback/{}", wrong["id"].as_str().unwrap());
    let (status, removed) = call(&app, "DELETE", &uri, None).await;
    assert_eq!(status, StatusCode::OK, "{removed}");
    assert_eq!(engine.feedback_factor(&checkout, "chg-0412").unwrap(), 1.0);
    assert_eq!(engine.feedback_factor(&payment, "chg-0412").unwrap(), 1.5);
    let (status, again) = call(&app, "DELETE", &uri, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(again["error"]["code"], "not_found");

    // Bad input names the field.
    let bad = json!({"focus": "checkout", "item": "chg-0412", "verdict": "meh"});
    let (status, err) = call(&app, "POST", "/v1/feedback", Some(bad)).await;
    assert!(status.is_client_error(), "{status}");
    assert!(err["error"]["message"].as_str().unwrap().contains("verdict"), "{err}");
    let (status, err) =
        call(&app, "POST", "/v1/feedback", Some(json!({"item": "x", "verdict": "wrong"}))).await;
    assert!(status.is_client_error(), "{status}");
    assert!(err["error"]["message"].as_str().unwrap().contains("focus"), "{err}");
    let bad_bundle = json!({"bundle_id": "checkout", "item": "x", "verdict": "wrong"});
    let (status, err) = call(&app, "POST", "/v1/feedback", Some(bad_bundle)).await;
    assert!(status.is_client_error(), "{status}");
    assert!(err["error"]["message"].as_str().unwrap().contains("bundle_id"), "{err}");
    let (status, err) =
        call(&app, "POST", "/v1/feedback", Some(json!({"focus": "checkout", "verdict": "wrong"})))
            .await;
    assert!(status.is_client_error(), "{status}");
    assert!(err["error"]["message"].as_str().unwrap().contains("item"), "{err}");
}

fn lore(data: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(lore_bin()).arg("--data-dir").arg(data).args(args).output().unwrap()
}

fn lore_json(data: &Path, args: &[&str]) -> Value {
    let out = lore(data, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn cli_adds_lists_and_removes_notes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let k8s = org("k8s");
    let out = lore(&data, &["ingest", "--no-embed", k8s.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = "Payment retries are idempotent since 2.0.7";
    let note = lore_json(
        &data,
        &[
            "note",
            "add",
            "payment",
            text,
            "--author",
            "bo",
            "--tag",
            "retries",
            "--expires",
            "1w",
            "--json",
        ],
    );
    let id = note["id"].as_str().unwrap();
    assert_eq!(note["node"], "service:payment");
    assert_eq!(note["author"], "bo");
    assert!(note["expires"].is_string());
    let list = lore_json(&data, &["note", "list", "payment", "--json"]);
    assert_eq!(list["notes"], json!([note]));
    let all = lore_json(&data, &["note", "list", "--json"]);
    assert_eq!(ids(&all, "notes"), [id]);
    let out = lore(&data, &["note", "rm", id]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let list = lore_json(&data, &["note", "list", "payment", "--json"]);
    assert_eq!(list["notes"], json!([]));
    let out = lore(&data, &["note", "rm", id]);
    assert!(!out.status.success(), "removing twice fails");
    let out = lore(&data, &["note", "add", "payment", ""]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("`text`"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_note_on_an_ambiguous_name_is_an_error_listing_the_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let k8s = dir.path().join("k8s");
    std::fs::create_dir_all(&k8s).unwrap();
    let deployment = |name: &str, ns: &str, app: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  template:\n    metadata: {{labels: {{app: {app}}}}}\n    spec:\n      containers: [{{name: c, image: shop/{app}:1}}]\n"
        )
    };
    let service = |ns: &str, app: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: cart, namespace: {ns}}}\nspec: {{selector: {{app: {app}}}}}\n"
        )
    };
    let manifests = [
        deployment("cart-web", "shop", "cartweb"),
        deployment("cart-api2", "other", "cart"),
        service("shop", "cartweb"),
        service("other", "cart"),
    ];
    std::fs::write(k8s.join("shop.yaml"), manifests.join("---\n")).unwrap();
    let engine = Engine::open(&dir.path().join("data")).unwrap();
    engine.ingest(&[k8s], 1_000).unwrap();
    let app = lore::server::router(Arc::new(engine));
    let (status, err) =
        call(&app, "POST", "/v1/notes", Some(json!({"node": "cart", "text": "which one?"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("service:cart-web") && message.contains("service:cart-api2"),
        "{message}"
    );
}
