//! `linkis-gen explain SPEC TARGET`: why a rendered key has its value.
//!
//! Reads the model's key table (src/model/keys.rs) and nothing else: the value of a key of
//! `hosts/<h>/conf/<file>` or of a unit's directive (`hosts/<h>/systemd/<unit>.service`), its origin and the origins it replaced, each spec field or override
//! located in the spec's text the way diagnostics are (src/diag.rs). docs/explain.md describes
//! the text and the JSON output.

use std::fmt::Write as _;

use serde::Serialize;

use crate::diag::{self, Anchor, SpecText};
use crate::load::Source;
use crate::model::Model;
use crate::model::keys::{self, FileKeys, Key, Origin};

/// What `explain` was asked: a host's conf file or systemd unit, and maybe one key of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    /// `conf` or `systemd`: the directory of the host's tree the file is in.
    pub dir: &'static str,
    pub file: String,
    pub key: Option<String>,
}

/// The directories of a host's tree whose files have a key table.
const DIRS: [&str; 2] = ["conf", "systemd"];

/// An explain request that names nothing the tree has; `hint` lists the closest names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotFound {
    pub message: String,
    pub hint: Option<String>,
}

impl std::fmt::Display for NotFound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  = hint: {h}")?;
        }
        Ok(())
    }
}

fn not_found(message: String, hint: Option<String>) -> NotFound {
    NotFound { message, hint }
}

/// `hosts/<h>/conf/<file>[:<key>]` or `hosts/<h>/systemd/<unit>.service[:<directive>]`.
pub fn parse_target(t: &str) -> Result<Target, NotFound> {
    let usage = || {
        not_found(
            format!("`{t}` is not a target"),
            Some("write hosts/<host>/conf/<file> or hosts/<host>/conf/<file>:<key>, e.g. hosts/s1/conf/linkis.properties:wds.linkis.gateway.url, or hosts/<host>/systemd/<unit>.service[:<directive>]".into()),
        )
    };
    let rest = t.strip_prefix("hosts/").ok_or_else(usage)?;
    let (dir, (host, rest)) = DIRS
        .iter()
        .find_map(|d| rest.split_once(&format!("/{d}/")).map(|hr| (*d, hr)))
        .ok_or_else(usage)?;
    let (file, key) = match rest.split_once(':') {
        Some((f, k)) => (f, Some(k.to_string())),
        None => (rest, None),
    };
    if host.is_empty() || host.contains('/') || file.is_empty() || key.as_deref() == Some("") {
        return Err(usage());
    }
    Ok(Target {
        host: host.to_string(),
        dir,
        file: file.to_string(),
        key,
    })
}

