//! Secrets, as vault variable names: the auth tokens and every `{{ name }}` the tree references.
//!
//! The list is computed from the model and the catalog, never by reading rendered files: the
//! inventory and the preflight check it, and the conf tree writes the same references.

use std::collections::BTreeSet;

use serde::Serialize;

use super::Model;
use crate::catalog::{Release, token_vault_var};

/// One auth token setting of the release.
#[derive(Debug, Clone, Serialize)]
pub struct Token {
    /// The property key.
    pub key: &'static str,
    /// The token's name (`LINKIS-AUTH`).
    pub token: &'static str,
    /// The vault variable that holds it.
    pub var: &'static str,
}

pub fn tokens(release: &Release) -> Vec<Token> {
    release
        .line
        .conf
        .tokens
        .iter()
        .map(|t| Token {
            key: t.key,
            token: t.token,
            var: token_vault_var(t.token),
        })
        .collect()
}

/// `{{ name }}`: how a generated file refers to an Ansible variable.
pub fn reference(name: &str) -> String {
    format!("{{{{ {name} }}}}")
}

/// Every variable the rendered tree references: the database password, the tokens, with Redis
/// sessions the Redis password and the crypt key. (`overrides:` are data: a `{{` there is written
/// escaped, render/escape.rs, and never becomes a reference.)
pub fn referenced(m: &Model) -> Vec<String> {
    let mut out = BTreeSet::new();
    out.insert(m.database.password_var.clone());
    out.extend(m.tokens.iter().map(|t| t.var.to_string()));
    if let Some(r) = &m.sessions.redis {
        out.insert(m.crypt_key_var.to_string());
        out.extend(r.password_var.clone());
    }
    // The database bootstrap sets the YARN row's password from its vault variable.
    if m.setup.dbboot.enabled {
        out.extend(m.setup.dbboot.yarn_password_var.clone());
    }
    // The nginx front's TLS key, installed from its vault variable.
    if let Some(t) = &m.web.tls {
        out.extend(t.key_var.clone());
    }
    // The platform's secrets in conf files: the admin password, the metastore's, linkis-cli's
    // token. (YARN's password, `platform.yarn.auth_password_var`, is for the database seed.)
    for pk in m.platform.keys.values().flatten() {
        out.extend(names_in(&pk.value));
    }
    out.into_iter().collect()
}

/// The `{{ name }}` references in a text.
fn names_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{ ") {
        rest = &rest[i + 3..];
        let Some(end) = rest.find(" }}") else { break };
        let name = &rest[..end];
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push(name.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_from_references_only() {
        assert_eq!(
            names_in("a={{ vault_x }} b={{ not a name }} {{ y }}"),
            ["vault_x", "y"]
        );
        assert!(names_in("{{ unclosed").is_empty());
    }
}
