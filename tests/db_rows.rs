//! Database rows as planned state (issue 21): the rows linkis-gen seeds (the YARN provider row's
//! fields, the engine labels) are recorded in state.json, and a change to one is a planned change:
//! CHANGES.md names the rows and values, old → new; changes.yml updates exactly those rows, from
//! SQL files linkis-gen writes with the values as string literals. (tests/db_rows_e2e.rs runs the
//! play against a real MariaDB.)

mod conf_common;
use conf_common::get;

use linkis_gen::load::Source;
use linkis_gen::plan::changes::{self, ChangePlan};
use linkis_gen::render::{self, OutFile, RenderOptions};
use linkis_gen::state::{self, State};

pub fn spec(yarn_url: &str, spark: &str) -> String {
    format!(
        r#"version: 1
cluster: {{ name: t, linkis_version: "1.3.2", package: files/linkis.tar.gz }}
database:
  host: db1
  name: linkis
  user: linkis
  password: {{ vault: vault_linkis_db_password }}
hadoop:
  yarn_url: {}
sizing:
  concurrent_users: 2
  engines:
    spark: {{ memory: 1G, cores: 1, version: "{spark}" }}
    hive: {{ memory: 1G, cores: 1 }}
host_defaults: {{ memory: 64G, cores: 8 }}
hosts:
  - {{ name: s1, address: 10.0.0.1 }}
  - {{ name: s2, address: 10.0.0.2 }}
"#,
        serde_json::to_string(yarn_url).unwrap()
    )
}

fn render_with(text: &str, applied: Option<State>) -> (Vec<OutFile>, Option<ChangePlan>) {
    let src = Source::new("spec.yaml", text.as_bytes().to_vec());
    let model = linkis_gen::model_with(&src, applied).unwrap_or_else(|d| panic!("{d:#?}"));
    let files = render::render(&model, &RenderOptions::default()).expect("renders");
    let state = State::from_json(get(&files, state::STATE)).unwrap();
    let plan = changes::of(&model, &state);
    (files, plan)
}

/// With `CHANGES_SCENARIOS_DIR` set (.ci/changes.sh), the tree is written there for
/// ansible-playbook --syntax-check and ansible-lint.
fn keep_tree(name: &str, files: &[OutFile]) {
    let Ok(dir) = std::env::var("CHANGES_SCENARIOS_DIR") else {
        return;
    };
    let dir = std::path::Path::new(&dir).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for f in files {
        let p = dir.join(&f.path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, &f.contents).unwrap();
    }
}

fn applied_of(text: &str) -> State {
    let (files, _) = render_with(text, None);
    State::from_json(get(&files, state::STATE)).unwrap()
}

fn has(files: &[OutFile], path: &str) -> bool {
    files.iter().any(|f| f.path == path)
}

