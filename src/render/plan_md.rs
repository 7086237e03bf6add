//! `OUT/PLAN.md` and the text of `linkis-gen plan`: the plan report (`report::Report`) rendered
//! through the template `PLAN.md.j2`.

use super::routes::{self, Renderer, Scope};
use super::{OutFile, RenderError, Templates};
use crate::model::Model;
use crate::report::Report;

/// The report as Markdown, from a template set.
fn render_with(report: &Report, templates: &Templates) -> Result<String, RenderError> {
    let route = routes::of(Renderer::PlanMd, Scope::Cluster)
        .next()
        .expect("ROUTES has the PLAN.md route (tested)");
    let text = templates.render(
        route.template,
        minijinja::Value::from(minijinja::value::Serde(report)),
    )?;
    Ok(with_newline(text))
}

/// Text files end with exactly one newline.
fn with_newline(mut s: String) -> String {
    while s.ends_with("\n\n") {
        s.pop();
    }
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// The embedded template set (`linkis-gen plan` has no `--templates`).
fn embedded() -> Templates {
    Templates::load(None).expect("the embedded templates parse (tested)")
}

/// The report as Markdown text (`linkis-gen plan`), from the embedded template.
pub fn plan_text(model: &Model) -> String {
    render_with(&Report::new(model), &embedded())
        .expect("the embedded PLAN.md.j2 renders every report (tested)")
}

/// `OUT/PLAN.md`, from the embedded template, listing the templates replaced with `--templates`.
pub fn plan_md(model: &Model, overridden: &[String]) -> Vec<OutFile> {
    let mut templates = embedded();
    templates.overridden = overridden.to_vec();
    plan_md_with(&templates, model).expect("the embedded PLAN.md.j2 renders every report (tested)")
}

/// `OUT/PLAN.md` from the run's template set, so that a `--templates` PLAN.md.j2 is used.
pub fn plan_md_with(templates: &Templates, model: &Model) -> Result<Vec<OutFile>, RenderError> {
    let mut report = Report::new(model);
    report.templates_overridden = Some(templates.overridden.clone());
    Ok(vec![OutFile::new(
        "PLAN.md",
        render_with(&report, templates)?,
    )])
}
