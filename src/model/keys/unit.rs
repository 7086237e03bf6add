//! The keys of a service instance's systemd unit (`hosts/<h>/systemd/<unit>.service`), by
//! directive, in file order, each with its section: the template lays the blocks out under its
//! comments (`keys.<block>`), the renderer writes `Directive=value`, state.json takes their
//! digests from here (`[Section] Directive`), and `linkis-gen explain` says why.

use super::{Block, FileKeys, Host, Instance, Model, Origin, Place, Syntax};
use crate::spec::Service;

/// The template's blocks, in file order.
pub const BLOCKS: [&str; 9] = [
    "unit",
    "run",
    "env",
    "exec",
    "restart",
    "stop",
    "sandbox_own",
    "sandbox",
    "install",
];

struct Unit {
    fk: FileKeys,
}

impl Unit {
    fn add(
        &mut self,
        block: &'static str,
        section: &'static str,
        key: &str,
        value: String,
        origin: Origin,
    ) {
        self.fk
            .push(
                Block::Template(block),
                key,
                value,
                origin,
                Syntax::Directive,
            )
            .place = Place::Directive { section };
    }

    /// A directive every Linkis unit has as it is.
    fn fixed(
        &mut self,
        block: &'static str,
        section: &'static str,
        key: &str,
        value: &str,
        why: &str,
    ) {
        self.add(
            block,
            section,
            key,
            value.to_string(),
            Origin::rule(why, vec![]),
        );
    }
}

/// Whether the instance's java runs in the foreground under systemd (the release's
/// `RUN_IN_FOREGROUND`). The ECM always forks with a pid file: with KillMode=process systemd
/// must signal the ECM's java itself, and in foreground mode the main process is a shell.
pub fn foreground(m: &Model, inst: &Instance) -> bool {
    m.features.foreground && inst.service != Service::Engineconnmanager
}

/// The unit of instance `i` of host `h`.
pub fn file_keys(m: &Model, h: &Host, i: usize) -> FileKeys {
    let inst = &h.instances[i];
    let mut u = Unit {
        fk: FileKeys {
            file: format!("{}.service", inst.unit),
            blocks: Vec::new(),
        },
    };
    let ecm = inst.service == Service::Engineconnmanager;
    unit_section(m, h, i, &mut u);
    run_keys(m, inst, &mut u);
    for pk in &m.platform.env_keys {
        let v = systemd_env(&pk.key, &pk.value);
        u.add("env", "Service", "Environment", v, pk.origin.clone());
    }
    exec_keys(m, inst, &mut u);
    const RESTART: &str = "a service that started before its dependency registered comes back";
    u.fixed("restart", "Service", "Restart", "on-failure", RESTART);
    u.fixed("restart", "Service", "RestartSec", "15", RESTART);
    const STOP: &str = "the JVM exits 143 on SIGTERM; Linkis' own stop waits 40 s";
    u.fixed("stop", "Service", "SuccessExitStatus", "143", STOP);
    u.fixed("stop", "Service", "TimeoutStartSec", "120", STOP);
    u.fixed("stop", "Service", "TimeoutStopSec", "60", STOP);
    u.fixed("stop", "Service", "LimitNOFILE", "65536", STOP);
    sandbox(m, ecm, &mut u);
    let boot = "started at boot";
    u.fixed("install", "Install", "WantedBy", "multi-user.target", boot);
    u.fk
}

/// How systemd runs the service: in the foreground or forked with a pid file, as whom, where.
fn run_keys(m: &Model, inst: &Instance, u: &mut Unit) {
    let install = &m.cluster.install_dir;
    let home = || Origin::spec("cluster.install_dir");
    let mode = Origin::rule(
        "the release's foreground mode (catalog switch), never for the ECM (KillMode=process)",
        vec![
            format!("foreground={}", m.features.foreground),
            format!("ecm={}", inst.service == Service::Engineconnmanager),
        ],
    );
    if foreground(m, inst) {
        u.add("run", "Service", "Type", "simple".into(), mode.clone());
        let v = "RUN_IN_FOREGROUND=true".to_string();
        u.add("run", "Service", "Environment", v, mode);
    } else {
        u.add("run", "Service", "Type", "forking".into(), mode);
        let pid = format!("{install}/pid/linkis_{}.pid", inst.daemon);
        u.add("run", "Service", "PIDFile", pid, home());
    }
    let user = Origin::spec("cluster.deploy_user");
    u.add(
        "run",
        "Service",
        "User",
        m.cluster.deploy_user.clone(),
        user,
    );
    let v = format!("LINKIS_HOME={install}");
    u.add("run", "Service", "Environment", v, home());
    let v = format!("-{install}/conf/linkis-systemd.env");
    u.add("run", "Service", "EnvironmentFile", v, home());
}

/// What systemd starts: Linkis' own daemon script; the ECM's engines outlive it.
fn exec_keys(m: &Model, inst: &Instance, u: &mut Unit) {
    let install = &m.cluster.install_dir;
    let home = || Origin::spec("cluster.install_dir");
    u.add(
        "exec",
        "Service",
        "WorkingDirectory",
        install.clone(),
        home(),
    );
    let start = format!(
        "/bin/bash {install}/sbin/linkis-daemon.sh start {}",
        inst.daemon
    );
    u.add("exec", "Service", "ExecStart", start, home());
    if inst.service == Service::Engineconnmanager {
        let why = "the ECM's engines outlive an ECM stop or restart";
        u.fixed("exec", "Service", "KillMode", "process", why);
    }
}

