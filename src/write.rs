//! Stage 5, write: the rendered files → OUT on disk, as a tool trusted with an infra repo must.
//!
//! - A manifest, `OUT/.linkis-gen/manifest`, lists every file linkis-gen wrote, with its mode and
//!   SHA-256. A re-render removes the files of the previous manifest that are no longer produced
//!   (and the directories that leaves empty) and never touches a file it did not write.
//! - Writing is staged: every file is first written to a temporary file beside its target; only when
//!   all of them were written are they renamed into place (a reader sees the old file or the new one,
//!   never half of one), then stale files are removed and the manifest is written last. A failure
//!   while staging removes the temporary files and leaves OUT as it was.
//! - Files whose content and mode are already right are not rewritten, so their mtimes stay.
//! - `check` compares without writing, for `render --check`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::render::OutFile;

/// Where the manifest lives, relative to OUT.
pub const MANIFEST: &str = ".linkis-gen/manifest";
const MANIFEST_HEADER: &str =
    "# linkis-gen manifest v1: mode sha256 path of every file linkis-gen wrote here; do not edit";
const TMP_SUFFIX: &str = ".linkis-gen-tmp";

/// One manifest line: a file linkis-gen wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub mode: u32,
    pub sha256: String,
}

/// `path → entry`, sorted.
pub type Manifest = BTreeMap<String, Entry>;

pub use crate::state::sha256;

/// The manifest of a set of rendered files.
pub fn manifest_of(files: &[OutFile]) -> Manifest {
    files
        .iter()
        .map(|f| {
            (
                f.path.clone(),
                Entry {
                    mode: f.mode,
                    sha256: sha256(f.contents.as_bytes()),
                },
            )
        })
        .collect()
}

/// The manifest's text: a header line, then `mode sha256 path` per file, sorted by path.
pub fn manifest_text(m: &Manifest) -> String {
    let mut s = String::from(MANIFEST_HEADER);
    s.push('\n');
    for (path, e) in m {
        let _ = writeln!(s, "{:04o} {} {path}", e.mode, e.sha256);
    }
    s
}

/// Reads OUT's manifest; an absent manifest is an empty one. Lines that do not parse are ignored
/// (the files they named are then left alone, never deleted).
pub fn read_manifest(out: &Path) -> io::Result<Manifest> {
    let text = match fs::read_to_string(out.join(MANIFEST)) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Manifest::new()),
        Err(e) => return Err(e),
    };
    let mut m = Manifest::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut parts = line.splitn(3, ' ');
        let (Some(mode), Some(hash), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let Ok(mode) = u32::from_str_radix(mode, 8) else {
            continue;
        };
        if hash.len() == 64 && is_safe_relative(path) {
            m.insert(
                path.to_string(),
                Entry {
                    mode,
                    sha256: hash.to_string(),
                },
            );
        }
    }
    Ok(m)
}

/// A relative path with no `..`, no absolute part, and not inside `.git`: the only kind of path the
/// writer creates or removes.
fn is_safe_relative(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && p.split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && c != ".git")
}

/// What the writer did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub written: usize,
    pub unchanged: usize,
    pub removed: Vec<String>,
}

#[derive(Debug)]
pub enum WriteError {
    Io {
        path: PathBuf,
        error: io::Error,
    },
    /// Files in OUT at paths linkis-gen would write, that it did not write before.
    Foreign(Vec<String>),
    /// A rendered path that is not a safe relative path (a bug, reported rather than followed).
    BadPath(String),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            WriteError::Foreign(paths) => write!(
                f,
                "OUT already holds files that linkis-gen did not write at paths it would write: {}; \
                 move them away (or render into an empty directory)",
                paths.join(", ")
            ),
            WriteError::BadPath(p) => write!(f, "refusing to write outside OUT: {p}"),
        }
    }
}

impl std::error::Error for WriteError {}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
    move |error| WriteError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// The current state of a path in OUT: its bytes and mode, or None when absent.
