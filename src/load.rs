//! Stage 1, load: bytes → typed `Spec`, with every syntax, type and unknown-key error located.
//!
//! This is the only module that knows YAML libraries: serde_norway (the maintained fork of
//! serde_yaml, same API) reads values and types, and yaml-rust2's event parser gives the line and
//! column of every node, which serde_norway does not expose.
//!
//! Sections are read one by one (each host on its own), so one run reports every type error in
//! every section, not just the first.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use serde_norway::Value;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use crate::diag::{Anchor, Diagnostic, SpecText, join_index, join_key, nearest};
use crate::spec::{BARE_SIZE, LITERAL_SECRET, MAX_HOSTS, Spec};

/// Specs larger than this are refused before parsing: a real spec is a few kilobytes.
/// (5,000 hosts take about 300 KiB.)
pub const MAX_SPEC_BYTES: usize = 2 * 1024 * 1024;

/// The spec's text and where each of its nodes is.
pub struct Source {
    /// The name used in messages (the path as the user gave it).
    pub name: String,
    text: Result<String, usize>,
    display: String,
    /// Byte offset of the start of each line of `display`.
    line_starts: Vec<usize>,
    index: BTreeMap<String, NodePos>,
    duplicate_key: Option<(usize, usize)>,
    /// Where the nesting first went deeper than MAX_DEPTH.
    too_deep: Option<(usize, usize)>,
    /// An alias inside the node its anchor names (`&a [*a]`).
    recursive_alias: Option<(usize, usize)>,
    /// The first alias (`*a`): where an alias bomb starts expanding.
    first_alias: Option<(usize, usize)>,
    /// The start of the second document.
    second_document: Option<(usize, usize)>,
    /// Override values as the user wrote them (`1.50`, `0777`), by spec path.
    written: BTreeMap<String, String>,
    /// The input went on past MAX_SPEC_BYTES: reading stopped there (`read_limited`).
    over_limit: bool,
}

#[derive(Debug, Clone, Copy)]
struct NodePos {
    key: Option<(usize, usize)>,
    value: (usize, usize),
}

impl Source {
    pub fn new(name: impl Into<String>, bytes: Vec<u8>) -> Source {
        let display = String::from_utf8_lossy(&bytes).into_owned();
        let text = String::from_utf8(bytes).map_err(|e| e.utf8_error().valid_up_to());
        let built = match &text {
            Ok(t) if t.len() <= MAX_SPEC_BYTES => build_index(t),
            _ => IndexBuilder::default(),
        };
        let line_starts = std::iter::once(0)
            .chain(line_breaks(display.as_bytes()))
            .collect();
        Source {
            name: name.into(),
            text,
            line_starts,
            display,
            index: built.index,
            duplicate_key: built.duplicate,
            too_deep: built.too_deep,
            recursive_alias: built.recursive_alias,
            first_alias: built.first_alias,
            second_document: built.second_document,
            written: built.written,
            over_limit: false,
        }
    }

    /// A source read by `read_limited`: when the input went on past the limit, `bytes` are its
    /// first MAX_SPEC_BYTES + 1 and parsing reports `spec-too-large` without looking at them.
    pub fn new_limited(name: impl Into<String>, bytes: Vec<u8>, over_limit: bool) -> Source {
        if over_limit {
            // Nothing of it is parsed or shown: index an empty text.
            let mut s = Source::new(name, Vec::new());
            s.over_limit = true;
            return s;
        }
        Source::new(name, bytes)
    }

    /// The 1-based line of the text, for showing under a diagnostic.
    pub fn line(&self, line: usize) -> Option<&str> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let rest = &self.display[start..];
        let l = rest.split(['\n', '\r']).next().unwrap_or_default();
        // Only short, printable lines are shown: a long or binary line would flood the terminal.
        if l.len() > 240
            || l.chars()
                .any(|c| c == '\u{FFFD}' || (c.is_control() && c != '\t'))
        {
            return None;
        }
        Some(l)
    }

    /// A position the YAML scanner put past the end of the text (a node or flow collection that
    /// ends the input without a line break, such as a lone `!` or `{ `) is moved back to just
    /// after the last character; a column past the end of its line to just after that line.
    fn within_text(&self, (line, col): (usize, usize)) -> (usize, usize) {
        let lines = self.line_starts.len();
        let past_end = line > lines;
        let line = line.clamp(1, lines.max(1));
        let Some(&start) = self.line_starts.get(line - 1) else {
            return (line, col.max(1));
        };
        let width = self.display[start..]
            .split(['\n', '\r'])
            .next()
            .unwrap_or_default()
            .chars()
            .count();
        if past_end {
            return (line, width + 1);
        }
        (line, col.clamp(1, width + 1))
    }

    /// Whether the spec's text has this exact path (not only an ancestor of it).
    pub fn has_path(&self, path: &str) -> bool {
        self.index.contains_key(path)
    }

    /// The position of a spec path, or of its nearest ancestor that is in the file.
    pub fn position(&self, path: &str, anchor: Anchor) -> Option<(usize, usize)> {
        let mut p = path.to_string();
        let mut exact = true;
        loop {
            if let Some(n) = self.index.get(&p) {
                return Some(self.within_text(match (anchor, exact, n.key) {
                    (Anchor::Key, true, Some(k)) => k,
                    _ => n.value,
                }));
            }
            if p.is_empty() {
                return None;
            }
            p = parent_path(&p);
            exact = false;
        }
    }
}

impl SpecText for Source {
    fn name(&self) -> &str {
        &self.name
    }
    fn position(&self, path: &str, anchor: Anchor) -> Option<(usize, usize)> {
        Source::position(self, path, anchor)
    }
    fn line(&self, line: usize) -> Option<&str> {
        Source::line(self, line)
    }
}

/// `hosts[3].ports.gateway` → `hosts[3].ports` → `hosts[3]` → `hosts` → ``.
fn parent_path(p: &str) -> String {
    if p.ends_with(']') {
        if let Some(i) = p.rfind('[') {
            return p[..i].to_string();
        }
    }
    match p.rfind('.') {
        Some(i) => p[..i].to_string(),
        None => String::new(),
    }
}

