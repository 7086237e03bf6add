//! A strict reader of `.properties` text as `java.util.Properties.load(Reader)` reads it (the
//! JDK's LineReader and loadConvert): natural lines end at LF, CR or CRLF; blank lines and lines
//! whose first non-blank character is `#` or `!` are comments; leading blanks (space, tab, form
//! feed) of every natural line are skipped; a line ending in an odd number of backslashes
//! continues on the next one; the key ends at the first unescaped `=`, `:` or blank, after which
//! blanks, one `=` or `:`, and blanks again are skipped; `\t \n \r \f \uXXXX` are decoded and any
//! other escaped character stands for itself. A malformed `\u` escape is an error, as in Java.
#![allow(dead_code)]

/// Every key and value in file order (a later duplicate wins in Java; both are kept here).
pub fn load(text: &str) -> Result<Vec<(String, String)>, String> {
    logical_lines(text).iter().map(|l| split(l)).collect()
}

/// The logical lines of a text, as the JDK's `Properties.LineReader.readLine` (JDK 9+) returns
/// them: each one's continuations joined; an empty one (a lone `\\` at the end) is a line too.
/// A continuation onto a blank or empty natural line ends the logical line; while a logical line
/// is still empty, `#` or `!` starts a comment (also right after a continuation).
fn logical_lines(text: &str) -> Vec<Vec<char>> {
    let chars: Vec<char> = text.chars().collect();
    let blank = |c: char| matches!(c, ' ' | '\t' | '\u{c}');
    let eol = |c: char| c == '\n' || c == '\r';
    let mut lines = Vec::new();
    let mut i = 0;
    'lines: loop {
        let mut line: Vec<char> = Vec::new();
        let (mut skip, mut appended, mut backslash, mut skip_lf) = (true, false, false, false);
        loop {
            let Some(&c) = chars.get(i) else {
                if !line.is_empty() {
                    if backslash {
                        line.pop();
                    }
                    lines.push(line);
                }
                break 'lines;
            };
            i += 1;
            if std::mem::take(&mut skip_lf) && c == '\n' {
                continue;
            }
            if skip {
                if blank(c) || (!appended && eol(c)) {
                    continue;
                }
                skip = false;
                appended = false;
            }
            if line.is_empty() && (c == '#' || c == '!') {
                // A comment: the rest of the natural line, its line end included.
                while i < chars.len() && !eol(chars[i]) {
                    i += 1;
                }
                if i >= chars.len() {
                    break 'lines;
                }
                i += 1;
                skip = true;
                continue;
            }
            if !eol(c) {
                line.push(c);
                backslash = c == '\\' && !backslash;
                continue;
            }
            if line.is_empty() {
                skip = true;
                continue;
            }
            if i >= chars.len() {
                if backslash {
                    line.pop();
                }
                lines.push(line);
                break 'lines;
            }
            if backslash {
                line.pop();
                (skip, appended, backslash, skip_lf) = (true, true, false, c == '\r');
                continue;
            }
            lines.push(line);
            continue 'lines;
        }
    }
    lines
}

/// The value of `key` (the last one, as Java keeps).
pub fn get(text: &str, key: &str) -> Option<String> {
    load(text)
        .unwrap_or_else(|e| panic!("not a properties text: {e}"))
        .into_iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn split(line: &[char]) -> Result<(String, String), String> {
    let mut key_len = 0;
    let mut value_start = line.len();
    let mut has_sep = false;
    let mut backslash = false;
    while key_len < line.len() {
        let c = line[key_len];
        if (c == '=' || c == ':') && !backslash {
            value_start = key_len + 1;
            has_sep = true;
            break;
        } else if matches!(c, ' ' | '\t' | '\u{c}') && !backslash {
            value_start = key_len + 1;
            break;
        }
        backslash = c == '\\' && !backslash;
        key_len += 1;
    }
    while value_start < line.len() {
        let c = line[value_start];
        if !matches!(c, ' ' | '\t' | '\u{c}') {
            if !has_sep && (c == '=' || c == ':') {
                has_sep = true;
            } else {
                break;
            }
        }
        value_start += 1;
    }
    Ok((
        convert(&line[..key_len])?,
        convert(&line[value_start.min(line.len())..])?,
    ))
}

fn convert(s: &[char]) -> Result<String, String> {
    let mut units: Vec<u16> = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != '\\' {
            let mut buf = [0u16; 2];
            units.extend_from_slice(c.encode_utf16(&mut buf));
            continue;
        }
        let Some(&e) = s.get(i) else {
            // A lone trailing backslash (only at the end of the text) is dropped.
            break;
        };
        i += 1;
        match e {
            'u' => {
                let hex: String = s
                    .get(i..i + 4)
                    .ok_or("malformed \\uxxxx encoding")?
                    .iter()
                    .collect();
                let v = u16::from_str_radix(&hex, 16).map_err(|_| "malformed \\uxxxx encoding")?;
                units.push(v);
                i += 4;
            }
            't' => units.push(9),
            'n' => units.push(10),
            'r' => units.push(13),
            'f' => units.push(12),
            other => {
                let mut buf = [0u16; 2];
                units.extend_from_slice(other.encode_utf16(&mut buf));
            }
        }
    }
    String::from_utf16(&units).map_err(|e| e.to_string())
}

#[test]
fn reads_as_java_does() {
    let text = "# c\n  ! c2\n a\\ b = x\\ty \\\n   z\nk:v\nk2 v2\nk3\\=\\:=\\u00e9\\\\\n\\#k=\\ lead\ne=\n";
    let got = load(text).unwrap();
    assert_eq!(
        got,
        vec![
            ("a b".into(), "x\ty z".into()),
            ("k".into(), "v".into()),
            ("k2".into(), "v2".into()),
            ("k3=:".into(), "é\\".into()),
            ("#k".into(), " lead".into()),
            ("e".into(), "".into()),
        ]
    );
    assert!(load("k=\\u12\n").is_err());
    // Read by the JDK 17 and 25 on the build machine (tests/bed/props_check.py finds such cases):
    // a continuation onto a blank line ends the logical line; a comment mark right after an
    // empty continuation starts a comment; a lone backslash at the end is an empty key.
    let pairs = |t: &str| load(t).unwrap();
    let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(pairs("a\\\n\nb=c\n"), vec![kv("a", ""), kv("b", "c")]);
    assert_eq!(pairs("a\\\n   \n b=c\n"), vec![kv("a", ""), kv("b", "c")]);
    assert_eq!(pairs("\\\n!kx=y\n"), vec![]);
    assert_eq!(pairs("\\"), vec![kv("", "")]);
    assert_eq!(pairs("\\\r\n"), vec![]);
    assert_eq!(pairs("k=v\\\r\n  w\r\n"), vec![kv("k", "vw")]);
}
