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

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read as _, Write as _};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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
    match fs::read_to_string(out.join(MANIFEST)) {
        Ok(t) => Ok(parse_manifest(&t)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Manifest::new()),
        Err(e) => Err(e),
    }
}

/// The entries of a manifest's text (see `read_manifest`).
fn parse_manifest(text: &str) -> Manifest {
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
    m
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
    /// A symbolic link on a path linkis-gen would write or remove (OUT itself, a directory
    /// below it, or a file): refused, so that nothing is written outside OUT.
    Symlink {
        path: PathBuf,
        target: Option<PathBuf>,
    },
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
            WriteError::Symlink { path, target } => {
                write!(f, "{} is a symbolic link", path.display())?;
                if let Some(t) = target {
                    write!(f, " (to {})", t.display())?;
                }
                write!(
                    f,
                    "; linkis-gen writes and removes files only inside OUT and never through a \
                     link, so nothing was written: replace the link by a directory (or give the \
                     real directory as OUT)"
                )
            }
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

fn symlink_err(path: PathBuf) -> WriteError {
    let target = fs::read_link(&path).ok();
    WriteError::Symlink { path, target }
}

/// A path in OUT as found by one `lstat`.
enum Found {
    Absent,
    File(fs::Metadata),
    Dir,
}

/// One `lstat` of a path in OUT; a symbolic link is an error naming it.
fn lstat(path: &Path) -> Result<Found, WriteError> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(symlink_err(path.to_path_buf())),
        Ok(m) if m.is_dir() => Ok(Found::Dir),
        Ok(m) => Ok(Found::File(m)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Found::Absent),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// Reads a file whose size is known (no second `stat`, as `fs::read` makes); the bytes read up
/// to one past that size, so that a file that grew meanwhile still compares as different.
fn read_known(path: &Path, size: u64) -> io::Result<Vec<u8>> {
    let file = fs::File::open(path)?;
    let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0).saturating_add(1));
    file.take(size.saturating_add(1)).read_to_end(&mut buf)?;
    Ok(buf)
}

/// The directories of OUT, each looked at once: every directory from OUT down to a file is
/// checked (a symbolic link is refused) the first time a path below it is written or removed.
struct Dirs {
    out: PathBuf,
    /// Relative directory → whether it exists (`""` is OUT).
    known: HashMap<String, bool>,
    /// OUT was created empty by this run: a directory not in `known` is absent (no `lstat`).
    empty: bool,
}

impl Dirs {
    fn new(out: &Path) -> Dirs {
        Dirs {
            out: out.to_path_buf(),
            known: HashMap::from([(String::new(), true)]),
            empty: false,
        }
    }

    /// The directories of `out`, a directory this run has just created.
    fn new_empty(out: &Path) -> Dirs {
        Dirs {
            empty: true,
            ..Dirs::new(out)
        }
    }

    /// Whether the directory `rel` exists, checking it and every directory above it once.
    fn exists(&mut self, rel: &str) -> Result<bool, WriteError> {
        if let Some(&e) = self.known.get(rel) {
            return Ok(e);
        }
        if self.empty {
            return Ok(false);
        }
        let parent = rel.rsplit_once('/').map_or("", |(p, _)| p);
        let exists = self.exists(parent)?
            && match lstat(&self.out.join(rel))? {
                Found::Dir => true,
                Found::Absent => false,
                Found::File(_) => {
                    return Err(WriteError::Io {
                        path: self.out.join(rel),
                        error: io::Error::other(
                            "a file is where a directory of generated files goes",
                        ),
                    });
                }
            };
        self.known.insert(rel.to_string(), exists);
        Ok(exists)
    }

    /// Creates `rel` and the directories above it that are missing, recording each one created.
    fn create(&mut self, rel: &str, created: &mut Vec<PathBuf>) -> Result<(), WriteError> {
        if self.exists(rel)? {
            return Ok(());
        }
        let parent = rel.rsplit_once('/').map_or("", |(p, _)| p);
        self.create(parent, created)?;
        let path = self.out.join(rel);
        fs::create_dir(&path).map_err(io_err(&path))?;
        created.push(path);
        self.known.insert(rel.to_string(), true);
        Ok(())
    }
}

/// The directory part of a relative path (`""` for a file directly in OUT).
fn dir_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

