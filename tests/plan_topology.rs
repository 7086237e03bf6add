//! PLAN.md's picture of the cluster: a Mermaid flowchart with every host (a subgraph named by
//! host and address), each of its services with its port, the nginx fronts balancing over every
//! gateway, and the Eureka peers; for the deployment guide's five layouts. The diagram is parsed
//! by Mermaid's own parser (npm `mermaid`, tools/mermaid-parse.mjs) in the ignored test, which
//! .ci/keep.sh runs with MERMAID_MODULES set.

mod conf_common;
use conf_common::{GUIDES, plan_of};

use std::path::Path;
use std::process::Command;

use linkis_gen::render::{self, RenderOptions};

fn model(spec: &str) -> linkis_gen::model::Model {
    let text = std::fs::read_to_string(spec).unwrap();
    linkis_gen::model::resolve(&plan_of(spec, &text))
}

fn plan_md(m: &linkis_gen::model::Model) -> String {
    let files = render::render(m, &RenderOptions::default()).unwrap();
    files
        .into_iter()
        .find(|f| f.path == "PLAN.md")
        .unwrap()
        .contents
}

/// The one ```mermaid block of PLAN.md.
fn diagram(md: &str) -> String {
    let blocks: Vec<&str> = md
        .split("```mermaid\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert_eq!(blocks.len(), 1, "{md}");
    blocks[0].to_string()
}

#[test]
fn every_host_service_port_front_and_peer_is_drawn() {
    for spec in GUIDES {
        let m = model(spec);
        let d = diagram(&plan_md(&m));
        assert!(d.starts_with("flowchart LR\n"), "{spec}");
        let lines: Vec<&str> = d.lines().map(str::trim).collect();
        let mut nodes = 0;
        for (i, h) in m.hosts.iter().enumerate() {
            let id = format!("h{}", i + 1);
            let head = format!("subgraph {id}[\"{} ({})\"]", h.name, h.address);
            let at = lines
                .iter()
                .position(|l| *l == head)
                .unwrap_or_else(|| panic!("{spec}: no subgraph for {}:\n{d}", h.name));
            let end = at + lines[at..].iter().position(|l| *l == "end").unwrap();
            let inside = &lines[at + 1..end];
            for inst in &h.instances {
                let node = format!("{id}_{}[\"{} :{}\"]", inst.name, inst.name, inst.port);
                assert!(
                    inside.contains(&node.as_str()),
                    "{spec}: {node} not in {}",
                    h.name
                );
                nodes += 1;
            }
            let nginx = format!("{id}_nginx[[\"nginx :{}\"]]", m.web.listen);
            assert_eq!(
                inside.contains(&nginx.as_str()),
                h.runs(linkis_gen::spec::Service::Gateway),
                "{spec}: {}",
                h.name
            );
            assert_eq!(
                inside.len(),
                h.instances.len() + usize::from(h.runs(linkis_gen::spec::Service::Gateway)),
                "{spec}: {}: {inside:?}",
                h.name
            );
        }
        assert_eq!(
            nodes,
            m.hosts.iter().map(|h| h.instances.len()).sum::<usize>()
        );
        // Each front balances over every gateway; the Eureka nodes are peers of each other.
        let gw: Vec<String> = (0..m.hosts.len())
            .filter(|i| m.hosts[*i].runs(linkis_gen::spec::Service::Gateway))
            .map(|i| format!("h{}", i + 1))
            .collect();
        assert!(gw.len() >= 2, "{spec}");
        for w in &gw {
            assert!(lines.contains(&format!("users --> {w}_nginx").as_str()));
            for g in &gw {
                assert!(lines.contains(&format!("{w}_nginx --> {g}_gateway").as_str()));
            }
        }
        let eurekas: Vec<String> = (0..m.hosts.len())
            .filter(|i| m.hosts[*i].runs(linkis_gen::spec::Service::Eureka))
            .map(|i| format!("h{}_eureka", i + 1))
            .collect();
        assert_eq!(
            lines.iter().filter(|l| l.contains(" <-.-> ")).count(),
            eurekas.len() * (eurekas.len() - 1) / 2,
            "{spec}"
        );
    }
}

#[test]
#[ignore = "needs node and `npm install mermaid jsdom` in $MERMAID_MODULES; run by .ci/keep.sh"]
fn mermaid_parses_the_diagram_of_every_guide_layout() {
    let modules = std::env::var("MERMAID_MODULES").expect("MERMAID_MODULES");
    let dir = std::env::temp_dir().join(format!("linkis-gen-mermaid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for spec in GUIDES {
        let path = dir.join(format!(
            "{}.md",
            Path::new(spec).file_stem().unwrap().to_string_lossy()
        ));
        std::fs::write(&path, plan_md(&model(spec))).unwrap();
        files.push(path);
    }
    // A broken diagram must fail: the parser is really asked.
    let broken = dir.join("broken.md");
    std::fs::write(
        &broken,
        "```mermaid\nflowchart LR\n  subgraph h1[\"s1\n  a -->\n```\n",
    )
    .unwrap();
    let parse = |files: &[std::path::PathBuf]| {
        Command::new("node")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/mermaid-parse.mjs"))
            .args(files)
            .env("MERMAID_MODULES", &modules)
            .output()
            .expect("node runs")
    };
    let out = parse(&files);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.matches(": flowchart-v2 parses").count(),
        5,
        "{stdout}"
    );
    assert!(!parse(&[broken]).status.success());
    let _ = std::fs::remove_dir_all(&dir);
}
