//! Validation against Keycloak's published schemas (vendored in `tests/data`), made strict the
//! way Keycloak's parser is: `additionalProperties: false` on every object schema that lists
//! its properties.

use std::path::PathBuf;

use serde_json::{json, Value};

pub const SCHEMAS_FILE: &str = "keycloak-26.6-schemas.json";

pub fn schemas_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(SCHEMAS_FILE)
}

/// The vendored file as it is on disk.
pub fn vendored() -> Value {
    let text = std::fs::read_to_string(schemas_path()).expect("vendored schemas are readable");
    serde_json::from_str(&text).expect("vendored schemas are JSON")
}

pub struct Schemas {
    components: Value,
}

impl Schemas {
    pub fn load() -> Self {
        let mut doc = vendored();
        let schemas = doc["components"]["schemas"]
            .as_object_mut()
            .expect("components.schemas");
        for schema in schemas.values_mut() {
            make_strict(schema);
        }
        Self {
            components: doc["components"].take(),
        }
    }

    /// Every violation of schema `name` by `instance`, as `path: message`.
    pub fn errors(&self, name: &str, instance: &Value) -> Vec<String> {
        assert!(
            self.components["schemas"].get(name).is_some(),
            "schema {name} is not vendored"
        );
        let root = json!({
            "$ref": format!("#/components/schemas/{name}"),
            "components": self.components,
        });
        let validator = jsonschema::draft4::new(&root).expect("schema compiles");
        validator
            .iter_errors(instance)
            .map(|e| format!("{}: {}", e.instance_path(), e))
            .collect()
    }

    pub fn assert_valid(&self, name: &str, instance: &Value, what: &str) {
        let errors = self.errors(name, instance);
        assert!(
            errors.is_empty(),
            "{what} is not a valid {name}: {errors:#?}"
        );
    }
}

/// Adds `additionalProperties: false` to `schema` and every schema nested in it that lists
/// `properties` and says nothing about additional ones.
fn make_strict(schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    if obj.contains_key("properties") && !obj.contains_key("additionalProperties") {
        obj.insert("additionalProperties".to_string(), Value::Bool(false));
    }
    if let Some(Value::Object(props)) = obj.get_mut("properties") {
        for p in props.values_mut() {
            make_strict(p);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(sub) = obj.get_mut(key) {
            make_strict(sub);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(list)) = obj.get_mut(key) {
            for sub in list {
                make_strict(sub);
            }
        }
    }
}
