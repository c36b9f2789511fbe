//! The vendored Keycloak schemas are the official spec's, unchanged, and the closed set the
//! export tests need.

mod common;

use std::collections::BTreeSet;

use serde_json::Value;

const ROOTS: &[&str] = &[
    "RealmRepresentation",
    "UserRepresentation",
    "CredentialRepresentation",
    "FederatedIdentityRepresentation",
    "RoleRepresentation",
    "RolesRepresentation",
    "GroupRepresentation",
    "ClientRepresentation",
    "Composites",
];

fn refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        out.insert(r.rsplit('/').next().unwrap_or_default().to_string());
                    }
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(list) => list.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn vendored_set_is_closed_under_refs() {
    let doc = common::schema::vendored();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut reachable: BTreeSet<String> = BTreeSet::new();
    let mut todo: Vec<String> = ROOTS.iter().map(|s| s.to_string()).collect();
    while let Some(name) = todo.pop() {
        if !reachable.insert(name.clone()) {
            continue;
        }
        let schema = schemas
            .get(&name)
            .unwrap_or_else(|| panic!("{name} is referenced but not vendored"));
        let mut found = BTreeSet::new();
        refs(schema, &mut found);
        todo.extend(found);
    }
    let vendored: BTreeSet<String> = schemas.keys().cloned().collect();
    assert_eq!(
        reachable, vendored,
        "vendor exactly the schemas the roots reach"
    );
    assert_eq!(vendored.len(), 53);
}

#[test]
fn vendored_schemas_equal_the_official_spec() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let spec_path = shared.join("keycloak-openapi/keycloak-26.6-openapi.json");
    let Ok(text) = std::fs::read_to_string(&spec_path) else {
        println!("skipped: {} not found", spec_path.display());
        return;
    };
    let spec: Value = serde_json::from_str(&text).unwrap();
    let doc = common::schema::vendored();
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        assert_eq!(
            &spec["components"]["schemas"][name], schema,
            "{name} differs from the spec"
        );
    }
}
