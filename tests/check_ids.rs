//! One list of check ids: docs/output.md's "Check ids" names exactly the ids src/ emits
//! (`Diagnostic::error("id", ...)` / `Diagnostic::warning("id", ...)`), and the ids the test corpus
//! shows users are among them.

use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every id written as the first argument of `Diagnostic::error`/`warning` (or of a helper that
/// passes it on) in src/.
fn emitted_in_src() -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for e in walkdir::WalkDir::new(root().join("src")) {
        let e = e.unwrap();
        if e.path().extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).unwrap();
        // validate.rs' too_old() builds the "it came in X" errors from the id it is given.
        for ctor in ["Diagnostic::error(", "Diagnostic::warning(", "too_old("] {
            for (i, _) in text.match_indices(ctor) {
                let rest = text[i + ctor.len()..].trim_start();
                if let Some(lit) = rest.strip_prefix('"') {
                    ids.insert(lit[..lit.find('"').unwrap()].to_string());
                }
            }
        }
    }
    ids
}

/// The ids listed under "## Check ids" in docs/output.md (each `- ` line's backticked words).
fn documented() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(root().join("docs/output.md")).unwrap();
    let section = doc
        .split("\n## Check ids\n")
        .nth(1)
        .expect("a Check ids section");
    let section = section.split("\n## ").next().unwrap();
    let mut ids = BTreeSet::new();
    for line in section.lines().filter(|l| l.starts_with("- ")) {
        let names = line.split(" — ").next().unwrap();
        for (k, part) in names.split('`').enumerate() {
            if k % 2 == 1 {
                ids.insert(part.to_string());
            }
        }
    }
    ids
}

#[test]
fn the_documented_ids_are_exactly_the_emitted_ones() {
    let src = emitted_in_src();
    let doc = documented();
    assert!(src.len() > 50, "{src:?}");
    let undocumented: Vec<_> = src.difference(&doc).collect();
    let stale: Vec<_> = doc.difference(&src).collect();
    assert!(
        undocumented.is_empty(),
        "emitted but not in docs/output.md: {undocumented:?}"
    );
    assert!(
        stale.is_empty(),
        "in docs/output.md but never emitted: {stale:?}"
    );
}

#[test]
fn every_id_users_see_in_the_corpora_is_a_listed_one() {
    let doc = documented();
    let mut seen = BTreeSet::new();
    for dir in ["tests/bad", "tests/hostile"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let bytes = std::fs::read(e.unwrap().path()).unwrap();
            let src = linkis_gen::load::Source::new("t.yaml", bytes);
            let diags = match linkis_gen::plan(&src) {
                Ok(p) => p.warnings,
                Err(d) => d,
            };
            seen.extend(diags.iter().map(|d| d.check.to_string()));
        }
    }
    assert!(seen.len() > 20, "{seen:?}");
    let unlisted: Vec<_> = seen.difference(&doc).collect();
    assert!(unlisted.is_empty(), "{unlisted:?}");
}