/// The permission bits the process' umask removes, found once per run by creating a directory
/// (`probe`, removed again unless it is the caller's own) with mode 0777 and reading it back.
fn umask_of(probe: &Path, keep: bool) -> io::Result<u32> {
    if !keep {
        fs::create_dir(probe)?;
    }
    let mode = fs::symlink_metadata(probe).map(|m| m.permissions().mode() & 0o777);
    if !keep {
        let _ = fs::remove_dir(probe);
    }
    Ok(!mode? & 0o777)
}

/// Creates a file with its mode and contents (no separate `chmod` unless the umask would take
/// bits of that mode away). `create_new`: never opens through a link left at that name.
fn create_file(path: &Path, contents: &[u8], mode: u32, umask: u32) -> io::Result<Meta> {
    let mut file = open_new(path, mode, umask)?;
    file.write_all(contents)?;
    // The size and mtime the stamp records (fstat on the open file, no path lookup).
    file.metadata().map(|m| Meta::of(&m))
}

/// Creates a new file with its mode (see `create_file`), open for writing.
fn open_new(path: &Path, mode: u32, umask: u32) -> io::Result<fs::File> {
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    if mode & umask != 0 {
        file.set_permissions(fs::Permissions::from_mode(mode))?;
    }
    Ok(file)
}

/// A writer that digests (SHA-256) what it writes.
struct Digesting<W> {
    out: W,
    sha: sha2::Sha256,
}

impl<W: io::Write> io::Write for Digesting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        sha2::Digest::update(&mut self.sha, &buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Where the stamp lives, relative to OUT: what the last render read (a digest of its inputs)
/// and the size, mtime and mode of every file it left, so that a render of the same inputs over
/// an untouched tree stops after validation (`noop`). Local to a checkout (mtimes are), not in
/// the manifest, not for the repository; any render rewrites it and `render --check` ignores it.
pub const STAMP: &str = ".linkis-gen/stamp";
const STAMP_HEADER: &str = "# linkis-gen stamp v1: inputs digest, change summary, then size mtime mode path of \
     each file this render left; local to this checkout (not for the repository)";

/// What a stamped write records besides the files: the digest of the render's inputs and the
/// change summary it printed (printed again by a no-op render).
pub struct Stamp<'a> {
    pub inputs: &'a str,
    pub summary: &'a str,
}

/// A file's size, modification time and mode, as the stamp records them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Meta {
    size: u64,
    mtime: (i64, i64),
    mode: u32,
}

impl Meta {
    fn of(m: &fs::Metadata) -> Meta {
        use std::os::unix::fs::MetadataExt;
        Meta {
            size: m.len(),
            mtime: (m.mtime(), m.mtime_nsec()),
            mode: m.mode() & 0o7777,
        }
    }
}

/// The stamp's text for files (and the manifest, whose digest it also records) with their
/// metadata.
fn stamp_text(stamp: &Stamp, manifest: &str, entries: &[(&str, Meta)]) -> String {
    let mut s = String::with_capacity(256 + stamp.summary.len() + entries.len() * 64);
    let _ = writeln!(s, "{STAMP_HEADER}\ninputs {}", stamp.inputs);
    let _ = writeln!(s, "manifest {}", sha256(manifest.as_bytes()));
    let _ = writeln!(s, "summary {}\n{}", stamp.summary.len(), stamp.summary);
    for (path, m) in entries {
        let _ = writeln!(
            s,
            "{} {}.{:09} {:04o} {path}",
            m.size, m.mtime.0, m.mtime.1, m.mode
        );
    }
    s
}

/// What a no-op render prints: the change summary of the render that left the tree, and the
/// number of files in it.
#[derive(Debug, PartialEq, Eq)]
pub struct NoOp {
    pub files: usize,
    pub summary: String,
}

