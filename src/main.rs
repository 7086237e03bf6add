//! The `linkis-gen` command line.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use linkis_gen::diag::{self, Diagnostic};
use linkis_gen::init::{EngineType, InitOptions};
use linkis_gen::load::Source;
use linkis_gen::render::{self, RenderOptions};
use linkis_gen::spec::Size;

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
    },
    /// Show the sizing arithmetic and the per-host placement of a spec.
    #[command(after_help = EXIT_CODES)]
    Plan {
        /// The spec file (`-` for standard input).
        spec: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
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
        /// Concurrent users to size for.
        #[arg(long)]
        users: u64,
        /// Memory of every host.
        #[arg(long, default_value = "64G", value_parser = parse_size)]
        host_memory: Size,
        /// Engine types: NAME:MEMORY[:CORES], comma-separated.
        #[arg(long, default_value = "spark:1G", value_parser = parse_engines)]
        engines: EngineList,
        /// Engines one user may run at once of each type.
        #[arg(long, default_value_t = 2)]
        concurrency: u64,
        /// The Linkis release.
        #[arg(
            long = "version",
            id = "linkis_version",
            value_name = "VERSION",
            default_value = "1.3.2"
        )]
        linkis_version: String,
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
        Command::Validate { spec } => with_plan(&spec, |src, plan| {
            println!(
                "{}: ok: {} hosts, Linkis {}, {} warning{}",
                src.name,
                plan.hosts.len(),
                plan.release.version,
                plan.warnings.len(),
                if plan.warnings.len() == 1 { "" } else { "s" }
            );
            ExitCode::SUCCESS
        }),
        Command::Plan { spec, format } => with_plan(&spec, |_, plan| {
            match format {
                Format::Text => print!("{}", linkis_gen::report::text(plan)),
                Format::Json => print!("{}", linkis_gen::report::json(plan)),
            }
            ExitCode::SUCCESS
        }),
        Command::Render {
            spec,
            out,
            templates,
            check,
        } => with_plan(&spec, |src, plan| {
            let upgrade = match upgrade_of(&out, plan) {
                Ok(u) => u,
                Err(e) => {
                    print_diags(&[e], src);
                    return ExitCode::from(1);
                }
            };
            let opts = RenderOptions {
                templates,
                spec_name: src.name.clone(),
                upgrade,
            };
            // Everything is rendered in memory first: a template error writes nothing.
            let files = match render::render(plan, &opts) {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            if check {
                return match linkis_gen::write::check(&out, &files) {
                    Ok(drift) if drift.is_empty() => {
                        println!(
                            "{}: {} is up to date ({} files)",
                            src.name,
                            out.display(),
                            files.len()
                        );
                        ExitCode::SUCCESS
                    }
                    Ok(drift) => {
                        print!("{}", linkis_gen::write::drift_report(&drift));
                        eprintln!(
                            "{}: {} differs from the rendered tree in {} file{}; run `linkis-gen render` and commit",
                            src.name,
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
                };
            }
            match linkis_gen::write::write(&out, &files) {
                Ok(s) => {
                    println!(
                        "{}: {} files in {}: {} written, {} unchanged, {} removed",
                        src.name,
                        files.len(),
                        out.display(),
                        s.written,
                        s.unchanged,
                        s.removed.len()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            }
        }),
        Command::Init {
            users,
            host_memory,
            engines,
            concurrency,
            linkis_version,
        } => {
            let opts = InitOptions {
                users,
                host_memory,
                engines: engines.0,
                concurrency,
                version: linkis_version,
            };
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
        Command::Schema => {
            print!("{}", linkis_gen::schema::spec_schema_text());
            ExitCode::SUCCESS
        }
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

/// Reads a spec file (or stdin for `-`).
fn read_source(path: &Path) -> Result<Source, ExitCode> {
    let name = path.display().to_string();
    let bytes = if name == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).map(|_| buf)
    } else {
        std::fs::read(path)
    };
    match bytes {
        Ok(b) => Ok(Source::new(name, b)),
        Err(e) => {
            eprintln!("error: cannot read {name}: {e}");
            Err(ExitCode::from(2))
        }
    }
}

/// The upgrade from the release OUT's applied.json records as running, if the spec changes the
/// release or the discovery; an unreadable applied.json is an error located at the release.
fn upgrade_of(
    out: &Path,
    plan: &linkis_gen::size::Plan,
) -> Result<Option<linkis_gen::upgrade::Upgrade>, Diagnostic> {
    use linkis_gen::upgrade::{APPLIED, Applied, compute};
    let path = out.join(APPLIED);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Diagnostic::error(
                "applied-unreadable",
                "cluster.linkis_version",
                format!("cannot read {}: {e}", path.display()),
            ));
        }
    };
    let applied = Applied::from_json(&text).map_err(|e| {
        Diagnostic::error(
            "applied-unreadable",
            "cluster.linkis_version",
            format!("{}: {e}", path.display()),
        )
        .hint("applied.json is written by the playbooks; restore it from the infra repo's history")
    })?;
    compute(&applied, plan)
}

/// Loads, validates and sizes the spec; prints diagnostics; runs `then` on success.
fn with_plan(
    path: &Path,
    then: impl FnOnce(&Source, &linkis_gen::size::Plan) -> ExitCode,
) -> ExitCode {
    let src = match read_source(path) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match linkis_gen::plan(&src) {
        Ok(plan) => {
            print_diags(&plan.warnings, &src);
            then(&src, &plan)
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
