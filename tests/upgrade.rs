//! Upgrades between Linkis releases: the plan (CHANGES.md) and the playbook (changes.yml) rendered
//! when the release or the discovery in applied.json differs from the spec's, and the refusals.
//!
//! With `LINKIS_GEN_UPGRADE_TREES=DIR` each scenario's rendered tree is also written to DIR/<name>,
//! where .ci/upgrade.sh runs `ansible-playbook --syntax-check` and `ansible-lint` on it.

use linkis_gen::diag::Diagnostic;
use linkis_gen::load::Source;
use linkis_gen::model::Model;
use linkis_gen::plan::upgrade::Upgrade;
use linkis_gen::render::{self, OutFile, RenderOptions};
use linkis_gen::state::{STATE, State};

mod conf_common;
use conf_common::get;

/// Four hosts, default placement: ECMs on h1 and h2, every control service on h3 and h4.
fn spec(version: &str, nacos: bool) -> String {
    let discovery = if nacos {
        "  discovery: nacos\n  nacos_address: 10.0.0.9:8848"
    } else {
        ""
    };
    let hosts = (1..=4)
        .map(|i| format!("  - {{ name: h{i}, address: 10.0.1.{i} }}"))
        .collect::<Vec<_>>()
        .join("\n");
    conf_common::spec(version, discovery, &hosts, "")
}

fn model_of(text: &str) -> Model {
    let src = Source::new("spec.yaml", text.as_bytes().to_vec());
    linkis_gen::model(&src).unwrap_or_else(|d| panic!("{d:?}\n{text}"))
}

/// What runs once `text` was rendered and applied: its state.json.
fn applied(text: &str) -> State {
    let files = render::render(&model_of(text), &RenderOptions::default()).expect("renders");
    State::from_json(get(&files, STATE)).expect("state.json reads back")
}

/// The spec `to` planned against what `from` left running (applied.json).
fn model_against(from: &str, to: &str) -> Result<Model, Vec<Diagnostic>> {
    let src = Source::new("spec.yaml", to.as_bytes().to_vec());
    linkis_gen::model_with(&src, Some(applied(from)))
}

/// The upgrade from what `from` renders (as if applied) to what `to` renders, and `to`'s tree.
fn upgrade(name: &str, from: &str, to: &str) -> (Upgrade, Vec<OutFile>) {
    let model = model_against(from, to).unwrap_or_else(|d| panic!("{d:?}"));
    let up = model
        .upgrade
        .clone()
        .expect("the release or the discovery changes");
    let files = render::render(&model, &RenderOptions::default()).expect("renders");
    if let Ok(dir) = std::env::var("LINKIS_GEN_UPGRADE_TREES") {
        let out = std::path::Path::new(&dir).join(name);
        linkis_gen::write::write(&out, &files).expect("tree written");
    }
    (up, files)
}

fn versions(up: &Upgrade) -> Vec<&str> {
    up.migrations.iter().map(|m| m.version).collect()
}

fn units(files: &[OutFile]) -> Vec<&str> {
    files
        .iter()
        .filter(|f| f.path.contains("/systemd/"))
        .map(|f| f.path.as_str())
        .collect()
}

/// The section of CHANGES.md under a `## ` heading.
fn section<'a>(md: &'a str, heading: &str) -> &'a str {
    let start = md
        .find(&format!("## {heading}\n"))
        .unwrap_or_else(|| panic!("no {heading} in\n{md}"));
    let rest = &md[start + heading.len() + 4..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}

