//! Every Okta fixture in ../shared/fixtures/okta parses, with counts from its PROVENANCE.md.
//! Skipped (with a printed line) when ../shared is absent.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::{run_users, Dir};
use kcm_model::{MemberRef, Reason, SourceItem};
use kcm_source_io::SourceInputs;
use serde_json::Value;

fn okta_dir() -> Option<PathBuf> {
    common::shared_dir().map(|d| d.join("fixtures/okta"))
}

fn load(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture readable"))
        .expect("fixture is JSON")
}

fn status_counts(run: &common::Run) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for u in run.users() {
        *counts.entry(u.status.clone()).or_default() += 1;
    }
    counts
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// Objects that look like Users API user bodies (a profile with a login, a status).
fn user_bodies(value: &Value) -> Vec<Value> {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![value],
        _ => Vec::new(),
    };
    items
        .into_iter()
        .filter(|v| {
            v.get("status").is_some() && v.get("profile").and_then(|p| p.get("login")).is_some()
        })
        .cloned()
        .collect()
}

fn ndjson(values: &[Value]) -> String {
    values.iter().map(|v| format!("{v}\n")).collect()
}

#[test]
fn derived_users_list_holds_17_user_bodies() {
    let Some(dir) = okta_dir() else { return };
    let run = run_users(&[&dir.join("derived_okta-terraform-vcr_users-list.json")]);
    assert!(run.errors().is_empty(), "{:?}", run.errors());
    assert_eq!(run.users().len(), 17);
    assert_eq!(
        status_counts(&run),
        counts(&[("DEPROVISIONED", 1), ("PROVISIONED", 12), ("STAGED", 4)])
    );
    let deprovisioned: Vec<_> = run.users().into_iter().filter(|u| !u.enabled).collect();
    assert_eq!(deprovisioned.len(), 1);
    assert_eq!(deprovisioned[0].source_id, "00ukwr7djcV8gQvDB1d7");
    // The user with every base profile attribute set.
    let full = run
        .users()
        .into_iter()
        .find(|u| u.display_name.as_deref() == Some("Dr. TestAcc Smith"))
        .expect("all-attributes user");
    for name in [
        "city",
        "zipCode",
        "timezone",
        "locale",
        "title",
        "employeeNumber",
        "division",
        "honorificSuffix",
    ] {
        assert!(
            full.attributes.contains_key(name),
            "{name}: {:?}",
            full.attributes
        );
    }
    // Custom attributes: a number and an array.
    let custom = run
        .users()
        .into_iter()
        .find(|u| u.attributes.contains_key("number123"))
        .expect("custom-attribute user");
    assert_eq!(custom.attributes["number123"], ["1"]);
    assert_eq!(custom.attributes["array123"], ["test"]);
    // The IMPORT-provider user is flagged; nobody has a hash.
    let imported = run
        .users()
        .into_iter()
        .filter(|u| {
            u.diagnostics
                .iter()
                .any(|d| d.code == "okta_imported_password_not_exported")
        })
        .count();
    assert_eq!(imported, 2);
    assert!(run.users().iter().all(|u| u.password_hash.is_none()));
}

#[test]
fn derived_rockstar_csv_matches_the_json_it_was_made_from() {
    let Some(dir) = okta_dir() else { return };
    let csv = run_users(&[&dir.join("derived_rockstar-style_export-users.csv")]);
    assert!(csv.errors().is_empty(), "{:?}", csv.errors());
    assert_eq!(csv.users().len(), 17);
    let json = run_users(&[&dir.join("derived_okta-terraform-vcr_users-list.json")]);
    let key = |u: &&kcm_model::User| {
        (
            u.source_id.clone(),
            u.status.clone(),
            u.username.clone(),
            u.email.clone(),
            u.first_name.clone(),
            u.last_name.clone(),
        )
    };
    let from_csv: Vec<_> = csv.users().iter().map(key).collect();
    let from_json: Vec<_> = json.users().iter().map(key).collect();
    assert_eq!(from_csv, from_json);
    let lines: Vec<_> = csv.users().iter().map(|u| u.provenance.line).collect();
    assert_eq!(lines, (2..=18).collect::<Vec<u64>>());
}