/// Reads a spec from a file or a stream, at most MAX_SPEC_BYTES + 1 bytes of it: a larger
/// input is never held in memory (1 GB on standard input costs 2 MiB, not 2 GB). The bool says
/// whether the input went on past the limit.
pub fn read_limited(reader: impl std::io::Read) -> std::io::Result<(Vec<u8>, bool)> {
    use std::io::Read as _;
    let limit = MAX_SPEC_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    reader.take(limit).read_to_end(&mut bytes)?;
    let over = bytes.len() as u64 >= limit;
    Ok((bytes, over))
}

/// Reads a spec from text into the typed model. Every error found is returned, located.
pub fn parse(src: &Source) -> Result<Spec, Vec<Diagnostic>> {
    match parse_recovering(src)? {
        (spec, diags) if !diags.iter().any(Diagnostic::is_error) => Ok(spec),
        (_, diags) => Err(diags),
    }
}

/// `parse`, but a spec whose only mistakes are unknown keys (reported, then removed) or `init`'s
/// placeholders left in it is still read, so that `validate` can report its own mistakes in the
/// same run: the spec and those diagnostics. Any other mistake stops here.
///
/// Reading is a row of phases, each refusing the input with located diagnostics or handing its
/// result on: the text guards (`TEXT_GUARDS`, before any YAML is parsed), the YAML document, its
/// top-level mapping, the keys against the schema, each section against its type, and the typed
/// spec.
pub fn parse_recovering(src: &Source) -> Result<(Spec, Vec<Diagnostic>), Vec<Diagnostic>> {
    let text = guarded_text(src)?;
    let value = top_mapping(yaml_document(src, text)?)?;
    let (value, mut diags) = known_keys(value)?;
    sections_typed(&value, &mut diags);
    if diags.iter().any(|d| d.check != "unknown-key") {
        return Err(diags);
    }
    diags.extend(placeholders(text));
    typed_spec(src, value, diags)
}

/// A guard on the spec's text before the YAML parser sees it: the refusal, if any.
type TextGuard = fn(&Source, &str) -> Option<Diagnostic>;

/// The guards every spec text passes, in order (after the size limit and UTF-8, which decide
/// whether there is a text at all).
const TEXT_GUARDS: &[(&str, TextGuard)] = &[
    ("spec-too-large", guard_size),
    ("control-character", guard_control),
    ("recursive-alias", guard_recursive_alias),
    ("too-deep", guard_depth),
];

/// The spec's text, when it is one and passes `TEXT_GUARDS`.
fn guarded_text(src: &Source) -> Result<&str, Vec<Diagnostic>> {
    if src.over_limit {
        return Err(vec![too_large(format!(
            "the spec is over {MAX_SPEC_BYTES} bytes (reading stopped at the limit)"
        ))]);
    }
    let text = match &src.text {
        Ok(t) => t.as_str(),
        Err(valid_up_to) => {
            let (line, col) = line_col(&src.display, *valid_up_to);
            return Err(vec![
                Diagnostic::error(
                    "not-utf8",
                    "",
                    format!("the spec is not UTF-8 text (invalid byte at offset {valid_up_to})"),
                )
                .hint("a spec is a YAML text file; check that the right file was given")
                .at(line, col),
            ]);
        }
    };
    match TEXT_GUARDS.iter().find_map(|(_, guard)| guard(src, text)) {
        Some(d) => Err(vec![d]),
        None => Ok(text),
    }
}

fn too_large(message: String) -> Diagnostic {
    Diagnostic::error("spec-too-large", "", message)
        .hint("a cluster spec is a few kilobytes; check that the right file was given")
        .whole_file()
}

fn guard_size(_: &Source, text: &str) -> Option<Diagnostic> {
    (text.len() > MAX_SPEC_BYTES).then(|| {
        too_large(format!(
            "the spec is {} bytes; the limit is {MAX_SPEC_BYTES}",
            text.len()
        ))
    })
}

fn guard_control(_: &Source, text: &str) -> Option<Diagnostic> {
    // serde_norway reports these without a position; the offending byte is known here.
    let (offset, c) = forbidden_char(text)?;
    let (line, col) = line_col(text, offset);
    Some(
        Diagnostic::error(
            "control-character",
            "",
            format!(
                "the spec holds the control character U+{:04X}, which YAML does not allow",
                u32::from(c)
            ),
        )
        .hint("remove it: a spec is plain text (tabs and line ends are the only control characters allowed)")
        .at(line, col),
    )
}

fn guard_recursive_alias(src: &Source, _: &str) -> Option<Diagnostic> {
    let (line, col) = src.recursive_alias?;
    Some(
        Diagnostic::error(
            "recursive-alias",
            "",
            "this alias refers to the node that contains it, which would never end",
        )
        .hint(
            "an alias (*x) can only repeat a node that is complete before it; write the value out",
        )
        .at(line, col),
    )
}

fn guard_depth(src: &Source, _: &str) -> Option<Diagnostic> {
    // Refused before serde_norway: its scanner spends time proportional to the depth on every
    // token, so `cluster: [[[[...` 100,000 deep took 19 s there (and 2 MiB of it, half an hour).
    let (line, col) = src.too_deep?;
    Some(too_deep().at(line, col))
}

fn too_deep() -> Diagnostic {
    Diagnostic::error("too-deep", "", "the spec is nested too deeply")
        .hint("a spec nests a few levels deep; check the indentation or brackets here")
}

/// The YAML document of the text, or its syntax error located as precisely as the scan allows.
fn yaml_document(src: &Source, text: &str) -> Result<Value, Vec<Diagnostic>> {
    serde_norway::from_str(text).map_err(|e| vec![yaml_error(src, &e)])
}

