//! Every Auth0 file in `shared/fixtures/auth0/` parses, with counts from its PROVENANCE.md.
//! Skipped (with a printed line) when `../shared` is absent.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use kcm_model::{PasswordHash, Reason, SourceResult};
use kcm_source_io::SourceInputs;
use serde_json::Value;

fn fixture(shared: &Path, name: &str) -> PathBuf {
    shared.join("fixtures/auth0").join(name)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn dashboard_raw_json_user_logto() {
    let Some(shared) = shared_dir() else { return };
    let items = run(&inputs(&[&fixture(
        &shared,
        "LogtoMigrationTools_auth0-users.json",
    )]));
    assert_eq!(shape(&items), "U");
    let u = user(&items, "auth0|88hvhgd63543dfg456dfgdfgerf");
    assert_eq!(u.display_name.as_deref(), Some("菜菜"));
    assert_eq!(u.attributes["nickname"], ["菜菜"]);
    assert_eq!(u.phone.as_deref(), Some("8618788888888"));
    assert_eq!(u.username.as_deref(), Some("golovin"));
    assert_eq!(u.created_at, Some(1_735_703_640_992));
    assert!(u.last_login_at.is_some());
    for key in [
        "blocked_for",
        "guardian_authenticators",
        "passkeys",
        "last_ip",
        "logins_count",
        "last_password_reset",
    ] {
        assert!(u.metadata.contains_key(key), "{key}");
    }
    assert_eq!(
        u.identities[0].connection.as_deref(),
        Some("Username-Password-Authentication")
    );
    assert!(u.diagnostics.is_empty(), "{:?}", u.diagnostics);
}

#[test]
fn vendor_profile_examples_each_parse() {
    let Some(shared) = shared_dir() else { return };
    let doc = read_json(&fixture(&shared, "auth0-docs_user-profile-examples.json"));
    let examples = doc["examples"].as_object().expect("examples object");
    assert_eq!(
        examples.len(),
        4,
        "Google, Microsoft Account, Office 365, ADFS"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut providers = Vec::new();
    for (title, profile) in examples {
        let path = write(dir.path(), "profile.json", profile.to_string());
        let items = run(&inputs(&[&path]));
        assert_eq!(shape(&items), "U", "{title}");
        let u = users(&items)[0];
        assert!(u.is_social_only(), "{title}: federated identity only");
        assert!(u.first_name.is_some() && u.email.is_some(), "{title}");
        providers.push(u.identities[0].provider.clone());
    }
    providers.sort();
    assert_eq!(
        providers,
        ["adfs", "google-oauth2", "office365", "windowslive"]
    );
}

fn hash_run(shared: &Path, name: &str) -> (Vec<SourceResult>, Vec<SourceResult>) {
    let path = fixture(shared, name);
    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "none.ndjson", "");
    let alone = run(&SourceInputs {
        hashes: Some(path.clone()),
        ..inputs(&[&empty])
    });
    // Users carrying the ids the rows resolve to (`auth0|<_id.$oid>`).
    let ids: Vec<String> = match read_json(&fixture(
        shared,
        "clerk-migration-script_auth0-password-export.json",
    )) {
        Value::Array(rows) => rows
            .iter()
            .filter_map(|r| {
                r["_id"]["$oid"]
                    .as_str()
                    .map(|o| format!("{{\"user_id\":\"auth0|{o}\"}}\n"))
            })
            .collect(),
        _ => Vec::new(),
    };
    let users = write(dir.path(), "users.ndjson", ids.concat());
    let joined = run(&SourceInputs {
        hashes: Some(path),
        ..inputs(&[&users])
    });
    (alone, joined)
}

#[test]
fn clerk_password_export_has_six_rows_as_array_and_as_ndjson() {
    let Some(shared) = shared_dir() else { return };
    for name in [
        "clerk-migration-script_auth0-password-export.json",
        "derived_clerk-auth0-password-export.ndjson",
    ] {
        let (alone, joined) = hash_run(&shared, name);
        let errs = errors(&alone);
        assert_eq!(errs.len(), 6, "{name}: 6 rows, none matched");
        assert!(errs.iter().all(|e| e.reason == Reason::Unmatched), "{name}");
        assert_eq!(shape(&joined), "UHUHUHUHUHUH", "{name}");
        for u in users(&joined) {
            assert!(
                matches!(u.password_hash, Some(PasswordHash::Bcrypt { cost: 10, .. })),
                "{name}"
            );
        }
    }
}

/// Response bodies of the recorded user-list calls (`GET /api/v2/users`, `/users-by-email`,
/// `/users/{id}`) and role-list calls (`GET /api/v2/roles`).
fn recorded_bodies(doc: &Value) -> (Vec<Value>, Vec<Value>) {
    let mut users = Vec::new();
    let mut roles = Vec::new();
    for i in doc["interactions"].as_array().expect("interactions") {
        if i["method"] != "GET" {
            continue;
        }
        let url = i["url"].as_str().unwrap_or_default();
        let path = url.split('?').next().unwrap_or_default();
        let path = path.split("/api/v2").nth(1).unwrap_or_default();
        let is_user_list = path == "/users" || path == "/users-by-email";
        let is_single_user = path.starts_with("/users/") && path.matches('/').count() == 2;
        if is_user_list || is_single_user {
            users.push(i["response_body"].clone());
        } else if path == "/roles" {
            roles.push(i["response_body"].clone());
        }
    }
    (users, roles)
}

#[test]
fn go_auth0_recorded_user_lists_and_roles_parse() {
    let Some(shared) = shared_dir() else { return };
    let doc = read_json(&fixture(&shared, "go-auth0-recordings-mgmt-api.json"));
    let (bodies, role_bodies) = recorded_bodies(&doc);
    // 2 paged searches, 2 users-by-email arrays, 1 single-user read.
    assert_eq!(bodies.len(), 5);
    let dir = tempfile::tempdir().unwrap();
    let mut total = 0;
    for (n, body) in bodies.iter().enumerate() {
        let expected = match body {
            Value::Array(a) => a.len(),
            Value::Object(o) => o.get("users").and_then(Value::as_array).map_or(1, Vec::len),
            _ => 0,
        };
        let path = write(
            dir.path(),
            &format!("body{n}.json"),
            serde_json::to_string_pretty(body).unwrap(),
        );
        let items = run(&inputs(&[&path]));
        assert!(errors(&items).is_empty(), "{:?}", errors(&items));
        assert_eq!(users(&items).len(), expected);
        for u in users(&items) {
            assert!(u.source_id.starts_with("auth0|"));
            assert!(u.email.is_some() && u.created_at.is_some());
            assert_eq!(u.identities[0].provider, "auth0");
        }
        total += expected;
    }
    assert_eq!(total, 5);
    let searched = {
        let page = bodies
            .iter()
            .find(|b| b.get("users").is_some())
            .expect("a paged search");
        let path = write(dir.path(), "search.json", page.to_string());
        run(&inputs(&[&path]))
    };
    let u = users(&searched)[0];
    assert_eq!(
        u.metadata_path("user_metadata.favourite_attack"),
        Some(&Value::from("roundhouse_kick"))
    );
    assert_eq!(
        u.metadata_path("app_metadata.facts")
            .and_then(Value::as_array)
            .map(Vec::len),
        Some(3)
    );

    assert_eq!(role_bodies.len(), 1);
    let roles_path = write(dir.path(), "roles.json", role_bodies[0].to_string());
    let empty = write(dir.path(), "none.ndjson", "");
    let items = run(&SourceInputs {
        roles: Some(roles_path),
        ..inputs(&[&empty])
    });
    assert_eq!(shape(&items), "R");
    assert_eq!(
        roles(&items)[0].source_id.as_deref(),
        Some("rol_9yRKwo2Bl0zckceV")
    );
}