#[test]
fn from_1_3_2_to_1_4_0_runs_the_1_4_0_scripts() {
    let (up, files) = upgrade(
        "1.3.2-to-1.4.0",
        &spec("1.3.2", false),
        &spec("1.4.0", false),
    );
    assert_eq!(versions(&up), ["1.4.0"]);
    assert!(up.without_scripts.is_empty(), "{:?}", up.without_scripts);
    assert!(up.services_removed.is_empty() && up.removed_units.is_empty());

    let md = get(&files, "CHANGES.md");
    assert!(
        md.contains("# Upgrade plan: Linkis 1.3.2 → 1.4.0 (t)"),
        "{md}"
    );
    assert!(md.contains("**The whole cluster stops.**"), "{md}");
    let order = section(md, "What changes.yml does, in order");
    assert!(
        order.contains(
            "   - 1.4.0: `db/upgrade/1.4.0_schema/mysql/linkis_ddl.sql`\n   \
             - 1.4.0: `db/upgrade/1.4.0_schema/mysql/linkis_dml.sql`\n"
        ),
        "{order}"
    );
    assert!(section(md, "Services").contains("The same services run before and after."));
    // A key 1.4.0 ships in its stock linkis.properties and 1.3.2 does not, from the catalog.
    let added = section(md, "Configuration keys");
    assert!(added.contains("- `"), "{added}");

    let yml = get(&files, "changes.yml");
    assert!(
        yml.contains(
            "      - { version: \"1.4.0\", path: db/upgrade/1.4.0_schema/mysql/linkis_ddl.sql }\n      \
             - { version: \"1.4.0\", path: db/upgrade/1.4.0_schema/mysql/linkis_dml.sql }\n"
        ),
        "{yml}"
    );
    assert!(yml.contains("linkis_upgrade_from: \"1.3.2\""), "{yml}");
    // The migrations run on the first manager host, after the install, before any start.
    assert!(
        yml.contains("- name: Migrate the database\n  hosts: h3\n"),
        "{yml}"
    );
    let pos = |s: &str| yml.find(s).unwrap_or_else(|| panic!("{s} not in\n{yml}"));
    assert!(pos("- name: Preflight the upgrade") < pos("- name: Stop the whole cluster"));
    assert!(pos("- name: Stop the whole cluster") < pos("- name: Dump the database"));
    assert!(pos("- name: Dump the database") < pos("- name: Install Linkis 1.4.0 beside 1.3.2"));
    assert!(pos("- name: Install Linkis 1.4.0") < pos("- name: Migrate the database"));
    assert!(pos("- name: Migrate the database") < pos("- name: \"Start stage 1"));
    assert!(pos("- name: \"Start stage 1") < pos("- name: Verify the cluster"));
    assert!(pos("- name: Verify the cluster") < pos("- name: Record what runs now"));
    // The whole cluster stops in the reverse of the start order: the ECMs first, Eureka last.
    let stops: Vec<&str> = yml
        .lines()
        .filter_map(|l| l.strip_prefix("    - name: \"Stop "))
        .collect();
    assert_eq!(
        stops,
        [
            "linkis-cg-engineconnmanager\"",
            "linkis-cg-entrance\"",
            "linkis-cg-linkismanager\"",
            "linkis-ps-publicservice\"",
            "linkis-mg-gateway\"",
            "linkis-mg-eureka\"",
        ]
    );
    assert!(
        yml.contains("      when: inventory_hostname in [\"h1\", \"h2\"]\n"),
        "{yml}"
    );
}