/// Whether OUT is exactly what the last render left and that render read the same `inputs`:
/// the stamp names these inputs, and every file it lists (the manifest's files and the manifest)
/// has the recorded size, mtime and mode, with no symbolic link on the way. A file modified in the
/// same clock tick as the stamp was written could keep its mtime, so such a file is compared by
/// content (its SHA-256 against the manifest). None = render as usual.
pub fn noop(out: &Path, inputs: &str) -> Option<NoOp> {
    let stamp_path = out.join(STAMP);
    if !matches!(lstat(out).ok()?, Found::Dir) {
        return None;
    }
    let mut dirs = Dirs::new(out);
    dirs.exists(dir_of(STAMP)).ok()?.then_some(())?;
    let Found::File(stamp_meta) = lstat(&stamp_path).ok()? else {
        return None;
    };
    let stamp_mtime = Meta::of(&stamp_meta).mtime;
    let text = String::from_utf8(read_known(&stamp_path, stamp_meta.len()).ok()?).ok()?;
    let rest = text.strip_prefix(STAMP_HEADER)?.strip_prefix("\ninputs ")?;
    let (have, rest) = rest.split_once('\n')?;
    if have != inputs {
        return None;
    }
    let (manifest_sha, rest) = rest.strip_prefix("manifest ")?.split_once('\n')?;
    let rest = rest.strip_prefix("summary ")?;
    let (len, rest) = rest.split_once('\n')?;
    let len: usize = len.parse().ok()?;
    let summary = rest.get(..len)?.to_string();
    let rest = rest.get(len..)?.strip_prefix('\n')?;
    let mut listed = 0usize;
    let mut manifest_text = None;
    let mut racy = Vec::new();
    for line in rest.lines() {
        let mut parts = line.splitn(4, ' ');
        let (size, mtime, mode, path) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let (sec, nsec) = mtime.split_once('.')?;
        let want = Meta {
            size: size.parse().ok()?,
            mtime: (sec.parse().ok()?, nsec.parse().ok()?),
            mode: u32::from_str_radix(mode, 8).ok()?,
        };
        if !is_safe_relative(path) || !dirs.exists(dir_of(path)).ok()? {
            return None;
        }
        let full = out.join(path);
        let Found::File(m) = lstat(&full).ok()? else {
            return None;
        };
        if Meta::of(&m) != want {
            return None;
        }
        if path == MANIFEST {
            let bytes = read_known(&full, m.len()).ok()?;
            if want.mtime >= stamp_mtime && sha256(&bytes) != manifest_sha {
                return None;
            }
            manifest_text = Some(String::from_utf8(bytes).ok()?);
        } else {
            listed += 1;
            if want.mtime >= stamp_mtime {
                racy.push((path, full, m.len()));
            }
        }
    }
    // The files listed are exactly the manifest's, and the racy ones have its content.
    let manifest = parse_manifest(&manifest_text?);
    if manifest.len() != listed {
        return None;
    }
    for (path, full, size) in racy {
        let bytes = read_known(&full, size).ok()?;
        if manifest.get(path)?.sha256 != sha256(&bytes) {
            return None;
        }
    }
    Some(NoOp {
        files: listed,
        summary,
    })
}

/// Writes the rendered files into OUT (see the module docs for the guarantees). Leaves no stamp
/// (a render that cannot say what its inputs were cannot be skipped next time).
pub fn write(out: &Path, files: &[OutFile]) -> Result<Summary, WriteError> {
    write_stamped(out, files, None)
}

/// `write`, and with `stamp` the stamp (`STAMP`) that lets the next render of the same inputs
/// stop early (`noop`).
pub fn write_stamped(
    out: &Path,
    files: &[OutFile],
    stamp: Option<&Stamp>,
) -> Result<Summary, WriteError> {
    for f in files {
        // applied.json is the playbooks' (what runs): a render never writes it.
        if !is_safe_relative(&f.path)
            || f.path == MANIFEST
            || f.path == STAMP
            || f.path == crate::state::APPLIED
        {
            return Err(WriteError::BadPath(f.path.clone()));
        }
    }
    match lstat(out)? {
        Found::Absent => write_fresh(out, files, stamp),
        Found::Dir => write_over(out, files, stamp),
        Found::File(_) => Err(WriteError::Io {
            path: out.to_path_buf(),
            error: io::Error::other("OUT is a file, not a directory"),
        }),
    }
}

/// OUT does not exist: the whole tree is built in a directory beside it and renamed to OUT
/// once, so that OUT appears complete or not at all.
fn write_fresh(
    out: &Path,
    files: &[OutFile],
    stamp: Option<&Stamp>,
) -> Result<Summary, WriteError> {
    let mut fresh = Fresh::new(out);
    for f in files {
        fresh.put(f, None)?;
    }
    fresh.finish(stamp)
}

impl crate::render::Sink for Fresh {
    type Put = Put;
    type Error = RenderWriteError;
    fn put(&self, f: OutFile, sha256: Option<String>) -> Result<Put, RenderWriteError> {
        self.put_shared(&f, sha256).map_err(RenderWriteError::Write)
    }
}

