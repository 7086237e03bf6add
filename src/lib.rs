//! linkis-gen: one cluster spec → everything needed to run Apache Linkis on many hosts.
//!
//! The pipeline is a compiler, one module per stage, each taking the previous stage's output:
//! `load` (bytes → `Spec`) → `validate` (→ `Validated`) → `size` (→ `Plan`) → `model`
//! (→ `Model`, every value normalised once) → `render` (→ `Vec<OutFile>`, reading only the model)
//! → `write` (→ OUT on disk). `catalog` holds what differs between Linkis
//! releases; `diag` the diagnostics every stage reports.

pub mod catalog;
pub mod computed;
pub mod diag;
pub mod init;
pub mod load;
pub mod model;
pub mod platform;
pub mod render;
pub mod report;
pub mod schema;
pub mod size;
pub mod spec;
pub mod validate;
pub mod write;

use diag::Diagnostic;
use load::Source;
use model::Model;
use size::Plan;

/// Runs load → validate → size on a spec source: the plan, or every error found.
/// Warnings travel in `Plan::warnings`; on failure the list holds errors and any warnings.
pub fn plan(src: &Source) -> Result<Plan, Vec<Diagnostic>> {
    let spec = load::parse(src)?;
    let validated = validate::validate(spec)?;
    let warnings = validated.warnings.clone();
    let mut plan = size::place(validated).map_err(|mut errors| {
        errors.extend(warnings);
        errors
    })?;
    let (spec, release) = (&plan.spec, &plan.release);
    let mut extra = Vec::new();
    computed::override_warnings(spec, release, &plan.hosts, &mut extra);
    plan.warnings.extend(extra);
    Ok(plan)
}

/// Runs load → validate → size → resolve on a spec source: the model, or every error found.
/// Warnings travel in `Model::warnings`.
pub fn model(src: &Source) -> Result<Model, Vec<Diagnostic>> {
    plan(src).map(|p| model::resolve(&p))
}
