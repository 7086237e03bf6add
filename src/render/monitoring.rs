//! `OUT/monitoring/`: a Prometheus scrape configuration of every instance of the model and the
//! alert rules it loads, rendered only when the spec asks for Prometheus (`monitoring.prometheus`).
//! These files are for the operator's Prometheus server: no playbook installs them.

use minijinja::value::{Serde, Value};

use super::routes::{self, Renderer, Scope};
use super::{OutFile, RenderError, Templates};
use crate::model::Model;

pub fn render(model: &Model, templates: &Templates) -> Result<Vec<OutFile>, RenderError> {
    if !model.monitoring.prometheus {
        return Ok(Vec::new());
    }
    let ctx = minijinja::context! { model => Value::from(Serde(model)) };
    routes::of(Renderer::Monitoring, Scope::Cluster)
        .map(|r| {
            Ok(OutFile::new(
                r.out,
                templates.render(r.template, ctx.clone())?,
            ))
        })
        .collect()
}