/// A YAML parser's error as the diagnostic of its kind, at its position.
fn yaml_error(src: &Source, e: &serde_norway::Error) -> Diagnostic {
    let msg = yaml_message(e);
    let mut d = if msg.contains(" as u128") || msg.contains(" as i128") {
        Diagnostic::error(
            "number-too-large",
            "",
            "this number is too large for any value of a spec",
        )
        .hint("counts and ports are small integers; sizes take a unit (64G)")
    } else if msg.contains("duplicate entry with key") {
        let d = Diagnostic::error("duplicate-key", "", msg)
            .hint("a key appears once per mapping; remove or merge the repeated one");
        match src.duplicate_key {
            Some((line, col)) => d.at(line, col),
            None => d,
        }
    } else if msg.contains("recursion limit exceeded") {
        too_deep()
    } else if msg.contains("repetition limit exceeded") {
        let d = Diagnostic::error(
            "alias-bomb",
            "",
            "YAML aliases from here on expand to more data than any spec holds",
        )
        .hint("use anchors and aliases (&x, *x) sparingly, or write the values out");
        match src.first_alias {
            Some((line, col)) => d.at(line, col),
            None => d.whole_file(),
        }
    } else if msg.contains("more than one document") {
        let d = Diagnostic::error(
            "multiple-documents",
            "",
            "the spec holds more than one YAML document; the second starts here",
        )
        .hint("a spec is one document: remove the `---` separators and merge the parts");
        match src.second_document {
            Some((line, col)) => d.at(line, col),
            None => d,
        }
    } else {
        Diagnostic::error("yaml-syntax", "", msg)
            .hint("fix the YAML syntax at this position (indentation, quoting, a missing `:`)")
    };
    if let (None, Some(at)) = (d.pos, scanned_key_start(&e.to_string())) {
        d = d.at(at.0, at.1);
    }
    if let (None, false, Some(l)) = (d.pos, d.whole_file, e.location()) {
        d = d.at(l.line(), l.column());
    }
    d.pos = d.pos.map(|p| src.within_text(p));
    d
}

/// The document when it is a mapping of sections.
fn top_mapping(value: Value) -> Result<Value, Vec<Diagnostic>> {
    match &value {
        Value::Mapping(_) => Ok(value),
        Value::Null => Err(vec![
            Diagnostic::error("empty-spec", "", "the spec is empty")
                .hint(
                    "start from one of the examples/ or `linkis-gen init --users N`; \
                 the spec needs version, cluster, database, sizing and hosts",
                )
                .whole_file(),
        ]),
        other => Err(vec![
            Diagnostic::error(
                "not-a-mapping",
                "",
                format!(
                    "the spec must be a mapping of sections, but this document is {}",
                    kind(other)
                ),
            )
            .hint("the top level holds `version:`, `cluster:`, `database:`, `sizing:`, `hosts:`"),
        ]),
    }
}

/// The mapping with YAML merge keys applied and `x-` anchor holders dropped, checked against
/// the schema: unknown keys are reported, then removed, so that typed reading still finds the
/// type errors in the rest of their section. Control characters inside strings are reported.
fn known_keys(mut value: Value) -> Result<(Value, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let schema = crate::schema::spec_schema();
    if let Value::Mapping(m) = &mut value {
        m.retain(|k, _| !k.as_str().is_some_and(|k| k.starts_with("x-")));
    }
    if let Err(e) = value.apply_merge() {
        return Err(vec![
            Diagnostic::error("merge-key", "", yaml_message(&e))
                .hint("`<<:` merges a mapping (or a list of mappings) into the one it appears in"),
        ]);
    }
    check_keys(&mut value, &schema, &schema, "", &mut diags);
    control_in_strings(&value, "", &mut diags);
    Ok((value, diags))
}

/// The required sections present, and each section read on its own with its Rust type (each
/// host too), so that every type error is reported.
fn sections_typed(value: &Value, diags: &mut Vec<Diagnostic>) {
    let Value::Mapping(map) = value else { return };
    for required in ["version", "cluster", "database", "sizing", "hosts"] {
        if map.get(required).is_none() {
            diags.push(
                Diagnostic::error(
                    "missing-section",
                    "",
                    format!("the required section `{required}` is missing"),
                )
                .hint(section_hint(required))
                .whole_file(),
            );
        }
    }
    for (key, v) in map {
        match key.as_str() {
            Some("hosts") => hosts_typed(v, diags),
            Some(key) => section_typed(key, v, diags),
            None => {}
        }
    }
}

/// The `hosts` list, each host typed on its own.
fn hosts_typed(v: &Value, diags: &mut Vec<Diagnostic>) {
    match v {
        Value::Sequence(items) if items.len() > MAX_HOSTS => diags.push(
            Diagnostic::error(
                "too-many-hosts",
                "hosts",
                format!(
                    "{} hosts is more than the {MAX_HOSTS} linkis-gen supports",
                    items.len()
                ),
            )
            .hint("split the cluster, or check that the list is what you meant"),
        ),
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                typed::<crate::spec::Host>(item, &join_index("hosts", i), diags);
            }
        }
        other => diags.push(
            Diagnostic::error(
                "wrong-type",
                "hosts",
                format!("`hosts` must be a list of hosts, but it is {}", kind(other)),
            )
            .hint("write one `- name: ...` entry per server"),
        ),
    }
}

/// The typed spec, with override values as the user wrote them; `diags` are the unknown-key
/// and placeholder diagnostics so far.
fn typed_spec(
    src: &Source,
    value: Value,
    mut diags: Vec<Diagnostic>,
) -> Result<(Spec, Vec<Diagnostic>), Vec<Diagnostic>> {
    match serde_norway::from_value::<Spec>(value) {
        Ok(mut spec) => {
            // YAML reads `1.50` as the number 1.5; Linkis reads the text. Keep what was written.
            for (file, keys) in &mut spec.overrides {
                for (key, v) in keys.iter_mut() {
                    let p = join_key(&join_key("overrides", file), key);
                    if let Some(w) = src.written.get(&p) {
                        v.0.clone_from(w);
                    }
                }
            }
            Ok((spec, diags))
        }
        // A misspelt required key: reported as unknown (with its likely name), not again here.
        Err(_) if diags.iter().any(|d| d.check == "unknown-key") => Err(diags),
        // Anything else is reported, beside the placeholders' warnings.
        Err(e) => {
            diags.push(
                Diagnostic::error("wrong-type", "", user_words(&yaml_message(&e)))
                    .hint("check the value's type against docs/spec.md or `linkis-gen schema`"),
            );
            Err(diags)
        }
    }
}

