//! Env files that compose services read with `env_file:` (`config/cart.env`, `.env`,
//! `.env.production`): each
//! `KEY=value` line implies the relations its value names, *held* by the file for the
//! services that name it to take over (see [`crate::util::config_ref`]), as if written
//! in their `environment`. Keys that name credentials are not read, and no value is
//! stored, only the key and the host it names.

use crate::util::config_ref::{Store, config_ref, is_credential_key};
use crate::util::deps::{VarSite, emit_var_relations};
use crate::util::dotenv;
use crate::{Emitter, Input, Stability};

/// Ingestor name.
pub const NAME: &str = "env_file";
/// Stability of the output.
pub const STABILITY: Stability = Stability::Beta;

/// Whether a file name is an env file's: `cart.env`, `.env.production`, or the `.env`
/// that compose also interpolates from. What a file holds counts only for the services
/// that name it in `env_file:`, so reading one that none names adds nothing.
pub fn is_env_file(name: &str) -> bool {
    name.ends_with(".env") || name.starts_with(".env.")
}

/// Emits the relations each `KEY=value` line implies, held by the file.
pub fn ingest_env_file(input: &Input<'_>, out: &mut Emitter) {
    let holder = format!("env file {}", input.file_name());
    for (i, line) in input.text.lines().enumerate() {
        for (key, value) in dotenv::parse(line) {
            if is_credential_key(&key) {
                continue;
            }
            let from = config_ref(Store::EnvFile, input.path, Some(&key), None);
            let locator = input.locator(i + 1);
            let site = VarSite { ingestor: NAME, locator: &locator, holder: &holder };
            emit_var_relations(&from, None, &key, &value, site, out);
        }
    }
}
