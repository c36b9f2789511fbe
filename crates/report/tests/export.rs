//! kc.sh import export: file split, exact file shapes, realm file consistency with the users,
//! validation of every emitted object against Keycloak's published schemas, file modes, and
//! refusals.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use common::schema::Schemas;
use common::{planned_users, summary};
use kcm_keycloak_types::UserRepresentation;
use kcm_report::{
    ExportPaths, ExportWriter, RealmContents, RealmSettings, ReportError, DEFAULT_USERS_PER_FILE,
};
use kcm_transform::Outcome;
use serde_json::Value;

fn users() -> Vec<UserRepresentation> {
    planned_users()
        .into_iter()
        .map(|o| match o {
            Outcome::Planned(p) => p.user,
            other => panic!("fixture is not a planned user: {other:?}"),
        })
        .collect()
}

/// `n` users cycling through the fixture users, with unique usernames.
fn many_users(n: usize) -> Vec<UserRepresentation> {
    let base = users();
    (0..n)
        .map(|i| {
            let mut u = base[i % base.len()].clone();
            u.username = Some(format!("user{i}"));
            u.id = Some(format!("00000000-0000-5000-8000-{i:012}"));
            u
        })
        .collect()
}

fn export(
    dir: &Path,
    users: &[UserRepresentation],
    per_file: usize,
    contents: RealmContents,
) -> ExportPaths {
    let mut writer = ExportWriter::create(dir, "acme", per_file).expect("create");
    for u in users {
        writer.add_user(u).expect("add_user");
    }
    writer.finish(contents).expect("finish")
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).expect("readable")).expect("JSON")
}

