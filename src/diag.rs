//! Diagnostics: what every stage reports to the user.
//!
//! A diagnostic names its check (`duplicate-host-name`), the spec path (`hosts[3].ports.gateway`),
//! what is wrong and a hint. The position (`FILE:LINE:COLUMN`) comes from the spec's source index
//! when the diagnostic is printed, so stages after loading only need to know the path.

use std::fmt::Write as _;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// What printing a diagnostic needs from the spec's text: its name, where a spec path is, and
/// the text of a line. `load::Source` implements it; a trait so that diag does not depend on load.
pub trait SpecText {
    /// The name used in messages (the path as the user gave it).
    fn name(&self) -> &str;
    /// The 1-based (line, column) of a spec path, or of its nearest ancestor in the file.
    fn position(&self, path: &str, anchor: Anchor) -> Option<(usize, usize)>;
    /// The 1-based line of the text, when it is fit to show.
    fn line(&self, line: usize) -> Option<&str>;
}

/// Where in the node a diagnostic points: at its key (`gatewy:`) or at its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Anchor {
    Key,
    Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The named check that produced it, e.g. `port-clash`.
    pub check: &'static str,
    /// The spec path, e.g. `hosts[3].ports.gateway`; empty for the whole document.
    pub path: String,
    pub message: String,
    pub hint: Option<String>,
    pub anchor: Anchor,
    /// An explicit position (line, column), 1-based, for errors found before the index exists
    /// (YAML syntax, encoding). Otherwise the position comes from `path`.
    pub pos: Option<(usize, usize)>,
    /// The source line is not shown (it holds a secret the user wrote in clear).
    pub redacted: bool,
    /// The mistake is in no one place (a missing section, a file too large): the diagnostic says
    /// it has no position instead of pointing at an unrelated line.
    pub whole_file: bool,
}