#[test]
fn state_json_records_the_seeded_rows() {
    let st = applied_of(&spec("http://10.0.0.9:8088", "3.2.1"));
    let row = &st.db_rows["yarn rmWebAddress"];
    assert_eq!(row.table, "linkis_cg_rm_external_resource_provider");
    assert_eq!(row.column, "config");
    assert_eq!(row.key, "resource_type = 'Yarn' AND name = 'default'");
    assert_eq!(row.value, r#""rmWebAddress":"http://10.0.0.9:8088""#);
    assert_eq!(row.source, "hadoop.yarn_url");
    assert_eq!(
        st.db_rows["yarn authorEnable"].value,
        r#""authorEnable":false"#
    );
    // The YARN password is never recorded.
    assert!(
        !st.db_rows
            .keys()
            .any(|k| k.contains("pwd") && st.db_rows[k].value.len() > 8)
    );
    assert_eq!(st.db_rows["label *-IDE,spark"].value, "*-IDE,spark-3.2.1");
    // An engine the spec does not run keeps the release's label.
    assert_eq!(st.db_rows["label *-*,python"].value, "*-*,python-python2");
}

#[test]
fn an_unchanged_spec_plans_nothing_in_the_database() {
    let text = spec("http://10.0.0.9:8088", "3.2.1");
    let (files, plan) = render_with(&text, Some(applied_of(&text)));
    let plan = plan.unwrap();
    assert!(plan.db_rows.is_empty());
    assert!(changes::is_empty(&plan), "{plan:#?}");
    assert!(!has(&files, "roles/linkis_db_rows/tasks/main.yml"));
    assert!(!get(&files, "changes.yml").contains("linkis_db_rows"));
}

#[test]
fn a_yarn_url_change_updates_the_yarn_row_and_restarts_the_managers_only() {
    let old = spec("http://10.0.0.9:8088", "3.2.1");
    let new = spec("http://10.0.0.19:8088", "3.2.1");
    let (files, plan) = render_with(&new, Some(applied_of(&old)));
    keep_tree("db-rows-yarn-url", &files);
    let plan = plan.unwrap();
    assert!(!changes::is_empty(&plan));
    let ids: Vec<&str> = plan.db_rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["yarn rmWebAddress"]);
    // The manager caches the row: it restarts, and nothing else.
    let restarted: Vec<String> = plan
        .restart
        .iter()
        .flat_map(|r| r.hosts.iter().map(move |h| format!("{}@{h}", r.service)))
        .collect();
    assert!(!restarted.is_empty());
    assert!(
        restarted.iter().all(|r| r.starts_with("linkismanager@")),
        "{restarted:?}"
    );
    assert!(plan.configure_hosts.is_empty());

    let md = get(&files, "CHANGES.md");
    assert!(md.contains("## Database rows"), "{md}");
    assert!(
        md.contains(r#"`"rmWebAddress":"http://10.0.0.9:8088"` → `"rmWebAddress":"http://10.0.0.19:8088"` (spec: `hadoop.yarn_url`)"#),
        "{md}"
    );
    assert!(md.contains("every linkismanager instance restarts"), "{md}");
    assert!(
        md.contains("the YARN provider row changed in the database (rmWebAddress)"),
        "{md}"
    );

    let yml = get(&files, "changes.yml");
    let db = yml.find("role: linkis_db_rows").expect("the rows play");
    let restart = yml
        .find("Restart linkismanager")
        .expect("the manager restart");
    assert!(db < restart, "the rows change before the manager restarts");

    let update = get(&files, "roles/linkis_db_rows/files/update.sql");
    assert!(update.starts_with("START TRANSACTION;\n"), "{update}");
    assert!(update.trim_end().ends_with("COMMIT;"), "{update}");
    assert!(update.contains(
        "UPDATE linkis_cg_rm_external_resource_provider SET config = REPLACE(config, '\"rmWebAddress\":\"http://10.0.0.9:8088\"', '\"rmWebAddress\":\"http://10.0.0.19:8088\"') WHERE resource_type = 'Yarn' AND name = 'default' AND LOCATE('\"rmWebAddress\":\"http://10.0.0.9:8088\"', config) > 0;"
    ), "{update}");
    // Only that row.
    assert_eq!(update.matches("UPDATE ").count(), 1, "{update}");
    let probe = get(&files, "roles/linkis_db_rows/files/probe.sql");
    assert!(
        probe.starts_with(
            "SELECT (SELECT COUNT(*) FROM linkis_cg_rm_external_resource_provider WHERE"
        ),
        "{probe}"
    );
}

#[test]
fn an_engine_version_change_renames_its_seeded_labels() {
    let old = spec("http://10.0.0.9:8088", "3.2.1");
    let new = spec("http://10.0.0.9:8088", "3.3.0");
    let (files, plan) = render_with(&new, Some(applied_of(&old)));
    keep_tree("db-rows-engine-version", &files);
    let plan = plan.unwrap();
    let rows: Vec<(String, String, String)> = plan
        .db_rows
        .iter()
        .map(|r| (r.id.clone(), r.old.clone(), r.new.clone()))
        .collect();
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows.contains(&(
        "label *-IDE,spark".into(),
        "*-IDE,spark-3.2.1".into(),
        "*-IDE,spark-3.3.0".into()
    )));
    assert!(
        plan.db_rows
            .iter()
            .all(|r| r.source == "sizing.engines.spark.version")
    );
    // No restart is added for labels (the spark version's conf changes restart their readers).
    assert!(
        !plan
            .instances
            .iter()
            .any(|i| i.causes.iter().any(|c| c.contains("YARN provider row")))
    );
    let update = get(&files, "roles/linkis_db_rows/files/update.sql");
    assert!(update.contains(
        "UPDATE linkis_cg_manager_label SET label_value = '*-IDE,spark-3.3.0' WHERE label_key = 'combined_userCreator_engineType' AND label_value = '*-IDE,spark-3.2.1';"
    ), "{update}");
    let md = get(&files, "CHANGES.md");
    assert!(
        md.contains(
            "`*-IDE,spark-3.2.1` → `*-IDE,spark-3.3.0` (spec: `sizing.engines.spark.version`)"
        ),
        "{md}"
    );
}

