//! Stage 5, render: a `Model` → the files of the output tree, in memory.
//!
//! Templates live under `templates/` in a tree that mirrors the output (embedded at build time by
//! build.rs); `render --templates DIR` replaces any of them by relative path. Every template uses
//! linkis-gen's own delimiters — `[= expr =]`, `[% block %]`, `[# comment #]` — so that the Jinja
//! `{{ }}` / `{% %}` of Ansible files and the `${VAR}` of shell pass through untouched. The
//! environment is built once per run and each template parsed once, whatever the host count.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior};

use crate::model::Model;

pub mod apply;
pub mod changes;
pub mod conf;
pub mod escape;
pub mod monitoring;
mod plan_md;
pub mod routes;
pub mod state;

pub use plan_md::{plan_md, plan_md_with, plan_text};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/templates.rs"));
}

/// The paths of the embedded templates.
pub fn embedded_names() -> impl Iterator<Item = &'static str> {
    embedded::EMBEDDED.iter().map(|(p, _)| *p)
}

/// One file of the output tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutFile {
    /// Path relative to OUT, with `/` separators.
    pub path: String,
    pub contents: String,
    /// Unix mode: 0o755 for scripts, 0o644 for everything else.
    pub mode: u32,
}

impl OutFile {
    pub fn new(path: impl Into<String>, contents: impl Into<String>) -> OutFile {
        let path = path.into();
        let mode = if path.ends_with(".sh") { 0o755 } else { 0o644 };
        OutFile {
            path,
            contents: contents.into(),
            mode,
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct RenderOptions {
    /// A directory whose files replace embedded templates of the same relative path.
    pub templates: Option<PathBuf>,
    /// The spec's path as the user gave it, for the generated-file headers.
    pub spec_name: String,
}

#[derive(Debug)]
pub enum RenderError {
    /// A template failed to parse or render.
    Template { name: String, message: String },
    /// The `--templates` directory could not be read.
    Io { path: PathBuf, message: String },
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::Template { name, message } => {
                write!(f, "template {name}: {message}")
            }
            RenderError::Io { path, message } => write!(f, "{}: {message}", path.display()),
        }
    }
}

impl std::error::Error for RenderError {}

impl From<minijinja::Error> for RenderError {
    fn from(e: minijinja::Error) -> Self {
        let mut message = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            message.push_str(&format!(": {s}"));
            src = s.source();
        }
        RenderError::Template {
            name: e.name().unwrap_or("?").to_string(),
            message,
        }
    }
}

/// The template set of one run: embedded templates, possibly replaced from a user directory.
pub struct Templates {
    env: Environment<'static>,
    /// Relative paths of templates that came from the user's directory.
    pub overridden: Vec<String>,
}

/// The syntax every linkis-gen template uses.
pub fn syntax() -> SyntaxConfig {
    SyntaxConfig::builder()
        .block_delimiters("[%", "%]")
        .variable_delimiters("[=", "=]")
        .comment_delimiters("[#", "#]")
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .expect("static delimiters are valid")
}

