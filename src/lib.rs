//! linkis-gen: one cluster spec → everything needed to run Apache Linkis on many hosts.
//!
//! The pipeline is a compiler, one module per stage, each taking the previous stage's output:
//! `load` (bytes → `Spec`) → `validate` (→ `Validated`) → `size` (→ `Plan`, with the `upgrade`
//! against what runs decided once, here: `plan::upgrade`) → `model` (→ `Model`, every value
//! normalised once, resolved once, here) → `render` (→ `Rendered`: the files, reading only the
//! model, the state they record and the change plan against what runs, `plan::changes`,
//! computed once from both) → `write`
//! (→ OUT on disk). `catalog` holds what differs between Linkis releases; `diag` the
//! diagnostics every stage reports.

pub mod catalog;
pub mod diag;
pub mod explain;
pub mod init;
pub mod load;
pub mod model;
pub mod plan;
pub mod render;
pub mod report;
pub mod schema;
pub mod size;
pub mod spec;
pub mod state;
pub mod timing;
pub mod validate;
pub mod write;

use diag::Diagnostic;
use load::Source;
use model::Model;
use plan::upgrade;
use size::Plan;

/// Runs load → validate → size on a spec source: the plan, or every error found.
/// Warnings travel in `Plan::warnings`; on failure the list holds errors and any warnings.
pub fn plan(src: &Source) -> Result<Plan, Vec<Diagnostic>> {
    plan_with(src, None)
}

/// `plan` against what runs (`OUT/.linkis-gen/applied.json`, see `state`): sticky placement,
/// and the base of the change plan that `render` then writes.
pub fn plan_with(src: &Source, applied: Option<state::State>) -> Result<Plan, Vec<Diagnostic>> {
    let Placed {
        mut plan,
        load_errors,
    } = placed(src, applied)?;
    // The override warnings are the model's (they read its key table): with overrides, the
    // plan's warnings are those of its model, as `model_with` reports them.
    if !plan.spec.overrides.is_empty() {
        plan.warnings = resolve(&plan).warnings;
    }
    with_load_errors(load_errors, &mut plan.warnings)?;
    Ok(plan)
}

/// Runs load → validate → size → resolve on a spec source: the model, or every error found.
/// Warnings travel in `Model::warnings`.
pub fn model(src: &Source) -> Result<Model, Vec<Diagnostic>> {
    model_with(src, None)
}

/// `model` against what runs (`OUT/.linkis-gen/applied.json`): sticky placement, and the base of
/// the change plan (`Model::applied`) that `render` writes as CHANGES.md and changes.yml. The
/// model is resolved once, and its override warnings read from it.
pub fn model_with(src: &Source, applied: Option<state::State>) -> Result<Model, Vec<Diagnostic>> {
    let Placed { plan, load_errors } = placed(src, applied)?;
    let mut model = resolve(&plan);
    with_load_errors(load_errors, &mut model.warnings)?;
    Ok(model)
}

/// A sized plan with its upgrade decided, and the load errors that did not stop the stages
/// (unknown keys: reported, then left out).
struct Placed {
    plan: Plan,
    load_errors: Vec<Diagnostic>,
}

/// load → validate → size → the upgrade against what runs. Unknown keys (reported, then left
/// out) do not stop the named checks and the sizing: every mistake of a spec in one run. Any
/// other load error, or a check's error, stops before sizing.
fn placed(src: &Source, applied: Option<state::State>) -> Result<Placed, Vec<Diagnostic>> {
    let (spec, load_errors) = load::parse_recovering(src)?;
    let with_load = |errors: Vec<Diagnostic>| -> Vec<Diagnostic> {
        load_errors.iter().cloned().chain(errors).collect()
    };
    let validated = validate::validate(spec).map_err(with_load)?;
    let warnings = validated.warnings.clone();
    let mut plan = size::place_with(validated, applied).map_err(|mut errors| {
        errors.extend(warnings.clone());
        with_load(errors)
    })?;
    // A release change against what runs is an upgrade; a downgrade is refused here.
    plan.upgrade = upgrade_of(&plan).map_err(|e| {
        let mut errors = vec![e];
        errors.extend(warnings);
        with_load(errors)
    })?;
    Ok(Placed { plan, load_errors })
}

/// The one place the model is resolved: the plan's model, with the warnings for overrides that
/// replace a value linkis-gen decided or that a service's file shadows (read from the origins of
/// the model's key table, src/model/keys.rs) after the plan's.
fn resolve(plan: &Plan) -> Model {
    let mut model = model::resolve(plan);
    let extra = model::keys::override_warnings(&model);
    model.warnings.extend(extra);
    model
}

/// The load errors that did not stop the stages, put before the other warnings; an error among
/// them fails the run with every diagnostic.
fn with_load_errors(
    load_errors: Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) -> Result<(), Vec<Diagnostic>> {
    if load_errors.iter().any(Diagnostic::is_error) {
        let mut all = load_errors;
        all.append(warnings);
        return Err(all);
    }
    warnings.splice(0..0, load_errors);
    Ok(())
}

/// The upgrade from what runs (`plan.applied`) to what the plan renders (src/plan/upgrade.rs): `None`
/// for a new cluster or when the release and the discovery stay.
fn upgrade_of(plan: &Plan) -> Result<Option<upgrade::Upgrade>, Diagnostic> {
    let Some(state) = &plan.applied else {
        return Ok(None);
    };
    let target = upgrade::Target {
        release: plan.release,
        discovery: plan.spec.cluster.discovery,
        db: plan.spec.database.kind,
        hosts: plan
            .hosts
            .iter()
            .map(|h| {
                let units = h
                    .services
                    .iter()
                    .map(|p| model::unit_name(p.info.daemon))
                    .collect();
                (h.name.as_str(), units)
            })
            .collect(),
    };
    upgrade::between(state, &target)
}