/// Type-checks one top-level section with its own Rust type.
fn section_typed(section: &str, v: &Value, diags: &mut Vec<Diagnostic>) {
    use crate::spec::*;
    match section {
        "version" => typed::<u32>(v, section, diags),
        "cluster" => typed::<Cluster>(v, section, diags),
        "database" => typed::<Database>(v, section, diags),
        "gateway" => typed::<Gateway>(v, section, diags),
        "hadoop" => typed::<Hadoop>(v, section, diags),
        "hive" => typed::<Hive>(v, section, diags),
        "spark" => typed::<Spark>(v, section, diags),
        "storage" => typed::<Storage>(v, section, diags),
        "auth" => typed::<Auth>(v, section, diags),
        "sizing" => typed::<Sizing>(v, section, diags),
        "host_defaults" => typed::<HostDefaults>(v, section, diags),
        "overrides" => typed::<BTreeMap<String, BTreeMap<String, Scalar>>>(v, section, diags),
        "monitoring" => typed::<Monitoring>(v, section, diags),
        "logs" => typed::<Logs>(v, section, diags),
        "services" => typed::<BTreeMap<Service, ServiceSettings>>(v, section, diags),
        "security" => typed::<Security>(v, section, diags),
        "backup" => typed::<Backup>(v, section, diags),
        _ => {}
    }
}

/// Deserializes `v` as `T`; on failure pushes one located diagnostic with the exact inner path.
fn typed<T: DeserializeOwned>(v: &Value, base: &str, diags: &mut Vec<Diagnostic>) {
    let Err(err) = serde_path_to_error::deserialize::<_, T>(v.clone()) else {
        return;
    };
    let mut path = base.to_string();
    for seg in err.path().iter() {
        path = match seg {
            serde_path_to_error::Segment::Seq { index } => join_index(&path, *index),
            serde_path_to_error::Segment::Map { key } => join_key(&path, key),
            serde_path_to_error::Segment::Enum { variant } => join_key(&path, variant),
            serde_path_to_error::Segment::Unknown => path,
        };
    }
    let d = classify(&path, &err.inner().to_string());
    // A misspelt key (`nmae:`) was reported as unknown with "did you mean `name`?"; the same
    // mistake is not reported a second time as the missing `name`.
    if d.check == "missing-field"
        && diags
            .iter()
            .any(|u| u.check == "unknown-key" && parent_path(&u.path) == path)
    {
        return;
    }
    diags.push(d);
}

/// serde's words for types, in the user's words: no Rust type names reach users.
fn user_words(msg: &str) -> String {
    let mut out = msg.to_string();
    for (rust, user) in [
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u16", "expected a whole number from 0 to 65535"),
        ("expected u32", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected usize", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected a map", "expected a mapping"),
        ("expected a sequence", "expected a list"),
        ("invalid type: map,", "invalid type: a mapping,"),
        ("invalid type: sequence,", "invalid type: a list,"),
        ("invalid type: unit value,", "invalid type: an empty value,"),
        (
            "invalid type: floating point",
            "invalid type: the decimal number",
        ),
        ("invalid type: integer", "invalid type: the whole number"),
        ("invalid type: boolean", "invalid type: the boolean"),
        ("invalid type: string", "invalid type: the string"),
        ("invalid value: integer", "invalid value: the whole number"),
    ] {
        out = out.replace(rust, user);
    }
    if let Some(i) = out.find("expected struct ") {
        let name = &out[i + "expected struct ".len()..];
        let name: String = name
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        let what = match name.as_str() {
            "Spec" => "a mapping of sections".to_string(),
            "Host" => "a mapping (one host: name, address, ...)".to_string(),
            "Engine" => "a mapping (one engine type: memory, cores)".to_string(),
            "HostDefaults" => "a mapping (the host_defaults section)".to_string(),
            "Redis" => "a mapping (the gateway.redis block)".to_string(),
            "Web" => "a mapping (the gateway.web block)".to_string(),
            other => format!("a mapping (the {} section)", other.to_ascii_lowercase()),
        };
        out = format!(
            "{}expected {what}{}",
            &out[..i],
            &out[i + "expected struct ".len() + name.len()..]
        );
    }
    out
}

/// Turns a serde message into a named diagnostic with a hint.
fn classify(path: &str, raw: &str) -> Diagnostic {
    let msg = strip_location(raw);
    if msg.contains(LITERAL_SECRET) {
        return Diagnostic::error(
            "literal-secret",
            path,
            "a literal password is not allowed; secrets stay out of the spec and the output",
        )
        .redacted()
        .hint(format!(
            "write `{{ vault: {} }}` and define that variable in Ansible Vault",
            vault_name_for(path)
        ));
    }
    if let Some(rest) = msg.strip_prefix(BARE_SIZE) {
        return Diagnostic::error(
            "bare-size",
            path,
            format!("{BARE_SIZE}{rest}: the unit is ambiguous"),
        )
        .hint("add a binary unit: 64G, 512M, 1T");
    }
    if let Some(field) = between(&msg, "missing field `", "`") {
        return Diagnostic::error(
            "missing-field",
            path,
            format!("the required key `{field}` is missing"),
        )
        .hint(format!("add `{field}:` here"));
    }
    if let Some(variant) = between(&msg, "unknown variant `", "`") {
        let expected = backticked_after(&msg, "expected");
        let mut d = Diagnostic::error(
            "unknown-value",
            path,
            format!("`{variant}` is not one of the accepted values"),
        );
        d = match nearest(variant, expected.iter().map(|s| s.as_str())) {
            Some(n) => d.hint(format!("did you mean `{n}`?")),
            None => d.hint(format!("use one of: {}", expected.join(", "))),
        };
        return d;
    }
    if let Some(field) = between(&msg, "unknown field `", "`") {
        let expected = backticked_after(&msg, "expected");
        let d = Diagnostic::error("unknown-key", path, format!("unknown key `{field}`")).at_key();
        return match nearest(field, expected.iter().map(|s| s.as_str())) {
            Some(n) => d.hint(format!("did you mean `{n}`?")),
            None => d.hint(format!("valid keys here: {}", expected.join(", "))),
        };
    }
    let msg = user_words(&msg);
    if path.ends_with("linkis_version") {
        return Diagnostic::error("linkis-version-type", path, msg)
            .hint("quote the full version: linkis_version: \"1.5.0\"");
    }
    if msg.starts_with("invalid type") || msg.starts_with("invalid value") {
        return Diagnostic::error("wrong-type", path, msg.clone())
            .hint("check the value's type against docs/spec.md or `linkis-gen schema`");
    }
    Diagnostic::error("invalid-value", path, msg).hint("see docs/spec.md for this key")
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(&s[i..j])
}