impl Templates {
    pub fn load(user_dir: Option<&Path>) -> Result<Templates, RenderError> {
        let mut sources: BTreeMap<String, String> = embedded::EMBEDDED
            .iter()
            .map(|(p, s)| (p.to_string(), s.to_string()))
            .collect();
        let mut overridden = Vec::new();
        if let Some(dir) = user_dir {
            let io = |path: &Path, e: &dyn fmt::Display| RenderError::Io {
                path: path.to_path_buf(),
                message: e.to_string(),
            };
            if !dir.is_dir() {
                return Err(io(dir, &"not a directory"));
            }
            for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
                let entry = entry.map_err(|e| io(dir, &e))?;
                if !entry.file_type().is_file() {
                    continue;
                }
                let rel = entry
                    .path()
                    .strip_prefix(dir)
                    .map_err(|e| io(entry.path(), &e))?
                    .to_string_lossy()
                    .replace('\\', "/");
                let text =
                    std::fs::read_to_string(entry.path()).map_err(|e| io(entry.path(), &e))?;
                // Every embedded template has a route or is a fragment (tested), so this refuses a file
                // that replaces nothing and one that nothing would render or include.
                if !routes::unclaimed([rel.as_str()]).is_empty() || !sources.contains_key(&rel) {
                    return Err(RenderError::Template {
                        message: format!(
                            "{}: no template route renders this path and no embedded template has \
                             it, so it would never be used (see templates/ in the linkis-gen \
                             sources for the names)",
                            entry.path().display()
                        ),
                        name: rel,
                    });
                }
                sources.insert(rel.clone(), text);
                overridden.push(rel);
            }
        }
        let mut env = Environment::new();
        env.set_syntax(syntax());
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // A spec is data: every value is escaped for the format of the file it lands in.
        env.set_auto_escape_callback(escape::auto_escape);
        env.set_formatter(escape::formatter);
        env.add_filter("vault_ref", |name: &str| escape::vault_ref(name));
        // `[= address | host_port(port) =]`: IPv6 in brackets (spec::host_port).
        env.add_filter("host_port", |address: &str, port: u16| {
            crate::spec::host_port(address, port)
        });
        // `[= address | url_host =]`: the host part of a URL (spec::url_host).
        env.add_filter("url_host", |address: &str| {
            crate::spec::url_host(address).into_owned()
        });
        for (name, source) in sources {
            env.add_template_owned(name, source)?;
        }
        Ok(Templates { env, overridden })
    }

    /// Renders one template with a context.
    pub fn render(&self, name: &str, ctx: minijinja::Value) -> Result<String, RenderError> {
        Ok(self.env.get_template(name)?.render(ctx)?)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.env.templates().map(|(n, _)| n)
    }
}

/// Renders the whole output tree, sorted by path.
pub fn render(model: &Model, opts: &RenderOptions) -> Result<Vec<OutFile>, RenderError> {
    render_tree(model, opts).map(|r| r.files)
}

/// A rendered tree and the state it records (the same as its `.linkis-gen/state.json`), so that
/// the change summary need not read that file back.
pub struct Rendered {
    pub files: Vec<OutFile>,
    pub state: crate::state::State,
    /// The change plan against what runs (CHANGES.md and changes.yml), computed once; `None` for
    /// a new cluster and for an upgrade (`Model::upgrade`).
    pub changes: Option<crate::plan::changes::ChangePlan>,
}

/// `render`, keeping the state.
pub fn render_tree(model: &Model, opts: &RenderOptions) -> Result<Rendered, RenderError> {
    let mut files: Vec<OutFile> = Vec::new();
    let Streamed { state, changes, .. } =
        render_each(model, opts, Flow::default(), &Collect, &mut |f| {
            files.push(f)
        })?;
    let change_plan = changes;
    files.push(OutFile::new(crate::state::STATE, state.to_json()));
    t("state json");
    files.sort_by(|a, b| a.path.cmp(&b.path));
    t("sort");
    Ok(Rendered {
        files,
        state,
        changes: change_plan,
    })
}

fn t(label: &str) {
    crate::timing::mark(label);
}

/// Where `render_each` puts each file, from any thread.
pub trait Sink: Sync {
    /// What the calling thread of `render_each` is given back of each file put (`keep`).
    type Put: Send;
    type Error: From<RenderError> + Send;
    /// Puts one file, its header added (and, with `Flow::digests`, with its SHA-256).
    fn put(&self, f: OutFile, sha256: Option<String>) -> Result<Self::Put, Self::Error>;
}

