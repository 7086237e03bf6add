//! The plan report: `linkis-gen plan` and `OUT/PLAN.md`.
//! (Placeholder until the sizing issue's report lands.)

use std::fmt::Write as _;

use crate::render::OutFile;
use crate::size::{Plan, gib};

/// The report as Markdown text.
pub fn text(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Plan for cluster {}", plan.spec.cluster.name);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "ECM memory demand: {} ; capacity: {}",
        gib(plan.demand.memory as u128),
        gib(plan.capacity_memory as u128)
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "| host | services | engine memory |");
    let _ = writeln!(out, "|---|---|---|");
    for h in &plan.hosts {
        let svcs: Vec<&str> = h.services.iter().map(|s| s.service.name()).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            h.name,
            svcs.join(", "),
            gib(h.engine_memory as u128)
        );
    }
    out
}

/// `OUT/PLAN.md`.
pub fn plan_md(plan: &Plan, overridden: &[String]) -> Vec<OutFile> {
    let mut s = text(plan);
    if !overridden.is_empty() {
        let _ = writeln!(
            s,
            "\nTemplates replaced from --templates: {}",
            overridden.join(", ")
        );
    }
    vec![OutFile::new("PLAN.md", s)]
}
