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

/// An engine over one source: `files` (path below the root, text) written into a temp dir.
fn ingest_tree(files: &[(&str, &str)]) -> (tempfile::TempDir, tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let (data, engine) = engine();
    engine.ingest(&[dir.path().to_path_buf()], 1_000).unwrap();
    (dir, data, engine)
}

fn downstream(engine: &Engine, node: &str) -> Vec<String> {
    let view = engine.impact(&ImpactRequest::new(node, Direction::Downstream)).unwrap();
    view.results.iter().map(|h| h.name.clone()).collect()
}

const CONFIG_FILE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: service-config}\ndata:\n  CART_ADDR: cart:7070\n  ORDERS_DB_URL: postgres://app:pw-in-url@orders-db:5432/orders\n  LOG_LEVEL: info\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: payments}\nstringData:\n  PAYMENTS_HOST: payments\n  PAYMENTS_PASSWORD: hunter2\n";

const CHECKOUT_FILE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: checkout}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: shop/checkout:1\n        envFrom:\n        - configMapRef: {name: service-config}\n        env:\n        - name: PAY_HOST\n          valueFrom: {secretKeyRef: {name: payments, key: PAYMENTS_HOST}}\n        - name: PAY_PW\n          valueFrom: {secretKeyRef: {name: payments, key: PAYMENTS_PASSWORD}}\n";

fn deployment(name: &str, image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}}}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: {image}\n"
    )
}

#[test]
fn configmaps_and_secrets_of_another_file_feed_the_workloads_that_name_them() {
    let cart = deployment("cart", "shop/cart:1");
    let db = deployment("orders-db", "postgres:16");
    let payments = deployment("payments", "shop/payments:1");
    let (_dir, _data, engine) = ingest_tree(&[
        ("k8s/config.yaml", CONFIG_FILE),
        ("k8s/checkout.yaml", CHECKOUT_FILE),
        ("k8s/cart.yaml", &cart),
        ("k8s/orders-db.yaml", &db),
        ("k8s/payments.yaml", &payments),
    ]);
    let view = engine.impact(&ImpactRequest::new("checkout", Direction::Downstream)).unwrap();
    let hits: Vec<&str> = view.results.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(hits.len(), 3, "{hits:?}");
    for want in ["cart", "orders-db", "payments"] {
        assert!(hits.contains(&want), "{want} in {hits:?}");
    }
    let db_edge = &view.results.iter().find(|h| h.name == "orders-db").unwrap().path[0];
    assert_eq!(db_edge.kind.as_str(), "depends_on");
    let evidence = &db_edge.evidence[0];
    assert!(evidence.locator.ends_with("k8s/checkout.yaml:11"), "{evidence:?}");
    assert!(evidence.note.contains("k8s/config.yaml:6"), "the merge is explained: {evidence:?}");
    let json = serde_json::to_string(&view).unwrap();
    for secret in ["hunter2", "pw-in-url"] {
        assert!(!json.contains(secret), "{secret} leaked: {json}");
    }
}

#[test]
fn the_nearest_declaration_of_a_configmap_is_the_one_read() {
    let base = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: service-config}\ndata:\n  CART_ADDR: cart:7070\n";
    let extra = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: service-config}\ndata:\n  CART_ADDR: legacy-cart:7070\n";
    let cart = deployment("cart", "shop/cart:1");
    let legacy = deployment("legacy-cart", "shop/cart:0");
    let (_dir, _data, engine) = ingest_tree(&[
        ("manifests/config.yaml", base),
        ("manifests/checkout.yaml", CHECKOUT_FILE),
        ("manifests/cart.yaml", &cart),
        ("extras/legacy/config.yaml", extra),
        ("extras/legacy/cart.yaml", &legacy),
    ]);
    assert_eq!(downstream(&engine, "checkout"), ["cart"]);
}

#[test]
fn a_proxy_config_belongs_to_the_compose_service_that_mounts_it() {
    let compose = "services:\n  nginx-thrift:\n    image: openresty/openresty:1\n    volumes:\n      - ./nginx-web-server/conf/nginx.conf:/usr/local/openresty/nginx/conf/nginx.conf\n  compose-post:\n    image: shop/compose-post:1\n";
    let nginx = "http {\n  server {\n    location /post {\n      proxy_pass http://compose-post:9090;\n    }\n  }\n}\n";
    let (_dir, _data, engine) = ingest_tree(&[
        ("social/docker-compose.yml", compose),
        ("social/nginx-web-server/conf/nginx.conf", nginx),
    ]);
    let view = engine.impact(&ImpactRequest::new("nginx-thrift", Direction::Downstream)).unwrap();
    let hit = view.results.iter().find(|h| h.name == "compose-post").expect("routed");
    let note = &hit.path[0].evidence[0].note;
    assert!(note.contains("run by nginx-thrift: it mounts "), "{note}");
    assert!(note.ends_with("/social/nginx-web-server/conf/nginx.conf)"), "{note}");
}