/// The flow of files: renders the tree and puts each file into `sink` as soon as it is made,
/// on the thread that made it, with its generated-file header (and, with `digests`, the
/// SHA-256 of its contents), in no particular order; what the sink gives back of each goes to
/// `keep`, on the calling thread. But for `.linkis-gen/state.json`: the state it holds is
/// returned, for the caller to write (`State::write_json`, as it is, with no header), with the
/// change plan against what runs (computed once, here: CHANGES.md and changes.yml are rendered
/// from it). Nothing holds the whole tree: each file's state is taken as it passes (before its
/// header), and its text is dropped once it is put. Hosts are rendered (and put) on every
/// core; the output does not depend on the number of threads, and of several errors the one
/// of the first host in order is returned.
pub fn render_each<S: Sink>(
    model: &Model,
    opts: &RenderOptions,
    flow: Flow,
    sink: &S,
    keep: &mut dyn FnMut(S::Put),
) -> Result<Streamed, S::Error> {
    let templates = Templates::load(opts.templates.as_deref())?;
    let prep = Prep {
        wanted: state::wanted(model),
        headers: Headers::new(&opts.spec_name),
        digests: flow.digests,
        // The change plan reads the hosts' states: against what runs, they are kept.
        host_json: flow.host_json && model.applied.is_none(),
    };
    let mut built = state::Built::new();
    let mut memo = state::Digests::default();
    let mut pass = |files: Vec<OutFile>,
                    built: &mut state::Built,
                    keep: &mut dyn FnMut(S::Put)|
     -> Result<(), S::Error> {
        for f in files {
            let (f, sha) = prep.prep(f, &conf::Tables::new(), &mut memo, built);
            keep(sink.put(f, sha)?);
        }
        Ok(())
    };
    t("templates");
    // PLAN.md, every host's conf/ and sbin/, the apply side (with, for a release or discovery
    // change against what runs, CHANGES.md and changes.yml in the upgrade's form, decided once by
    // plan_with), and monitoring: independent of each other.
    let upgrade = model.upgrade.as_ref();
    let mut hosts = Hosts::default();
    jobs(model, &templates, &prep, &mut built, &mut hosts, sink, keep)?;
    t("jobs");
    // The state is taken before the headers, which name the spec's path (src/state.rs): the
    // hosts' as each host's job ends, the rest here.
    let state = state::with_hosts(model, hosts.states, built);
    let mut hosts_json = hosts.json;
    hosts_json.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    t("state");
    // The change plan against what runs, computed once: rendered here, returned for the summary.
    let change_plan = upgrade
        .is_none()
        .then(|| crate::plan::changes::of(model, &state))
        .flatten();
    if let Some(c) = &change_plan {
        let mut built = state::Built::new();
        pass(
            changes::render(model, &templates, c, &state)?,
            &mut built,
            keep,
        )?;
    }
    t("changes");
    Ok(Streamed {
        state,
        hosts_json,
        changes: change_plan,
    })
}

/// A sink that gives each file back as it is (`render_tree` collects them).
struct Collect;

impl Sink for Collect {
    type Put = OutFile;
    type Error = RenderError;
    fn put(&self, f: OutFile, _: Option<String>) -> Result<OutFile, RenderError> {
        Ok(f)
    }
}

/// How `render_each` hands its output on.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flow {
    /// Each file comes with the SHA-256 of its contents (the manifest's).
    pub digests: bool,
    /// Each host's state is serialized by its job, as soon as the host is rendered, and not
    /// kept (`Streamed::hosts_json`): for a writer of state.json that needs nothing else of
    /// it. Ignored against what runs (`Model::applied`): the change plan reads the hosts.
    pub host_json: bool,
}

/// What `render_each` leaves after the files: the state, the change plan against what runs.
pub struct Streamed {
    /// The state of the tree; without its hosts when `hosts_json` holds them.
    pub state: crate::state::State,
    /// The hosts' entries of state.json (`state::host_json`), in host-name order, with
    /// `Flow::host_json` (`State::write_json_hosts` writes them); else empty.
    pub hosts_json: Vec<(String, Vec<u8>)>,
    /// The change plan against what runs (None for a new cluster and for an upgrade).
    pub changes: Option<crate::plan::changes::ChangePlan>,
}

/// The hosts' states as their jobs take them: whole, or serialized (`Flow::host_json`).
#[derive(Default)]
struct Hosts {
    states: BTreeMap<String, crate::state::HostState>,
    json: Vec<(String, Vec<u8>)>,
}

/// One host job's state.
enum HostOut {
    State(crate::state::HostState),
    Json(Vec<u8>),
}

