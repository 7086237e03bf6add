//! linkis-gen: one cluster spec → everything needed to run Apache Linkis on many hosts.
//!
//! The pipeline is a compiler, one module per stage, each taking the previous stage's output:
//! `load` (bytes → `Spec`) → `validate` (→ `Validated`) → `size` (→ `Plan`) → `render`
//! (→ `Vec<OutFile>`) → `write` (→ OUT on disk). `catalog` holds what differs between Linkis
//! releases; `diag` the diagnostics every stage reports.

pub mod catalog;
pub mod diag;
pub mod init;
pub mod load;
pub mod render;
pub mod report;
pub mod schema;
pub mod size;
pub mod spec;
pub mod upgrade;
pub mod validate;
pub mod write;

use diag::Diagnostic;
use load::Source;
use size::Plan;

/// Runs load → validate → size on a spec source: the plan, or every error found.
/// Warnings travel in `Plan::warnings`; on failure the list holds errors and any warnings.
pub fn plan(src: &Source) -> Result<Plan, Vec<Diagnostic>> {
    let spec = load::parse(src)?;
    let validated = validate::validate(spec)?;
    let warnings = validated.warnings.clone();
    size::place(validated).map_err(|mut errors| {
        errors.extend(warnings);
        errors
    })
}