/// The backticked words after `marker`: serde's "expected one of `a`, `b`".
fn backticked_after(s: &str, marker: &str) -> Vec<String> {
    let Some(i) = s.find(marker) else {
        return vec![];
    };
    s[i..]
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// serde_norway appends " at line L column C" (twice for "while scanning ..." errors); the
/// diagnostic shows the position itself.
fn strip_location(msg: &str) -> String {
    let mut out = String::new();
    let mut rest = msg;
    while let Some(i) = rest.find(" at line ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + " at line ".len()..];
        let end = after
            .find(" column ")
            .map(|j| j + " column ".len())
            .and_then(|j| {
                let digits = after[j..]
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(after.len() - j);
                (digits > 0).then_some(j + digits)
            });
        match end {
            Some(e) => rest = &after[e..],
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// For "while scanning a simple key" the mistake is the key, whose start libyaml names last.
fn scanned_key_start(msg: &str) -> Option<(usize, usize)> {
    let (_, tail) = msg.split_once("while scanning a simple key at line ")?;
    let (line, rest) = tail.split_once(" column ")?;
    let col: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((line.parse().ok()?, col.parse().ok()?))
}

fn yaml_message(e: &serde_norway::Error) -> String {
    strip_location(&e.to_string())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

fn section_hint(section: &str) -> &'static str {
    match section {
        "version" => "add `version: 1` at the top",
        "cluster" => "add `cluster:` with name, linkis_version and package",
        "database" => "add `database:` with host, name, user and password: { vault: NAME }",
        "sizing" => "add `sizing:` with concurrent_users and engines",
        _ => "add `hosts:` with at least one `- name: ... address: ...`",
    }
}

/// Reports keys the spec types do not have, with the nearest valid key, by walking the value
/// alongside the JSON Schema generated from the same types.
fn check_keys(v: &mut Value, schema: &Json, root: &Json, path: &str, diags: &mut Vec<Diagnostic>) {
    let schema = resolve(schema, root);
    match v {
        Value::Mapping(m) => {
            let Some((props, additional)) = object_shape(schema, root) else {
                return;
            };
            let mut unknown = Vec::new();
            for (k, child) in m.iter_mut() {
                let key = key_text(k);
                let child_path = join_key(path, &key);
                if let Some(s) = props.and_then(|p| p.get(&key)) {
                    check_keys(child, s, root, &child_path, diags);
                } else if let Some(s) = additional.filter(|a| a.is_object()) {
                    check_keys(child, s, root, &child_path, diags);
                } else if additional.is_some_and(|a| a == &Json::Bool(false)) {
                    let valid: Vec<&str> = props
                        .map(|p| p.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    let d = Diagnostic::error(
                        "unknown-key",
                        &child_path,
                        format!("unknown key `{key}`"),
                    )
                    .at_key();
                    diags.push(match nearest(&key, valid.iter().copied()) {
                        Some(n) => d.hint(format!("did you mean `{n}`?")),
                        None => d.hint(format!("valid keys here: {}", valid.join(", "))),
                    });
                    unknown.push(k.clone());
                }
            }
            for k in unknown {
                m.remove(&k);
            }
        }
        Value::Sequence(items) => {
            if let Some(item_schema) = array_items(schema, root) {
                for (i, item) in items.iter_mut().enumerate() {
                    check_keys(item, item_schema, root, &join_index(path, i), diags);
                }
            }
        }
        _ => {}
    }
}

fn resolve<'a>(schema: &'a Json, root: &'a Json) -> &'a Json {
    let mut s = schema;
    for _ in 0..16 {
        match s.get("$ref").and_then(Json::as_str) {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap_or_default();
                match root.get("$defs").and_then(|d| d.get(name)) {
                    Some(next) => s = next,
                    None => return s,
                }
            }
            None => return s,
        }
    }
    s
}

type Props<'a> = Option<&'a serde_json::Map<String, Json>>;

/// The properties and `additionalProperties` of an object schema, looking through anyOf/oneOf/allOf
/// (Option<T> is `anyOf: [T, null]`).
fn object_shape<'a>(schema: &'a Json, root: &'a Json) -> Option<(Props<'a>, Option<&'a Json>)> {
    let schema = resolve(schema, root);
    let props = schema.get("properties").and_then(Json::as_object);
    let additional = schema.get("additionalProperties");
    if props.is_some() || additional.is_some() {
        return Some((props, additional));
    }
    for combinator in ["anyOf", "oneOf", "allOf"] {
        if let Some(branches) = schema.get(combinator).and_then(Json::as_array) {
            for b in branches {
                if let Some(shape) = object_shape(b, root) {
                    return Some(shape);
                }
            }
        }
    }
    None
}

fn array_items<'a>(schema: &'a Json, root: &'a Json) -> Option<&'a Json> {
    let schema = resolve(schema, root);
    if let Some(items) = schema.get("items") {
        return Some(items);
    }
    for combinator in ["anyOf", "oneOf", "allOf"] {
        if let Some(branches) = schema.get(combinator).and_then(Json::as_array) {
            for b in branches {
                if let Some(items) = array_items(b, root) {
                    return Some(items);
                }
            }
        }
    }
    None
}

/// The first character YAML forbids anywhere in a stream (outside the printable set: C0 controls
/// other than tab, LF and CR; DEL; C1 controls other than NEL; surrogates cannot occur in a `str`),
/// with its byte offset.
fn forbidden_char(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|&(_, c)| {
        matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{7F}')
            || (('\u{80}'..='\u{9F}').contains(&c) && c != '\u{85}')
            || c == '\u{FFFE}'
            || c == '\u{FFFF}'
    })
}

/// The offsets where lines start after a break: YAML breaks lines at LF, CRLF and a lone CR.
fn line_breaks(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes.iter().enumerate().filter_map(|(i, b)| match b {
        b'\n' => Some(i + 1),
        b'\r' if bytes.get(i + 1) != Some(&b'\n') => Some(i + 1),
        _ => None,
    })
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let starts: Vec<usize> = line_breaks(text.as_bytes())
        .take_while(|s| *s <= offset)
        .collect();
    let line_start = starts.last().copied().unwrap_or(0);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (starts.len() + 1, col)
}

/// Builds `path → position` for every node, from yaml-rust2's marked events.
fn build_index(text: &str) -> IndexBuilder {
    let mut b = IndexBuilder::default();
    // Events are pulled one by one (yaml-rust2's own `load` recurses once per nesting level and
    // overflows the stack on hostile input). A document yaml-rust2 cannot parse still leaves the
    // positions read before the error; only the first document is indexed.
    let mut parser = Parser::new_from_str(text);
    let mut documents = 0;
    let mut depth = 0usize;
    let mut last_mark = None;
    loop {
        let (ev, mark) = match parser.next_token() {
            Ok(e) => e,
            Err(e) => {
                // yaml-rust2 counts flow levels in a u8 and scans ahead of the events it yields,
                // so its error points past the bracket that went too deep: find that one.
                if e.info().contains("recursion limit") {
                    let at = last_mark
                        .and_then(|m| first_too_deep_bracket(text, m, depth))
                        .unwrap_or(pos(*e.marker()));
                    b.too_deep.get_or_insert(at);
                }
                break;
            }
        };
        last_mark = Some(mark);
        match ev {
            Event::StreamEnd => break,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    b.second_document = Some(pos(mark));
                    break;
                }
            }
            _ => {}
        }
        let start = matches!(ev, Event::MappingStart(..) | Event::SequenceStart(..));
        let end = matches!(ev, Event::MappingEnd | Event::SequenceEnd);
        depth = (depth + usize::from(start)).saturating_sub(usize::from(end));
        if depth > MAX_DEPTH {
            // `parse` refuses the spec; reading on would only cost time. yaml-rust2 marks a block
            // mapping at its first `:`; it starts at its first key, the next event.
            let mut at = pos(mark);
            if matches!(ev, Event::MappingStart(..))
                && let Ok((_, key)) = parser.next_token()
            {
                at = at.min(pos(key));
            }
            b.too_deep = Some(at);
            break;
        }
        b.on_event(ev, mark);
    }
    b
}

