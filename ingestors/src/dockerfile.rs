//! Dockerfiles: the `ENV` an image sets is the environment its containers run with, so
//! an address there (`ENV CART_ENDPOINT=cart:8080`, `ENV DB_HOST=mysql`) is a dependency
//! of the service the image is built for, like one in compose's `environment`. Which
//! service that is, the file does not say: as for proxy configs, the nearest meaningful
//! directory above it (`shipping/Dockerfile` → `shipping`, the compose build context).

use lore_schema::NodeRef;

use crate::util::deps::{VarSite, emit_var_relations};
use crate::util::dockerfile::env_lines;
use crate::{Emitter, Input, Stability};

/// Ingestor name.
pub const NAME: &str = "dockerfile";
/// Stability of the output.
pub const STABILITY: Stability = Stability::Beta;

/// Emits the relations the final image's `ENV` implies for the service it is built for.
pub fn ingest_dockerfile(input: &Input<'_>, out: &mut Emitter) {
    // A Dockerfile at the root names no service.
    if !input.path.contains(['/', '\\']) {
        return;
    }
    let owner = crate::proxy::owner(input.path);
    let me = NodeRef::name(None, owner.as_str(), None);
    for (key, value, line) in env_lines(input.text) {
        let locator = input.locator(line);
        let site = VarSite { ingestor: NAME, locator: &locator, holder: "image env" };
        emit_var_relations(&me, None, &key, &value, site, out);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn image_env_addresses_are_dependencies_of_the_directory_service() {
        let env = BTreeMap::new();
        let text = "FROM maven AS build\nENV BUILD_CACHE=http://cache:80\nFROM openjdk\nENV CART_ENDPOINT=cart:8080\nENV DB_HOST=mysql\nENV JAVA_OPTS=-Xmx1g\n";
        let input = Input { path: "robot-shop/shipping/Dockerfile", text, env: &env };
        let mut out = Emitter::new(NAME);
        ingest_dockerfile(&input, &mut out);
        let lines = crate::emitter::render::lines(&out.finish(), crate::emitter::render::record);
        assert!(lines.iter().any(|l| l.contains("shipping") && l.contains("cart")), "{lines:?}");
        assert!(lines.iter().any(|l| l.contains("mysql") && l.contains(":5")), "{lines:?}");
        assert!(!lines.iter().any(|l| l.contains("cache")), "{lines:?}");
    }
}
