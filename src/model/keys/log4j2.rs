//! The keys of a host's `log4j2.xml` (rendered with `logs:`): each value linkis-gen sets in it,
//! named by where it is — `property[NAME]` for a `<property name="NAME">` text,
//! `Element@attribute` for an attribute, `logger[NAME]@level` for a logger's level — in file
//! order. The template writes the XML and reads each value by name (`value.<key>`), escaped for
//! XML by the renderer; state.json and `linkis-gen explain` read them here.

use super::{Block, FileKeys, Model, Origin, Syntax};
use crate::spec::MIB;

/// The keys of log4j2.xml (the same on every host).
pub fn file_keys(m: &Model) -> FileKeys {
    let l = &m.logs;
    let mut fk = FileKeys {
        file: "log4j2.xml".to_string(),
        blocks: Vec::new(),
    };
    let release = || Origin::Release {
        release: m.cluster.version.to_string(),
        file: "log4j2.xml".to_string(),
    };
    let max_size = format!("logs.max_size={}MB", l.max_size / MIB);
    let mut add = |key: &str, value: String, origin: Origin| {
        fk.push(Block::Template("xml"), key, value, origin, Syntax::Xml);
    };
    add("configuration@status", "error".to_string(), release());
    add("configuration@monitorInterval", "30".to_string(), release());
    add(
        "property[LOG_PATH]",
        format!("${{env:LINKIS_LOG_DIR:-{}}}", l.dir),
        Origin::rule(
            "the start scripts' log directory: LINKIS_LOG_DIR, else <install_dir>/logs",
            vec![format!("cluster.install_dir={}", m.cluster.install_dir)],
        ),
    );
    let stock = [
        ("property[LOG_FILE]", "${sys:serviceName:-linkis}"),
        ("RollingFile[RollingFile]@append", "true"),
        (
            "RollingFile[RollingFile]@fileName",
            "${LOG_PATH}/${LOG_FILE}.log",
        ),
        (
            "RollingFile[RollingFile]@filePattern",
            "${LOG_PATH}/$${date:yyyy-MM}/${LOG_FILE}/linkis-log-%d{yyyy-MM-dd-HH}-%i.log",
        ),
    ];
    for (k, v) in stock {
        add(k, v.to_string(), release());
    }
    add("PatternLayout@pattern", l.pattern.to_string(), release());
    add(
        "SizeBasedTriggeringPolicy@size",
        format!("{}MB", l.roll_mib),
        Origin::rule(
            "logs: the active file rolls at the release's 100MB, or a quarter of the log's 6/10 of logs.max_size when less",
            vec![max_size.clone()],
        ),
    );
    add(
        "DefaultRolloverStrategy@max",
        l.max_per_period.to_string(),
        release(),
    );
    // The Delete action (linkis-gen's: the release keeps rolled files forever).
    let delete = || {
        Origin::rule(
            "logs: a Delete action ages and bounds the rolled files of each service",
            vec![],
        )
    };
    add("Delete@basePath", "${LOG_PATH}".to_string(), delete());
    add("Delete@maxDepth", "3".to_string(), delete());
    add(
        "IfFileName@glob",
        "*/${LOG_FILE}/linkis-log-*.log".to_string(),
        delete(),
    );
    add(
        "IfLastModified@age",
        format!("{}d", l.keep_days),
        Origin::spec("logs.keep_days"),
    );
    add(
        "IfAccumulatedFileSize@exceeds",
        format!("{}MB", l.rolled_mib),
        Origin::rule(
            "logs: the rolled files of a service stay under 6/10 of logs.max_size, less the active file",
            vec![max_size],
        ),
    );
    add("root@level", "INFO".to_string(), release());
    add("appender-ref@ref", "RollingFile".to_string(), release());
    add(
        "logger[com.netflix.loadbalancer.DynamicServerListLoadBalancer]@level",
        "warn".to_string(),
        release(),
    );
    fk
}
