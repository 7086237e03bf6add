//! A spec is data: every value is written in the syntax of the file it lands in, decided here once
//! for the whole tree (spec-v1, third edition, "A spec is data").
//!
//! Templates choose nothing: the environment picks an escaping mode by the output file's format
//! (`auto_escape`, keyed by template name), and the formatter writes every `[= value =]` in that
//! mode.
//!
//! - `inventory/**.yml` (group_vars, hosts.yml), which Ansible loads as trusted variables: every
//!   string is a YAML scalar — plain when it is a word YAML reads back as the same string, else
//!   double-quoted, and tagged `!unsafe` when it holds a `{`, so Ansible never templates it (a plain
//!   or quoted `{{ ... }}` there would be evaluated on the control node). A reference to a vault
//!   variable, the one expression the tree means Ansible to evaluate, is written by the
//!   `vault_ref` filter, which accepts only an Ansible variable name.
//! - `.properties`: values as `java.util.Properties.load` reads them back (`\`, leading blanks,
//!   control and non-ASCII characters escaped; `\uXXXX` is read the same by `load(InputStream)`
//!   and `load(Reader)`: Linkis' BDPConfiguration reads its files with `load(InputStream)`, i.e.
//!   ISO-8859-1, in 1.1.3 and with a UTF-8 `Reader` in 1.4.0, so non-ASCII is always escaped). Keys and values that `conf.rs` adds after rendering (`overrides:`, the
//!   release's stock settings, the platform's keys) go through `prop_key` / `prop_value` too.
//!   A `{{` of spec text is written `{\{` (read back as `{{`), so the only `{{ name }}` in a
//!   `.properties` file is a vault reference linkis-gen wrote, which the apply side fills in with
//!   the `linkis_fill` filter (never Ansible's template module).
//! - Everything else: as the template writes it (the values that reach those files are words the
//!   validate stage restricts).

use minijinja::value::{Value, ValueKind};
use minijinja::{AutoEscape, Error, ErrorKind, Output, State};

/// The escaping mode of the Ansible inventory's YAML.
pub const ANSIBLE_YAML: &str = "ansible-yaml";
/// The escaping mode of `.properties` values.
pub const PROPERTIES: &str = "properties";

/// The escaping mode of a template, by the format of the file it renders.
pub fn auto_escape(name: &str) -> AutoEscape {
    let out = name.strip_suffix(".j2").unwrap_or(name);
    if out.starts_with("inventory/") && (out.ends_with(".yml") || out.ends_with(".yaml")) {
        AutoEscape::Custom(ANSIBLE_YAML.into())
    } else if out.ends_with(".properties") {
        AutoEscape::Custom(PROPERTIES.into())
    } else {
        // Other templates write `[% autoescape false %]` or are not of an escaped format.
        minijinja::default_auto_escape_callback(name)
    }
}

/// The formatter of every `[= value =]`.
pub fn formatter(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    let mode = match state.auto_escape() {
        AutoEscape::Custom(m) => m.to_string(),
        _ => return minijinja::escape_formatter(out, state, value),
    };
    if value.is_safe() {
        return write(out, &value.to_string());
    }
    let text = match mode.as_str() {
        ANSIBLE_YAML => yaml_value(value)?,
        PROPERTIES => match value.as_str() {
            Some(s) => prop_model_value(s),
            None => prop_model_value(&value.to_string()),
        },
        m => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("unknown escaping mode {m}"),
            ));
        }
    };
    write(out, &text)
}

fn write(out: &mut Output, s: &str) -> Result<(), Error> {
    out.write_str(s)
        .map_err(|e| Error::new(ErrorKind::WriteFailure, e.to_string()))
}

