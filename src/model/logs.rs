//! `logs:` and `services:` resolved: the retention of every service's logs (log4j2 rollover with a
//! Delete action, the GC log's rotation, the stdout files' logrotate, the engines' working
//! directories aged by systemd-tmpfiles) and each service's JVM options (`SERVER_JAVA_OPTS`).
//!
//! One service's logs share `logs.max_size`: 6/10 for its log4j2 log (the active file and the
//! rolled ones), 2/10 for the GC log files, 2/10 for its stdout file and its rotated copy.

use serde::Serialize;

use crate::catalog::{LINKIS_JAVA_OPTS, Release};
use crate::model::Host;
use crate::spec::{MIB, Spec};

/// The logs side of the model.
#[derive(Debug, Clone, Serialize)]
pub struct Logs {
    /// The spec has a `logs:` section: the files below are rendered and installed.
    pub bounded: bool,
    pub keep_days: u32,
    /// `logs.max_size`, bytes.
    pub max_size: u64,
    /// `$LINKIS_LOG_DIR` as the start scripts default it: `<install_dir>/logs`.
    pub dir: String,
    /// log4j2: the release's layout pattern.
    pub pattern: &'static str,
    /// log4j2: the active file rolls at this size, MiB (the release's 100, or less when
    /// `max_size` is small).
    pub roll_mib: u64,
    /// log4j2: rolled files kept per period (the release's `max`).
    pub max_per_period: u32,
    /// log4j2: the rolled files of one service together stay under this, MiB
    /// (`IfAccumulatedFileSize`).
    pub rolled_mib: u64,
    /// GC log files kept per service and the size of each, MiB.
    pub gc_files: u32,
    pub gc_file_mib: u64,
    /// stdout (`.out`) files: rotated at this size, MiB, one old copy kept.
    pub out_mib: u64,
    /// The engines' working directory, aged out by systemd-tmpfiles on ECM hosts.
    pub engine_root: String,
    /// The files under /etc this cluster installs: logrotate's and systemd-tmpfiles'.
    pub logrotate_file: String,
    pub tmpfiles_file: String,
}

/// What `SERVER_JAVA_OPTS` a service gets on a host; None keeps Linkis' own default.
#[derive(Debug, Clone, Serialize)]
pub struct JavaOpts {
    /// The service it is for.
    #[serde(skip)]
    pub service: crate::spec::Service,
    /// `linkis-<daemon>`, as the start scripts name the service (`SERVER_NAME`).
    pub server_name: String,
    /// The whole value, the GC options as `$LINKIS_GC_OPTS` (chosen by linkis-env.sh for the JVM
    /// that runs).
    pub value: String,
}

pub const GC_FILES: u32 = 5;

pub fn resolve(spec: &Spec, release: &Release, install_dir: &str, engine_root: &str) -> Logs {
    let facts = release.log_facts();
    let (bounded, keep_days, max_size) = match &spec.logs {
        Some(l) => (true, l.keep_days, l.max_size.bytes()),
        None => (false, 0, 0),
    };
    let total_mib = (max_size / MIB).max(1);
    let app_mib = total_mib * 6 / 10;
    let roll_mib = facts.roll_size_mib.min(app_mib / 4).max(1);
    let gc_total = total_mib * 2 / 10;
    let dir = if install_dir == "/" {
        "/logs".to_string()
    } else {
        format!("{install_dir}/logs")
    };
    let tag = format!("linkis-{}", spec.cluster.name);
    Logs {
        bounded,
        keep_days,
        max_size,
        dir,
        pattern: facts.pattern,
        roll_mib,
        max_per_period: facts.max_per_period,
        rolled_mib: app_mib.saturating_sub(roll_mib).max(1),
        gc_files: GC_FILES,
        gc_file_mib: (gc_total / u64::from(GC_FILES)).max(1),
        out_mib: (total_mib * 2 / 10 / 2).max(1),
        engine_root: engine_root.to_string(),
        logrotate_file: format!("/etc/logrotate.d/{tag}"),
        tmpfiles_file: format!("/etc/tmpfiles.d/{tag}.conf"),
    }
}

/// The JVM options of each instance of a host, when linkis-gen must set `SERVER_JAVA_OPTS`: with
/// `logs:` (the GC log's rotation is in it) or the service's `java_opts`. Linkis' own default
/// options come first, in the release's order, then the spec's.
pub fn java_opts(spec: &Spec, host: &Host) -> Vec<JavaOpts> {
    host.instances
        .iter()
        .filter_map(|i| {
            let extra = spec
                .services
                .get(&i.service)
                .and_then(|s| s.java_opts.as_deref())
                .map(str::trim)
                .filter(|s| !s.is_empty());
            if spec.logs.is_none() && extra.is_none() {
                return None;
            }
            let gc = if spec.logs.is_some() {
                "$LINKIS_GC_OPTS"
            } else {
                "-Xloggc:${linkis_log_dir}/${SERVER_NAME}-gc.log"
            };
            let heap = crate::spec::Size(i.heap).to_string();
            let mut parts: Vec<String> = LINKIS_JAVA_OPTS
                .iter()
                .map(|o| o.replace("{heap}", &heap).replace("{gc}", gc))
                .collect();
            parts.extend(extra.map(String::from));
            Some(JavaOpts {
                service: i.service,
                server_name: format!("linkis-{}", i.daemon),
                value: parts.join(" "),
            })
        })
        .collect()
}
