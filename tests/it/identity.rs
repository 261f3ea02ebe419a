//! Names shared across kinds and start-order-only edges, on small inline sources.

use lore::Engine;
use lore::engine::ImpactRequest;
use lore::graph::Direction;

use crate::support::engine;

/// An engine over one source file named `file` holding `text` (temp dirs kept alive).
fn ingest_one(file: &str, text: &str) -> (tempfile::TempDir, tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(file), text).unwrap();
    let (data, engine) = engine();
    engine.ingest(&[dir.path().to_path_buf()], 1_000).unwrap();
    (dir, data, engine)
}

const CATALOG: &str = r#"apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: frontend
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: frontend
spec:
  type: service
  lifecycle: production
  owner: group:frontend
  dependsOn:
    - component:cart
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: cart
spec:
  type: service
  lifecycle: production
  owner: group:frontend
"#;

const COMPOSE: &str = r#"services:
  web:
    image: example/web:1
    environment:
      API_URL: http://api:8080
    depends_on:
      - api
      - worker
  api:
    image: example/api:1
  worker:
    image: example/worker:1
"#;

#[test]
fn a_team_named_like_a_service_leaves_the_service_unambiguous() {
    let (_dir, _data, engine) = ingest_one("catalog-info.yaml", CATALOG);
    let view = engine
        .impact(&ImpactRequest::new("frontend", Direction::Downstream))
        .expect("frontend resolves to the service, not the team");
    assert_eq!(view.node.id.to_string(), "service:frontend");
    let hits: Vec<String> = view.results.iter().map(|h| h.id.to_string()).collect();
    assert!(hits.contains(&"service:cart".to_string()), "{hits:?}");
}

#[test]
fn a_depends_on_nothing_else_states_is_followed_but_marked_start_order() {
    let (_dir, _data, engine) = ingest_one("docker-compose.yml", COMPOSE);
    let view = engine.impact(&ImpactRequest::new("web", Direction::Downstream)).unwrap();
    let edge_to = |name: &str| {
        view.results
            .iter()
            .find(|h| h.name == name)
            .unwrap_or_else(|| panic!("{name} not reached: {:?}", view.results))
            .path[0]
            .clone()
    };
    assert!(edge_to("worker").start_order, "depends_on alone is start order");
    assert!(!edge_to("api").start_order, "an env URL corroborates the call");
    let json = serde_json::to_value(&view).unwrap();
    assert!(json.to_string().contains("\"start_order\":true"), "marked in the JSON");
}
