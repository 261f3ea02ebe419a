//! The binary: exit codes, ambiguity errors, identity explanations.

use crate::support::lore_bin;

fn lore(data: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(lore_bin()).arg("--data-dir").arg(data).args(args).output().unwrap()
}

#[test]
fn ingest_exit_codes_ambiguity_and_identity() {
    let work = tempfile::tempdir().unwrap();
    let tree = work.path().join("src");
    std::fs::create_dir_all(tree.join("k8s")).unwrap();
    std::fs::create_dir_all(tree.join("catalog")).unwrap();
    std::fs::write(
        tree.join("k8s/shop.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: checkoutservice, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: checkout}}\n    spec:\n      containers:\n      - {name: c, image: shop/checkout:1, env: [{name: CART_ADDR, value: 'cart-api.shop.svc.cluster.local:7070'}]}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: cart-api, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: cart}}\n    spec:\n      containers: [{name: c, image: shop/cart:1}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: cart-api, namespace: shop}\nspec: {selector: {app: cart}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: cart-web, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: cartweb}}\n    spec:\n      containers: [{name: c, image: shop/cart-web:1}]\n",
    )
    .unwrap();
    std::fs::write(
        tree.join("catalog/catalog-info.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: checkout-service}\nspec: {type: service, owner: group:payments, lifecycle: production}\n",
    )
    .unwrap();
    let data = work.path().join("data");
    let out = lore(&data, &["ingest", tree.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));

    // One node for the Deployment and the catalog entry, with the rule that merged them.
    let out = lore(&data, &["show", "checkout-service", "--json"]);
    assert!(out.status.success());
    let show: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(show["node"]["id"], "service:checkoutservice");
    assert_eq!(show["node"]["owners"][0], "payments");
    let rules: Vec<&str> =
        show["identity"].as_array().unwrap().iter().map(|m| m["rule"].as_str().unwrap()).collect();
    assert!(rules.iter().any(|r| r.contains("separators are folded")), "{rules:?}");
    let out = lore(&data, &["show", "checkoutservice.shop.svc.cluster.local"]);
    assert!(!out.status.success(), "the Service DNS name is an alias only when a Service exists");

    // A name two nodes answer to is an error listing both.
    std::fs::write(tree.join("k8s/more.yaml"), "apiVersion: v1\nkind: Service\nmetadata: {name: cart, namespace: shop}\nspec: {selector: {app: cartweb}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: cart, namespace: other}\nspec: {selector: {app: cart}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: cart-api2, namespace: other}\nspec:\n  template:\n    metadata: {labels: {app: cart}}\n    spec:\n      containers: [{name: c, image: shop/cart:2}]\n").unwrap();
    let out = lore(&data, &["ingest", tree.to_str().unwrap()]);
    assert!(out.status.success());
    let out = lore(&data, &["impact", "cart", "--direction", "upstream"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ambiguous")
            && err.contains("service:cart-api2")
            && err.contains("service:cart-web"),
        "{err}"
    );

    // A malformed file: exit status 1, file and line named, the rest ingested.
    std::fs::write(
        tree.join("k8s/broken.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x\n",
    )
    .unwrap();
    let out = lore(&data, &["ingest", tree.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("broken.yaml:"), "{stdout}");
    let out = lore(&data, &["impact", "cart-api", "--direction", "upstream", "--json"]);
    let view: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(view["results"][0]["id"], "service:checkoutservice");
    let locator = view["results"][0]["path"][0]["evidence"][0]["locator"].as_str().unwrap();
    assert!(locator.ends_with("shop.yaml:9"), "{locator}");
    let help = std::process::Command::new(lore_bin()).args(["ingest", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("Exit status"));
}

#[test]
fn without_the_model_search_answers_with_bm25_and_says_what_to_run() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let runbooks = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/org/runbooks");
    let run = |args: &[&str]| {
        std::process::Command::new(lore_bin())
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .env("LORE_MODEL_DIR", work.path().join("no-model"))
            .output()
            .unwrap()
    };
    let out = run(&["ingest", runbooks.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("vector search is off") && summary.contains("scripts/setup"),
        "{summary}"
    );

    let out = run(&["search", "orders database connections exhausted", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let view: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(view["mode"], "bm25", "hybrid (the default) falls back to bm25");
    assert!(view["notice"].as_str().unwrap().contains("scripts/setup"), "{view}");
    let first = view["results"][0]["source"].as_str().unwrap();
    assert!(first.ends_with("orders-db-connections.md"), "{view}");
}

#[test]
fn lore_toml_sets_the_data_dir_and_model_and_typos_are_errors() {
    let work = tempfile::tempdir().unwrap();
    let runbooks = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/org/runbooks");
    let run = |args: &[&str]| {
        std::process::Command::new(lore_bin())
            .current_dir(work.path())
            .env_remove("LORE_DATA_DIR")
            .env_remove("LORE_MODEL_DIR")
            .env_remove("LORE_CONFIG")
            .args(args)
            .output()
            .unwrap()
    };
    std::fs::write(
        work.path().join("lore.toml"),
        "data_dir = \"kept-here\"\n[embedding]\nmodel_dir = \"no-model-here\"\n",
    )
    .unwrap();
    let out = run(&["ingest", runbooks.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(work.path().join("kept-here/store").is_dir(), "data_dir from lore.toml");
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(summary.contains("vector search is off"), "model_dir from lore.toml: {summary}");

    std::fs::write(work.path().join("lore.toml"), "[embeding]\nmodel_dir = \"x\"\n").unwrap();
    let out = run(&["search", "orders"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("lore.toml") && err.contains("embeding"), "{err}");
}
