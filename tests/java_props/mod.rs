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
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        // One logical line, its continuations joined.
        let mut line: Vec<char> = Vec::new();
        let mut skip_blank = true;
        let mut is_comment = false;
        let mut first = true;
        loop {
            if i >= chars.len() {
                break;
            }
            let c = chars[i];
            i += 1;
            if skip_blank && matches!(c, ' ' | '\t' | '\u{c}') {
                continue;
            }
            if skip_blank && !first && matches!(c, '\n' | '\r') {
                // A continuation onto a blank line: Java keeps skipping.
                if c == '\r' && chars.get(i) == Some(&'\n') {
                    i += 1;
                }
                continue;
            }
            skip_blank = false;
            if first && line.is_empty() && matches!(c, '#' | '!') {
                is_comment = true;
            }
            if c == '\n' || c == '\r' {
                if c == '\r' && chars.get(i) == Some(&'\n') {
                    i += 1;
                }
                let trailing = line.iter().rev().take_while(|&&b| b == '\\').count();
                if !is_comment && trailing % 2 == 1 && !line.is_empty() {
                    line.pop();
                    skip_blank = true;
                    first = false;
                    continue;
                }
                break;
            }
            line.push(c);
        }
        if is_comment || line.is_empty() {
            continue;
        }
        if i >= chars.len() {
            // End of text after a continuation backslash: Java drops that backslash.
            let trailing = line.iter().rev().take_while(|&&b| b == '\\').count();
            if trailing % 2 == 1 {
                line.pop();
            }
        }
        out.push(split(&line)?);
    }
    Ok(out)
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
}
