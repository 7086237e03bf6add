//! The keys of a host's `linkis-env.sh`, by variable name, in file order. A variable set in a
//! `case` arm is named `NAME[PATTERN]` (`SERVER_HEAP_SIZE[*linkismanager]`): the arm it is set in.

use super::{Block, FileKeys, Host, Model, Origin, Place, ShQuote, Syntax};
use crate::spec::{Service, Size};

fn add(
    fk: &mut FileKeys,
    section: &'static str,
    key: &str,
    value: String,
    origin: Origin,
    s: Syntax,
) {
    fk.push(Block::Template(section), key, value, origin, s);
}

/// A variable set in a case arm: `PATTERN) [export ]NAME=value ;;`.
fn arm(
    fk: &mut FileKeys,
    section: &'static str,
    name: &str,
    pattern: &str,
    value: String,
    origin: Origin,
    s: Syntax,
) {
    add(fk, section, &format!("{name}[{pattern}]"), value, origin, s);
    if let Some((_, keys)) = fk.blocks.last_mut()
        && let Some(k) = keys.last_mut()
    {
        k.place = Place::Arm {
            name: name.to_string(),
            pattern: pattern.to_string(),
        };
    }
}

/// Marks the key added last as read by one service only (`Key::service`).
fn only(fk: &mut FileKeys, service: Service) {
    if let Some((_, keys)) = fk.blocks.last_mut()
        && let Some(k) = keys.last_mut()
    {
        k.service = Some(service);
    }
}

const fn sh(export: bool, quote: ShQuote) -> Syntax {
    Syntax::Shell { export, quote }
}

pub(super) fn file_keys(m: &Model, host: &Host) -> FileKeys {
    let mut fk = FileKeys {
        file: "linkis-env.sh".to_string(),
        blocks: Vec::new(),
    };
    let f = m.features;
    let release = Origin::Release {
        release: m.cluster.version.to_string(),
        file: "linkis-env.sh".to_string(),
    };
    add(
        &mut fk,
        "release",
        "LINKIS_VERSION",
        m.cluster.version.to_string(),
        Origin::spec("cluster.linkis_version"),
        sh(false, ShQuote::Raw),
    );
    add(
        &mut fk,
        "release",
        "LINKIS_PUBLIC_MODULE",
        m.release.line.conf.public_module.to_string(),
        release.clone(),
        sh(false, ShQuote::Raw),
    );
    for pk in &m.platform.env_keys {
        add(
            &mut fk,
            "env",
            &pk.key,
            pk.value.clone(),
            pk.origin.clone(),
            sh(true, ShQuote::Word),
        );
    }
    let heap_origin = |i: &super::super::Instance| {
        let mut inputs = vec![format!("{}.heap={}", i.name, Size(i.heap))];
        if i.service == crate::spec::Service::Publicservice {
            inputs.push(format!("publicservice: {}", m.sizing.publicservice_rule));
        } else {
            inputs.push(format!("services={}", Size(m.sizing.heaps.service)));
        }
        Origin::rule(
            "sizing: the service's JVM heap (services.<name>.heap, else the sizing stage's)",
            inputs,
        )
    };
    if f.per_service_heap {
        for i in &host.instances {
            add(
                &mut fk,
                "heaps",
                i.heap_var.unwrap_or("none"),
                Size(i.heap).to_string(),
                heap_origin(i),
                sh(true, ShQuote::Raw),
            );
            only(&mut fk, i.service);
        }
    } else {
        let default = Size(m.sizing.heaps.service).to_string();
        for i in &host.instances {
            let heap = Size(i.heap).to_string();
            if heap != default {
                arm(
                    &mut fk,
                    "heaps",
                    "SERVER_HEAP_SIZE",
                    &format!("*{}", i.daemon),
                    heap,
                    heap_origin(i),
                    sh(true, ShQuote::Raw),
                );
                only(&mut fk, i.service);
            }
        }
        arm(
            &mut fk,
            "heaps",
            "SERVER_HEAP_SIZE",
            "*",
            default.clone(),
            Origin::rule(
                "sizing: the services' JVM heap (this release reads one SERVER_HEAP_SIZE)",
                vec![format!("services={default}")],
            ),
            sh(true, ShQuote::Raw),
        );
    }
    if !f.prefer_ip_yml {
        add(
            &mut fk,
            "prefer_ip",
            "EUREKA_PREFER_IP",
            m.cluster.prefer_ip.to_string(),
            Origin::spec("cluster.prefer_ip"),
            sh(true, ShQuote::Raw),
        );
    }
    if !host.java_opts.is_empty() {
        add(
            &mut fk,
            "log_dir",
            "linkis_log_dir",
            "${LINKIS_LOG_DIR:-$LINKIS_HOME/logs}".to_string(),
            Origin::rule(
                "the start script's log directory (LINKIS_LOG_DIR, else LINKIS_HOME/logs)",
                vec![],
            ),
            sh(false, ShQuote::Raw),
        );
        let l = &m.logs;
        if l.bounded {
            let gc = || {
                Origin::rule(
                    "logs: the GC log rotated, a fifth of logs.max_size in gc_files files",
                    vec![format!(
                        "{} files of {}MB = logs.max_size {}MB × 2/10 ÷ {}",
                        l.gc_files,
                        l.gc_file_mib,
                        l.max_size / (1024 * 1024),
                        l.gc_files
                    )],
                )
            };
            let (n, mib) = (l.gc_files, l.gc_file_mib);
            arm(
                &mut fk,
                "gc_opts",
                "LINKIS_GC_OPTS",
                "*' version \"1.'*",
                format!(
                    "-Xloggc:${{linkis_log_dir}}/${{SERVER_NAME}}-gc.log -XX:+UseGCLogFileRotation -XX:NumberOfGCLogFiles={n} -XX:GCLogFileSize={mib}M"
                ),
                gc(),
                sh(false, ShQuote::Double),
            );
            arm(
                &mut fk,
                "gc_opts",
                "LINKIS_GC_OPTS",
                "*",
                format!(
                    "-Xlog:gc:file=${{linkis_log_dir}}/${{SERVER_NAME}}-gc.log:time,uptime:filecount={n},filesize={mib}M"
                ),
                gc(),
                sh(false, ShQuote::Double),
            );
        }
        for j in &host.java_opts {
            arm(
                &mut fk,
                "java_opts",
                "SERVER_JAVA_OPTS",
                &format!("*{}", j.server_name),
                j.value.clone(),
                Origin::rule(
                    "the release's JVM options, the GC log of logs:, then the service's java_opts",
                    vec![format!("logs={}", if l.bounded { "set" } else { "absent" })],
                ),
                sh(true, ShQuote::Double),
            );
            only(&mut fk, j.service);
        }
    }
    fk
}
