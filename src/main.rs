//! The `linkis-gen` command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use linkis_gen::diag::{self, Diagnostic};
use linkis_gen::init::{EngineType, InitOptions};
use linkis_gen::load::Source;
use linkis_gen::model::Model;
use linkis_gen::plan::changes::ChangePlan;
use linkis_gen::render::{self, RenderOptions};
use linkis_gen::spec::Size;
use linkis_gen::state::State;

const EXIT_CODES: &str = "\
Exit codes:
  0  success (warnings may have been printed)
  1  the spec is invalid, cannot be sized, or `render --check` found drift
  2  usage error, or a file could not be read or written";

#[derive(Parser)]
#[command(
    name = "linkis-gen",
    version,
    about = "Turns one cluster spec into everything needed to run Apache Linkis on many hosts",
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a spec: syntax, types, every named check, placement and sizing.
    #[command(after_help = EXIT_CODES)]
    Validate {
        /// The spec file (`-` for standard input).
        spec: PathBuf,
        /// A rendered tree: when it holds .linkis-gen/applied.json (the cluster runs), check the
        /// spec on the layout `render` places against it (sticky placement).
        #[arg(short, long)]
        out: Option<PathBuf>,
    },
    /// Show the sizing arithmetic and the per-host placement of a spec.
    #[command(after_help = EXIT_CODES)]
    Plan {
        /// The spec file (`-` for standard input).
        spec: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// A rendered tree: when it holds .linkis-gen/applied.json (the cluster runs), place
        /// against it and print the change summary.
        #[arg(short, long)]
        out: Option<PathBuf>,
    },
    /// Render the output tree (Ansible, per-host Linkis conf, systemd units, nginx) into OUT.
    #[command(after_help = EXIT_CODES)]
    Render {
        /// The spec file (`-` for standard input).
        spec: PathBuf,
        /// The output directory.
        #[arg(short, long)]
        out: PathBuf,
        /// A directory of templates that replace the embedded ones by relative path.
        #[arg(long)]
        templates: Option<PathBuf>,
        /// Write nothing: compare the rendered tree with OUT, print a unified diff per changed,
        /// missing or extra generated file, and exit 1 on drift (the CI gate for infra repos).
        #[arg(long)]
        check: bool,
    },
    /// Print a commented starter spec with the smallest host list that carries N users.
    #[command(after_help = EXIT_CODES)]
    Init {
        /// Concurrent users to size for (1 to 100000).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=MAX_USERS))]
        users: u64,
        /// Memory of every host.
        #[arg(long, default_value = "64G", value_parser = parse_size)]
        host_memory: Size,
        /// Engine types: NAME:MEMORY[:CORES], comma-separated.
        #[arg(long, default_value = "spark:1G", value_parser = parse_engines)]
        engines: EngineList,
        /// Engines one user may run at once of each type (1 to 1000). The default, 2, is the
        /// guide's assumption; init writes it into the spec explicitly, since a spec that leaves
        /// `max_concurrency_per_user` out gets 1.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=MAX_CONCURRENCY))]
        concurrency: u64,
        /// The Linkis release.
        #[arg(
            long = "version",
            id = "linkis_version",
            value_name = "VERSION",
            default_value = linkis_gen::catalog::DEFAULT_RELEASE,
            value_parser = parse_release
        )]
        linkis_version: String,
    },
    /// Why a rendered key has its value: the value and its origin chain (release default, spec
    /// field, rule, override), spec lines located as diagnostics show them.
    #[command(after_help = EXIT_CODES)]
    Explain {
        /// The spec file (`-` for standard input).
        spec: PathBuf,
        /// `hosts/<host>/conf/<file>:<key>`, or a whole file `hosts/<host>/conf/<file>`.
        target: String,
        /// A rendered tree: when it holds .linkis-gen/applied.json (the cluster runs), place
        /// against it as render does.
        #[arg(short, long)]
        out: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print the JSON Schema of the spec format, for editor completion.
    #[command(after_help = EXIT_CODES)]
    Schema,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::Validate { spec, out } => validate(&spec, out.as_deref()),
        Command::Plan { spec, format, out } => plan(&spec, format, out.as_deref()),
        Command::Render {
            spec,
            out,
            templates,
            check,
        } => render_cmd(&spec, &out, templates, check),
        Command::Init {
            users,
            host_memory,
            engines,
            concurrency,
            linkis_version,
        } => init(InitOptions {
            users,
            host_memory,
            engines: engines.0,
            concurrency,
            version: linkis_version,
        }),
        Command::Explain {
            spec,
            target,
            out,
            format,
        } => explain(&spec, &target, out.as_deref(), format),
        Command::Schema => {
            print!("{}", linkis_gen::schema::spec_schema_text());
            ExitCode::SUCCESS
        }
    }
}

