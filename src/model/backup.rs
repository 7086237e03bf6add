//! Scheduled dumps of Linkis' database: where they run, where they are kept, when, how many.

use serde::Serialize;

use crate::size::Plan;
use crate::spec::{self, DbType};

/// The dump of Linkis' database: backup.yml on demand, and a systemd timer on the backup host
/// when the spec has a `backup:` section.
#[derive(Debug, Clone, Serialize)]
pub struct Backup {
    /// The spec has a `backup:` section: site.yml installs and enables the timer.
    pub scheduled: bool,
    /// The host that dumps and keeps the dumps (the first control host unless the spec names one).
    pub host: String,
    pub dir: String,
    /// systemd OnCalendar.
    pub schedule: String,
    pub keep: u64,
    /// `mysql` or `postgresql`: mysqldump or pg_dump.
    pub kind: &'static str,
    /// The client the dump runs (`mysqldump`, `pg_dump`).
    pub client: &'static str,
    /// The dumps' file name suffix: `.sql.gz` (mysqldump, gzip) or `.dump` (pg_dump's custom format).
    pub ext: &'static str,
}

pub fn resolve(plan: &Plan) -> Backup {
    let spec = &plan.spec;
    let section = spec.backup.clone();
    let b = section.clone().unwrap_or_default();
    let host = b.host.clone().unwrap_or_else(|| {
        plan.hosts
            .iter()
            .find(|h| {
                h.services
                    .iter()
                    .any(|p| p.service.role() == spec::Role::Control)
            })
            .or(plan.hosts.first())
            .map(|h| h.name.clone())
            .unwrap_or_default()
    });
    let dir = match b.dir.trim_end_matches('/') {
        "" => b.dir.clone(),
        d => d.to_string(),
    };
    let (kind, client, ext) = match spec.database.kind {
        DbType::Mysql => ("mysql", "mysqldump", ".sql.gz"),
        DbType::Postgresql => ("postgresql", "pg_dump", ".dump"),
    };
    Backup {
        scheduled: section.is_some(),
        host,
        dir,
        schedule: b.schedule.trim().to_string(),
        keep: b.keep,
        kind,
        client,
        ext,
    }
}