#[test]
fn from_1_1_3_to_1_3_2_runs_five_versions_of_scripts_and_removes_the_folded_services() {
    let (up, files) = upgrade(
        "1.1.3-to-1.3.2",
        &spec("1.1.3", false),
        &spec("1.3.2", false),
    );
    assert_eq!(versions(&up), ["1.2.0", "1.2.1", "1.3.0", "1.3.1", "1.3.2"]);
    let scripts: Vec<&str> = up
        .migrations
        .iter()
        .flat_map(|m| m.scripts.iter().map(String::as_str))
        .collect();
    assert_eq!(
        scripts,
        [
            "db/upgrade/1.2.0_schema/mysql/linkis_ddl.sql",
            "db/upgrade/1.2.0_schema/mysql/linkis_dml.sql",
            "db/upgrade/1.2.1_schema/mysql/linkis_dml.sql",
            "db/upgrade/1.3.0_schema/mysql/linkis_dml.sql",
            "db/upgrade/1.3.1_schema/mysql/linkis_ddl.sql",
            "db/upgrade/1.3.1_schema/mysql/linkis_dml.sql",
            "db/upgrade/1.3.2_schema/mysql/linkis_ddl.sql",
            "db/upgrade/1.3.2_schema/mysql/linkis_dml.sql",
        ]
    );
    assert!(up.without_scripts.is_empty(), "{:?}", up.without_scripts);
    let gone: Vec<(&str, Option<&str>)> = up
        .services_removed
        .iter()
        .map(|g| (g.service, g.into))
        .collect();
    assert_eq!(
        gone,
        [
            ("cs", Some("publicservice")),
            ("datasourcemanager", Some("publicservice")),
            ("metadatamanager", Some("publicservice")),
            ("engineplugin", Some("linkismanager")),
        ]
    );
    // Their units on both control hosts, and nothing else.
    let removed: Vec<String> = up
        .removed_units
        .iter()
        .map(|u| format!("{} {}", u.host, u.unit))
        .collect();
    assert_eq!(
        removed,
        [
            "h3 linkis-ps-cs",
            "h3 linkis-ps-data-source-manager",
            "h3 linkis-ps-metadatamanager",
            "h3 linkis-cg-engineplugin",
            "h4 linkis-ps-cs",
            "h4 linkis-ps-data-source-manager",
            "h4 linkis-ps-metadatamanager",
            "h4 linkis-cg-engineplugin",
        ]
    );
    for u in units(&files) {
        for old in [
            "ps-cs",
            "data-source-manager",
            "metadatamanager",
            "engineplugin",
        ] {
            assert!(!u.contains(old), "{u} is still rendered");
        }
    }
    let md = get(&files, "CHANGES.md");
    assert!(
        section(md, "Services").contains("- `engineplugin`: folded into `linkismanager` in 1.3.1"),
        "{md}"
    );
    assert!(md.contains("   - `linkis-ps-cs` on h3 (stopped, disabled, unit file deleted)\n"));
    // The key removals name the files that went away with the folded services.
    assert!(
        section(md, "Configuration keys")
            .contains("- `linkis-ps-cs.properties`: `spring.server.port`"),
        "{md}"
    );
    let yml = get(&files, "changes.yml");
    assert!(
        yml.contains("      - { host: h4, unit: linkis-cg-engineplugin }\n"),
        "{yml}"
    );
    // The old units stop too (with their 1.1 daemon names), before anything is installed.
    assert!(
        yml.contains("    - name: \"Stop linkis-ps-metadatamanager\"\n"),
        "{yml}"
    );
    let mut ordered: Vec<usize> = scripts.iter().map(|s| yml.find(s).unwrap()).collect();
    let sorted = {
        let mut s = ordered.clone();
        s.sort_unstable();
        s
    };
    assert_eq!(ordered, sorted, "the scripts appear in version order");
    ordered.dedup();
    assert_eq!(ordered.len(), 8);
}

#[test]
fn from_1_7_0_to_1_8_0_there_are_no_scripts_and_changes_md_says_so() {
    let (up, files) = upgrade(
        "1.7.0-to-1.8.0",
        &spec("1.7.0", false),
        &spec("1.8.0", false),
    );
    assert!(up.migrations.is_empty(), "{:?}", up.migrations);
    assert_eq!(up.without_scripts, ["1.8.0"]);
    let md = get(&files, "CHANGES.md");
    assert!(
        md.contains("   - none: no release after 1.7.0 up to 1.8.0 ships mysql upgrade scripts.\n"),
        "{md}"
    );
    assert!(
        md.contains("Releases without mysql upgrade scripts (nothing to run for them): 1.8.0."),
        "{md}"
    );
    let yml = get(&files, "changes.yml");
    assert!(
        yml.contains("    linkis_upgrade_migrations:\n      []\n"),
        "{yml}"
    );
}

