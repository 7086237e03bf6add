//! How each systemd unit is sandboxed (docs/security.md): the paths a service writes, which are
//! its only writable paths under `ProtectSystem=strict`, and the choices that depend on the spec
//! (`/tmp` shared when a storage root lives there, home directories when a path lives there).
//!
//! Data only: `hosts/_host_/systemd/linkis-_daemon_.service.j2` writes these values.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Hardening {
    /// What every control service writes: its logs and pid dir, and the `file://` storage roots
    /// (publicservice and the entrance read and write result sets and the workspace).
    pub control_rw: Vec<String>,
    /// The ECM's: the same plus the engines' working directory (the engines it launches are its
    /// children and share its sandbox).
    pub ecm_rw: Vec<String>,
    /// `PrivateTmp=`: false when a `file://` storage root is under `/tmp` (a private /tmp would
    /// split it between services), or any path the services use is under `/tmp` or `/var/tmp`
    /// (a private one would hide it); `/tmp` is then one of the writable paths.
    pub private_tmp: bool,
    /// `ProtectHome=`: `yes`, or `read-only` when a path the services use is under /home, /root
    /// or /run/user (made writable again by ReadWritePaths where it is written).
    pub protect_home: &'static str,
}

const HOMES: [&str; 3] = ["/home", "/root", "/run/user"];

fn under(path: &str, dir: &str) -> bool {
    path == dir || path.starts_with(&format!("{dir}/"))
}

/// `install_dir`: LINKIS_HOME; `storage_roots`: the local (file://) storage directories;
/// `engine_root`: the ECM's engines' working directory; `used`: every other absolute path the
/// services read (the platform's homes and conf dirs, JAVA_HOME).
pub fn hardening(
    install_dir: &str,
    storage_dirs: &[String],
    engine_root: &str,
    used: &[String],
) -> Hardening {
    let install = install_dir.trim_end_matches('/');
    // The storage roots: the directories none of whose ancestors is listed too.
    let mut roots: Vec<String> = Vec::new();
    for d in storage_dirs {
        let d = d.trim_end_matches('/').to_string();
        if !storage_dirs
            .iter()
            .any(|o| o.trim_end_matches('/') != d && under(&d, o.trim_end_matches('/')))
            && !roots.contains(&d)
        {
            roots.push(d);
        }
    }
    let tmp_storage = roots.iter().any(|r| under(r, "/tmp"));
    // A private /tmp and /var/tmp hide whatever the services use there (systemd mounts them
    // before it looks up the other paths): the install dir itself, the engine root, JAVA_HOME...
    // /tmp is then the host's, and writable (the JVM's java.io.tmpdir: Jetty's temp dirs).
    let engine = engine_root.trim_end_matches('/').to_string();
    let tmp_shared = tmp_storage
        || std::iter::once(install)
            .chain(std::iter::once(engine.as_str()))
            .chain(used.iter().map(String::as_str))
            .any(|p| under(p, "/tmp") || under(p, "/var/tmp"));
    let mut control = vec![format!("{install}/logs"), format!("{install}/pid")];
    if tmp_shared {
        control.push("/tmp".to_string());
    }
    control.extend(roots.iter().filter(|r| !under(r, "/tmp")).cloned());
    let mut ecm = control.clone();
    if !engine.is_empty() && !ecm.iter().any(|p| under(&engine, p)) {
        ecm.push(engine.clone());
    }
    let in_home = std::iter::once(install.to_string())
        .chain(roots.iter().cloned())
        .chain(std::iter::once(engine))
        .chain(used.iter().cloned())
        .any(|p| HOMES.iter().any(|h| under(&p, h)));
    Hardening {
        control_rw: control,
        ecm_rw: ecm,
        private_tmp: !tmp_shared,
        protect_home: if in_home { "read-only" } else { "yes" },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn the_writable_paths_are_logs_pid_storage_roots_and_the_engine_root_on_the_ecm() {
        let h = hardening(
            "/opt/linkis",
            &s(&["/data/results", "/data/results/hadoop", "/data/ws/hadoop"]),
            "/appcom/tmp",
            &s(&["/opt/hadoop"]),
        );
        assert_eq!(
            h.control_rw,
            s(&[
                "/opt/linkis/logs",
                "/opt/linkis/pid",
                "/data/results",
                "/data/ws/hadoop"
            ])
        );
        assert_eq!(h.ecm_rw.last().map(String::as_str), Some("/appcom/tmp"));
        assert!(h.private_tmp);
        assert_eq!(h.protect_home, "yes");
    }

    #[test]
    fn a_storage_root_under_tmp_shares_tmp_and_a_home_path_makes_homes_read_only() {
        let h = hardening(
            "/home/hadoop/linkis",
            &s(&["/tmp/linkis/hadoop"]),
            "/tmp/engines",
            &[],
        );
        assert!(!h.private_tmp);
        assert!(h.control_rw.contains(&"/tmp".to_string()));
        assert!(!h.control_rw.contains(&"/tmp/linkis/hadoop".to_string()));
        // The engine root is under /tmp, already writable.
        assert_eq!(h.ecm_rw, h.control_rw);
        assert_eq!(h.protect_home, "read-only");
    }

    #[test]
    fn an_install_dir_under_tmp_keeps_the_hosts_tmp() {
        // systemd mounts the private /tmp first: /tmp/linkis/sbin would not be there.
        let h = hardening("/tmp/linkis", &[], "/appcom/tmp", &[]);
        assert!(!h.private_tmp);
        assert!(h.control_rw.contains(&"/tmp".to_string()));
        let h = hardening("/opt/linkis", &[], "/appcom/tmp", &s(&["/var/tmp/jdk"]));
        assert!(!h.private_tmp);
        let h = hardening("/opt/linkis", &[], "/appcom/tmp", &s(&["/opt/jdk"]));
        assert!(h.private_tmp);
        assert!(!h.control_rw.contains(&"/tmp".to_string()));
    }
}
