//! Roles files: `{"roles": [...]}`, arrays, NDJSON, member entry shapes, and the
//! Authorization Extension export.

mod common;

use common::*;
use kcm_model::{MemberRef, MembershipKind, Reason, SourceItem, SourceResult};
use kcm_source_io::SourceInputs;

fn run_roles(text: &str) -> Vec<SourceResult> {
    let dir = tempfile::tempdir().unwrap();
    let u = write(dir.path(), "users.ndjson", "{\"user_id\":\"auth0|u1\"}\n");
    let r = write(dir.path(), "roles.json", text);
    run(&SourceInputs {
        roles: Some(r),
        ..inputs(&[&u])
    })
}

#[test]
fn wrapped_roles_with_string_and_object_members_come_before_the_users() {
    let items = run_roles(
        r#"{"roles": [
  {"id": "rol_1", "name": "admin", "description": "Admins", "users": ["auth0|u1"]},
  {"id": "rol_2", "name": "support",
   "users": [{"user_id": "auth0|u2", "email": "u2@x.io", "name": "U2"}, {"email": "u3@x.io"}]}
], "start": 0, "limit": 50, "total": 2}"#,
    );
    assert_eq!(shape(&items), "RMRMMU");
    let r = roles(&items);
    assert_eq!(
        (r[0].source_id.as_deref(), r[0].name.as_str()),
        (Some("rol_1"), "admin")
    );
    assert_eq!(r[0].description.as_deref(), Some("Admins"));
    assert_eq!(r[0].provenance.line, 2);
    let m: Vec<_> = memberships(&items)
        .iter()
        .map(|m| (m.kind, m.name.clone(), m.member.clone()))
        .collect();
    assert_eq!(
        m,
        [
            (
                MembershipKind::Role,
                "admin".into(),
                MemberRef::Id("auth0|u1".into())
            ),
            (
                MembershipKind::Role,
                "support".into(),
                MemberRef::Id("auth0|u2".into())
            ),
            (
                MembershipKind::Role,
                "support".into(),
                MemberRef::Email("u3@x.io".into())
            ),
        ]
    );
}

#[test]
fn array_and_ndjson_roles_files() {
    let items = run_roles("[{\"id\":\"rol_1\",\"name\":\"a\"},{\"id\":\"rol_2\",\"name\":\"b\",\"members\":[\"auth0|x\"]}]");
    assert_eq!(shape(&items), "RRMU");
    let items = run_roles(
        "{\"id\":\"rol_1\",\"name\":\"a\",\"users\":[]}\n{\"id\":\"rol_2\",\"name\":\"b\"}\n",
    );
    assert_eq!(shape(&items), "RRU");
    assert_eq!(roles(&items)[1].provenance.line, 2);
}

#[test]
fn a_role_that_carries_permissions_is_not_mistaken_for_the_extension_export() {
    let items = run_roles(
        "{\"id\":\"rol_1\",\"name\":\"a\",\"permissions\":[{\"permission_name\":\"read:x\"}],\"users\":[\"auth0|u1\"]}\n",
    );
    assert_eq!(shape(&items), "RMU");
}

#[test]
fn bad_roles_and_bad_member_entries_are_errors_and_the_rest_goes_on() {
    let items = run_roles(
        "{\"id\":\"rol_1\",\"description\":\"no name\"}\n\
         {\"id\":\"rol_2\",\"name\":\"b\",\"users\":[42,\"auth0|ok\",{\"name\":\"no id\"}]}\n\
         {\"id\":\"rol_3\",\"name\":\"c\",\"users\":\"auth0|x\"}\n\
         {\"id\":\"rol_4\",\"name\":\n",
    );
    assert_eq!(shape(&items), "EREMEREEU");
    let reasons: Vec<_> = errors(&items)
        .iter()
        .map(|e| (e.reason, e.provenance.line))
        .collect();
    assert_eq!(
        reasons,
        [
            (Reason::MissingField, 1),
            (Reason::InvalidField, 2),
            (Reason::InvalidField, 2),
            (Reason::InvalidField, 3),
            (Reason::Truncated, 4),
        ]
    );
    assert_eq!(errors(&items)[0].source_id.as_deref(), Some("rol_1"));
}