fn current(path: &Path) -> io::Result<Option<(Vec<u8>, u32)>> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => {
            Ok(Some((fs::read(path)?, meta.permissions().mode() & 0o7777)))
        }
        Ok(_) => Ok(Some((Vec::new(), u32::MAX))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes the rendered files into OUT (see the module docs for the guarantees).
pub fn write(out: &Path, files: &[OutFile]) -> Result<Summary, WriteError> {
    for f in files {
        // applied.json is the playbooks' (what runs): a render never writes it.
        if !is_safe_relative(&f.path) || f.path == MANIFEST || f.path == crate::state::APPLIED {
            return Err(WriteError::BadPath(f.path.clone()));
        }
    }
    let old = read_manifest(out).map_err(io_err(&out.join(MANIFEST)))?;

    // 1. Decide what changes; refuse to overwrite files linkis-gen did not write.
    let mut todo: Vec<&OutFile> = Vec::new();
    let mut foreign = Vec::new();
    let mut summary = Summary::default();
    for f in files {
        let dest = out.join(&f.path);
        if fs::symlink_metadata(&dest).is_ok_and(|m| m.is_dir()) {
            return Err(WriteError::Io {
                path: dest,
                error: io::Error::other("a directory is where this generated file goes"),
            });
        }
        match current(&dest).map_err(io_err(&dest))? {
            Some((bytes, mode)) if bytes == f.contents.as_bytes() && mode == f.mode => {
                summary.unchanged += 1
            }
            Some((bytes, _)) if !old.contains_key(&f.path) && bytes != f.contents.as_bytes() => {
                foreign.push(f.path.clone())
            }
            _ => todo.push(f),
        }
    }
    if !foreign.is_empty() {
        foreign.truncate(10);
        return Err(WriteError::Foreign(foreign));
    }

    // 2. Stage every changed file beside its target; on any failure remove what was staged.
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::with_capacity(todo.len());
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    let stage = |f: &OutFile, staged: &mut Vec<(PathBuf, PathBuf)>, created: &mut Vec<PathBuf>| {
        let dest = out.join(&f.path);
        let parent = dest.parent().unwrap_or(out).to_path_buf();
        if !parent.is_dir() {
            let mut missing = Vec::new();
            let mut p = parent.as_path();
            // Up to the first directory that exists (OUT itself, if it does not exist yet), so
            // that a failed render removes every directory it created, OUT included.
            while !p.as_os_str().is_empty() && fs::symlink_metadata(p).is_err() {
                missing.push(p.to_path_buf());
                match p.parent() {
                    Some(parent) => p = parent,
                    None => break,
                }
            }
            fs::create_dir_all(&parent).map_err(io_err(&parent))?;
            created.extend(missing);
        }
        let tmp = tmp_path(&dest);
        fs::write(&tmp, &f.contents).map_err(io_err(&tmp))?;
        staged.push((tmp.clone(), dest));
        fs::set_permissions(&tmp, fs::Permissions::from_mode(f.mode)).map_err(io_err(&tmp))?;
        Ok::<(), WriteError>(())
    };
    for f in &todo {
        if let Err(e) = stage(f, &mut staged, &mut created_dirs) {
            for (tmp, _) in &staged {
                let _ = fs::remove_file(tmp);
            }
            created_dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
            for d in &created_dirs {
                let _ = fs::remove_dir(d);
            }
            return Err(e);
        }
    }

    // 3. Rename into place: each reader sees a whole old or a whole new file.
    for (i, (tmp, dest)) in staged.iter().enumerate() {
        if let Err(e) = fs::rename(tmp, dest) {
            for (t, _) in &staged[i..] {
                let _ = fs::remove_file(t);
            }
            return Err(io_err(dest)(e));
        }
        summary.written += 1;
    }

    // 4. Remove what the previous render wrote and this one does not produce.
    let produced: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for path in old.keys().filter(|p| !produced.contains(p.as_str())) {
        let dest = out.join(path);
        // Only a file (or a symlink put in its place) is removed, never a directory there now.
        if fs::symlink_metadata(&dest).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        match fs::remove_file(&dest) {
            Ok(()) => summary.removed.push(path.clone()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&dest)(e)),
        }
        // Directories the removal emptied go too (never OUT itself, never a non-empty one).
        let mut dir = dest.parent();
        while let Some(d) = dir {
            if d == out || fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }

    // 5. The manifest, last.
    let manifest = out.join(MANIFEST);
    let text = manifest_text(&manifest_of(files));
    if fs::read_to_string(&manifest).ok().as_deref() != Some(text.as_str()) {
        if let Some(dir) = manifest.parent() {
            fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        let tmp = tmp_path(&manifest);
        fs::write(&tmp, &text).map_err(io_err(&tmp))?;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o644)).map_err(io_err(&tmp))?;
        fs::rename(&tmp, &manifest).map_err(io_err(&manifest))?;
    }
    Ok(summary)
}