impl Diagnostic {
    pub fn error(check: &'static str, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            check,
            path: path.into(),
            message: message.into(),
            hint: None,
            anchor: Anchor::Value,
            pos: None,
            redacted: false,
            whole_file: false,
        }
    }

    pub fn warning(
        check: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(check, path, message)
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn at_key(mut self) -> Self {
        self.anchor = Anchor::Key;
        self
    }

    pub fn at(mut self, line: usize, col: usize) -> Self {
        self.pos = Some((line, col));
        self
    }

    /// Says the diagnostic has no position in the file.
    pub fn whole_file(mut self) -> Self {
        self.whole_file = true;
        self
    }

    /// Hides the source line: the value there is a secret and must not reach logs.
    pub fn redacted(mut self) -> Self {
        self.redacted = true;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders the diagnostic as the user sees it:
    ///
    /// ```text
    /// error[port-clash]: hosts[2].ports.gateway: port 9101 is already taken by linkismanager on s3
    ///   --> spec.yaml:14:22
    ///    |
    /// 14 |     ports: { gateway: 9101 }
    ///    |                       ^
    ///    = hint: pick a free port
    /// ```
    pub fn render(&self, src: &dyn SpecText) -> String {
        let mut out = String::new();
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = write!(out, "{level}[{}]: ", self.check);
        if !self.path.is_empty() {
            let _ = write!(out, "{}: ", self.path);
        }
        let _ = writeln!(out, "{}", shorten(&self.message, 400));
        let pos = match self.whole_file {
            true => None,
            false => self.pos.or_else(|| src.position(&self.path, self.anchor)),
        };
        match pos {
            Some(pos) => out.push_str(&excerpt(src, pos, !self.redacted)),
            None => {
                let _ = writeln!(out, "  --> {} (no position: {NO_POSITION})", src.name());
            }
        }
        if let Some(h) = &self.hint {
            let pad = pos.map_or(1, |(line, _)| line.to_string().len());
            let _ = writeln!(out, "{} = hint: {h}", " ".repeat(pad));
        }
        out
    }
}

/// What a diagnostic without a position says instead of `LINE:COLUMN`.
pub const NO_POSITION: &str = "this concerns the whole file";

/// At most this many diagnostics are printed in full; the summary line still counts them all.
pub const MAX_SHOWN: usize = 50;

/// Renders a list of diagnostics, errors first then warnings, each in input order, with a summary.
pub fn render_all(diags: &[Diagnostic], src: &dyn SpecText) -> String {
    // Errors first, then warnings; each in the order of the spec's lines, after what concerns the
    // whole file (a missing section); what has no place at all comes last.
    let mut sorted: Vec<&Diagnostic> = diags.iter().collect();
    sorted.sort_by_key(|d| {
        let pos = match d.whole_file {
            true => Some((0, 0)),
            false => d.pos.or_else(|| src.position(&d.path, d.anchor)),
        };
        (d.severity, pos.unwrap_or((usize::MAX, usize::MAX)))
    });
    let mut out = String::new();
    for d in sorted.iter().take(MAX_SHOWN) {
        out.push_str(&d.render(src));
        out.push('\n');
    }
    if sorted.len() > MAX_SHOWN {
        let _ = writeln!(
            out,
            "... and {} more (only the first {MAX_SHOWN} are shown)\n",
            sorted.len() - MAX_SHOWN
        );
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    if errors > 0 {
        let _ = writeln!(
            out,
            "{}: {errors} error{}, {warnings} warning{}",
            src.name(),
            plural(errors),
            plural(warnings)
        );
    }
    out
}

/// Cuts a message that echoes a huge value (a 5 MB name) to `max` characters.
fn shorten(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}… ({} more bytes)", &s[..i], s.len() - i).into(),
        None => s.into(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Joins a map key onto a spec path: `hosts[0]` + `name` = `hosts[0].name`; keys that are not plain
/// words are quoted: `overrides["linkis.properties"]`.
pub fn join_key(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (parent.is_empty(), plain) {
        (true, true) => key.to_string(),
        (false, true) => format!("{parent}.{key}"),
        (_, false) => format!("{parent}[{key:?}]"),
    }
}

/// Joins a sequence index onto a spec path: `hosts` + 3 = `hosts[3]`.
pub fn join_index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

/// The valid word closest to `word` (edit distance), if it is close enough to be a likely typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(&word.to_ascii_lowercase(), &c.to_ascii_lowercase());
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let (d, c) = best?;
    let limit = (word.chars().count().max(c.len()) / 3).max(2);
    (d <= limit).then_some(c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Where a spec position is, as a diagnostic shows it: `  --> FILE:LINE:COLUMN`, then the source
/// line with a caret under the column (when `show_line` and the line is fit to show).
pub fn excerpt(src: &dyn SpecText, (line, col): (usize, usize), show_line: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "  --> {}:{line}:{col}", src.name());
    if let Some(text) = src.line(line).filter(|_| show_line) {
        let num = line.to_string();
        let pad = " ".repeat(num.len());
        let caret = " ".repeat(text.chars().take(col.saturating_sub(1)).count());
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{num} | {text}");
        let _ = writeln!(out, "{pad} | {caret}^");
    }
    out
}

/// The `n` candidates closest to `word` (edit distance, then name), for a "did you mean" hint.
pub fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    n: usize,
) -> Vec<&'a str> {
    let w = word.to_ascii_lowercase();
    let mut all: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| (edit_distance(&w, &c.to_ascii_lowercase()), c))
        .collect();
    all.sort();
    all.dedup();
    all.into_iter().take(n).map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_finds_typos_but_not_strangers() {
        let keys = ["name", "address", "memory", "ports"];
        assert_eq!(nearest("adress", keys), Some("address"));
        assert_eq!(nearest("memroy", keys), Some("memory"));
        assert_eq!(nearest("zzzzzzzzzz", keys), None);
    }

    #[test]
    fn paths_quote_keys_that_are_not_words() {
        assert_eq!(join_key("", "hosts"), "hosts");
        assert_eq!(join_key("hosts[3]", "ports"), "hosts[3].ports");
        assert_eq!(
            join_key("overrides", "linkis.properties"),
            "overrides[\"linkis.properties\"]"
        );
        assert_eq!(join_index("hosts", 3), "hosts[3]");
    }
}