/// From the event at `mark` (already counted in `depth`), the position of the first flow bracket
/// that nests deeper than MAX_DEPTH.
fn first_too_deep_bracket(text: &str, mark: Marker, mut depth: usize) -> Option<(usize, usize)> {
    let (mut line, mut col) = pos(mark);
    for c in text.chars().skip(mark.index()).skip(1) {
        col += 1;
        match c {
            '[' | '{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some((line, col));
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            '\n' => {
                line += 1;
                col = 0;
            }
            _ => {}
        }
    }
    None
}

/// Specs nested deeper than this are refused before serde_norway reads them (its own limit is 128;
/// a spec nests about 5 levels).
pub const MAX_DEPTH: usize = 128;

enum Frame {
    Map {
        path: String,
        key: Option<(String, Marker)>,
    },
    Seq {
        path: String,
        next: usize,
    },
}

#[derive(Default)]
struct IndexBuilder {
    stack: Vec<Frame>,
    index: BTreeMap<String, NodePos>,
    /// The position of the first key that repeats a key of its mapping.
    duplicate: Option<(usize, usize)>,
    /// Where the nesting went deeper than MAX_DEPTH.
    too_deep: Option<(usize, usize)>,
    /// Nodes inside a complex (non-scalar) mapping key are not indexed.
    in_complex_key: usize,
    /// The text of the complex key being read, in flow style (`[a, b]`), and per open level
    /// inside it: is it a mapping, and how many nodes it has so far.
    complex_text: String,
    complex_levels: Vec<(bool, usize)>,
    complex_start: Option<Marker>,
    /// The anchor of every open collection (0 = none), to find an alias inside its own anchor.
    open_anchors: Vec<usize>,
    recursive_alias: Option<(usize, usize)>,
    first_alias: Option<(usize, usize)>,
    second_document: Option<(usize, usize)>,
    written: BTreeMap<String, String>,
}

fn pos(m: Marker) -> (usize, usize) {
    // yaml-rust2 lines are 1-based, columns 0-based.
    (m.line(), m.col() + 1)
}