#[test]
fn authorization_extension_export_gives_roles_groups_with_parents_and_group_members() {
    let items = run_roles(
        r#"{
  "configuration": [{"_id": "v1", "rolesInToken": true}],
  "groups": [
    {"_id": "g-child", "name": "Trainers", "members": ["auth0|t1", "auth0|t2"]},
    {"_id": "g-top", "name": "HR", "description": "Human Resources",
     "members": ["auth0|h1"], "roles": ["r-1"], "nested": ["g-child", "g-missing"]},
    {"_id": "g-bad"}
  ],
  "permissions": [{"_id": "p1", "name": "Approve Expenses", "applicationId": "app"}],
  "roles": [{"_id": "r-1", "name": "HR Manager", "applicationId": "app", "permissions": ["p1"]}]
}"#,
    );
    assert_eq!(shape(&items), "REGMMGMU");
    assert_eq!(roles(&items)[0].source_id.as_deref(), Some("r-1"));
    let groups: Vec<_> = items
        .iter()
        .filter_map(|i| match i {
            Ok(SourceItem::Group(g)) => {
                Some((g.name.as_str(), g.parent.as_deref(), g.source_id.as_deref()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        groups,
        [
            ("Trainers", Some("HR"), Some("g-child")),
            ("HR", None, Some("g-top"))
        ]
    );
    let m: Vec<_> = memberships(&items)
        .iter()
        .map(|m| (m.kind, m.name.as_str(), m.member.clone()))
        .collect();
    assert_eq!(
        m[0],
        (
            MembershipKind::Group,
            "Trainers",
            MemberRef::Id("auth0|t1".into())
        )
    );
    assert_eq!(
        m[2],
        (
            MembershipKind::Group,
            "HR",
            MemberRef::Id("auth0|h1".into())
        )
    );
    let err = errors(&items)[0];
    assert_eq!(
        (err.reason, err.source_id.as_deref()),
        (Reason::MissingField, Some("g-bad"))
    );
}

#[test]
fn the_documented_authorization_extension_fixture_parses() {
    let Some(shared) = shared_dir() else { return };
    let path = shared.join("fixtures/auth0/auth0-docs_authorization-extension-export.json");
    let dir = tempfile::tempdir().unwrap();
    let u = write(dir.path(), "u.ndjson", "");
    let items = run(&SourceInputs {
        roles: Some(path),
        ..inputs(&[&u])
    });
    // 1 role (HR Manager); 3 groups (Admin, HR, Trainers nested in HR); 1 member of HR.
    assert_eq!(shape(&items), "RGGMG");
    assert!(errors(&items).is_empty());
    let trainers = items.iter().find_map(|i| match i {
        Ok(SourceItem::Group(g)) if g.name == "Trainers" => Some(g),
        _ => None,
    });
    assert_eq!(trainers.and_then(|g| g.parent.as_deref()), Some("HR"));
}

#[test]
fn a_role_with_more_members_than_the_record_limit_streams_with_the_default_limit() {
    let mut text = String::from("{\"roles\": [\n{\"id\": \"rol_big\", \"name\": \"viewer\", \"description\": \"All\", \"users\": [\n");
    let members = 60_000;
    for i in 0..members {
        text.push_str(&format!("\"auth0|{i:024x}\",\n"));
    }
    text.push_str("{\"user_id\": \"auth0|u1\"}\n]},\n{\"id\": \"rol_small\", \"name\": \"admin\", \"users\": [\"auth0|u1\"]}\n]}\n");
    assert!(text.len() > kcm_source_io::DEFAULT_MAX_RECORD_BYTES);
    let items = run_roles(&text);
    assert!(errors(&items).is_empty(), "{:?}", errors(&items).first());
    assert_eq!(roles(&items).len(), 2);
    assert_eq!(roles(&items)[0].description.as_deref(), Some("All"));
    let m = memberships(&items);
    assert_eq!(m.len(), members + 2);
    assert_eq!(m[0].member, MemberRef::Id(format!("auth0|{:024x}", 0)));
    assert_eq!((m[0].name.as_str(), m[0].provenance.line), ("viewer", 2));
    assert_eq!(
        (m[members + 1].name.as_str(), m[members + 1].provenance.line),
        ("admin", members as u64 + 5)
    );
    assert_eq!(&shape(&items)[..3], "RMM");
}

#[test]
fn members_before_the_role_name_wait_for_it() {
    let items = run_roles(
        "{\"users\": [\"auth0|a\", 7, {\"email\": \"b@x.io\"}], \"id\": \"rol_1\", \"name\": \"late\"}\n\
         {\"users\": [\"auth0|c\"], \"id\": \"rol_2\"}\n\
         {\"name\": \"ok\", \"users\": [\"auth0|d\"]}\n",
    );
    assert_eq!(shape(&items), "RMEMERMU");
    assert_eq!(roles(&items)[0].source_id.as_deref(), Some("rol_1"));
    let m = memberships(&items);
    assert_eq!(
        (m[1].name.as_str(), &m[1].member),
        ("late", &MemberRef::Email("b@x.io".into()))
    );
    let e = errors(&items);
    assert!(
        e[0].message.contains("role `late`: users[1]"),
        "{}",
        e[0].message
    );
    assert_eq!(
        (e[1].reason, e[1].source_id.as_deref(), e[1].provenance.line),
        (Reason::MissingField, Some("rol_2"), 2)
    );
}

#[test]
fn a_role_cut_inside_its_member_list_keeps_what_was_read_and_the_next_role_is_read() {
    let items = run_roles(
        "{\"name\": \"a\", \"users\": [\"auth0|1\", \"auth0|2\n\
         {\"name\": \"b\", \"users\": [\"auth0|3\"]}\n\
         {\"users\": [\"auth0|4\", \"auth0|5\n",
    );
    // Role a, its first member, one error for the rest of it; role b; the nameless cut role
    // is one error and nothing else.
    assert_eq!(shape(&items), "RMERMEU");
    let reasons: Vec<_> = errors(&items)
        .iter()
        .map(|e| (e.reason, e.provenance.line))
        .collect();
    assert_eq!(reasons, [(Reason::Malformed, 1), (Reason::Malformed, 3)]);
}