/// A file `Fresh::put_shared` wrote, for `Fresh::keep`.
#[derive(Debug)]
pub struct Put {
    path: String,
    mode: u32,
    sha256: String,
    meta: Meta,
}

/// `Fresh`'s staging directory: files go in from any thread.
struct Stage {
    dir: PathBuf,
    /// Its directories made so far (the stage is new: a directory not known is absent).
    dirs: Mutex<Dirs>,
    umask: u32,
}

impl Stage {
    /// Makes the directory `rel` (and those above it) in the stage, if not made yet.
    fn mkdir(&self, rel: &str) -> Result<(), WriteError> {
        let mut dirs = self.dirs.lock().unwrap_or_else(|e| e.into_inner());
        dirs.create(rel, &mut Vec::new())
    }

    fn create(&self, rel: &str, contents: &[u8], mode: u32) -> Result<Meta, WriteError> {
        self.mkdir(dir_of(rel))?;
        let path = self.dir.join(rel);
        create_file(&path, contents, mode, self.umask).map_err(io_err(&path))
    }
}

/// A new OUT written file by file as the files come (`render` need not hold the whole tree):
/// the files go into a staging directory beside OUT, which `finish` renames to OUT once, after
/// the manifest and the stamp; dropped unfinished (an error anywhere, in rendering too), the
/// staging directory and the directories created above OUT are removed and OUT stays absent.
pub struct Fresh {
    out: PathBuf,
    /// The missing directories above OUT, created with the stage, deepest first.
    created: Vec<PathBuf>,
    /// The staging directory; None before the first file.
    stage: Option<Stage>,
    manifest: Manifest,
    /// Each file written and its metadata (for the stamp).
    metas: Vec<(String, Meta)>,
}

impl Fresh {
    /// For OUT, which should not exist (checked when the rename comes: an OUT that appeared
    /// meanwhile with files in it is never replaced).
    pub fn new(out: &Path) -> Fresh {
        Fresh {
            out: out.to_path_buf(),
            created: Vec::new(),
            stage: None,
            manifest: Manifest::new(),
            metas: Vec::new(),
        }
    }

