//! Which service runs a proxy: the one that mounts the proxy's config file.
//!
//! A proxy config does not name its own service; the ingestor guesses it from the
//! nearest meaningful directory (`lore_ingestors::proxy::owner`). A compose service that
//! bind-mounts the file (`./nginx-web-server/conf/nginx.conf:/etc/nginx/nginx.conf`) says
//! it outright, so when exactly one service mounts it (the file itself, or the nearest
//! directory holding it), that service is the proxy, and the edge's note says why.
//!
//! A Dockerfile is likewise the image of the compose service whose build context is its
//! directory (`load: {build: {context: load-gen}}` for `load-gen/Dockerfile`).

use lore_ingestors::dockerfile;
use lore_ingestors::proxy::{caddy, envoy, haproxy, nginx};
use lore_ingestors::util::mounts::{BUILD_ATTR, MOUNTS_ATTR, SEPARATOR, covers};
use lore_schema::{Entity, Relation};

/// Mounted host paths and the node of the service mounting each.
pub(super) struct Mounts {
    entries: Vec<(String, usize)>,
    /// Build context directories and the node of the service built from each.
    builds: Vec<(String, usize)>,
}

impl Mounts {
    pub(super) fn new(facts: &[&Entity], entity_node: &[usize]) -> Mounts {
        let mut entries = Vec::new();
        let mut builds = Vec::new();
        for (i, e) in facts.iter().enumerate() {
            if let Some(dir) = e.attrs.get(BUILD_ATTR) {
                builds.push((dir.clone(), entity_node[i]));
            }
            let Some(paths) = e.attrs.get(MOUNTS_ATTR) else { continue };
            for path in paths.split(SEPARATOR).filter(|p| !p.is_empty()) {
                entries.push((path.to_string(), entity_node[i]));
            }
        }
        entries.sort();
        entries.dedup();
        builds.sort();
        builds.dedup();
        Mounts { entries, builds }
    }

    /// The node that runs what `rel` was read from, and why (for the edge's note): the
    /// service mounting a proxy config, or the one whose image a Dockerfile builds.
    pub(super) fn owner(&self, rel: &Relation) -> Option<(usize, String)> {
        if let Some((node, mount)) = self.proxy_owner(rel) {
            return Some((node, format!("it mounts {mount}")));
        }
        if rel.provenance.ingestor != dockerfile::NAME {
            return None;
        }
        let file = super::file_of(&rel.provenance.locator);
        let dir = file.rsplit_once('/').map_or("", |(dir, _)| dir);
        let mut built: Vec<usize> =
            self.builds.iter().filter(|(d, _)| d == dir).map(|(_, n)| *n).collect();
        built.dedup();
        match built.as_slice() {
            [node] => Some((*node, format!("its image is built from {dir}"))),
            _ => None,
        }
    }

    /// The node running the proxy whose config `rel` was read from, with the mounted
    /// path that says so: `None` when `rel` is not a proxy route, or when no single
    /// service mounts the file.
    fn proxy_owner(&self, rel: &Relation) -> Option<(usize, &str)> {
        let ingestor = rel.provenance.ingestor.as_str();
        if ![envoy::NAME, nginx::NAME, haproxy::NAME, caddy::NAME].contains(&ingestor) {
            return None;
        }
        let file = super::file_of(&rel.provenance.locator);
        let covering: Vec<&(String, usize)> =
            self.entries.iter().filter(|(mount, _)| covers(mount, file)).collect();
        let longest = covering.iter().map(|(mount, _)| mount.len()).max()?;
        let mut nearest: Vec<&(String, usize)> =
            covering.into_iter().filter(|(mount, _)| mount.len() == longest).collect();
        nearest.dedup_by_key(|(_, node)| *node);
        match nearest.as_slice() {
            [(mount, node)] => Some((*node, mount.as_str())),
            _ => None,
        }
    }
}
