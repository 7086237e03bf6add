//! Template routes: every route renders in some example, and a `--templates` file that no route
//! claims is refused with its path.

use std::collections::BTreeSet;

use linkis_gen::load::Source;
use linkis_gen::render::routes::{ROUTES, Renderer, Scope};
use linkis_gen::render::{self, RenderOptions, Templates};
use linkis_gen::state::{STATE, State};

/// Whether an output path is one a route pattern stands for (`_host_`, `_daemon_` = one segment
/// part without `/`).
fn matches(pattern: &str, path: &str) -> bool {
    let p: Vec<&str> = pattern.split('/').collect();
    let o: Vec<&str> = path.split('/').collect();
    p.len() == o.len()
        && p.iter().zip(&o).all(|(p, o)| {
            let Some((pre, post)) = p.split_once("_host_").or_else(|| p.split_once("_daemon_"))
            else {
                return p == o;
            };
            o.len() > pre.len() + post.len() && o.starts_with(pre) && o.ends_with(post)
        })
}

/// Every example, and the two-server one on 1.2.0: the only line with ps-metadataquery.
fn specs() -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    v.sort();
    let two = v
        .iter()
        .find(|(n, _)| n.ends_with("two-server-1.1.3.yaml"))
        .expect("the two-server example");
    let text = String::from_utf8(two.1.clone())
        .unwrap()
        .replace("linkis_version: \"1.1.3\"", "linkis_version: \"1.2.0\"");
    assert!(text.contains("\"1.2.0\""));
    v.push(("two-server-1.2.0.yaml".into(), text.into_bytes()));
    v
}

#[test]
fn every_route_renders_for_some_example_and_every_file_has_a_route() {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (spec, bytes) in specs() {
        let src = Source::new(spec.clone(), bytes);
        let model = linkis_gen::model(&src).unwrap_or_else(|d| panic!("{spec}: {d:?}"));
        let files = render::render(&model, &RenderOptions::default()).unwrap();
        // Rendered again as a running cluster (applied.json = its own state): the change plan.
        let state = files.iter().find(|f| f.path == STATE).expect("state.json");
        let applied = State::from_json(&state.contents).unwrap();
        let running = linkis_gen::model_with(&src, Some(applied)).unwrap();
        let changes = render::render(&running, &RenderOptions::default()).unwrap();
        // state.json is data, not a template's output.
        for f in files.iter().chain(&changes).filter(|f| f.path != STATE) {
            let route = ROUTES
                .iter()
                .find(|r| matches(r.out, &f.path))
                .unwrap_or_else(|| panic!("{spec}: {} comes from no route", f.path));
            seen.insert(route.template);
        }
        // Instance routes: one file per service instance.
        let units = files
            .iter()
            .filter(|f| f.path.starts_with("hosts/") && f.path.ends_with(".service"))
            .count();
        let instances: usize = model.hosts.iter().map(|h| h.instances.len()).sum();
        assert_eq!(units, instances, "{spec}");
        assert!(ROUTES.iter().any(|r| r.scope == Scope::Instance));
    }
    // An upgrade (the 1.1.3 two-server example running, the spec at 1.2.0): CHANGES.md and
    // changes.yml come from the upgrade routes (src/plan/upgrade.rs).
    let all = specs();
    let text = |suffix: &str| {
        let (name, bytes) = all.iter().find(|(n, _)| n.ends_with(suffix)).unwrap();
        Source::new(name.clone(), bytes.clone())
    };
    let old = render::render(
        &linkis_gen::model(&text("two-server-1.1.3.yaml")).unwrap(),
        &RenderOptions::default(),
    )
    .unwrap();
    let applied =
        State::from_json(&old.iter().find(|f| f.path == STATE).unwrap().contents).unwrap();
    let upgrade = linkis_gen::model_with(&text("two-server-1.2.0.yaml"), Some(applied)).unwrap();
    let files = render::render(&upgrade, &RenderOptions::default()).unwrap();
    for r in ROUTES.iter().filter(|r| r.renderer == Renderer::Upgrade) {
        let f = files.iter().find(|f| f.path == r.out).expect(r.out);
        assert!(
            f.contents.contains("1.1.3") && f.contents.contains("1.2.0"),
            "{}",
            r.out
        );
        seen.insert(r.template);
    }
    // A seeded database row that changes (applied.json's YARN address another): the role of
    // the rows (tests/db_rows.rs).
    let prod = text("production-1.4.0.yaml");
    let old = render::render(
        &linkis_gen::model(&prod).unwrap(),
        &RenderOptions::default(),
    )
    .unwrap();
    let mut applied =
        State::from_json(&old.iter().find(|f| f.path == STATE).unwrap().contents).unwrap();
    applied
        .db_rows
        .get_mut("yarn rmWebAddress")
        .expect("the bootstrap's YARN row")
        .value = r#""rmWebAddress":"http://old:8088""#.into();
    let running = linkis_gen::model_with(&prod, Some(applied)).unwrap();
    let files = render::render(&running, &RenderOptions::default()).unwrap();
    for r in ROUTES
        .iter()
        .filter(|r| r.out.starts_with("roles/linkis_db_rows/"))
    {
        assert!(files.iter().any(|f| f.path == r.out), "{}", r.out);
        seen.insert(r.template);
    }
    let missing: Vec<&str> = ROUTES
        .iter()
        .map(|r| r.template)
        .filter(|t| !seen.contains(t))
        .collect();
    assert!(missing.is_empty(), "routes no example renders: {missing:?}");
}

#[test]
fn route_patterns_match_only_their_paths() {
    assert!(matches(
        "hosts/_host_/systemd/linkis-_daemon_.service",
        "hosts/s1/systemd/linkis-mg-gateway.service"
    ));
    assert!(!matches(
        "hosts/_host_/systemd/linkis-_daemon_.service",
        "hosts/s1/conf/linkis.properties"
    ));
    assert!(!matches("site.yml", "stop.yml"));
}

#[test]
fn a_templates_dir_file_no_route_claims_is_refused_with_its_path() {
    let dir = std::env::temp_dir().join(format!("linkis-gen-routes-{}", std::process::id()));
    let sub = dir.join("hosts/_host_/conf");
    std::fs::create_dir_all(&sub).unwrap();
    for (rel, text) in [
        ("site.yml.j2", "- hosts: all\n"),
        ("hosts/_host_/conf/linkis-extra.properties.j2", "a=b\n"),
    ] {
        std::fs::write(dir.join(rel), text).unwrap();
    }
    let err = match Templates::load(Some(&dir)) {
        Ok(_) => panic!("an unrouted template is accepted"),
        Err(e) => e.to_string(),
    };
    std::fs::remove_dir_all(&dir).unwrap();
    let full = sub.join("linkis-extra.properties.j2");
    assert!(err.contains(&full.display().to_string()), "{err}");
    assert!(err.contains("no template route"), "{err}");
}