impl IndexBuilder {
    /// Called for each node start; returns the node's path, or None inside a complex key.
    fn node(&mut self, mark: Marker, scalar: Option<&str>) -> Option<String> {
        if self.in_complex_key > 0 {
            return None;
        }
        match self.stack.last_mut() {
            None => {
                self.index.insert(
                    String::new(),
                    NodePos {
                        key: None,
                        value: pos(mark),
                    },
                );
                Some(String::new())
            }
            Some(Frame::Seq { path, next }) => {
                let p = join_index(path, *next);
                *next += 1;
                self.index.insert(
                    p.clone(),
                    NodePos {
                        key: None,
                        value: pos(mark),
                    },
                );
                Some(p)
            }
            Some(Frame::Map { path, key }) => match key.take() {
                None => {
                    // This node is a key. yaml-rust2 marks a block mapping at its first `:`;
                    // the mapping starts at its first key.
                    if let Some(n) = self.index.get_mut(path.as_str())
                        && pos(mark) < n.value
                    {
                        n.value = pos(mark);
                    }
                    match scalar {
                        Some(s) => *key = Some((s.to_string(), mark)),
                        None => *key = Some(("?".to_string(), mark)),
                    }
                    None
                }
                Some((k, kmark)) => {
                    let p = join_key(path, &k);
                    if self.index.contains_key(&p) && self.duplicate.is_none() {
                        self.duplicate = Some(pos(kmark));
                    }
                    self.index.insert(
                        p.clone(),
                        NodePos {
                            key: Some(pos(kmark)),
                            value: pos(mark),
                        },
                    );
                    Some(p)
                }
            },
        }
    }

    fn is_key_position(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }
}

impl IndexBuilder {
    /// Adds the separator before the next node of the complex key being read.
    fn complex_separator(&mut self) {
        if let Some((is_map, n)) = self.complex_levels.last_mut() {
            if *n > 0 {
                let sep = if *is_map && *n % 2 == 1 { ": " } else { ", " };
                self.complex_text.push_str(sep);
            }
            *n += 1;
        }
    }
}

impl MarkedEventReceiver for IndexBuilder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(s, ..) => {
                if self.in_complex_key > 0 {
                    self.complex_separator();
                    self.complex_text.push_str(&s);
                } else if let Some(p) = self.node(mark, Some(&s))
                    && (p.starts_with("overrides[") || p.starts_with("overrides."))
                {
                    self.written.insert(p, s);
                }
            }
            Event::Alias(id) => {
                self.first_alias.get_or_insert(pos(mark));
                if id != 0 && self.open_anchors.contains(&id) {
                    self.recursive_alias.get_or_insert(pos(mark));
                }
                if self.in_complex_key > 0 {
                    self.complex_separator();
                    self.complex_text.push_str("*alias");
                } else {
                    self.node(mark, Some("*alias"));
                }
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                self.open_anchors.push(anchor);
                let is_map = matches!(ev, Event::MappingStart(..));
                if self.in_complex_key > 0 || self.is_key_position() {
                    // A complex key (`? [a, b]`): its text, in flow style, becomes the key.
                    if self.in_complex_key == 0 {
                        self.complex_text.clear();
                        self.complex_levels.clear();
                        self.complex_start = Some(mark);
                    }
                    self.complex_separator();
                    self.complex_text.push(if is_map { '{' } else { '[' });
                    self.complex_levels.push((is_map, 0));
                    self.in_complex_key += 1;
                    return;
                }
                let path = self.node(mark, None).unwrap_or_default();
                self.stack.push(if is_map {
                    Frame::Map { path, key: None }
                } else {
                    Frame::Seq { path, next: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.open_anchors.pop();
                if self.in_complex_key > 0 {
                    let closing = match self.complex_levels.pop() {
                        Some((true, _)) => '}',
                        _ => ']',
                    };
                    self.complex_text.push(closing);
                    self.in_complex_key -= 1;
                    if self.in_complex_key == 0 {
                        let text = std::mem::take(&mut self.complex_text);
                        let start = self.complex_start.take().unwrap_or(mark);
                        self.node(start, Some(&text));
                    }
                } else {
                    self.stack.pop();
                }
            }
            _ => {}
        }
    }
}

/// A spec is data (spec-v1, third edition): no string of it, key or value, holds a control
/// character (C0 with CR, LF, tab and NUL, DEL, C1), whichever YAML escape wrote it (`"\r"`, a
/// block scalar's line ends). Checked here, once, where every string of the spec passes; a CR in
/// `auth.ldap.base_dn` or a LF in an override value would otherwise start a second line of a
/// conf file.
fn control_in_strings(v: &Value, path: &str, diags: &mut Vec<Diagnostic>) {
    let bad = |s: &str| s.chars().find(|c| c.is_control());
    let push = |diags: &mut Vec<Diagnostic>, path: &str, c: char, key: bool| {
        let d = Diagnostic::error(
            "control-character",
            path,
            format!(
                "this {} holds the control character U+{:04X}{}",
                if key { "key" } else { "value" },
                u32::from(c),
                match c {
                    '\n' => " (line feed)",
                    '\r' => " (carriage return)",
                    '\t' => " (tab)",
                    '\0' => " (NUL)",
                    _ => "",
                }
            ),
        )
        .hint("a value of a spec is one line of printable text: remove it (a block scalar `|` or `>` keeps line ends)");
        diags.push(if key { d.at_key() } else { d });
    };
    match v {
        Value::String(s) => {
            if let Some(c) = bad(s) {
                push(diags, path, c, false);
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                control_in_strings(item, &join_index(path, i), diags);
            }
        }
        Value::Mapping(m) => {
            for (k, item) in m {
                let key = key_text(k);
                let p = join_key(path, &key);
                if let Some(c) = bad(&key) {
                    push(diags, &p, c, true);
                } else {
                    control_in_strings(item, &p, diags);
                }
            }
        }
        Value::Tagged(t) => control_in_strings(&t.value, path, diags),
        _ => {}
    }
}

/// A mapping key as one line of text, the way the position index names it: scalars as written,
/// lists and mappings in flow style (`[a, b]`), so that `? [a, b]` is reported on one line.
fn key_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "~".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Sequence(items) => {
            let parts: Vec<String> = items.iter().map(key_text).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Mapping(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", key_text(k), key_text(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Tagged(t) => key_text(&t.value),
    }
}