    /// Creates the staging directory (and the missing directories above OUT).
    fn begin(&mut self) -> Result<(), WriteError> {
        if self.stage.is_some() {
            return Ok(());
        }
        let out = self.out.as_path();
        let name = out.file_name().ok_or_else(|| WriteError::Io {
            path: out.to_path_buf(),
            error: io::Error::other("not a directory name"),
        })?;
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut p = parent.as_path();
        while !p.as_os_str().is_empty() && fs::symlink_metadata(p).is_err() {
            self.created.push(p.to_path_buf());
            match p.parent() {
                Some(up) => p = up,
                None => break,
            }
        }
        if !self.created.is_empty() {
            fs::create_dir_all(&parent).map_err(io_err(&parent))?;
        }
        for i in 0..100 {
            let mut n = std::ffi::OsString::from(".");
            n.push(name);
            n.push(format!("{TMP_SUFFIX}-{}-{i}", std::process::id()));
            let stage = parent.join(n);
            match fs::create_dir(&stage) {
                Ok(()) => {
                    let umask = umask_of(&stage, true).map_err(io_err(&stage));
                    // The whole stage is removed on failure: its directories need no record.
                    let dirs = Mutex::new(Dirs::new_empty(&stage));
                    self.stage = Some(Stage {
                        dir: stage,
                        dirs,
                        umask: 0,
                    });
                    let umask = umask?;
                    if let Some(s) = &mut self.stage {
                        s.umask = umask;
                    }
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && i < 99 => continue,
                Err(e) => return Err(io_err(&stage)(e)),
            }
        }
        unreachable!("the loop returns")
    }

    /// Writes one file into the stage; `sha256` is its contents' digest when the caller has it.
    pub fn put(&mut self, f: &OutFile, sha256: Option<String>) -> Result<(), WriteError> {
        self.begin()?;
        let w = self.put_shared(f, sha256)?;
        self.keep(w);
        Ok(())
    }

    /// `put` from any thread once the stage is made (`begin`): writes the file and returns
    /// what `keep` records of it (on the thread that owns this).
    pub fn put_shared(&self, f: &OutFile, sha256: Option<String>) -> Result<Put, WriteError> {
        if !is_safe_relative(&f.path)
            || f.path == MANIFEST
            || f.path == STAMP
            || f.path == crate::state::APPLIED
        {
            return Err(WriteError::BadPath(f.path.clone()));
        }
        let Some(stage) = &self.stage else {
            return Err(WriteError::Io {
                path: self.out.clone(),
                error: io::Error::other("no staging directory yet (Fresh::start)"),
            });
        };
        let sha256 = sha256.unwrap_or_else(|| crate::state::sha256(f.contents.as_bytes()));
        let meta = stage.create(&f.path, f.contents.as_bytes(), f.mode)?;
        Ok(Put {
            path: f.path.clone(),
            mode: f.mode,
            sha256,
            meta,
        })
    }

    /// Records a file `put_shared` wrote (manifest and stamp).
    pub fn keep(&mut self, p: Put) {
        self.metas.push((p.path.clone(), p.meta));
        self.manifest.insert(
            p.path,
            Entry {
                mode: p.mode,
                sha256: p.sha256,
            },
        );
    }

    /// Makes the stage now (before files come from several threads: `put_shared`).
    pub fn start(&mut self) -> Result<(), WriteError> {
        self.begin()
    }

    /// Writes one file into the stage through `write` (a file too large to hold as text, such
    /// as state.json), digesting it as it goes.
    pub fn put_with(
        &mut self,
        rel: &str,
        mode: u32,
        write: impl FnOnce(&mut dyn io::Write) -> io::Result<()>,
    ) -> Result<(), WriteError> {
        self.begin()?;
        let Some(stage) = &self.stage else {
            unreachable!("begun");
        };
        stage.mkdir(dir_of(rel))?;
        let path = stage.dir.join(rel);
        let file = open_new(&path, mode, stage.umask).map_err(io_err(&path))?;
        // Unbuffered: `write` buffers (State::write_json does).
        let mut w = Digesting {
            out: file,
            sha: <sha2::Sha256 as sha2::Digest>::new(),
        };
        write(&mut w).map_err(io_err(&path))?;
        let file = w.out;
        let meta = file
            .metadata()
            .map(|m| Meta::of(&m))
            .map_err(io_err(&path))?;
        let sha256 = crate::state::hex(&sha2::Digest::finalize(w.sha));
        self.manifest
            .insert(rel.to_string(), Entry { mode, sha256 });
        self.metas.push((rel.to_string(), meta));
        Ok(())
    }

    fn create(&mut self, rel: &str, contents: &[u8], mode: u32) -> Result<Meta, WriteError> {
        self.begin()?;
        let Some(stage) = &self.stage else {
            unreachable!("begun");
        };
        stage.create(rel, contents, mode)
    }

    /// The number of files put so far.
    pub fn len(&self) -> usize {
        self.manifest.len()
    }

    /// Whether no file was put.
    pub fn is_empty(&self) -> bool {
        self.manifest.is_empty()
    }

    /// Writes the manifest (and the stamp), then renames the stage to OUT.
    pub fn finish(mut self, stamp: Option<&Stamp>) -> Result<Summary, WriteError> {
        let manifest = manifest_text(&self.manifest);
        let meta = self.create(MANIFEST, manifest.as_bytes(), 0o644)?;
        if let Some(stamp) = stamp {
            let mut entries: Vec<(&str, Meta)> =
                self.metas.iter().map(|(p, m)| (p.as_str(), *m)).collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            entries.push((MANIFEST, meta));
            let text = stamp_text(stamp, &manifest, &entries);
            self.create(STAMP, text.as_bytes(), 0o644)?;
        }
        let Some(stage) = &self.stage else {
            unreachable!("begun");
        };
        // rename(2) replaces only an empty directory: if OUT appeared meanwhile with files in
        // it, this fails and nothing is lost.
        fs::rename(&stage.dir, &self.out).map_err(io_err(&self.out))?;
        self.stage = None;
        self.created.clear();
        Ok(Summary {
            written: self.manifest.len(),
            ..Summary::default()
        })
    }
}

impl Drop for Fresh {
    /// Unfinished: nothing stays (the stage, the directories created above OUT).
    fn drop(&mut self) {
        if let Some(stage) = self.stage.take() {
            let _ = fs::remove_dir_all(stage.dir);
        }
        for d in &self.created {
            let _ = fs::remove_dir(d);
        }
    }
}

/// Whether OUT does not exist (not even as a link): then `render_fresh` writes it.
pub fn is_absent(out: &Path) -> bool {
    matches!(fs::symlink_metadata(out), Err(e) if e.kind() == io::ErrorKind::NotFound)
}

/// The error of `render_fresh`: rendering's or writing's.
#[derive(Debug)]
pub enum RenderWriteError {
    Render(crate::render::RenderError),
    Write(WriteError),
}

impl From<crate::render::RenderError> for RenderWriteError {
    fn from(e: crate::render::RenderError) -> Self {
        RenderWriteError::Render(e)
    }
}

impl std::fmt::Display for RenderWriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RenderWriteError::Render(e) => e.fmt(f),
            RenderWriteError::Write(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RenderWriteError {}

/// Renders a model into an OUT that does not exist yet (`is_absent`), each file written into
/// the stage as it is rendered (`Fresh`), so that the tree is never held in memory; all or
/// nothing as `write`. `summary` makes the change summary from the change plan render computed
/// (the stamp records it); with `inputs`, the stamp is written.
pub fn render_fresh(
    model: &crate::model::Model,
    opts: &crate::render::RenderOptions,
    out: &Path,
    inputs: Option<&str>,
    summary: impl FnOnce(Option<&crate::plan::changes::ChangePlan>) -> String,
) -> Result<Summary, RenderWriteError> {
    let mut fresh = Fresh::new(out);
    fresh.start().map_err(RenderWriteError::Write)?;
    let flow = crate::render::Flow {
        digests: true,
        host_json: true,
    };
    // Files are written by the threads that render them; what the manifest and the stamp
    // record of each is kept here.
    let mut puts = Vec::new();
    let crate::render::Streamed {
        state,
        hosts_json,
        changes,
    } = crate::render::render_each(model, opts, flow, &fresh, &mut |p| puts.push(p))?;
    for p in puts {
        fresh.keep(p);
    }
    fresh
        .put_with(crate::state::STATE, 0o644, |w| {
            state.write_json_hosts(&hosts_json, w)
        })
        .map_err(RenderWriteError::Write)?;
    crate::timing::mark("state json");
    let summary = summary(changes.as_ref());
    // Not freed one map at a time (a tenth of a second at 2,000 hosts): the process ends after
    // writing.
    std::mem::forget(state);
    std::mem::forget(hosts_json);
    let stamp = inputs.map(|inputs| Stamp {
        inputs,
        summary: &summary,
    });
    fresh
        .finish(stamp.as_ref())
        .map_err(RenderWriteError::Write)
}

/// OUT exists: each new or changed file is staged beside its target and renamed over it; files
/// already right are not touched; stale files go; the manifest last, then the stamp.
fn write_over(out: &Path, files: &[OutFile], stamp: Option<&Stamp>) -> Result<Summary, WriteError> {
    let mut dirs = Dirs::new(out);
    let old_text = read_old_manifest(out, &mut dirs)?;
    let old = parse_manifest(&String::from_utf8_lossy(
        old_text.as_ref().map_or(&[][..], |(t, _)| t.as_slice()),
    ));
    let mut work = decide(out, files, &old, &mut dirs)?;
    drop_old_stamp(out, &mut dirs, stamp.is_some() && work.nothing_to_do())?;
    stage_all(out, &mut dirs, &mut work)?;
    let mut summary = work.summary;
    summary.written = rename_all(&work.staged)?;
    summary.removed = remove_stale(out, &work.stale)?;

    // The manifest, last.
    let text = manifest_text(&manifest_of(files));
    let manifest_meta = match old_text {
        Some((old, meta)) if old == text.as_bytes() => meta,
        _ => replace_file(&mut dirs, MANIFEST, text.as_bytes())?,
    };
    // The stamp, after everything it describes.
    if let Some(stamp) = stamp {
        let mut entries: Vec<(&str, Meta)> = Vec::with_capacity(files.len() + 1);
        for f in files {
            match work.metas.get(f.path.as_str()) {
                Some(m) => entries.push((&f.path, *m)),
                None => return Ok(summary),
            }
        }
        entries.push((MANIFEST, manifest_meta));
        replace_file(
            &mut dirs,
            STAMP,
            stamp_text(stamp, &text, &entries).as_bytes(),
        )?;
    }
    Ok(summary)
}

/// The previous render's manifest, with its metadata; none when there is none.
fn read_old_manifest(out: &Path, dirs: &mut Dirs) -> Result<Option<(Vec<u8>, Meta)>, WriteError> {
    dirs.exists(dir_of(MANIFEST))?;
    let path = out.join(MANIFEST);
    match lstat(&path)? {
        Found::File(m) => {
            let text = read_known(&path, m.len()).map_err(io_err(&path))?;
            Ok(Some((text, Meta::of(&m))))
        }
        Found::Absent => Ok(None),
        Found::Dir => Err(WriteError::Io {
            path,
            error: io::Error::other("a directory is where the manifest goes"),
        }),
    }
}

/// What a render over an existing OUT does, decided before anything is written.
struct Work<'a> {
    /// New or changed files, to be staged and renamed into place.
    todo: Vec<&'a OutFile>,
    /// Files the previous render wrote and this one does not produce.
    stale: Vec<&'a String>,
    /// The metadata of each file as it stays or is written, for the stamp.
    metas: HashMap<&'a str, Meta>,
    /// Staged files: (temporary, destination).
    staged: Vec<(PathBuf, PathBuf)>,
    summary: Summary,
}

impl Work<'_> {
    fn nothing_to_do(&self) -> bool {
        self.todo.is_empty() && self.stale.is_empty()
    }
}