#[test]
fn a_catalog_name_matching_loosely_in_two_systems_joins_its_own() {
    let deploy = |name: &str, ns: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: acme/{name}:1\n"
        )
    };
    let catalog = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: export\nspec:\n  type: service\n  lifecycle: production\n  owner: group:exports\n  system: localization-export\n  dependsOn:\n    - component:secrets-broker\n";
    let (_dir, _data, engine) = ingest_tree(&[
        ("k8s/export-service.yaml", &deploy("export-service", "procurement-export")),
        ("k8s/export-api.yaml", &deploy("export-api", "localization-export")),
        ("k8s/secrets-broker.yaml", &deploy("secrets-broker", "platform")),
        ("catalog/export.yaml", catalog),
    ]);
    // `export` drops to `export` as `export-service` (affix) and as `export-api` (-api
    // suffix): the one in the entry's own system is the one it names.
    let shown = engine.show("export-api", None).unwrap();
    let rules: Vec<&str> = shown.identity.iter().map(|m| m.rule.as_str()).collect();
    assert!(rules.iter().any(|r| r.ends_with("in its own system")), "{rules:?}");
    assert_eq!(downstream(&engine, "export-api"), ["secrets-broker"]);
    assert!(downstream(&engine, "export-service").is_empty());
}

#[test]
fn a_compose_name_means_its_own_projects_service_not_a_kubernetes_one_elsewhere() {
    // A Kubernetes Service `payment` selecting the canary `payment-fix` has the name too;
    // the compose project's `depends_on: payment` (and its web tier's proxy) still mean
    // the compose service.
    let compose = "services:\n  rabbitmq:\n    image: rabbitmq:3.8\n  payment:\n    build: {context: payment}\n    depends_on: [rabbitmq]\n  web:\n    build: {context: web}\n    depends_on: [payment]\n";
    let canary = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: payment-fix, labels: {service: payment}}\nspec:\n  template:\n    metadata: {labels: {service: payment}}\n    spec:\n      containers:\n      - name: c\n        image: shop/payment-fix:1\n";
    let service = "apiVersion: v1\nkind: Service\nmetadata: {name: payment}\nspec:\n  selector: {service: payment}\n  ports: [{port: 8080}]\n";
    let (_dir, _data, engine) = ingest_tree(&[
        ("shop/docker-compose.yaml", compose),
        ("shop/K8s/payment-fix.yaml", canary),
        ("shop/K8s/payment-service.yaml", service),
    ]);
    assert_eq!(downstream(&engine, "web"), ["payment", "rabbitmq"]);
}

#[test]
fn an_nginx_template_is_filled_in_from_its_image_env_and_an_image_env_is_its_services() {
    let compose = "services:\n  web:\n    build: {context: web}\n  cart:\n    build: {context: cart}\n  shipping:\n    build: {context: shipping}\n  mysql:\n    image: mysql:8\n  load:\n    build: {context: load-gen}\n";
    let template = "server {\n  listen 8080;\n  location /api/cart/ {\n    proxy_pass http://${CART_HOST}:8080/;\n  }\n}\n";
    let web_image = "FROM nginx:1.21\nENV CART_HOST=cart \\\n    OTHER=1\nCOPY default.conf.template /etc/nginx/templates/\n";
    let shipping_image = "FROM openjdk:8\nENV DB_HOST=mysql\n";
    let (_dir, _data, engine) = ingest_tree(&[
        ("shop/docker-compose.yaml", compose),
        ("shop/web/default.conf.template", template),
        ("shop/web/Dockerfile", web_image),
        ("shop/shipping/Dockerfile", shipping_image),
        ("shop/load-gen/Dockerfile", "FROM python:3\nENV HOST=http://web:8080\n"),
    ]);
    let view = engine.impact(&ImpactRequest::new("web", Direction::Downstream)).unwrap();
    let hit = view.results.iter().find(|h| h.name == "cart").expect("routed through the template");
    let locators: Vec<&str> = hit.path[0].evidence.iter().map(|e| e.locator.as_str()).collect();
    assert!(locators.iter().any(|l| l.ends_with("web/default.conf.template:4")), "{locators:?}");
    assert_eq!(downstream(&engine, "shipping"), ["mysql"]);
    // The image built from `load-gen/` is `load`'s, whatever the directory is called.
    let view = engine.impact(&ImpactRequest::new("load", Direction::Downstream)).unwrap();
    let hit = view.results.iter().find(|h| h.name == "web").expect("load calls web");
    let note = &hit.path[0].evidence[0].note;
    assert!(
        note.contains("run by load: its image is built from ") && note.ends_with("load-gen)"),
        "{note}"
    );
}