/// `"{{ name }}"`: a reference to an Ansible variable, as a quoted YAML scalar that Ansible
/// templates. Only a variable name is accepted, so nothing else can become an expression.
pub fn vault_ref(name: &str) -> Result<Value, Error> {
    if !is_var_name(name) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("`{name}` is not an Ansible variable name"),
        ));
    }
    Ok(Value::from_safe_string(format!("\"{{{{ {name} }}}}\"")))
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_var_name(s: &str) -> bool {
    s.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A template value as YAML for Ansible: strings by `yaml_scalar`, numbers and booleans as they
/// are, sequences and maps in flow style, none as `null`.
fn yaml_value(v: &Value) -> Result<String, Error> {
    Ok(match v.kind() {
        ValueKind::String => yaml_scalar(v.as_str().unwrap_or_default()),
        ValueKind::Bool => (if v.is_true() { "true" } else { "false" }).to_string(),
        ValueKind::Number => v.to_string(),
        ValueKind::None => "null".to_string(),
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Result<Vec<String>, Error> = v.try_iter()?.map(|i| yaml_value(&i)).collect();
            format!("[{}]", items?.join(", "))
        }
        ValueKind::Map => {
            let mut parts = Vec::new();
            for k in v.try_iter()? {
                let val = v.get_item(&k)?;
                parts.push(format!("{}: {}", yaml_value(&k)?, yaml_value(&val)?));
            }
            format!("{{{}}}", parts.join(", "))
        }
        _ => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                format!("cannot write {v:?} into Ansible's YAML"),
            ));
        }
    })
}

/// A string as one YAML scalar that every YAML reader (YAML 1.1 as PyYAML, 1.2) reads back as
/// exactly this string, and that Ansible never templates: plain when it is a safe word, else
/// double-quoted, with `!unsafe` before it when it holds a `{` (the start of every Jinja
/// delimiter).
pub fn yaml_scalar(s: &str) -> String {
    if yaml_plain_ok(s) {
        return s.to_string();
    }
    let quoted = yaml_double_quoted(s);
    if s.contains('{') {
        format!("!unsafe {quoted}")
    } else {
        quoted
    }
}

/// A word YAML reads as this string, in block and flow context alike: letters, digits and
/// `_ . / @ + -`, starting with a letter, digit, `_` or `/`; not a boolean or null word; a word
/// starting with a digit only when it has two dots or more and nothing but digits and dots
/// (addresses, versions), which no YAML schema reads as a number.
fn yaml_plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_./@+-".contains(c))
    {
        return false;
    }
    if !(first.is_ascii_alphanumeric() || first == '_' || first == '/') {
        return false;
    }
    if first.is_ascii_digit()
        && !(s.matches('.').count() >= 2 && s.chars().all(|c| c.is_ascii_digit() || c == '.'))
    {
        return false;
    }
    const WORDS: &[&str] = &["y", "n", "yes", "no", "true", "false", "on", "off", "null"];
    !WORDS.contains(&s.to_ascii_lowercase().as_str())
}

/// `"..."` with `\"`, `\\` and every character YAML does not take as printable or reads as a line
/// break written `\uXXXX` (or `\UXXXXXXXX`).
pub fn yaml_double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20
                || (0x7f..=0x9f).contains(&(c as u32))
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
                || (0xd800..=0xdfff).contains(&(c as u32))
                || c as u32 >= 0xfffe && (c as u32) <= 0xffff =>
            {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A `.properties` key as `java.util.Properties.load` reads it back: `\`, `=`, `:`, blanks,
/// and `#`/`!` at its start escaped, control and non-ASCII characters as `\uXXXX`.
pub fn prop_key(k: &str) -> String {
    let mut out = String::with_capacity(k.len());
    for (i, c) in k.chars().enumerate() {
        match c {
            '=' | ':' | ' ' => {
                out.push('\\');
                out.push(c);
            }
            '#' | '!' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            c => push_prop_char(&mut out, c),
        }
    }
    out
}

/// A `.properties` value as `java.util.Properties.load` reads it back: `\` doubled, leading
/// blanks escaped (load drops them otherwise), control and non-ASCII characters as `\uXXXX`.
pub fn prop_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut leading = true;
    for c in v.chars() {
        if leading && c == ' ' {
            out.push_str("\\ ");
            continue;
        }
        leading = false;
        push_prop_char(&mut out, c);
    }
    out
}

/// `prop_value` for text from the spec: also every `{` that follows a `{` written `\{` (read back
/// as `{`), so no spec text can hold `{{` and look like the vault references the apply side
/// fills in.
pub fn prop_data_value(v: &str) -> String {
    no_double_brace(&prop_value(v))
}

/// `prop_key` for text from the spec, with braces as in `prop_data_value`.
pub fn prop_data_key(k: &str) -> String {
    no_double_brace(&prop_key(k))
}