/// The vault variable a literal secret's hint suggests: the name the docs, `init` and the examples
/// use for that field, else one made from its path.
fn vault_name_for(path: &str) -> String {
    const KNOWN: &[(&str, &str)] = &[
        ("database.password", "vault_linkis_db_password"),
        ("auth.admin_password", "vault_linkis_admin_password"),
        ("gateway.redis.password", "vault_linkis_redis_password"),
        ("hadoop.yarn_auth.password", "vault_yarn_password"),
        ("hive.metastore.password", "vault_hive_metastore_password"),
    ];
    KNOWN
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, v)| (*v).to_string())
        .unwrap_or_else(|| {
            format!(
                "vault_{}",
                path.replace(['.', '[', ']', '"'], "_")
                    .trim_matches('_')
                    .replace("__", "_")
            )
        })
}

/// `init` marks what the operator must set with a `# PLACEHOLDER` comment on its line. Left on an
/// address line (a host's `address:`, the database's `host:`) it is an error: the spec would
/// deploy to made-up addresses. On other lines (the YARN address) a warning; the vault lines only
/// remind, and the preflight checks those variables.
fn placeholders(text: &str) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(hash) = line
            .find("# ")
            .filter(|&h| h == 0 || line[..h].ends_with(' '))
        else {
            continue;
        };
        if !line[hash..].contains("PLACEHOLDER") {
            continue;
        }
        let content = &line[..hash];
        let value_of = |key: &str| -> Option<(usize, String)> {
            let k = content.find(key)?;
            let start = k + key.len();
            let rest = &content[start..];
            let skip = rest.len() - rest.trim_start().len();
            let v: String = rest
                .trim_start()
                .chars()
                .take_while(|c| !matches!(c, ',' | '}' | ' '))
                .collect();
            Some((start + skip + 1, v))
        };
        let hint = "set the real value and delete the `# PLACEHOLDER` comment";
        if let Some((col, v)) = value_of("address:") {
            let name = value_of("name:").map(|(_, n)| n).unwrap_or_default();
            found.push(
                Diagnostic::error(
                    "placeholder",
                    "",
                    format!(
                        "host {name}: the address `{v}` is still a placeholder of `linkis-gen init`"
                    ),
                )
                .hint(hint)
                .at(i + 1, col),
            );
        } else if content.trim_start().starts_with("host:") {
            let (col, v) = value_of("host:").unwrap_or((1, String::new()));
            found.push(
                Diagnostic::error(
                    "placeholder",
                    "",
                    format!("the database host `{v}` is still a placeholder of `linkis-gen init`"),
                )
                .hint(hint)
                .at(i + 1, col),
            );
        } else if !content.contains("vault:") && !content.trim().is_empty() {
            let key = content
                .trim()
                .split(':')
                .next()
                .unwrap_or("")
                .trim_start_matches("- ");
            let (col, v) = value_of(":").unwrap_or((1, String::new()));
            found.push(
                Diagnostic::warning(
                    "placeholder",
                    "",
                    format!("`{key}: {v}` is still a placeholder of `linkis-gen init`"),
                )
                .hint(hint)
                .at(i + 1, col),
            );
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> Source {
        Source::new("t.yaml", text.as_bytes().to_vec())
    }

    #[test]
    fn index_locates_nested_keys_and_values() {
        let s = src("a: 1\nhosts:\n  - name: s1\n    ports: { gateway: 9011 }\n");
        assert_eq!(s.position("a", Anchor::Value), Some((1, 4)));
        assert_eq!(s.position("hosts[0].name", Anchor::Key), Some((3, 5)));
        assert_eq!(s.position("hosts[0].name", Anchor::Value), Some((3, 11)));
        assert_eq!(
            s.position("hosts[0].ports.gateway", Anchor::Value),
            Some((4, 23))
        );
        // A path not in the file falls back to its nearest ancestor.
        assert_eq!(s.position("hosts[0].memory", Anchor::Key), Some((3, 5)));
    }

    #[test]
    fn a_type_error_in_backup_is_located_even_beside_placeholder_warnings() {
        let base = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/single-node.yaml"
        ))
        .unwrap();
        let text = base.replace("bin.tar.gz\n", "bin.tar.gz   # PLACEHOLDER: the tarball\n")
            + "backup:\n  keep: lots\n";
        let diags = parse(&src(&text)).unwrap_err();
        let errors: Vec<(&str, &str)> = diags
            .iter()
            .filter(|d| d.is_error())
            .map(|d| (d.check, d.path.as_str()))
            .collect();
        assert_eq!(errors, [("wrong-type", "backup.keep")]);
    }

    #[test]
    fn merge_keys_apply_and_x_keys_hold_anchors() {
        let base = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/single-node.yaml"
        ))
        .unwrap();
        let text = base.replace(
            "hosts:\n  - name: linkis1\n",
            "x-big: &big { memory: 256G, cores: 64 }\nhosts:\n  - <<: *big\n    name: linkis1\n",
        );
        let spec = parse(&src(&text)).expect("merge keys are read");
        // The host's own keys win over merged ones, as YAML merge keys define.
        assert_eq!(
            spec.hosts[0].memory,
            Some(crate::spec::Size(128 * crate::spec::GIB))
        );
        assert_eq!(spec.hosts[0].cores, Some(32));
        let merged_only = text.replace("    memory: 128G\n    cores: 32\n", "");
        let spec = parse(&src(&merged_only)).expect("merge keys are read");
        assert_eq!(
            spec.hosts[0].memory,
            Some(crate::spec::Size(256 * crate::spec::GIB))
        );
        assert_eq!(spec.hosts[0].cores, Some(64));
    }

    #[test]
    fn parent_paths_climb_one_step() {
        assert_eq!(parent_path("hosts[3].ports.gateway"), "hosts[3].ports");
        assert_eq!(parent_path("hosts[3]"), "hosts");
        assert_eq!(parent_path("hosts"), "");
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("", 0), (1, 1));
        // A lone CR breaks a line too (YAML); CRLF is one break.
        assert_eq!(line_col("ab\rcd", 4), (2, 2));
        assert_eq!(line_col("ab\r\ncd", 5), (2, 2));
    }
}