/// `validate`: the spec is well-formed and places; a one-line summary.
fn validate(spec: &Path, out: Option<&Path>) -> ExitCode {
    with_plan(spec, out, |src, plan, _, _| {
        println!(
            "{}: ok: {} hosts, Linkis {}, {} warning{}{}",
            src.name,
            plan.hosts.len(),
            plan.cluster.version,
            plan.warnings.len(),
            if plan.warnings.len() == 1 { "" } else { "s" },
            if plan.applied.is_some() {
                " (placed against applied.json, as render places it)"
            } else {
                ""
            }
        );
        ExitCode::SUCCESS
    })
}

/// `plan`: the sizing arithmetic and placement (text or JSON), and with `-o OUT` the change
/// summary against what runs there.
fn plan(spec: &Path, format: Format, out: Option<&Path>) -> ExitCode {
    with_plan(spec, out, |_, plan, _, _| {
        match format {
            Format::Text => {
                print!("{}", render::plan_text(plan));
                print_change_summary(plan, &RenderOptions::default());
            }
            Format::Json => print!("{}", linkis_gen::report::json(plan)),
        }
        ExitCode::SUCCESS
    })
}

/// `explain`: a key's (or a file's keys') value and origin chain, from the model's key table.
fn explain(spec: &Path, target: &str, out: Option<&Path>, format: Format) -> ExitCode {
    let t = match linkis_gen::explain::parse_target(target) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    with_plan(
        spec,
        out,
        |src, model, _, _| match linkis_gen::explain::explain(model, src, &t) {
            Ok(r) => {
                match format {
                    Format::Text => print!("{}", linkis_gen::explain::text(&r, src)),
                    Format::Json => print!("{}", linkis_gen::explain::json(&r)),
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        },
    )
}

/// `render`: every file rendered in memory first (a template error writes nothing), then
/// written to OUT, or with `--check` compared with it.
fn render_cmd(spec: &Path, out: &Path, templates: Option<PathBuf>, check: bool) -> ExitCode {
    with_plan(spec, Some(out), |src, plan, spec_digest, applied_text| {
        // applied.json is read once: the model's base, and (hashed) one of the fast path's inputs.
        let applied_digest = applied_text
            .filter(|_| !check)
            .map(|text| linkis_gen::state::sha256(text.as_bytes()));
        let opts = RenderOptions {
            templates,
            spec_name: header_name(spec),
        };
        // The no-op fast path: same inputs, and OUT as the last render left it (src/write.rs).
        let inputs = (!check)
            .then(|| inputs_digest(spec_digest, &opts, applied_digest.as_deref()))
            .flatten();
        if let Some(inputs) = &inputs {
            if let Some(noop) = linkis_gen::write::noop(out, inputs) {
                print!("{}", noop.summary);
                let unchanged = linkis_gen::write::Summary {
                    unchanged: noop.files,
                    ..Default::default()
                };
                print_written(&src.name, out, noop.files, &unchanged);
                return ExitCode::SUCCESS;
            }
        }
        linkis_gen::timing::mark("no-op check");
        if !check && linkis_gen::write::is_absent(out) {
            return render_fresh(&src.name, plan, &opts, out, inputs.as_deref());
        }
        let render::Rendered {
            files,
            state,
            changes,
        } = match render::render_tree(plan, &opts) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let summary = change_summary(plan, changes.as_ref());
        print!("{summary}");
        // Not freed one map at a time (a tenth of a second at 2,000 hosts): the process ends
        // after writing, and the allocation was already at its peak while rendering.
        std::mem::forget(state);
        linkis_gen::timing::mark("summary");
        if check {
            check_tree(&src.name, out, &files)
        } else {
            let stamp = inputs.as_deref().map(|inputs| linkis_gen::write::Stamp {
                inputs,
                summary: &summary,
            });
            write_tree(&src.name, out, &files, stamp.as_ref())
        }
    })
}

/// The digest of everything a render's output depends on besides the model's decisions: this
/// binary (its version, and its size and mtime, so that a rebuild counts), the spec's bytes and
/// the name its headers give it, the templates replaced from `--templates` (path and content),
/// and `applied.json` (the digest of the text the model was placed against; None when absent).
/// None when one of them cannot be read (then there is no fast path).
fn inputs_digest(
    spec_digest: &str,
    opts: &RenderOptions,
    applied_digest: Option<&str>,
) -> Option<String> {
    use std::fmt::Write as _;
    use std::os::unix::fs::MetadataExt;
    let exe = std::fs::metadata(std::env::current_exe().ok()?).ok()?;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "linkis-gen {} {} {}.{}",
        env!("CARGO_PKG_VERSION"),
        exe.len(),
        exe.mtime(),
        exe.mtime_nsec()
    );
    let _ = writeln!(s, "spec {spec_digest} {:?}", opts.spec_name);
    let _ = writeln!(s, "applied {}", applied_digest.unwrap_or("none"));
    if let Some(dir) = &opts.templates {
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let entry = entry.ok()?;
            if entry.file_type().is_file() {
                let bytes = std::fs::read(entry.path()).ok()?;
                let rel = entry.path().strip_prefix(dir).ok()?;
                let _ = writeln!(
                    s,
                    "template {:?} {}",
                    rel,
                    linkis_gen::state::sha256(&bytes)
                );
            }
        }
    }
    Some(linkis_gen::state::sha256(s.as_bytes()))
}