/// `[Unit]`: the description, and the order after the host's services of earlier stages.
fn unit_section(m: &Model, h: &Host, i: usize, u: &mut Unit) {
    let inst = &h.instances[i];
    u.add(
        "unit",
        "Unit",
        "Description",
        format!("Apache Linkis {} ({})", inst.daemon, m.cluster.name),
        Origin::rule(
            "the daemon and the cluster",
            vec![format!("cluster.name={}", m.cluster.name)],
        ),
    );
    u.fixed(
        "unit",
        "Unit",
        "Documentation",
        "https://linkis.apache.org/",
        "Linkis' site",
    );
    let before: Vec<&str> = h.instances[..i]
        .iter()
        .filter(|q| q.stage < inst.stage)
        .map(|q| q.unit.as_str())
        .collect();
    let mut after = "network-online.target".to_string();
    for b in &before {
        after.push_str(&format!(" {b}.service"));
    }
    let order = Origin::rule(
        "after the network and the host's services of earlier start stages (Linkis' start order)",
        before.iter().map(|b| format!("{b}.service")).collect(),
    );
    u.add("unit", "Unit", "After", after.clone(), order.clone());
    u.add("unit", "Unit", "Wants", after, order);
}

/// The sandbox (docs/security.md): the ECM's own part or a control service's, then what every
/// unit has.
fn sandbox(m: &Model, ecm: bool, u: &mut Unit) {
    let hd = &m.hardening;
    let rw = |paths: &[String]| {
        paths
            .iter()
            .map(|p| format!("-{p}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let writes = |paths: &[String]| {
        Origin::rule(
            "hardening: the paths the service writes (logs, pid, file:// storage roots, engines)",
            paths.to_vec(),
        )
    };
    const OWN: &str = "hardening (docs/security.md)";
    let (system, paths) = if ecm {
        ("full", &hd.ecm_rw)
    } else {
        ("strict", &hd.control_rw)
    };
    u.fixed("sandbox_own", "Service", "ProtectSystem", system, OWN);
    let (v, origin) = (rw(paths), writes(paths));
    u.add("sandbox_own", "Service", "ReadWritePaths", v, origin);
    if ecm {
        u.fixed(
            "sandbox_own",
            "Service",
            "CapabilityBoundingSet",
            "CAP_SETUID CAP_SETGID CAP_SETPCAP CAP_AUDIT_WRITE CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_KILL CAP_SYS_RESOURCE",
            "hardening: what sudo and the engines the ECM launches need",
        );
    } else {
        u.add(
            "sandbox_own",
            "Service",
            "ProtectHome",
            hd.protect_home.to_string(),
            Origin::rule(
                "hardening: read-only when a path the services use is under a home directory",
                vec![],
            ),
        );
        for (k, v) in [
            ("NoNewPrivileges", "yes"),
            ("CapabilityBoundingSet", ""),
            ("AmbientCapabilities", ""),
            ("RestrictSUIDSGID", "yes"),
            ("ProtectProc", "invisible"),
            ("SystemCallFilter", "@system-service"),
            ("SystemCallErrorNumber", "EPERM"),
            ("UMask", "0027"),
        ] {
            u.fixed("sandbox_own", "Service", k, v, OWN);
        }
    }
    u.add(
        "sandbox",
        "Service",
        "PrivateTmp",
        (if hd.private_tmp { "yes" } else { "no" }).to_string(),
        Origin::rule(
            "hardening: no private /tmp when a path the services use is under /tmp or /var/tmp",
            vec![],
        ),
    );
    for (k, v) in [
        ("PrivateDevices", "yes"),
        ("DevicePolicy", "closed"),
        ("ProtectKernelTunables", "yes"),
        ("ProtectKernelModules", "yes"),
        ("ProtectKernelLogs", "yes"),
        ("ProtectControlGroups", "yes"),
        ("ProtectClock", "yes"),
        ("ProtectHostname", "yes"),
        (
            "RestrictAddressFamilies",
            "AF_UNIX AF_INET AF_INET6 AF_NETLINK",
        ),
        ("RestrictNamespaces", "yes"),
        ("RestrictRealtime", "yes"),
        ("LockPersonality", "yes"),
        ("SystemCallArchitectures", "native"),
        ("KeyringMode", "private"),
    ] {
        u.fixed("sandbox", "Service", k, v, OWN);
    }
}

/// A systemd `Environment=` assignment's value, quoted: `\\`, `"` and the specifier `%` escaped.
fn systemd_env(k: &str, v: &str) -> String {
    let v = v
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('%', "%%");
    format!("\"{k}={v}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn systemd_environment_is_quoted_and_escaped() {
        assert_eq!(
            systemd_env("HADOOP_HOME", "/appcom/Install/hadoop"),
            "\"HADOOP_HOME=/appcom/Install/hadoop\""
        );
        assert_eq!(systemd_env("X", "a \"b\" 100%"), "\"X=a \\\"b\\\" 100%%\"");
    }
}