impl Hosts {
    fn add(&mut self, name: String, out: HostOut) {
        match out {
            HostOut::State(s) => {
                self.states.insert(name, s);
            }
            HostOut::Json(j) => self.json.push((name, j)),
        }
    }
}

/// What happens to each rendered file on its way out.
struct Prep {
    /// The files whose state is recorded (`state::wanted`).
    wanted: std::collections::HashSet<String>,
    headers: Headers,
    digests: bool,
    /// Each host's state is serialized by its job (`Flow::host_json`).
    host_json: bool,
}

impl Prep {
    /// Takes the file's state if it is recorded (a conf file's keys from its key table in
    /// `tables`), adds its header, and digests it.
    fn prep(
        &self,
        mut f: OutFile,
        tables: &conf::Tables,
        memo: &mut state::Digests,
        built: &mut state::Built,
    ) -> (OutFile, Option<String>) {
        if self.wanted.contains(&f.path) {
            let fs = match tables.get(&f.path) {
                Some(t) => state::table_state(t, &f.contents, memo),
                None => state::file_state(&f.contents),
            };
            built.insert(f.path.clone(), fs);
        }
        self.headers.add(&mut f);
        let sha = self
            .digests
            .then(|| crate::state::sha256(f.contents.as_bytes()));
        (f, sha)
    }
}

/// Below this many hosts, the calling thread renders them all.
const PARALLEL_MIN_HOSTS: usize = 64;

/// What one job leaves: what the sink gave back of its files (put), the states taken of them,
/// and for a host's job its state (its name and the state, taken of its files).
type JobDone<P> = (Vec<P>, state::Built, Option<(String, HostOut)>);

/// The rendering jobs of a tree, in the order their errors rank (the first is reported):
/// PLAN.md, each host's conf/ and sbin/ (conf.rs), the apply side, monitoring.
#[derive(Clone, Copy)]
enum Job {
    PlanMd,
    Host(usize),
    Apply,
    Monitoring,
}

impl Job {
    /// The rank of a job among `n` hosts' (its error's priority: lower first).
    fn rank(self, n: usize) -> usize {
        match self {
            Job::PlanMd => 0,
            Job::Host(i) => 1 + i,
            Job::Apply => n + 1,
            Job::Monitoring => n + 2,
        }
    }

    /// The `k`-th job taken: the big single ones first, so that the hosts even out the end.
    fn taken(k: usize, n: usize) -> Option<Job> {
        match k {
            0 => Some(Job::Apply),
            1 => Some(Job::PlanMd),
            2 => Some(Job::Monitoring),
            k if k - 3 < n => Some(Job::Host(k - 3)),
            _ => None,
        }
    }
}