#[test]
fn a_switch_to_nacos_stops_everything_removes_the_eureka_units_and_verifies_with_nacos() {
    let (up, files) = upgrade(
        "1.5.0-eureka-to-nacos",
        &spec("1.5.0", false),
        &spec("1.5.0", true),
    );
    assert!(!up.release_change);
    assert_eq!((up.from_discovery, up.to_discovery), ("eureka", "nacos"));
    assert!(up.migrations.is_empty() && up.without_scripts.is_empty());
    let removed: Vec<String> = up
        .removed_units
        .iter()
        .map(|u| format!("{} {}", u.host, u.unit))
        .collect();
    assert_eq!(removed, ["h3 linkis-mg-eureka", "h4 linkis-mg-eureka"]);
    assert!(
        units(&files).iter().all(|u| !u.contains("eureka")),
        "{:?}",
        units(&files)
    );
    // Everything stops, Eureka last.
    assert_eq!(up.stop.len(), 6);
    assert_eq!(up.stop.last().unwrap().unit, "linkis-mg-eureka");

    let md = get(&files, "CHANGES.md");
    assert!(
        md.contains("switches the discovery from **eureka** to **nacos** on Linkis 1.5.0"),
        "{md}"
    );
    assert!(md.contains(
        "the Eureka units are removed and the services register with Nacos at 10.0.0.9:8848"
    ));
    assert!(
        md.contains("(every instance healthy in Nacos' instance list)"),
        "{md}"
    );

    // The verify role asks Nacos for every expected instance instead of checking nothing.
    let verify = get(&files, "roles/linkis_verify/tasks/main.yml");
    assert!(
        verify
            .contains("/nacos/v1/ns/instance/list?serviceName={{ item.app | lower | urlencode }}")
    );
    assert!(verify.contains("Not registered in Nacos: "), "{verify}");
    assert!(!verify.contains("/eureka/apps"), "{verify}");
    let vars = get(&files, "inventory/group_vars/all/main.yml");
    assert!(
        vars.contains("linkis_nacos_address: \"10.0.0.9:8848\"\n"),
        "{vars}"
    );
    assert!(
        vars.contains("  - { app: LINKIS-MG-GATEWAY, host: h3, port: 9001, service: gateway }"),
        "{vars}"
    );
    assert!(!vars.contains("LINKIS-MG-EUREKA"), "{vars}");
}

#[test]
fn a_downgrade_is_refused_at_the_release_with_the_running_release_named() {
    let errs = model_against(&spec("1.4.0", false), &spec("1.3.2", false)).unwrap_err();
    let err = &errs[0];
    assert!(err.is_error());
    assert_eq!(
        (err.check, err.path.as_str()),
        ("upgrade-downgrade", "cluster.linkis_version")
    );
    assert!(err.message.contains("Linkis 1.4.0 runs"), "{}", err.message);
    assert!(err.message.contains("asks for 1.3.2"), "{}", err.message);
    assert!(
        err.hint
            .as_deref()
            .unwrap()
            .contains("linkis_version: 1.4.0")
    );

    // Located on the spec's line.
    let text = spec("1.3.2", false);
    let src = Source::new("spec.yaml", text.as_bytes().to_vec());
    let shown = err.render(&src);
    assert!(shown.contains("--> spec.yaml:4:"), "{shown}");
    assert!(shown.contains("linkis_version: \"1.3.2\""), "{shown}");
}

#[test]
fn a_running_release_the_catalog_does_not_know_is_refused() {
    let mut state = applied(&spec("1.3.2", false));
    state.release = "1.0.3".into();
    let src = Source::new("spec.yaml", spec("1.4.0", false).into_bytes());
    let errs = linkis_gen::model_with(&src, Some(state)).unwrap_err();
    let err = &errs[0];
    assert_eq!(err.check, "upgrade-unknown-release");
    assert_eq!(err.path, "cluster.linkis_version");
    assert!(err.message.contains("Linkis 1.0.3 runs"), "{}", err.message);
    assert!(err.hint.as_deref().unwrap().contains("1.1.1, 1.1.2"));
}

#[test]
fn the_same_release_and_discovery_is_no_upgrade() {
    let text = spec("1.3.2", false);
    let model = model_against(&text, &text).unwrap();
    assert_eq!(model.upgrade, None);
    let files = render::render(&model, &RenderOptions::default()).unwrap();
    assert!(files.iter().all(|f| !f.contents.contains("Upgrade plan")));
}