/// A value linkis-gen computed: exactly a vault reference (`{{ name }}`) stays one, anything else
/// is data.
pub fn prop_model_value(v: &str) -> String {
    if is_reference(v) {
        v.to_string()
    } else {
        prop_data_value(v)
    }
}

/// Whether a text is exactly `{{ name }}` with an Ansible variable name.
pub fn is_reference(v: &str) -> bool {
    v.strip_prefix("{{ ")
        .and_then(|r| r.strip_suffix(" }}"))
        .is_some_and(is_var_name)
}

/// `{{` → `{\{` (in escaped text, where `\{` reads as `{`).
fn no_double_brace(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len());
    let mut prev = '\0';
    for c in escaped.chars() {
        if c == '{' && prev == '{' {
            out.push('\\');
        }
        out.push(c);
        prev = c;
    }
    out
}

fn push_prop_char(out: &mut String, c: char) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\u{c}' => out.push_str("\\f"),
        ' '..='~' => out.push(c),
        c => {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04X}"));
            }
        }
    }
}

/// An SQL string literal, quotes included, that the database reads back as `s`: MySQL/MariaDB
/// (`mysql: true`, default sql_mode: a backslash escapes, so it is doubled) or PostgreSQL
/// (standard_conforming_strings: only the quote is doubled). NUL, which neither can hold, is
/// refused by validate before it gets here, and dropped if it did.
pub fn sql_string(mysql: bool, s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' if mysql => out.push_str("\\\\"),
            '\0' => {}
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_words_stay_plain_and_the_rest_is_quoted() {
        for w in [
            "prod-bj",
            "/opt/linkis",
            "10.0.0.11",
            "1.4.0",
            "files/a-1.tar.gz",
            "s1",
        ] {
            assert_eq!(yaml_scalar(w), w);
        }
        assert_eq!(yaml_scalar("1.4"), "\"1.4\"");
        assert_eq!(yaml_scalar("0775"), "\"0775\"");
        assert_eq!(yaml_scalar("yes"), "\"yes\"");
        assert_eq!(yaml_scalar(""), "\"\"");
        assert_eq!(yaml_scalar("fd00::11"), "\"fd00::11\"");
        assert_eq!(yaml_scalar("-oProxyCommand=id"), "\"-oProxyCommand=id\"");
        assert_eq!(
            yaml_scalar("x{{ lookup('pipe','id') }}\"\\"),
            "!unsafe \"x{{ lookup('pipe','id') }}\\\"\\\\\""
        );
        assert_eq!(yaml_scalar("a\u{85}b"), "\"a\\u0085b\"");
    }

    #[test]
    fn properties_escape_as_java_reads() {
        assert_eq!(prop_value("a=b:c #d"), "a=b:c #d");
        assert_eq!(prop_value("  x\\y"), "\\ \\ x\\\\y");
        assert_eq!(prop_value("é😀"), "\\u00E9\\uD83D\\uDE00");
        assert_eq!(prop_key("#a b=c:d"), "\\#a\\ b\\=c\\:d");
        assert_eq!(prop_data_value("{{ vault_x }}"), "{\\{ vault_x }}");
        assert_eq!(prop_data_value("{{{ v }}"), "{\\{\\{ v }}");
        assert_eq!(prop_model_value("{{ vault_x }}"), "{{ vault_x }}");
        assert_eq!(prop_model_value("a{{ vault_x }}"), "a{\\{ vault_x }}");
        assert_eq!(prop_value("{{ vault_x }}"), "{{ vault_x }}");
    }

    #[test]
    fn vault_refs_take_names_only() {
        assert_eq!(
            vault_ref("vault_x").unwrap().to_string(),
            "\"{{ vault_x }}\""
        );
        assert!(vault_ref("x }}{{ lookup('pipe','id')").is_err());
    }

    #[test]
    fn sql_strings_are_data() {
        assert_eq!(sql_string(true, "a'b\\c"), "'a''b\\\\c'");
        assert_eq!(sql_string(false, "a'b\\c"), "'a''b\\c'");
        assert_eq!(
            sql_string(true, "http://x/'; DROP TABLE t; --"),
            "'http://x/''; DROP TABLE t; --'"
        );
    }
}