#[test]
fn haproxy_and_caddy_gateways_route_to_their_upstreams() {
    let compose = "services:\n  lb:\n    image: haproxy:2.9\n    volumes:\n      - ./conf/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro\n  edge:\n    image: caddy:2\n  api:\n    image: shop/api:1\n  web:\n    image: shop/web:1\n";
    let haproxy = "frontend http\n  bind *:80\n  default_backend api\nbackend api\n  server api1 api:8080 check\n";
    let caddy =
        "shop.example.com {\n  reverse_proxy /api/* api:8080\n  reverse_proxy web:3000\n}\n";
    let (_dir, _data, engine) = ingest_tree(&[
        ("shop/docker-compose.yaml", compose),
        ("shop/conf/haproxy.cfg", haproxy),
        ("shop/edge/Caddyfile", caddy),
    ]);
    assert_eq!(downstream(&engine, "lb"), ["api"]);
    assert_eq!(downstream(&engine, "edge"), ["api", "web"]);
}

#[test]
fn dot_env_files_feed_only_the_services_that_name_them() {
    // `.env` is also compose's interpolation source (`${TAG}`); `.env.production` is
    // hidden too. A `.env/` folder (a virtualenv) is not read.
    let compose = "services:\n  api:\n    image: shop/api:${TAG}\n    env_file: .env\n  worker:\n    image: shop/worker:1\n    env_file: [.env.production]\n  web:\n    image: shop/web:1\n  cache:\n    image: redis:7\n  queue:\n    image: rabbitmq:3\n";
    let (_dir, _data, engine) = ingest_tree(&[
        ("shop/docker-compose.yaml", compose),
        ("shop/.env", "TAG=1\nCACHE_URL=redis://cache:6379\nAPI_TOKEN=t0ps3cret\n"),
        ("shop/.env.production", "QUEUE_HOST=queue\n"),
        ("tools/.env/lib/compose.yaml", "services:\n  ghost:\n    image: x:1\n"),
    ]);
    assert!(engine.impact(&ImpactRequest::new("ghost", Direction::Downstream)).is_err());
    assert_eq!(downstream(&engine, "api"), ["cache"]);
    assert_eq!(downstream(&engine, "worker"), ["queue"]);
    assert!(downstream(&engine, "web").is_empty());
    let view = engine.impact(&ImpactRequest::new("api", Direction::Downstream)).unwrap();
    let json = serde_json::to_string(&view).unwrap();
    assert!(!json.contains("t0ps3cret"), "{json}");
}

#[test]
fn an_env_file_feeds_the_compose_services_that_read_it_without_its_secrets() {
    let compose = "services:\n  checkout:\n    image: shop/checkout:1\n    env_file:\n      - ./config/checkout.env\n      - path: ./config/missing.env\n        required: false\n  cart:\n    image: shop/cart:1\n  orders-db:\n    image: postgres:16\n";
    let env = "# checkout settings\nCART_ADDR=cart:7070\nDATABASE_URL=postgres://app:pw-in-url@orders-db:5432/orders\nDB_PASSWORD=hunter2\nLOG_LEVEL=info\n";
    let (_dir, _data, engine) =
        ingest_tree(&[("shop/docker-compose.yaml", compose), ("shop/config/checkout.env", env)]);
    let view = engine.impact(&ImpactRequest::new("checkout", Direction::Downstream)).unwrap();
    let mut hits: Vec<&str> = view.results.iter().map(|h| h.name.as_str()).collect();
    hits.sort();
    assert_eq!(hits, ["cart", "orders-db"]);
    let cart = view.results.iter().find(|h| h.name == "cart").unwrap();
    let note = &cart.path[0].evidence[0].note;
    assert!(
        note.contains("env_file ./config/checkout.env") && note.contains("checkout.env:2"),
        "{note}"
    );
    let json = serde_json::to_string(&view).unwrap();
    for secret in ["hunter2", "pw-in-url"] {
        assert!(!json.contains(secret), "{secret} leaked: {json}");
    }
}