fn file_names(paths: &ExportPaths) -> Vec<String> {
    paths
        .users_files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// All group paths in a realm file's group tree.
fn realm_group_paths(groups: &Value, out: &mut BTreeSet<String>) {
    for g in groups.as_array().into_iter().flatten() {
        let path = g["path"].as_str().expect("every group has a path");
        assert!(g["name"].is_string(), "every group has a name");
        out.insert(path.to_string());
        realm_group_paths(&g["subGroups"], out);
    }
}

#[test]
fn users_are_split_into_files_of_the_given_size() {
    let dir = tempfile::tempdir().unwrap();
    let paths = export(dir.path(), &many_users(7), 3, RealmContents::default());
    assert_eq!(paths.users, 7);
    assert_eq!(
        file_names(&paths),
        vec![
            "acme-users-0.json",
            "acme-users-1.json",
            "acme-users-2.json"
        ]
    );
    let sizes: Vec<usize> = paths
        .users_files
        .iter()
        .map(|p| json(p)["users"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, vec![3, 3, 1]);
    // Input order is kept across files.
    let names: Vec<String> = paths
        .users_files
        .iter()
        .flat_map(|p| {
            json(p)["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["username"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        names,
        (0..7).map(|i| format!("user{i}")).collect::<Vec<_>>()
    );
    assert_eq!(paths.realm_file, dir.path().join("acme-realm.json"));
}

#[test]
fn an_exact_multiple_leaves_no_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let paths = export(
        dir.path(),
        &many_users(DEFAULT_USERS_PER_FILE * 2),
        DEFAULT_USERS_PER_FILE,
        RealmContents::default(),
    );
    assert_eq!(
        file_names(&paths),
        vec!["acme-users-0.json", "acme-users-1.json"]
    );
    let listed: BTreeSet<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        listed,
        BTreeSet::from([
            "acme-realm.json".to_string(),
            "acme-users-0.json".into(),
            "acme-users-1.json".into()
        ])
    );
}

#[test]
fn users_files_have_exactly_realm_and_users() {
    let dir = tempfile::tempdir().unwrap();
    let paths = export(dir.path(), &users(), 4, RealmContents::default());
    for p in &paths.users_files {
        let doc = json(p);
        let keys: Vec<&str> = doc
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 2, "{}: {keys:?}", p.display());
        assert_eq!(doc["realm"], "acme");
        assert!(doc["users"].is_array());
        // The first key Keycloak's streaming parser meets is `realm`.
        assert!(fs::read_to_string(p)
            .unwrap()
            .starts_with("{\"realm\":\"acme\",\"users\":["));
    }
}

#[test]
fn every_emitted_object_matches_keycloaks_schemas() {
    let schemas = Schemas::load();
    let dir = tempfile::tempdir().unwrap();
    let mut contents = RealmContents::from_summary(&summary());
    contents.settings = RealmSettings {
        display_name: Some("Acme <Corp>".into()),
        duplicate_emails_allowed: Some(false),
        login_with_email_allowed: Some(true),
        registration_email_as_username: Some(false),
        password_policy: Some("hashAlgorithm(argon2) and length(8)".into()),
    };
    let paths = export(dir.path(), &users(), 2, contents);
    let mut checked = 0;
    for p in &paths.users_files {
        for (i, user) in json(p)["users"].as_array().unwrap().iter().enumerate() {
            schemas.assert_valid(
                "UserRepresentation",
                user,
                &format!("{} user {i}", p.display()),
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 6);
    let realm = json(&paths.realm_file);
    schemas.assert_valid("RealmRepresentation", &realm, "the realm file");
    // The nested objects on their own, too.
    for role in realm["roles"]["realm"].as_array().unwrap() {
        schemas.assert_valid("RoleRepresentation", role, "a realm role");
    }
    schemas.assert_valid("RolesRepresentation", &realm["roles"], "roles");
    for client in realm["clients"].as_array().unwrap() {
        schemas.assert_valid("ClientRepresentation", client, "a client");
    }
    for group in realm["groups"].as_array().unwrap() {
        schemas.assert_valid("GroupRepresentation", group, "a group");
    }
}

#[test]
fn the_harness_rejects_unknown_fields() {
    let schemas = Schemas::load();
    let bad_user = serde_json::json!({"username": "a", "nickname": "x"});
    assert!(!schemas.errors("UserRepresentation", &bad_user).is_empty());
    let bad_nested =
        serde_json::json!({"username": "a", "credentials": [{"type": "password", "hash": "x"}]});
    assert!(!schemas.errors("UserRepresentation", &bad_nested).is_empty());
    let bad_group = serde_json::json!({"realm": "a", "groups": [{"name": "g", "subGroups": [{"name": "h", "members": 1}]}]});
    assert!(!schemas.errors("RealmRepresentation", &bad_group).is_empty());
    let wrong_type = serde_json::json!({"realm": "a", "enabled": "yes"});
    assert!(!schemas
        .errors("RealmRepresentation", &wrong_type)
        .is_empty());
    assert!(schemas
        .errors(
            "RealmRepresentation",
            &serde_json::json!({"realm": "a", "enabled": true})
        )
        .is_empty());
}

#[test]
fn realm_file_defines_everything_users_refer_to() {
    let dir = tempfile::tempdir().unwrap();
    let mut extra = users();
    // Refers to a group, realm role and client the summary-derived contents lack.
    extra[5].groups = Some(vec!["/contractors/emea".into()]);
    extra[5].realm_roles = Some(vec!["auditor".into()]);
    extra[5].client_roles = Some([("crm".to_string(), vec!["reader".to_string()])].into());
    let paths = export(
        dir.path(),
        &extra,
        DEFAULT_USERS_PER_FILE,
        RealmContents::from_summary(&summary()),
    );
    let realm = json(&paths.realm_file);
    assert_eq!(realm["realm"], "acme");
    assert_eq!(realm["enabled"], true);

    let mut group_paths = BTreeSet::new();
    realm_group_paths(&realm["groups"], &mut group_paths);
    let clients: BTreeSet<String> = realm["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["clientId"].as_str().unwrap().to_string())
        .collect();
    let client_role_defs = &realm["roles"]["client"];
    let realm_roles: BTreeSet<String> = realm["roles"]["realm"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();

    let mut seen_groups = 0;
    for p in &paths.users_files {
        for user in json(p)["users"].as_array().unwrap() {
            for g in user["groups"].as_array().into_iter().flatten() {
                let g = g.as_str().unwrap();
                assert!(
                    group_paths.contains(g),
                    "group {g} missing from the realm file"
                );
                seen_groups += 1;
            }
            for (client, roles) in user["clientRoles"].as_object().into_iter().flatten() {
                if kcm_report::is_builtin_client(client) {
                    continue;
                }
                assert!(
                    clients.contains(client),
                    "client {client} missing from the realm file"
                );
                for role in roles.as_array().unwrap() {
                    let defined = client_role_defs[client]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|r| r["name"] == *role);
                    assert!(defined, "client role {client}/{role} missing");
                }
            }
            for role in user["realmRoles"].as_array().into_iter().flatten() {
                let role = role.as_str().unwrap();
                assert!(
                    realm_roles.contains(role) || kcm_report::is_builtin_realm_role("acme", role),
                    "realm role {role} missing"
                );
            }
        }
    }
    assert_eq!(seen_groups, 5);
    // Parents exist too, and nesting follows the paths.
    for expected in [
        "/ops",
        "/ops/oncall",
        "/ops/oncall/night",
        "/contractors",
        "/contractors/emea",
        "/R\\/D",
    ] {
        assert!(group_paths.contains(expected), "{expected}");
    }
    assert_eq!(
        clients,
        BTreeSet::from(["billing".to_string(), "crm".to_string()])
    );
    assert!(realm_roles.contains("auditor") && realm_roles.contains("staff"));
    // Keycloak's own clients and roles are left to Keycloak.
    assert!(!realm_roles.contains("offline_access"));
    assert!(client_role_defs.get("realm-management").is_none());
}

#[test]
fn empty_export_still_writes_the_realm() {
    let dir = tempfile::tempdir().unwrap();
    let paths = export(dir.path(), &[], 50, RealmContents::default());
    assert!(paths.users_files.is_empty());
    assert_eq!(paths.users, 0);
    assert_eq!(
        json(&paths.realm_file),
        serde_json::json!({"realm": "acme", "enabled": true})
    );
}

#[cfg(unix)]
#[test]
fn every_export_file_is_private() {
    let dir = tempfile::tempdir().unwrap();
    let paths = export(dir.path(), &many_users(5), 2, RealmContents::default());
    assert_eq!(paths.users_files.len(), 3);
    for p in paths.users_files.iter().chain([&paths.realm_file]) {
        assert_eq!(common::mode(p), 0o600, "{}", p.display());
    }
}

#[test]
fn refuses_what_keycloak_would_mishandle() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        ExportWriter::create(dir.path(), "a/b", 50),
        Err(ReportError::InvalidRealm { .. })
    ));
    assert!(matches!(
        ExportWriter::create(dir.path(), "acme", 0),
        Err(ReportError::InvalidUsersPerFile)
    ));

    let mut writer = ExportWriter::create(dir.path(), "acme", 50).unwrap();
    let mut service = users()[0].clone();
    service.username = Some("service-account-billing".into());
    assert!(matches!(
        writer.add_user(&service),
        Err(ReportError::InvalidUser { .. })
    ));
    let mut nameless = users()[0].clone();
    nameless.username = None;
    assert!(matches!(
        writer.add_user(&nameless),
        Err(ReportError::InvalidUser { .. })
    ));
    let mut bad_group = users()[0].clone();
    bad_group.groups = Some(vec!["staff//eng/".into()]);
    let err = writer.add_user(&bad_group).unwrap_err();
    assert!(err.to_string().contains("group path"), "{err}");
    // Refused users leave no trace; the export goes on.
    writer.add_user(&users()[1]).unwrap();
    let paths = writer.finish(RealmContents::default()).unwrap();
    assert_eq!(paths.users, 1);
    assert_eq!(
        json(&paths.users_files[0])["users"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn refuses_a_directory_holding_an_earlier_export() {
    let dir = tempfile::tempdir().unwrap();
    export(dir.path(), &many_users(3), 2, RealmContents::default());
    let err = ExportWriter::create(dir.path(), "acme", 50).unwrap_err();
    assert!(
        matches!(&err, ReportError::StaleExport { path } if path.ends_with("acme-realm.json")),
        "{err}"
    );
    // Another realm's files would be imported by `kc.sh import --dir` as well.
    let other = tempfile::tempdir().unwrap();
    fs::write(other.path().join("master-users-0.json"), "{}").unwrap();
    assert!(matches!(
        ExportWriter::create(other.path(), "acme", 50),
        Err(ReportError::StaleExport { .. })
    ));
    // Unrelated files are fine.
    let fine = tempfile::tempdir().unwrap();
    fs::write(fine.path().join("report.json"), "{}").unwrap();
    assert!(ExportWriter::create(fine.path(), "acme", 50).is_ok());
}

#[test]
fn credentials_are_written_for_keycloak_only() {
    // The users file must carry the credential (that is the point of the export) and the
    // writer's Debug output must not.
    let dir = tempfile::tempdir().unwrap();
    let mut writer = ExportWriter::create(dir.path(), "acme", 50).unwrap();
    writer.add_user(&users()[0]).unwrap();
    let shown = format!("{writer:?}");
    assert!(!shown.contains("CanarySecretValue"), "{shown}");
    let paths = writer.finish(RealmContents::default()).unwrap();
    let doc = json(&paths.users_files[0]);
    let secret = doc["users"][0]["credentials"][0]["secretData"]
        .as_str()
        .unwrap();
    assert_eq!(secret, common::CANARY_SECRET_DATA);
}
