//! The metadata database, with its JDBC URL and driver settings from the catalog.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::catalog::db_facts;
use crate::spec;

/// The metadata database as every file names it.
#[derive(Debug, Clone, Serialize)]
pub struct Database {
    /// `mysql` or `postgresql`.
    pub kind: &'static str,
    pub host: String,
    pub port: u16,
    pub name: String,
    pub user: String,
    /// `wds.linkis.server.mybatis.datasource.url`.
    pub url: String,
    /// Keys this database type needs besides URL, user and password (PostgreSQL's driver and
    /// mappers), from the catalog.
    pub driver_keys: BTreeMap<&'static str, &'static str>,
    /// The vault variable that holds the password.
    pub password_var: String,
}

pub fn resolve(d: &spec::Database) -> Database {
    let facts = db_facts(d.kind);
    Database {
        kind: facts.kind,
        host: d.host.clone(),
        port: d.port(),
        name: d.name.clone(),
        user: d.user.clone(),
        url: format!(
            "jdbc:{}://{}/{}?{}",
            facts.kind,
            crate::spec::host_port(&d.host, d.port()),
            d.name,
            facts.url_params
        ),
        driver_keys: facts.driver_keys.iter().copied().collect(),
        password_var: d.password.vault.clone(),
    }
}
