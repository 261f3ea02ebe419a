//! Files a container mounts from beside its manifest (compose `volumes:` bind mounts), so
//! a proxy config found on disk can be tied to the service that runs it: `nginx-thrift`
//! mounting `./nginx-web-server/conf/nginx.conf` is the proxy that file configures, whatever
//! the directory is called.
//!
//! Paths are spelled like ingest locators: the compose file's directory joined with the
//! relative host path, `.` and `..` folded.

use std::collections::BTreeMap;

use serde_yaml::Value;

use crate::util::dotenv;
use crate::util::yaml::scalar_text;

/// Entity attribute listing the mounted host paths, separated by [`SEPARATOR`].
pub const MOUNTS_ATTR: &str = "mounts";

/// Separator of the paths in [`MOUNTS_ATTR`].
pub const SEPARATOR: char = ',';

/// The host paths of the bind mounts in a compose service's `volumes` (short
/// `./src:/dst[:mode]` and long `{type: bind, source: ./src}` forms), relative to the
/// compose file at `file_path`. Named volumes (`pgdata:/var/lib/postgresql`) and
/// absolute host paths are not files of the repository and are left out.
pub fn bind_mounts(
    volumes: Option<&Value>,
    file_path: &str,
    env: &BTreeMap<String, String>,
) -> Vec<String> {
    let Some(Value::Sequence(items)) = volumes else { return Vec::new() };
    let dir = file_path.rsplit_once(['/', '\\']).map_or("", |(dir, _)| dir);
    let mut paths: Vec<String> = items
        .iter()
        .filter_map(|item| match item {
            Value::Mapping(_) => item.get("source").and_then(scalar_text),
            other => scalar_text(other).map(|s| s.split(':').next().unwrap_or("").to_string()),
        })
        .map(|source| dotenv::interpolate(&source, env))
        .filter(|source| source.starts_with('.') && !source.contains(SEPARATOR))
        .filter_map(|source| join(dir, &source))
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// Entity attribute holding the directory a compose service's image is built from.
pub const BUILD_ATTR: &str = "build_dir";

/// A path written in the compose file at `file_path` (a build context, an `env_file`),
/// spelled like ingest locators; `None` for a URL, an absolute path or one climbing above
/// the root.
pub fn compose_path(
    context: &str,
    file_path: &str,
    env: &BTreeMap<String, String>,
) -> Option<String> {
    let context = dotenv::interpolate(context, env);
    if context.starts_with('/') || context.contains("://") || context.contains('@') {
        return None;
    }
    let dir = file_path.rsplit_once(['/', '\\']).map_or("", |(dir, _)| dir);
    join(dir, &context)
}

/// `dir/rel` with `.` and `..` folded; `None` when `..` climbs above the root.
fn join(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
    for part in rel.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// Whether the mounted host path `mount` (a file or a directory) holds the file `path`.
pub fn covers(mount: &str, path: &str) -> bool {
    path == mount || path.strip_prefix(mount).is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_mounts_are_joined_to_the_compose_directory() {
        let volumes: Value = serde_yaml::from_str(
            "- ./nginx-web-server/conf/nginx.conf:/usr/local/openresty/nginx/conf/nginx.conf\n- ../shared/envoy:/etc/envoy:ro\n- pgdata:/var/lib/postgresql/data\n- /var/run/docker.sock:/var/run/docker.sock\n- {type: bind, source: './${CONF}', target: /etc/x.yaml}\n",
        )
        .unwrap();
        let env = BTreeMap::from([("CONF".to_string(), "proxy.yaml".to_string())]);
        assert_eq!(
            bind_mounts(Some(&volumes), "social/app/docker-compose.yml", &env),
            [
                "social/app/nginx-web-server/conf/nginx.conf",
                "social/app/proxy.yaml",
                "social/shared/envoy"
            ]
        );
        assert_eq!(
            bind_mounts(Some(&volumes), "compose.yaml", &env).len(),
            2,
            "`..` above the root"
        );
        assert!(covers("social/shared/envoy", "social/shared/envoy/envoy.yaml"));
        assert!(covers("a/nginx.conf", "a/nginx.conf"));
        assert!(!covers("a/envoy", "a/envoy-v2.yaml"));
        let none = BTreeMap::new();
        assert_eq!(
            compose_path("./web", "shop/docker-compose.yaml", &none).as_deref(),
            Some("shop/web")
        );
        assert_eq!(
            compose_path("../payment", "shop/dispatch/compose.yaml", &none).as_deref(),
            Some("shop/payment")
        );
        assert_eq!(compose_path("https://github.com/a/b.git", "compose.yaml", &none), None);
    }
}