fn tmp_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(TMP_SUFFIX);
    dest.with_file_name(format!(".{}", name.to_string_lossy()))
}

/// One difference between the rendered tree and OUT. Each carries a unified diff (OUT → rendered,
/// `a/` is OUT, `b/` the render, `/dev/null` for an absent side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// The file's content differs.
    Changed { path: String, diff: String },
    /// Same content, different mode.
    Mode { path: String, have: u32, want: u32 },
    /// The file is rendered but absent from OUT.
    Missing { path: String, diff: String },
    /// OUT holds a file a previous render wrote that this render no longer produces.
    Extra { path: String, diff: String },
    /// A file under `hosts/<host>/` that linkis-gen never wrote: the configure role would deploy
    /// it to that host.
    Stray { path: String },
    /// The manifest is absent or does not list exactly the rendered files, so the next render
    /// would rewrite it (and could not remove what it does not list).
    Manifest { diff: String },
}

impl Drift {
    pub fn path(&self) -> &str {
        match self {
            Drift::Changed { path, .. }
            | Drift::Mode { path, .. }
            | Drift::Missing { path, .. }
            | Drift::Extra { path, .. }
            | Drift::Stray { path } => path,
            Drift::Manifest { .. } => MANIFEST,
        }
    }
}

/// A unified diff of one file; `None` is an absent side.
fn unified(path: &str, have: Option<&str>, want: Option<&str>) -> String {
    let a = have.map_or_else(|| "/dev/null".to_string(), |_| format!("a/{path}"));
    let b = want.map_or_else(|| "/dev/null".to_string(), |_| format!("b/{path}"));
    let mut d = similar::TextDiff::from_lines(have.unwrap_or(""), want.unwrap_or(""))
        .unified_diff()
        .context_radius(3)
        .header(&a, &b)
        .to_string();
    if !d.is_empty() && !d.ends_with('\n') {
        d.push_str("\n\\ No newline at end of file\n");
    }
    d
}

/// Compares the rendered files with OUT without writing anything. Empty = no drift.
pub fn check(out: &Path, files: &[OutFile]) -> Result<Vec<Drift>, WriteError> {
    let old = read_manifest(out).map_err(io_err(&out.join(MANIFEST)))?;
    let mut drift = Vec::new();
    for f in files {
        let dest = out.join(&f.path);
        match current(&dest).map_err(io_err(&dest))? {
            None => drift.push(Drift::Missing {
                path: f.path.clone(),
                diff: unified(&f.path, None, Some(&f.contents)),
            }),
            Some((bytes, mode)) => {
                if bytes != f.contents.as_bytes() {
                    let have = String::from_utf8_lossy(&bytes);
                    drift.push(Drift::Changed {
                        path: f.path.clone(),
                        diff: unified(&f.path, Some(&have), Some(&f.contents)),
                    });
                } else if mode != f.mode {
                    drift.push(Drift::Mode {
                        path: f.path.clone(),
                        have: mode,
                        want: f.mode,
                    });
                }
            }
        }
    }
    let produced: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for path in old.keys().filter(|p| !produced.contains(p.as_str())) {
        let dest = out.join(path);
        if let Some((bytes, _)) = current(&dest).map_err(io_err(&dest))? {
            let have = String::from_utf8_lossy(&bytes);
            drift.push(Drift::Extra {
                path: path.clone(),
                diff: unified(path, Some(&have), None),
            });
        }
    }
    let want = manifest_text(&manifest_of(files));
    let manifest = out.join(MANIFEST);
    match current(&manifest).map_err(io_err(&manifest))? {
        Some((bytes, _)) if bytes == want.as_bytes() => {}
        Some((bytes, _)) => drift.push(Drift::Manifest {
            diff: unified(
                MANIFEST,
                Some(&String::from_utf8_lossy(&bytes)),
                Some(&want),
            ),
        }),
        None => drift.push(Drift::Manifest {
            diff: unified(MANIFEST, None, Some(&want)),
        }),
    }
    let known: BTreeSet<&str> = produced
        .iter()
        .copied()
        .chain(old.keys().map(String::as_str))
        .collect();
    drift.extend(strays(out, &known)?);
    drift.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(drift)
}