/// Decides what changes; refuses to overwrite files linkis-gen did not write, and a link
/// anywhere on a path written or removed (`lstat`, `Dirs`), before anything is written.
fn decide<'a>(
    out: &Path,
    files: &'a [OutFile],
    old: &'a Manifest,
    dirs: &mut Dirs,
) -> Result<Work<'a>, WriteError> {
    let mut work = Work {
        todo: Vec::new(),
        stale: Vec::new(),
        metas: HashMap::new(),
        staged: Vec::new(),
        summary: Summary::default(),
    };
    let mut foreign = Vec::new();
    for f in files {
        let dest = out.join(&f.path);
        if !dirs.exists(dir_of(&f.path))? {
            work.todo.push(f);
            continue;
        }
        match lstat(&dest)? {
            Found::Absent => work.todo.push(f),
            Found::Dir => {
                return Err(WriteError::Io {
                    path: dest,
                    error: io::Error::other("a directory is where this generated file goes"),
                });
            }
            Found::File(meta) => {
                let same_size = meta.len() == f.contents.len() as u64;
                let same = same_size
                    && read_known(&dest, meta.len()).map_err(io_err(&dest))?
                        == f.contents.as_bytes();
                if same && meta.permissions().mode() & 0o7777 == f.mode {
                    work.summary.unchanged += 1;
                    work.metas.insert(&f.path, Meta::of(&meta));
                } else if !same && !old.contains_key(&f.path) {
                    foreign.push(f.path.clone());
                } else {
                    work.todo.push(f);
                }
            }
        }
    }
    if !foreign.is_empty() {
        foreign.truncate(10);
        return Err(WriteError::Foreign(foreign));
    }
    let produced: HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for path in old.keys().filter(|p| !produced.contains(p.as_str())) {
        if !dirs.exists(dir_of(path))? {
            continue;
        }
        // Only a file is removed, never a directory there now.
        if let Found::File(_) = lstat(&out.join(path))? {
            work.stale.push(path);
        }
    }
    Ok(work)
}