#[test]
fn terraform_vcr_recordings_user_bodies_all_parse() {
    let Some(dir) = okta_dir() else { return };
    let recordings = load(&dir.join("okta-terraform-provider-vcr-users.json"));
    let interactions = recordings["interactions"].as_array().expect("interactions");
    // Users, user lists and the group-members list; groups, roles and schemas are not users.
    let bodies: Vec<Value> = interactions
        .iter()
        .flat_map(|i| user_bodies(&i["response_body"]))
        .collect();
    assert_eq!(bodies.len(), 34);
    let tmp = Dir::new();
    let path = tmp.file("vcr-users.ndjson", ndjson(&bodies));
    let run = run_users(&[&path]);
    assert!(run.errors().is_empty(), "{:?}", run.errors());
    assert_eq!(run.users().len(), 34);
    assert_eq!(
        status_counts(&run),
        counts(&[("DEPROVISIONED", 1), ("PROVISIONED", 25), ("STAGED", 8)])
    );
    let mut ids: Vec<_> = run.users().iter().map(|u| u.source_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 9);

    // The request bodies that imported SHA-512 and BCRYPT hashes: read, but the hash is not.
    let requests: Vec<Value> = interactions
        .iter()
        .filter(|i| {
            i["url"]
                .as_str()
                .is_some_and(|u| u.contains("/api/v1/users"))
        })
        .filter_map(|i| {
            i.get("request_body")
                .filter(|b| b.get("profile").is_some())
                .cloned()
        })
        .collect();
    let path = tmp.file("vcr-requests.ndjson", ndjson(&requests));
    let run = run_users(&[&path]);
    assert_eq!(run.users().len(), requests.len());
    let ignored = run
        .users()
        .into_iter()
        .filter(|u| {
            u.diagnostics
                .iter()
                .any(|d| d.code == "okta_password_ignored")
        })
        .count();
    assert_eq!(ignored, 2, "the SHA-512 and the BCRYPT import requests");
    let shown = format!("{:?}", run.results);
    assert!(!shown.contains("QrozP8a") && !shown.contains("qaMqvAPULkbiQzkTCWo5XDcvzpk8Tna"));
}

/// A CSV whose header is every title of a `/meta/schemas/user/default` body; each cell holds
/// the property's API name, so the user's profile must come back keyed by API names.
fn schema_titles_round_trip(schema: &Value) {
    let base = schema["definitions"]["base"]["properties"]
        .as_object()
        .expect("base properties");
    let (titles, names): (Vec<String>, Vec<String>) = base
        .iter()
        .map(|(name, p)| {
            (
                p["title"].as_str().expect("title").to_string(),
                name.clone(),
            )
        })
        .unzip();
    let header: Vec<String> = titles.iter().map(|t| format!("\"{t}\"")).collect();
    let cells: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    let run = common::users_from(
        "titles.csv",
        &format!("{}\n{}\n", header.join(","), cells.join(",")),
    );
    assert!(run.errors().is_empty(), "{:?}", run.errors());
    let users = run.users();
    let profile = users[0].metadata["profile"].as_object().expect("profile");
    for name in &names {
        assert_eq!(
            profile.get(name),
            Some(&Value::String(name.clone())),
            "title of `{name}`"
        );
    }
    assert_eq!(profile.len(), names.len());
}

#[test]
fn every_title_of_the_vcr_default_user_schema_maps_to_its_api_name() {
    let Some(dir) = okta_dir() else { return };
    let recordings = load(&dir.join("okta-terraform-provider-vcr-users.json"));
    let schema = recordings["interactions"]
        .as_array()
        .expect("interactions")
        .iter()
        .find(|i| {
            i["method"] == "GET"
                && i["url"]
                    .as_str()
                    .is_some_and(|u| u.ends_with("/meta/schemas/user/default"))
        })
        .map(|i| i["response_body"].clone())
        .expect("schema body");
    assert_eq!(
        schema["definitions"]["base"]["properties"]
            .as_object()
            .map(|p| p.len()),
        Some(31)
    );
    schema_titles_round_trip(&schema);
}