#[test]
fn a_hostile_value_is_a_string_literal_in_the_update() {
    // A spec's yarn_url with SQL in it is refused (quotes, blanks and backslashes are no URL's).
    let src = Source::new(
        "spec.yaml",
        spec("http://x/'; DROP TABLE t; --", "3.2.1").into_bytes(),
    );
    assert!(linkis_gen::plan(&src).is_err());
    // applied.json is read back from disk: whatever its old value holds, it is only ever a string
    // literal (the table, column and key come from the render, never from applied.json).
    let old = spec("http://10.0.0.9:8088", "3.2.1");
    let mut applied = applied_of(&old);
    let evil = r#""rmWebAddress":"http://x/'); DROP TABLE t; --\"#;
    let row = applied.db_rows.get_mut("yarn rmWebAddress").unwrap();
    row.value = evil.into();
    row.table = "t; DROP TABLE u".into();
    let (files, plan) = render_with(&old, Some(applied));
    assert_eq!(plan.unwrap().db_rows.len(), 1);
    let update = get(&files, "roles/linkis_db_rows/files/update.sql");
    assert!(
        update.contains(r#"REPLACE(config, '"rmWebAddress":"http://x/''); DROP TABLE t; --\\', "#),
        "{update}"
    );
    assert!(!update.contains("DROP TABLE u"), "{update}");
    assert_eq!(update.matches("UPDATE ").count(), 1, "{update}");
}

#[test]
fn an_applied_state_without_rows_plans_nothing_in_the_database_and_says_so() {
    let old = spec("http://10.0.0.9:8088", "3.2.1");
    let mut applied = applied_of(&old);
    applied.db_rows.clear();
    let (files, plan) = render_with(&spec("http://10.0.0.19:8088", "3.2.1"), Some(applied));
    let plan = plan.unwrap();
    assert!(plan.db_rows.is_empty() && plan.db_rows_unrecorded);
    assert!(get(&files, "CHANGES.md").contains("records none of the rows linkis-gen seeds"));
}

#[test]
fn turning_on_yarn_auth_sets_its_fields_and_says_the_password_is_not_set() {
    let old = spec("http://10.0.0.9:8088", "3.2.1");
    let new = old.replace(
        "  yarn_url: \"http://10.0.0.9:8088\"\n",
        "  yarn_url: \"http://10.0.0.9:8088\"\n  yarn_auth: { user: yarn, password: { vault: vault_yarn_password } }\n",
    );
    assert_ne!(new, old);
    let (files, plan) = render_with(&new, Some(applied_of(&old)));
    let plan = plan.unwrap();
    let ids: Vec<&str> = plan.db_rows.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["yarn authorEnable", "yarn user"]);
    assert!(
        plan.attention
            .iter()
            .any(|a| a.contains("not the password")),
        "{:?}",
        plan.attention
    );
    let update = get(&files, "roles/linkis_db_rows/files/update.sql");
    assert!(
        update.contains("'\"authorEnable\":false', '\"authorEnable\":true'"),
        "{update}"
    );
    assert!(!update.contains("vault_yarn_password"), "{update}");
}