/// Renders every job and puts its files: for a large cluster on every core, each thread
/// putting the files it renders, so that at most a few hosts' files are in memory.
fn jobs<S: Sink>(
    model: &Model,
    templates: &Templates,
    prep: &Prep,
    built: &mut state::Built,
    hosts: &mut Hosts,
    sink: &S,
    keep: &mut dyn FnMut(S::Put),
) -> Result<(), S::Error> {
    let per_host = conf::PerHost::new(model, templates);
    let units = apply::Units::new(model, templates, per_host.whole());
    let heap = state::heap_vars(model);
    let n = model.hosts.len();
    let one = |job: Job, memo: &mut state::Digests| -> Result<JobDone<S::Put>, S::Error> {
        let (files, tables) = job_files(job, model, templates, &per_host, &units)?;
        let mut built = state::Built::new();
        let mut put = Vec::with_capacity(files.len());
        for f in files {
            let (f, sha) = prep.prep(f, &tables, memo, &mut built);
            put.push(sink.put(f, sha)?);
        }
        let host = match job {
            Job::Host(i) => Some(host_out(&model.hosts[i], prep, &heap, &tables, &mut built)),
            _ => None,
        };
        Ok((put, built, host))
    };
    let mut done = |(put, b, host): JobDone<S::Put>| {
        built.extend(b);
        if let Some((name, out)) = host {
            hosts.add(name, out);
        }
        for p in put {
            keep(p);
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    if n < PARALLEL_MIN_HOSTS || threads < 2 {
        in_order(n, &one, &mut done)
    } else {
        in_parallel(n, threads, &one, &mut done)
    }
}

/// A job's render: its files, and the key tables of its conf files and units (a host's job
/// only).
fn job_files(
    job: Job,
    model: &Model,
    templates: &Templates,
    per_host: &conf::PerHost,
    units: &apply::Units,
) -> Result<(Vec<OutFile>, conf::Tables), RenderError> {
    Ok(match job {
        Job::PlanMd => (plan_md_with(templates, model)?, conf::Tables::new()),
        Job::Host(i) => {
            // Its conf/ and sbin/, and its units: every file its state reads.
            let (mut files, mut tables) = per_host.render(&model.hosts[i])?;
            files.extend(units.render(&model.hosts[i], &mut tables)?);
            (files, tables)
        }
        Job::Apply => (
            apply::render(model, templates, model.upgrade.as_ref())?,
            conf::Tables::new(),
        ),
        Job::Monitoring => (monitoring::render(model, templates)?, conf::Tables::new()),
    })
}

/// A host job's state, taken of its files once they are put (serialized with `Flow::host_json`).
fn host_out(
    h: &crate::model::Host,
    prep: &Prep,
    heap: &[(crate::spec::Service, &str)],
    tables: &conf::Tables,
    built: &mut state::Built,
) -> (String, HostOut) {
    let env = format!("hosts/{}/{}", h.name, crate::state::ENV_FILE);
    let owned = state::owned_keys(heap, tables.get(&env));
    let hs = state::host_of(h, &owned, built);
    let out = if prep.host_json {
        HostOut::Json(
            crate::state::host_json(&h.name, &hs)
                .expect("a host's state serializes (string keys, no floats)"),
        )
    } else {
        HostOut::State(hs)
    };
    (h.name.clone(), out)
}

/// The jobs one after the other on the calling thread, in rank order (the first error returns).
fn in_order<P, E>(
    n: usize,
    one: &impl Fn(Job, &mut state::Digests) -> Result<JobDone<P>, E>,
    done: &mut impl FnMut(JobDone<P>),
) -> Result<(), E> {
    let mut memo = state::Digests::default();
    let order = std::iter::once(Job::PlanMd)
        .chain((0..n).map(Job::Host))
        .chain([Job::Apply, Job::Monitoring]);
    for job in order {
        done(one(job, &mut memo)?);
    }
    Ok(())
}

/// The jobs on `threads` threads, each done on the calling thread; the first error by rank wins.
fn in_parallel<P: Send, E: Send>(
    n: usize,
    threads: usize,
    one: &(impl Fn(Job, &mut state::Digests) -> Result<JobDone<P>, E> + Sync),
    done: &mut impl FnMut(JobDone<P>),
) -> Result<(), E> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // Each thread takes the next job; results come in any order (the sink does not care,
    // `render_tree` sorts). A failed job stops the threads from taking jobs that rank after
    // it, so that the first failing job by rank is always rendered and its error is the one
    // returned, whatever the threads did.
    let next = AtomicUsize::new(0);
    let stop = AtomicUsize::new(usize::MAX);
    let mut first_err: Option<(usize, E)> = None;
    type Sent<P, E> = (usize, Result<JobDone<P>, E>);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Sent<P, E>>(4 * threads);
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, stop) = (&next, &stop);
            scope.spawn(move || {
                let mut memo = state::Digests::default();
                loop {
                    let Some(job) = Job::taken(next.fetch_add(1, Ordering::Relaxed), n) else {
                        return;
                    };
                    let rank = job.rank(n);
                    if rank > stop.load(Ordering::Relaxed) {
                        continue;
                    }
                    let r = one(job, &mut memo);
                    if r.is_err() {
                        stop.fetch_min(rank, Ordering::Relaxed);
                    }
                    if tx.send((rank, r)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        for (rank, r) in rx {
            match r {
                Err(e) => {
                    if first_err.as_ref().is_none_or(|(j, _)| rank < *j) {
                        first_err = Some((rank, e));
                    }
                }
                Ok(d) => {
                    if first_err.is_none() {
                        done(d);
                    }
                }
            }
        }
    });
    first_err.map_or(Ok(()), |(_, e)| Err(e))
}

/// Puts a generated-file notice at the top of every file whose format has comments (after a
/// shebang), in that format's comment syntax; JSON and unknown formats are left as they are.
/// Every file also ends with exactly one newline.
pub fn add_header(f: &mut OutFile, spec_name: &str) {
    Headers::new(spec_name).add(f);
}

/// The generated-file notices of one run, one per comment syntax, made once.
struct Headers {
    hash: String,
    md: String,
    j2: String,
}

impl Headers {
    fn new(spec_name: &str) -> Headers {
        // The spec's path is user input: keep it on one line and unable to close the comment.
        let name: String = spec_name
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect::<String>()
            .replace("-->", "--?")
            .replace("#}", "#?");
        let from = match name.as_str() {
            "" => String::new(),
            "-" => " from a spec read on standard input".to_string(),
            name => format!(" from {name}"),
        };
        let lines = [
            format!("Generated by linkis-gen{from}."),
            "Do not edit: change the spec and render again.".to_string(),
        ];
        Headers {
            hash: lines.iter().map(|l| format!("# {l}\n")).collect::<String>(),
            md: format!("<!-- {} {} -->\n", lines[0], lines[1]),
            // Ansible's own templates: a Jinja comment, which Ansible drops when it renders them.
            j2: format!("{{# {} {} #}}\n", lines[0], lines[1]),
        }
    }

    fn add(&self, f: &mut OutFile) {
        if f.contents.contains('\r') {
            f.contents = f.contents.replace("\r\n", "\n");
        }
        let ext = f.path.rsplit('.').next().unwrap_or_default();
        let header = match ext {
            "sh" | "yml" | "yaml" | "properties" | "conf" | "service" | "timer" | "cfg" | "ini"
            | "txt" | "py" | "nft" => &self.hash,
            "md" => &self.md,
            "j2" => &self.j2,
            _ => "",
        };
        if !f.contents.ends_with('\n') {
            f.contents.push('\n');
        }
        if header.is_empty() {
            return;
        }
        let insert_at = if f.contents.starts_with("#!") {
            f.contents.find('\n').map_or(f.contents.len(), |i| i + 1)
        } else {
            0
        };
        f.contents.insert_str(insert_at, header);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_follow_the_format_and_keep_shebangs_first() {
        let mut sh = OutFile::new("a/b.sh", "#!/usr/bin/env bash\necho hi");
        add_header(&mut sh, "cluster.yaml");
        assert_eq!(
            sh.contents,
            "#!/usr/bin/env bash\n# Generated by linkis-gen from cluster.yaml.\n\
             # Do not edit: change the spec and render again.\necho hi\n"
        );
        let mut md = OutFile::new("PLAN.md", "# Plan\r\n");
        add_header(&mut md, "s.yaml");
        assert!(
            md.contents
                .starts_with("<!-- Generated by linkis-gen from s.yaml.")
        );
        assert!(md.contents.ends_with("# Plan\n"), "CRLF becomes LF");
        let mut json = OutFile::new("x.json", "{}");
        add_header(&mut json, "s.yaml");
        assert_eq!(json.contents, "{}\n");
    }

    #[test]
    fn a_spec_name_cannot_break_out_of_the_header_comment() {
        let mut md = OutFile::new("PLAN.md", "x\n");
        add_header(&mut md, "evil-->\n<script>.yaml");
        let first = md.contents.lines().next().unwrap();
        assert_eq!(first.matches("-->").count(), 1, "{first}");
        let mut j2 = OutFile::new("roles/r/templates/t.j2", "x\n");
        add_header(&mut j2, "a#}{{ boom }}.yaml");
        let first = j2.contents.lines().next().unwrap();
        assert_eq!(first.matches("#}").count(), 1, "{first}");
    }
}