/// The drift report printed by `render --check`: a line naming each difference, then its diff.
pub fn drift_report(drift: &[Drift]) -> String {
    let mut s = String::new();
    for d in drift {
        match d {
            Drift::Changed { path, diff } => {
                let _ = writeln!(s, "changed: {path} differs from the rendered file");
                s.push_str(diff);
            }
            Drift::Mode { path, have, want } => {
                let _ = writeln!(s, "mode of {path}: {have:04o} in OUT, {want:04o} rendered");
            }
            Drift::Missing { path, diff } => {
                let _ = writeln!(s, "missing: {path} is rendered but not in OUT");
                s.push_str(diff);
            }
            Drift::Extra { path, diff } => {
                let _ = writeln!(
                    s,
                    "extra: {path} was generated before and is no longer rendered"
                );
                s.push_str(diff);
            }
            Drift::Stray { path } => {
                let _ = writeln!(
                    s,
                    "stray: {path} was not written by linkis-gen, and the configure role would deploy it to the host; remove it or put it in the spec"
                );
            }
            Drift::Manifest { diff } => {
                let _ = writeln!(
                    s,
                    "manifest: {MANIFEST} does not list exactly the rendered files"
                );
                s.push_str(diff);
            }
        }
    }
    s
}

/// Every file (or symlink) in a rendered host's `conf/`, `sbin/` or `systemd/` under `OUT/hosts/`
/// that is neither rendered nor listed in the manifest (a file of an earlier render is `Extra`):
/// linkis_configure copies the host's whole `conf/` and `sbin/`, linkis_units its `systemd/`, so a
/// file put there by hand would reach the host. Paths with `/`.
fn strays(out: &Path, known: &BTreeSet<&str>) -> Result<Vec<Drift>, WriteError> {
    let hosts: BTreeSet<&str> = known
        .iter()
        .filter_map(|p| p.strip_prefix("hosts/")?.split_once('/').map(|(h, _)| h))
        .collect();
    let mut found = Vec::new();
    for h in hosts {
        for sub in ["conf", "sbin", "systemd"] {
            let dir = out.join("hosts").join(h).join(sub);
            if !dir.is_dir() {
                continue;
            }
            for entry in walkdir::WalkDir::new(&dir).sort_by_file_name() {
                let entry = entry.map_err(|e| {
                    let path = e.path().unwrap_or(&dir).to_path_buf();
                    WriteError::Io {
                        error: e
                            .into_io_error()
                            .unwrap_or_else(|| io::Error::other("walk")),
                        path,
                    }
                })?;
                if entry.file_type().is_dir() {
                    continue;
                }
                let Ok(rel) = entry.path().strip_prefix(out) else {
                    continue;
                };
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                let rel = rel.join("/");
                if !known.contains(rel.as_str()) {
                    found.push(Drift::Stray { path: rel });
                }
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips_and_ignores_unsafe_paths() {
        let files = vec![
            OutFile::new("a/b.sh", "#!/bin/sh\n"),
            OutFile::new("c.yml", "x: 1\n"),
        ];
        let text = manifest_text(&manifest_of(&files));
        assert!(text.contains("0755 "), "{text}");
        let dir = std::env::temp_dir().join(format!("lg-manifest-{}", std::process::id()));
        fs::create_dir_all(dir.join(".linkis-gen")).unwrap();
        let evil = format!(
            "{text}0644 {} ../escape\n0644 {} .git/config\n",
            "0".repeat(64),
            "0".repeat(64)
        );
        fs::write(dir.join(MANIFEST), evil).unwrap();
        let back = read_manifest(&dir).unwrap();
        assert_eq!(back, manifest_of(&files));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sha256_is_the_standard_one() {
        assert_eq!(
            sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn unsafe_rendered_paths_are_refused() {
        let dir = std::env::temp_dir().join(format!("lg-unsafe-{}", std::process::id()));
        for p in [
            "../x",
            "/etc/passwd",
            "a/../../x",
            ".git/config",
            MANIFEST,
            crate::state::APPLIED,
        ] {
            let r = write(&dir, &[OutFile::new(p, "x")]);
            assert!(matches!(r, Err(WriteError::BadPath(_))), "{p}");
        }
        let _ = fs::remove_dir_all(&dir);
    }
}