/// A stamp left by an earlier render goes first when anything changes, or when this render
/// writes none (it would describe a tree that is no longer there).
fn drop_old_stamp(out: &Path, dirs: &mut Dirs, keep: bool) -> Result<(), WriteError> {
    let stamp_path = out.join(STAMP);
    dirs.exists(dir_of(STAMP))?;
    if !keep && matches!(lstat(&stamp_path)?, Found::File(_)) {
        fs::remove_file(&stamp_path).map_err(io_err(&stamp_path))?;
    }
    Ok(())
}

/// Stages every changed file beside its target; on any failure removes what was staged and the
/// directories it created.
fn stage_all(out: &Path, dirs: &mut Dirs, work: &mut Work) -> Result<(), WriteError> {
    if work.todo.is_empty() {
        return Ok(());
    }
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    let probe = out.join(format!(".linkis-gen-umask-{}", std::process::id()));
    let umask = umask_of(&probe, false).map_err(io_err(&probe))?;
    let mut stage = |f: &OutFile, staged: &mut Vec<(PathBuf, PathBuf)>| {
        dirs.create(dir_of(&f.path), &mut created_dirs)?;
        let dest = out.join(&f.path);
        let tmp = tmp_path(&dest);
        // A temporary file left by a crashed run is replaced (unlinked: never followed).
        if let Found::File(_) = lstat(&tmp)? {
            fs::remove_file(&tmp).map_err(io_err(&tmp))?;
        }
        let meta = create_file(&tmp, f.contents.as_bytes(), f.mode, umask).map_err(io_err(&tmp))?;
        staged.push((tmp, dest));
        Ok::<Meta, WriteError>(meta)
    };
    for f in &work.todo {
        match stage(f, &mut work.staged) {
            Ok(meta) => {
                work.metas.insert(&f.path, meta);
            }
            Err(e) => {
                for (tmp, _) in &work.staged {
                    let _ = fs::remove_file(tmp);
                }
                created_dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
                for d in &created_dirs {
                    let _ = fs::remove_dir(d);
                }
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Renames the staged files into place: each reader sees a whole old or a whole new file. The
/// number renamed.
fn rename_all(staged: &[(PathBuf, PathBuf)]) -> Result<usize, WriteError> {
    for (i, (tmp, dest)) in staged.iter().enumerate() {
        if let Err(e) = fs::rename(tmp, dest) {
            for (t, _) in &staged[i..] {
                let _ = fs::remove_file(t);
            }
            return Err(io_err(dest)(e));
        }
    }
    Ok(staged.len())
}

/// Removes what the previous render wrote and this one does not produce, and the directories
/// that leaves empty (never OUT itself, never a non-empty one). The paths removed.
fn remove_stale(out: &Path, stale: &[&String]) -> Result<Vec<String>, WriteError> {
    let mut removed = Vec::new();
    for path in stale {
        let dest = out.join(path);
        match fs::remove_file(&dest) {
            Ok(()) => removed.push((*path).clone()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&dest)(e)),
        }
        let mut dir = dest.parent();
        while let Some(d) = dir {
            if d == out || fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
    Ok(removed)
}

/// Writes one of linkis-gen's own files (`rel`) through a temporary file and a rename.
fn replace_file(dirs: &mut Dirs, rel: &str, bytes: &[u8]) -> Result<Meta, WriteError> {
    dirs.create(dir_of(rel), &mut Vec::new())?;
    let path = dirs.out.join(rel);
    let tmp = tmp_path(&path);
    if let Found::File(_) = lstat(&tmp)? {
        fs::remove_file(&tmp).map_err(io_err(&tmp))?;
    }
    let meta = create_file(&tmp, bytes, 0o644, 0o777).map_err(io_err(&tmp))?;
    fs::rename(&tmp, &path).map_err(io_err(&path))?;
    Ok(meta)
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

/// The bytes and mode of a file in OUT, None when absent (a directory there reads as an empty
/// file of no mode); a symbolic link on the way is an error.
fn current(dirs: &mut Dirs, rel: &str) -> Result<Option<(Vec<u8>, u32)>, WriteError> {
    if !dirs.exists(dir_of(rel))? {
        return Ok(None);
    }
    let path = dirs.out.join(rel);
    match lstat(&path)? {
        Found::Absent => Ok(None),
        Found::Dir => Ok(Some((Vec::new(), u32::MAX))),
        Found::File(m) => {
            let bytes = read_known(&path, m.len()).map_err(io_err(&path))?;
            Ok(Some((bytes, m.permissions().mode() & 0o7777)))
        }
    }
}

/// Compares the rendered files with OUT without writing anything. Empty = no drift. A symbolic
/// link in OUT on a generated path is an error, as for `write`.
pub fn check(out: &Path, files: &[OutFile]) -> Result<Vec<Drift>, WriteError> {
    if let Found::File(_) = lstat(out)? {
        return Err(WriteError::Io {
            path: out.to_path_buf(),
            error: io::Error::other("OUT is a file, not a directory"),
        });
    }
    let mut dirs = Dirs::new(out);
    let old = match current(&mut dirs, MANIFEST)? {
        Some((bytes, _)) => parse_manifest(&String::from_utf8_lossy(&bytes)),
        None => Manifest::new(),
    };
    let mut drift = Vec::new();
    for f in files {
        match current(&mut dirs, &f.path)? {
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
        if let Some((bytes, _)) = current(&mut dirs, path)? {
            let have = String::from_utf8_lossy(&bytes);
            drift.push(Drift::Extra {
                path: path.clone(),
                diff: unified(path, Some(&have), None),
            });
        }
    }
    let want = manifest_text(&manifest_of(files));
    match current(&mut dirs, MANIFEST)? {
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
