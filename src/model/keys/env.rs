//! The keys of a host's `linkis-env.sh`, by variable name, in file order. A variable set in a
//! `case` arm is named `NAME[PATTERN]` (`SERVER_HEAP_SIZE[*linkismanager]`): the arm it is set in.

use super::{Block, FileKeys, Host, Key, Model, Origin, Place, ShQuote, Syntax};
use crate::spec::Size;

fn add<'a>(
    fk: &'a mut FileKeys,
    section: &'static str,
    key: &str,
    value: String,
    origin: Origin,
    s: Syntax,
) -> &'a mut Key {
    fk.push(Block::Template(section), key, value, origin, s)
}

/// A variable set in a case arm: `PATTERN) [export ]NAME=value ;;`.
fn arm<'a>(
    fk: &'a mut FileKeys,
    section: &'static str,
    name: &str,
    pattern: &str,
    value: String,
    origin: Origin,
    s: Syntax,
) -> &'a mut Key {
    let k = add(fk, section, &format!("{name}[{pattern}]"), value, origin, s);
    k.place = Place::Arm {
        name: name.to_string(),
        pattern: pattern.to_string(),
    };
    k
}

const fn sh(export: bool, quote: ShQuote) -> Syntax {
    Syntax::Shell { export, quote }
}

/// linkis-env.sh's keys: the release, the platform's env, the heaps, prefer-ip, the JVM options.
pub(super) fn file_keys(m: &Model, host: &Host) -> FileKeys {
    let mut fk = FileKeys {
        file: "linkis-env.sh".to_string(),
        blocks: Vec::new(),
    };
    release_keys(m, &mut fk);
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
    heap_keys(m, host, &mut fk);
    if !m.features.prefer_ip_yml {
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
        java_opts_keys(m, host, &mut fk);
    }
    fk
}

/// The release section: LINKIS_VERSION and the release's public module.
fn release_keys(m: &Model, fk: &mut FileKeys) {
    let release = Origin::Release {
        release: m.cluster.version.to_string(),
        file: "linkis-env.sh".to_string(),
    };
    add(
        fk,
        "release",
        "LINKIS_VERSION",
        m.cluster.version.to_string(),
        Origin::spec("cluster.linkis_version"),
        sh(false, ShQuote::Raw),
    );
    add(
        fk,
        "release",
        "LINKIS_PUBLIC_MODULE",
        m.release.line.conf.public_module.to_string(),
        release,
        sh(false, ShQuote::Raw),
    );
}

/// The origin of a service's JVM heap: its size and the sizing rule that decides it.
fn heap_origin(m: &Model, i: &super::super::Instance) -> Origin {
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
}

/// The heaps section: a variable per service, or SERVER_HEAP_SIZE's case arms where it is one.
fn heap_keys(m: &Model, host: &Host, fk: &mut FileKeys) {
    if m.features.per_service_heap {
        for i in &host.instances {
            add(
                fk,
                "heaps",
                i.heap_var.unwrap_or("none"),
                Size(i.heap).to_string(),
                heap_origin(m, i),
                sh(true, ShQuote::Raw),
            )
            .service = Some(i.service);
        }
    } else {
        let default = Size(m.sizing.heaps.service).to_string();
        for i in &host.instances {
            let heap = Size(i.heap).to_string();
            if heap != default {
                arm(
                    fk,
                    "heaps",
                    "SERVER_HEAP_SIZE",
                    &format!("*{}", i.daemon),
                    heap,
                    heap_origin(m, i),
                    sh(true, ShQuote::Raw),
                )
                .service = Some(i.service);
            }
        }
        arm(
            fk,
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
}

/// The JVM options of a host with some: the log directory, the GC log, each service's options.
fn java_opts_keys(m: &Model, host: &Host, fk: &mut FileKeys) {
    add(
        fk,
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
        gc_opts_keys(m, fk);
    }
    for j in &host.java_opts {
        arm(
            fk,
            "java_opts",
            "SERVER_JAVA_OPTS",
            &format!("*{}", j.server_name),
            j.value.clone(),
            Origin::rule(
                "the release's JVM options, the GC log of logs:, then the service's java_opts",
                vec![format!("logs={}", if l.bounded { "set" } else { "absent" })],
            ),
            sh(true, ShQuote::Double),
        )
        .service = Some(j.service);
    }
}

/// The gc_opts section of bounded logs: the GC log rotated, for Java 8 and for later Javas.
fn gc_opts_keys(m: &Model, fk: &mut FileKeys) {
    let l = &m.logs;
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
        fk,
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
        fk,
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