#[test]
fn openapi_examples_parse_with_the_expected_outcomes() {
    let Some(dir) = okta_dir() else { return };
    let examples = load(&dir.join("okta-openapi-examples-users.json"));
    let examples = &examples["examples"];
    schema_titles_round_trip(&examples["UserSchemaDefaultResponse"]["value"]);

    let tmp = Dir::new();
    let lists = [
        "ListUsersResponse",
        "ListUsersSearchResponse",
        "ListUsersFilterResponse",
        "ListUsersQResponse",
        "ListRealmAwareUsersResponse",
        "create-user-with-imported-hashed-password-response",
        "create-user-with-password-response",
    ];
    let files: Vec<PathBuf> = lists
        .iter()
        .map(|name| tmp.file(&format!("{name}.json"), examples[name]["value"].to_string()))
        .collect();
    let refs: Vec<&std::path::Path> = files.iter().map(PathBuf::as_path).collect();
    let run = run_users(&refs);
    assert!(run.errors().is_empty(), "{:?}", run.errors());
    assert_eq!(run.users().len(), 1 + 2 + 1 + 3 + 1 + 1 + 1);
    assert_eq!(
        status_counts(&run),
        counts(&[
            ("ACTIVE", 6),
            ("LOCKED_OUT", 2),
            ("PROVISIONED", 1),
            ("STAGED", 1)
        ])
    );
    let ben = run.user("ben.richler@example.com");
    assert_eq!(ben.attributes["department"], ["Engineering"]);
    assert!(
        !ben.attributes.contains_key("secondEmail"),
        "secondEmail \"\" is no value"
    );
    let locked = run.user("johnrichards@example.com");
    assert_eq!(
        locked.email_verified, None,
        "the verified address is another one"
    );
    let tony = run.user("tony.johnson@example.com");
    assert_eq!(tony.email_verified, Some(true));

    // Field projections without a login, and the unconfirmed-users wrapper (login under
    // `credentials.username`), are not user exports: each record is rejected, none dropped.
    let projection = tmp.file(
        "fields.json",
        examples["ListUsersFieldsResponse"]["value"].to_string(),
    );
    let unconfirmed = tmp.file(
        "unconfirmed.json",
        examples["UnconfirmedUserResponse"]["value"].to_string(),
    );
    let run = run_users(&[&projection, &unconfirmed]);
    assert!(run.users().is_empty());
    let reasons: Vec<_> = run.errors().iter().map(|e| e.reason).collect();
    assert_eq!(reasons, [Reason::MissingField; 4]);

    // The request bodies that carry a hash or a hook: read, hash never kept.
    let requests = [
        "create-user-with-imported-hashed-password-request",
        "create-user-with-password-import-inline-hook-request",
    ];
    let files: Vec<PathBuf> = requests
        .iter()
        .map(|name| tmp.file(&format!("{name}.json"), examples[name]["value"].to_string()))
        .collect();
    let refs: Vec<&std::path::Path> = files.iter().map(PathBuf::as_path).collect();
    let run = run_users(&refs);
    assert_eq!(run.users().len(), 2);
    assert!(run.users().iter().all(|u| u.password_hash.is_none()));
    let hash = &examples["create-user-with-imported-hashed-password-request"]["value"]
        ["credentials"]["password"]["hash"]["value"];
    let hash = hash.as_str().expect("example hash value");
    assert!(!format!("{:?}", run.results).contains(hash));

    // ListUserGroups as a membership input: group definitions.
    let groups = tmp.file(
        "user-groups.json",
        examples["ListUserGroups"]["value"].to_string(),
    );
    let run = common::run(&SourceInputs {
        memberships: Some(groups),
        ..SourceInputs::default()
    })
    .unwrap();
    assert_eq!(run.groups().len(), 2, "{:?}", run.results);
    assert!(run.errors().is_empty());
}

#[test]
fn group_member_exports_become_memberships_of_the_stem_group() {
    let Some(dir) = okta_dir() else { return };
    for (file, group) in [
        (
            "derived_rockstar-style_export-group-members.csv",
            "derived_rockstar-style_export-group-members",
        ),
        (
            "okta-terraform-vcr_group-members-response.json",
            "okta-terraform-vcr_group-members-response",
        ),
    ] {
        let run = common::run(&SourceInputs {
            memberships: Some(dir.join(file)),
            ..SourceInputs::default()
        })
        .unwrap();
        assert!(run.errors().is_empty(), "{file}: {:?}", run.errors());
        let groups: Vec<_> = run.groups().iter().map(|g| g.name.clone()).collect();
        assert_eq!(groups, [group], "{file}");
        let members: Vec<_> = run
            .memberships()
            .iter()
            .map(|m| (m.name.clone(), m.member.clone()))
            .collect();
        assert_eq!(
            members,
            [
                (
                    group.to_string(),
                    MemberRef::Login("john_832168054@thewho.com".into())
                ),
                (
                    group.to_string(),
                    MemberRef::Login("john_832168054@ledzeppelin.com".into())
                ),
            ],
            "{file}"
        );
    }
}

#[test]
fn user_groups_response_gives_group_definitions() {
    let Some(dir) = okta_dir() else { return };
    let run = common::run(&SourceInputs {
        memberships: Some(dir.join("okta-terraform-vcr_user-groups-response.json")),
        ..SourceInputs::default()
    })
    .unwrap();
    let groups: Vec<_> = run
        .results
        .iter()
        .map(|r| match r {
            Ok(SourceItem::Group(g)) => {
                (g.source_id.clone(), g.name.clone(), g.description.clone())
            }
            other => panic!("expected a group, got {other:?}"),
        })
        .collect();
    assert_eq!(
        groups,
        [
            (
                Some("00g5qwjvgrD3WR89l1d7".into()),
                "Everyone".into(),
                Some("All users in your organization".into())
            ),
            (
                Some("00gkwqtwsl1vPpKAt1d7".into()),
                "foo_832168054".into(),
                None
            ),
        ]
    );
}