/// `render --check`: 0 when OUT holds exactly the rendered files, 1 naming the drift.
fn check_tree(name: &str, out: &Path, files: &[render::OutFile]) -> ExitCode {
    match linkis_gen::write::check(out, files) {
        Ok(drift) if drift.is_empty() => {
            println!(
                "{name}: {} is up to date ({} files)",
                out.display(),
                files.len()
            );
            ExitCode::SUCCESS
        }
        Ok(drift) => {
            print!("{}", linkis_gen::write::drift_report(&drift));
            eprintln!(
                "{name}: {} differs from the rendered tree in {} file{}; run `linkis-gen render` and commit",
                out.display(),
                drift.len(),
                if drift.len() == 1 { "" } else { "s" }
            );
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// `render` into an OUT that does not exist yet: each file written as it is rendered
/// (src/write.rs, `render_fresh`), never the whole tree in memory.
fn render_fresh(
    name: &str,
    model: &Model,
    opts: &RenderOptions,
    out: &Path,
    inputs: Option<&str>,
) -> ExitCode {
    let r = linkis_gen::write::render_fresh(model, opts, out, inputs, |changes| {
        let summary = change_summary(model, changes);
        print!("{summary}");
        summary
    });
    linkis_gen::timing::mark("write");
    match r {
        Ok(s) => {
            print_written(name, out, s.written, &s);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Writes the rendered files into OUT (all or nothing) and says what changed.
fn write_tree(
    name: &str,
    out: &Path,
    files: &[render::OutFile],
    stamp: Option<&linkis_gen::write::Stamp>,
) -> ExitCode {
    let r = linkis_gen::write::write_stamped(out, files, stamp);
    linkis_gen::timing::mark("write");
    match r {
        Ok(s) => {
            print_written(name, out, files.len(), &s);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn print_written(name: &str, out: &Path, files: usize, s: &linkis_gen::write::Summary) {
    println!(
        "{name}: {files} files in {}: {} written, {} unchanged, {} removed",
        out.display(),
        s.written,
        s.unchanged,
        s.removed.len()
    );
}

/// `init`: a starter spec on stdout.
fn init(opts: InitOptions) -> ExitCode {
    match linkis_gen::init::starter_spec(&opts) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

// Ranges of `init`'s numbers, checked by clap so that a value out of range is a usage error (exit 2).
const MAX_USERS: u64 = linkis_gen::validate::MAX_USERS;
const MAX_CONCURRENCY: u64 = linkis_gen::validate::MAX_CONCURRENCY;

fn parse_release(s: &str) -> Result<String, String> {
    match linkis_gen::catalog::Release::find(s) {
        Some(_) => Ok(s.to_string()),
        None => Err(format!(
            "Linkis {s} is not supported (supported: {})",
            linkis_gen::catalog::supported_list()
        )),
    }
}

fn parse_size(s: &str) -> Result<Size, String> {
    Size::parse(s)
}

/// The `--engines` list (a newtype so that clap takes it as one value).
#[derive(Clone)]
struct EngineList(Vec<EngineType>);

fn parse_engines(s: &str) -> Result<EngineList, String> {
    linkis_gen::init::parse_engines(s).map(EngineList)
}

/// How generated-file headers name the spec: its file name without directories, so that
/// `spec.yaml`, `./spec.yaml` and `/abs/spec.yaml` render byte-identical trees (docs/output.md).
fn header_name(path: &Path) -> String {
    match path.file_name() {
        Some(n) if path.as_os_str() != "-" => n.to_string_lossy().into_owned(),
        _ => path.display().to_string(),
    }
}

/// Reads a spec file (or stdin for `-`), never more than the size limit and one byte
/// (linkis_gen::load::read_limited); also the SHA-256 of what was read.
fn read_source(path: &Path) -> Result<(Source, String), ExitCode> {
    let name = path.display().to_string();
    let read = if name == "-" {
        linkis_gen::load::read_limited(std::io::stdin().lock())
    } else {
        std::fs::File::open(path).and_then(linkis_gen::load::read_limited)
    };
    match read {
        Ok((bytes, over)) => {
            let digest = linkis_gen::state::sha256(&bytes);
            Ok((Source::new_limited(name, bytes, over), digest))
        }
        Err(e) => {
            eprintln!("error: cannot read {name}: {e}");
            Err(ExitCode::from(2))
        }
    }
}

/// Reads OUT/.linkis-gen/applied.json (what runs), if present, with the text it was read from.
fn read_applied_text(out: &Path) -> Result<Option<(State, String)>, ExitCode> {
    State::read_applied_text(out).map_err(|e| {
        eprintln!("error: cannot read what runs: {e}");
        ExitCode::from(2)
    })
}

/// The change summary of a model with an applied state (rendered in memory).
fn print_change_summary(model: &Model, opts: &RenderOptions) {
    if model.applied.is_some() {
        if let Ok(r) = render::render_tree(model, opts) {
            print!("{}", change_summary(model, r.changes.as_ref()));
        }
    }
}

/// The change summary of a render: the upgrade's (decided once, `Model::upgrade`), or that of
/// the change plan render computed (the one CHANGES.md shows); nothing for a new cluster.
fn change_summary(model: &Model, changes: Option<&ChangePlan>) -> String {
    if model.applied.is_none() {
        return String::new();
    }
    // A release or discovery change: the upgrade's summary (src/plan/upgrade.rs).
    if let Some(up) = &model.upgrade {
        return linkis_gen::plan::upgrade::summary(up);
    }
    changes
        .map(linkis_gen::plan::changes::summary)
        .unwrap_or_default()
}

/// Loads, validates, sizes and resolves the spec (against what runs in OUT, when given and
/// OUT holds applied.json); prints diagnostics; runs `then` on success.
fn with_plan(
    path: &Path,
    out: Option<&Path>,
    then: impl FnOnce(&Source, &Model, &str, Option<&str>) -> ExitCode,
) -> ExitCode {
    let (applied, applied_text) = match out.map(read_applied_text).transpose() {
        Ok(a) => a.flatten().unzip(),
        Err(code) => return code,
    };
    linkis_gen::timing::mark("start");
    let (src, spec_digest) = match read_source(path) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match linkis_gen::model_with(&src, applied) {
        Ok(plan) => {
            linkis_gen::timing::mark("model");
            print_diags(&plan.warnings, &src);
            linkis_gen::timing::mark("warnings");
            then(&src, &plan, &spec_digest, applied_text.as_deref())
        }
        Err(diags) => {
            print_diags(&diags, &src);
            ExitCode::from(1)
        }
    }
}

fn print_diags(diags: &[Diagnostic], src: &Source) {
    if !diags.is_empty() {
        eprint!("{}", diag::render_all(diags, src));
    }
}