/// Where an origin's spec path is in the spec's text.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The path is written in the spec; false: the field is left at its default, and the
    /// position is that of its nearest ancestor written there.
    pub written: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Located {
    #[serde(flatten)]
    pub origin: Origin,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Location>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct KeyReport {
    pub key: String,
    pub value: String,
    pub origin: Located,
    /// The earlier layers' values this one replaced, latest first.
    pub replaced: Vec<ReplacedReport>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReplacedReport {
    pub value: String,
    pub origin: Located,
}

/// The answer: JSON as documented in docs/explain.md.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Report {
    /// Format version of this JSON.
    pub explain: u32,
    pub host: String,
    /// `conf` or `systemd`.
    pub dir: &'static str,
    pub file: String,
    /// The file's keys in file order, or the one key asked for.
    pub keys: Vec<KeyReport>,
}

/// The key table of a target's file, with a hint when it names nothing rendered.
pub fn file_table(model: &Model, t: &Target) -> Result<FileKeys, NotFound> {
    let Some(host) = model.hosts.iter().find(|h| h.name == t.host) else {
        let near = diag::closest(&t.host, model.hosts.iter().map(|h| h.name.as_str()), 3);
        return Err(not_found(
            format!("no host `{}` in this cluster", t.host),
            Some(format!("hosts: {}", near.join(", "))),
        ));
    };
    if t.dir == "systemd" {
        let units: Vec<String> = host
            .instances
            .iter()
            .map(|i| format!("{}.service", i.unit))
            .collect();
        return match units.iter().position(|u| *u == t.file) {
            Some(i) => Ok(keys::unit::file_keys(model, host, i)),
            None => Err(not_found(
                format!("host {} has no systemd/{}", t.host, t.file),
                Some(format!(
                    "closest units of {}: {}",
                    t.host,
                    diag::closest(&t.file, units.iter().map(String::as_str), 3).join(", ")
                )),
            )),
        };
    }
    let files: Vec<&str> = host.conf_files.iter().map(|c| c.file).collect();
    if !files.contains(&t.file.as_str()) {
        let near = diag::closest(&t.file, files.iter().copied(), 3);
        return Err(not_found(
            format!("host {} has no conf/{}", t.host, t.file),
            Some(format!("closest files of {}: {}", t.host, near.join(", "))),
        ));
    }
    keys::file_keys(model, host, &t.file).ok_or_else(|| {
        not_found(
            format!(
                "conf/{} is not in the key table: explain covers the .properties files, the application-*.yml files, linkis-env.sh and log4j2.xml",
                t.file
            ),
            Some(format!(
                "explain one of: {}",
                files
                    .iter()
                    .filter(|f| keys::file_keys(model, host, f).is_some())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        )
    })
}

/// Explains a target against a model, locating spec paths in `src`.
pub fn explain(model: &Model, src: &Source, t: &Target) -> Result<Report, NotFound> {
    let table = file_table(model, t)?;
    let keys: Vec<&Key> = match &t.key {
        None => table.keys().collect(),
        // A directive may repeat (a unit's `Environment`): every one of that name.
        Some(k) => match table.keys().filter(|x| x.key == *k).collect::<Vec<_>>() {
            found if !found.is_empty() => found,
            _ => {
                // A variable set in case arms is named by its arm: those first.
                let arms: Vec<&str> = table
                    .keys()
                    .map(|x| x.key.as_str())
                    .filter(|x| {
                        x.strip_prefix(k.as_str())
                            .is_some_and(|r| r.starts_with('['))
                    })
                    .collect();
                let near = if arms.is_empty() {
                    diag::closest(k, table.keys().map(|k| k.key.as_str()), 3)
                } else {
                    arms
                };
                return Err(not_found(
                    format!("hosts/{}/{}/{} has no key `{k}`", t.host, t.dir, t.file),
                    Some(format!("closest keys: {}", near.join(", "))),
                ));
            }
        },
    };
    let locate = |o: &Origin| Located {
        origin: o.clone(),
        at: o.spec_path().and_then(|p| {
            src.position(p, Anchor::Key).map(|(line, column)| Location {
                file: src.name.clone(),
                line,
                column,
                written: src.has_path(p),
            })
        }),
    };
    Ok(Report {
        explain: 1,
        host: t.host.clone(),
        dir: t.dir,
        file: t.file.clone(),
        keys: keys
            .into_iter()
            .map(|k| KeyReport {
                key: k.key.clone(),
                value: k.value.clone(),
                origin: locate(&k.origin),
                replaced: k
                    .replaced
                    .iter()
                    .rev()
                    .map(|r| ReplacedReport {
                        value: r.value.clone(),
                        origin: locate(&r.origin),
                    })
                    .collect(),
            })
            .collect(),
    })
}

/// The report as JSON (one document, a trailing newline).
pub fn json(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(r).unwrap_or_default();
    s.push('\n');
    s
}

/// One origin in words: "spec field hadoop.conf_dir", "rule: ...", ...
pub fn describe(o: &Origin) -> String {
    o.describe()
}

fn shown(v: &str) -> String {
    if v.is_empty() {
        "(empty)".to_string()
    } else {
        v.to_string()
    }
}

/// The report as text: per key its value, its origin (spec lines shown as diagnostics show
/// them), then what it replaced.
pub fn text(r: &Report, src: &dyn SpecText) -> String {
    let mut out = String::new();
    let located = |out: &mut String, l: &Located| {
        if let Some(at) = &l.at {
            if !at.written {
                let _ = writeln!(
                    out,
                    "  (not written in the spec: its default; the nearest enclosing field is here)"
                );
            }
            out.push_str(&diag::excerpt(src, (at.line, at.column), true));
        }
    };
    for (i, k) in r.keys.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "hosts/{}/{}/{}:{} = {}",
            r.host,
            r.dir,
            r.file,
            k.key,
            shown(&k.value)
        );
        let _ = writeln!(out, "  from {}", describe(&k.origin.origin));
        located(&mut out, &k.origin);
        for rep in &k.replaced {
            let _ = writeln!(
                out,
                "  replacing {} from {}",
                shown(&rep.value),
                describe(&rep.origin.origin)
            );
            located(&mut out, &rep.origin);
        }
    }
    out
}
