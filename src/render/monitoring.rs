//! The files of the third edition's observability that are not Linkis conf:
//! - `OUT/monitoring/`: a Prometheus scrape configuration of every instance of the model and the
//!   alert rules it loads, only when the spec asks for Prometheus (`monitoring.prometheus`); for
//!   the operator's Prometheus server, no playbook installs them;
//! - `OUT/hosts/<host>/os/`: with `logs:`, the logrotate rule of the stdout files (every host) and
//!   the systemd-tmpfiles rule of the engines' working directories (ECM hosts), which the
//!   linkis_logs role installs under /etc.

use minijinja::value::{Serde, Value};

use super::routes::{self, Renderer, Scope};
use super::{OutFile, RenderError, Templates};
use crate::model::Model;
use crate::spec::Service;

pub fn render(model: &Model, templates: &Templates) -> Result<Vec<OutFile>, RenderError> {
    let whole = Value::from(Serde(model));
    let mut out = Vec::new();
    if model.monitoring.prometheus {
        let ctx = minijinja::context! { model => whole.clone() };
        for r in routes::of(Renderer::Monitoring, Scope::Cluster) {
            out.push(OutFile::new(
                r.out,
                templates.render(r.template, ctx.clone())?,
            ));
        }
    }
    if model.logs.bounded {
        for h in &model.hosts {
            let header = format!(
                "Host {} of cluster {} (Linkis {}).",
                h.name, model.cluster.name, model.cluster.version
            );
            let ctx = minijinja::context! { model => whole.clone(), header => header };
            for r in routes::of(Renderer::Monitoring, Scope::Host) {
                if r.out.ends_with("/tmpfiles.conf") && !h.runs(Service::Engineconnmanager) {
                    continue;
                }
                let text = templates.render(r.template, ctx.clone())?;
                out.push(OutFile::new(r.out_path(&h.name, ""), text));
            }
        }
    }
    Ok(out)
}
