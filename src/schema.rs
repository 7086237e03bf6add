//! `linkis-gen schema`: the JSON Schema of the spec, generated from the Rust types in `spec.rs`.
//! The loader walks the same schema to report unknown keys, so the two can never disagree.

use serde_json::Value;

/// The JSON Schema (draft 2020-12) of a version-1 spec.
pub fn spec_schema() -> Value {
    let mut schema = schemars::schema_for!(crate::spec::Spec).to_value();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "$id".into(),
            Value::String("https://linkis-gen/spec-v1.schema.json".into()),
        );
        // Top-level `x-` keys hold YAML anchors for merge keys (`<<: *defaults`); the loader drops them.
        obj.insert("patternProperties".into(), serde_json::json!({ "^x-": {} }));
        // The releases linkis-gen supports, from the catalog.
        let releases: Vec<&str> = crate::catalog::Release::all().map(|r| r.version).collect();
        if let Some(v) = obj
            .get_mut("$defs")
            .and_then(|d| d.get_mut("LinkisVersion"))
            .and_then(Value::as_object_mut)
        {
            v.insert("enum".into(), serde_json::json!(releases));
        }
        obj.insert(
            "title".into(),
            Value::String("linkis-gen cluster spec, format version 1".into()),
        );
    }
    schema
}

/// The schema as pretty JSON text, with a trailing newline.
pub fn spec_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&spec_schema()).unwrap_or_default();
    s.push('\n');
    s
}
