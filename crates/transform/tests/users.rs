//! Mapping features on hand-built users: usernames, e-mails, duplicates, names, attributes,
//! status, roles and groups, identities, filters and deterministic ids.

mod common;

use common::*;
use kcm_model::{LinkedIdentity, User};
use kcm_transform::{
    reason, Outcome, PasswordOutcome, NOT_INCLUDED, UPDATE_PASSWORD, VERIFY_EMAIL,
};

// ---------------------------------------------------------------- usernames

#[test]
fn username_falls_back_in_order_and_is_trimmed_and_lower_cased() {
    let m =
        || mapping("[username]\nfrom = [\"username\", \"email\", \"source_id\"]\nmin_length = 1\n");
    let mut u = user("a1", 1);
    u.username = Some("  Ada.Lovelace ".into());
    assert_eq!(
        plan_one(m(), u).user.username.as_deref(),
        Some("ada.lovelace")
    );

    let mut u = user("a1", 1);
    u.email = Some(" Ada@Example.COM ".into());
    assert_eq!(
        plan_one(m(), u).user.username.as_deref(),
        Some("ada@example.com")
    );

    let mut u = user("Id-42", 1);
    u.email = None;
    assert_eq!(plan_one(m(), u).user.username.as_deref(), Some("id-42"));
}

#[test]
fn username_from_template_inline_template_and_path() {
    let mut u = user("x", 1);
    u.first_name = Some("Ada".into());
    u.last_name = Some("Lovelace".into());
    u.metadata.insert(
        "app_metadata".into(),
        serde_json::json!({"employee_id": 1815}),
    );
    let m = mapping(
        "[username]\ntemplate = \"{first_name}.{last_name}\"\nfrom = [\"template\", \"email\"]\n",
    );
    assert_eq!(
        plan_one(m, u.clone()).user.username.as_deref(),
        Some("ada.lovelace")
    );

    let m = mapping("[username]\nfrom = [\"emp-{app_metadata.employee_id}\"]\n");
    assert_eq!(
        plan_one(m, u.clone()).user.username.as_deref(),
        Some("emp-1815")
    );

    let m = mapping("[username]\nfrom = [\"phone\", \"email\"]\n");
    u.phone = Some("+4915112345678".into());
    assert_eq!(
        plan_one(m, u.clone()).user.username.as_deref(),
        Some("+4915112345678")
    );

    // A template with a missing field yields nothing and the next source is used.
    u.last_name = None;
    let m = mapping(
        "[username]\ntemplate = \"{first_name}.{last_name}\"\nfrom = [\"template\", \"email\"]\n",
    );
    assert_eq!(
        plan_one(m, u).user.username.as_deref(),
        Some("x@example.com")
    );
}

#[test]
fn username_constraints_reject_with_reasons() {
    let reject = |m: kcm_transform::Mapping, u: User| rejected(&one(m, u)).clone();
    // Prohibited character: no silent fallback to the next source.
    let mut u = user("auth0|1", 1);
    u.email = None;
    let r = reject(
        mapping("[username]\nfrom = [\"source_id\", \"email\"]\n"),
        u,
    );
    assert_eq!(r.reason, reason::INVALID_USERNAME);
    assert!(
        r.message.contains("prohibits") && r.message.contains("source_id"),
        "{}",
        r.message
    );
    assert_eq!(r.source_id.as_deref(), Some("auth0|1"));
    assert_eq!(r.stage.as_str(), "transform");

    // Too short for REST by default; allowed with min_length = 1.
    let mut u = user("x", 1);
    u.username = Some("ab".into());
    assert_eq!(
        reject(mapping(""), u.clone()).reason,
        reason::INVALID_USERNAME
    );
    assert_eq!(
        plan_one(mapping("[username]\nmin_length = 1\n"), u)
            .user
            .username
            .as_deref(),
        Some("ab")
    );

    // Too long.
    let mut u = user("x", 1);
    u.username = Some("a".repeat(256));
    assert!(reject(mapping(""), u).message.contains("longer than 255"));

    // Whitespace inside.
    let mut u = user("x", 1);
    u.username = Some("ada lovelace".into());
    assert_eq!(reject(mapping(""), u).reason, reason::INVALID_USERNAME);

    // ascii_only.
    let mut u = user("x", 1);
    u.username = Some("jürgen".into());
    assert_eq!(
        plan_one(mapping(""), u.clone()).user.username.as_deref(),
        Some("jürgen")
    );
    assert_eq!(
        reject(mapping("[username]\nascii_only = true\n"), u).reason,
        reason::INVALID_USERNAME
    );

    // Nothing anywhere.
    let mut u = user("", 1);
    u.email = None;
    let r = reject(mapping("[username]\nfrom = [\"username\", \"email\"]\n"), u);
    assert_eq!(r.reason, reason::MISSING_USERNAME);
    assert!(r.message.contains("username, email"), "{}", r.message);
}

// ---------------------------------------------------------------- e-mail

#[test]
fn email_is_normalised_and_verified_flag_copied() {
    let mut u = user("x", 1);
    u.username = Some("ada".into());
    u.email = Some("  Ada@Example.COM ".into());
    u.email_verified = Some(false);
    let p = plan_one(mapping(""), u.clone());
    assert_eq!(p.user.email.as_deref(), Some("ada@example.com"));
    assert_eq!(p.user.email_verified, Some(false));
    assert!(!actions(&p).contains(&VERIFY_EMAIL.to_string()));

    let p = plan_one(mapping("[email]\nverify_email_action = true\n"), u.clone());
    assert!(actions(&p).contains(&VERIFY_EMAIL.to_string()));
    let p = plan_one(
        mapping("[email]\nverified = \"always\"\nverify_email_action = true\n"),
        u.clone(),
    );
    assert_eq!(p.user.email_verified, Some(true));
    assert!(!actions(&p).contains(&VERIFY_EMAIL.to_string()));
    let p = plan_one(mapping("[email]\nverified = \"never\"\n"), u.clone());
    assert_eq!(p.user.email_verified, Some(false));

    u.email = None;
    let p = plan_one(mapping("[email]\nverify_email_action = true\n"), u);
    assert_eq!(
        (p.user.email.as_deref(), p.user.email_verified),
        (None, None)
    );
    assert!(actions(&p).iter().all(|a| a != VERIFY_EMAIL));
}

#[test]
fn invalid_email_policies() {
    let mut u = user("x", 1);
    u.username = Some("ada".into());
    u.email = Some("ada@@example".into());
    let r = rejected(&one(
        mapping("[email]\ninvalid_email = \"reject\"\n"),
        u.clone(),
    ))
    .clone();
    assert_eq!(r.reason, reason::INVALID_EMAIL);
    assert!(r.message.contains("ada@@example"), "{}", r.message);
    // Reject is the default.
    assert_eq!(
        rejected(&one(mapping(""), u.clone())).reason,
        reason::INVALID_EMAIL
    );

    let p = plan_one(mapping("[email]\ninvalid_email = \"drop\"\n"), u);
    assert_eq!(p.user.email, None);
    assert!(p.diagnostics.iter().any(|d| d.code == "email_dropped"));
}

#[test]
fn email_from_another_path() {
    let mut u = user("x", 1);
    u.username = Some("ada".into());
    u.attributes
        .insert("work_email".into(), vec!["Ada@Corp.example".into()]);
    let p = plan_one(mapping("[email]\nfrom = \"attributes.work_email\"\n"), u);
    assert_eq!(p.user.email.as_deref(), Some("ada@corp.example"));
}

// ---------------------------------------------------------------- duplicates

#[test]
fn username_duplicates_are_always_rejected_case_insensitively() {
    let mut a = user("a", 3);
    a.username = Some("Ada".into());
    let mut b = user("b", 9);
    b.username = Some("ADA".into());
    let (out, summary) = run(
        mapping("[email]\nduplicates = \"drop-email\"\n"),
        vec![a, b],
    );
    planned(&out[0]);
    let r = rejected(&out[1]);
    assert_eq!(r.reason, reason::DUPLICATE);
    assert!(
        r.message.contains("users.ndjson:3"),
        "names the first holder: {}",
        r.message
    );
    assert_eq!(summary.duplicates.usernames_rejected, 1);
    assert_eq!(summary.duplicates.examples[0].first, "users.ndjson:3");
    assert_eq!(summary.duplicates.examples[0].at, "users.ndjson:9");
    assert_eq!(summary.rejected.by_reason.get("duplicate"), Some(&1));
}

#[test]
fn email_duplicates_reject_policy() {
    let mut a = user("a", 1);
    a.username = Some("ada".into());
    a.email = Some("shared@example.com".into());
    let mut b = user("b", 2);
    b.username = Some("bob".into());
    b.email = Some("SHARED@example.com".into());
    let mut c = user("c", 3);
    c.username = Some("cyd".into());
    c.email = Some("shared@example.com".into());
    let (out, summary) = run(mapping(""), vec![a, b, c]);
    planned(&out[0]);
    for o in &out[1..] {
        let r = rejected(o);
        assert_eq!(r.reason, reason::DUPLICATE);
        assert!(
            r.message.contains("shared@example.com") && r.message.contains("users.ndjson:1"),
            "{}",
            r.message
        );
    }
    assert_eq!(summary.duplicates.emails_rejected, 2);
    assert_eq!(summary.users_planned, 1);
}

#[test]
fn email_duplicates_drop_email_policy_keeps_the_user() {
    let mut a = user("a", 1);
    a.username = Some("ada".into());
    a.email = Some("shared@example.com".into());
    let mut b = user("b", 2);
    b.username = Some("bob".into());
    b.email = Some("Shared@Example.com".into());
    let (out, summary) = run(
        mapping("[email]\nduplicates = \"drop-email\"\n"),
        vec![a, b],
    );
    assert_eq!(
        planned(&out[0]).user.email.as_deref(),
        Some("shared@example.com")
    );
    let second = planned(&out[1]);
    assert_eq!(second.user.email, None);
    assert_eq!(second.user.email_verified, None);
    let d = second
        .diagnostics
        .iter()
        .find(|d| d.code == "duplicate_email_dropped")
        .unwrap();
    assert!(d.message.contains("users.ndjson:1"), "{}", d.message);
    assert_eq!(summary.duplicates.emails_dropped, 1);
    assert_eq!(summary.duplicates.examples[0].action, "email_dropped");
    assert_eq!(summary.users_planned, 2);
}

#[test]
fn rejected_users_do_not_claim_keys() {
    // The first user is rejected for its e-mail: its username stays free for the next one.
    let mut a = user("a", 1);
    a.username = Some("ada".into());
    a.email = Some("not-an-email".into());
    let mut b = user("b", 2);
    b.username = Some("ada".into());
    let (out, _) = run(mapping(""), vec![a, b]);
    rejected(&out[0]);
    assert_eq!(planned(&out[1]).user.username.as_deref(), Some("ada"));
}

// ---------------------------------------------------------------- names

#[test]
fn names_from_fields_paths_and_display_name_split() {
    let mut u = user("x", 1);
    u.first_name = Some(" Ada ".into());
    u.last_name = Some("Lovelace".into());
    let p = plan_one(mapping(""), u.clone());
    assert_eq!(
        (p.user.first_name.as_deref(), p.user.last_name.as_deref()),
        (Some("Ada"), Some("Lovelace"))
    );

    let mut u = user("x", 1);
    u.display_name = Some("José  Álvarez de  Castro".into());
    let p = plan_one(mapping(""), u.clone());
    assert_eq!(p.user.first_name.as_deref(), Some("José"));
    assert_eq!(p.user.last_name.as_deref(), Some("Álvarez de Castro"));

    let p = plan_one(mapping("[names]\nsplit_display_name = false\n"), u.clone());
    assert_eq!((p.user.first_name, p.user.last_name), (None, None));

    let mut u = user("x", 1);
    u.display_name = Some("Cher".into());
    let p = plan_one(mapping(""), u);
    assert_eq!(
        (p.user.first_name.as_deref(), p.user.last_name),
        (Some("Cher"), None)
    );

    let mut u = user("x", 1);
    u.metadata.insert(
        "profile".into(),
        serde_json::json!({"nickName": "Ada", "surname": "King"}),
    );
    let p = plan_one(
        mapping("[names]\nfirst_name = [\"first_name\", \"profile.nickName\"]\nlast_name = [\"profile.surname\"]\n"),
        u,
    );
    assert_eq!(
        (p.user.first_name.as_deref(), p.user.last_name.as_deref()),
        (Some("Ada"), Some("King"))
    );
}

#[test]
fn invalid_names_are_dropped_or_rejected() {
    let mut u = user("x", 1);
    u.first_name = Some("Robert".into());
    u.last_name = Some("Tables (Bobby)".into());
    let p = plan_one(mapping(""), u.clone());
    assert_eq!(
        (p.user.first_name.as_deref(), p.user.last_name),
        (Some("Robert"), None)
    );
    assert!(p.diagnostics.iter().any(|d| d.code == "name_dropped"));
    let r = rejected(&one(mapping("[names]\ninvalid = \"reject\"\n"), u)).clone();
    assert_eq!(r.reason, reason::INVALID_NAME);
    assert!(r.message.starts_with("last name"), "{}", r.message);
}

// ---------------------------------------------------------------- attributes

#[test]
fn legacy_id_default_renamed_and_disabled() {
    let p = plan_one(mapping(""), user("auth0|abc", 1));
    assert_eq!(attr(&p, "legacy_id"), Some(vec!["auth0|abc".to_string()]));
    let p = plan_one(
        mapping("[attributes]\nlegacy_id = \"auth0_id\"\n"),
        user("auth0|abc", 1),
    );
    assert_eq!(attr(&p, "auth0_id"), Some(vec!["auth0|abc".to_string()]));
    assert_eq!(attr(&p, "legacy_id"), None);
    let p = plan_one(
        mapping("[attributes]\nlegacy_id = false\n"),
        user("auth0|abc", 1),
    );
    assert_eq!(p.user.attributes, None);
}

#[test]
fn attribute_rules_with_every_transform() {
    let mut u = user("x", 1);
    u.phone = Some(" +1 555 0100 ".into());
    u.first_name = Some("Ada".into());
    u.attributes.insert("Dept".into(), vec!["Research".into()]);
    u.metadata.insert(
        "app_metadata".into(),
        serde_json::json!({"plan": " Gold ", "tags": "a, b,,c", "teams": ["red", "blue"], "n": 7}),
    );
    let m = mapping(
        r#"
[attributes]
legacy_id = false

[[attributes.map]]
from = "phone"
to = "phone"
transforms = ["trim"]

[[attributes.map]]
from = "app_metadata.plan"
to = "plan"
transforms = ["trim", "lower"]

[[attributes.map]]
from = "attributes.Dept"
to = "dept"
transforms = ["upper"]

[[attributes.map]]
from = "app_metadata.tags"
to = "tags"
transforms = ["split(\",\")", "trim"]

[[attributes.map]]
from = "app_metadata.teams"
to = "teams"
transforms = ["join(';')"]

[[attributes.map]]
to = "origin"
transforms = ["constant(auth0 tenant)"]

[[attributes.map]]
to = "greeting"
transforms = ["template(\"hi {first_name}\")"]

[[attributes.map]]
from = "app_metadata.teams"
to = "team_mail"
transforms = ["template(\"{value}@corp.example\")"]

[[attributes.map]]
from = "app_metadata.n"
to = "number"

[[attributes.map]]
from = "app_metadata.missing"
to = "never"
"#,
    );
    let p = plan_one(m, u);
    let a = |n: &str| attr(&p, n).unwrap_or_default();
    assert_eq!(a("phone"), vec!["+1 555 0100"]);
    assert_eq!(a("plan"), vec!["gold"]);
    assert_eq!(a("dept"), vec!["RESEARCH"]);
    assert_eq!(a("tags"), vec!["a", "b", "c"]);
    assert_eq!(a("teams"), vec!["red;blue"]);
    assert_eq!(a("origin"), vec!["auth0 tenant"]);
    assert_eq!(a("greeting"), vec!["hi Ada"]);
    assert_eq!(
        a("team_mail"),
        vec!["red@corp.example", "blue@corp.example"]
    );
    assert_eq!(a("number"), vec!["7"]);
    assert_eq!(attr(&p, "never"), None);
    // Dept was used by a rule: it is not also copied (keep_unmapped is off anyway).
    assert_eq!(attr(&p, "Dept"), None);
}

#[test]
fn keep_unmapped_copies_the_rest_and_rules_win() {
    let mut u = user("x", 1);
    u.attributes.insert("nickname".into(), vec!["ada".into()]);
    u.attributes
        .insert("picture".into(), vec!["https://p".into()]);
    u.attributes.insert("dept".into(), vec!["r&d".into()]);
    u.attributes
        .insert("email".into(), vec!["shadow@example.com".into()]);
    u.attributes.insert("huge".into(), vec!["x".repeat(3000)]);
    let m = mapping(
        "[attributes]\nkeep_unmapped = true\n[[attributes.map]]\nfrom = \"attributes.dept\"\nto = \"department\"\n[[attributes.map]]\nto = \"picture\"\ntransforms = [\"constant(none)\"]\n",
    );
    let p = plan_one(m, u);
    assert_eq!(attr(&p, "nickname"), Some(vec!["ada".to_string()]));
    assert_eq!(
        attr(&p, "picture"),
        Some(vec!["none".to_string()]),
        "a rule replaces the copied value"
    );
    assert_eq!(attr(&p, "department"), Some(vec!["r&d".to_string()]));
    assert_eq!(attr(&p, "dept"), None, "consumed by a rule");
    assert_eq!(attr(&p, "email"), None, "user fields are not attributes");
    assert_eq!(attr(&p, "huge"), None);
    assert!(p
        .diagnostics
        .iter()
        .any(|d| d.code == "attribute_value_too_long"));
    assert!(attr(&p, "legacy_id").is_some());
}

// ---------------------------------------------------------------- status

fn status_result(source: &str, status: &str, body: &str) -> (bool, Vec<String>) {
    let mut u = user("x", 1);
    u.status = status.into();
    // Carried passwords keep UPDATE_PASSWORD out of the picture: only the status speaks.
    u.password_hash = Some(kcm_model::PasswordHash::from_encoded(
        "$pbkdf2-sha256$i=27500,l=32$c2FsdHNhbHQ$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
    ));
    let p = plan_one(mapping_for(source, body), u);
    assert!(matches!(p.password, PasswordOutcome::Carried { .. }));
    (p.user.enabled.unwrap(), actions(&p))
}

#[test]
fn status_defaults_for_every_source_status() {
    let up = || vec![UPDATE_PASSWORD.to_string()];
    let cases: &[(&str, &str, bool, Vec<String>)] = &[
        ("auth0", "active", true, vec![]),
        ("auth0", "blocked", false, vec![]),
        ("okta", "ACTIVE", true, vec![]),
        ("okta", "STAGED", true, up()),
        ("okta", "PROVISIONED", true, up()),
        ("okta", "ACTIVATING", true, up()),
        ("okta", "RECOVERY", true, up()),
        ("okta", "PASSWORD_EXPIRED", true, up()),
        ("okta", "LOCKED_OUT", true, vec![]),
        ("okta", "SUSPENDED", false, vec![]),
        ("okta", "DEPROVISIONED", false, vec![]),
        ("firebase", "active", true, vec![]),
        ("firebase", "disabled", false, vec![]),
    ];
    for (source, status, enabled, acts) in cases {
        assert_eq!(
            status_result(source, status, ""),
            (*enabled, acts.clone()),
            "{source} {status}"
        );
    }
}

#[test]
fn status_overrides_replace_only_what_they_set() {
    let body = "[status.LOCKED_OUT]\nenabled = false\n[status.suspended]\nrequired_actions = [\"VERIFY_EMAIL\"]\n[status.ACTIVE]\nrequired_actions = [\"UPDATE_PROFILE\", \"TERMS_AND_CONDITIONS\"]\n";
    assert_eq!(status_result("okta", "LOCKED_OUT", body), (false, vec![]));
    assert_eq!(
        status_result("okta", "SUSPENDED", body),
        (false, vec!["VERIFY_EMAIL".to_string()])
    );
    assert_eq!(
        status_result("okta", "ACTIVE", body),
        (
            true,
            vec![
                "UPDATE_PROFILE".to_string(),
                "TERMS_AND_CONDITIONS".to_string()
            ]
        )
    );
    // A custom status gets a rule of its own.
    assert_eq!(
        status_result("auth0", "frozen", "[status.frozen]\nenabled = false\n"),
        (false, vec![])
    );
}

#[test]
fn unknown_status_keeps_the_source_flag_and_is_reported() {
    let mut u = user("x", 1);
    u.status = "MYSTERY".into();
    u.enabled = false;
    let (out, summary) = run(mapping_for("okta", ""), vec![u]);
    let p = planned(&out[0]);
    assert_eq!(p.user.enabled, Some(false));
    assert!(p.diagnostics.iter().any(|d| d.code == "status_unknown"));
    assert_eq!(summary.unknown_statuses.get("MYSTERY"), Some(&1));
    assert_eq!(summary.disabled, 1);
}

// ---------------------------------------------------------------- roles and groups

const ROLE_RULES: &str = r#"
[roles]
from = ["roles", "app_metadata.roles", "app_metadata.authorization.roles", "customAttributes.role"]
default_roles = ["user"]
default_client_roles = { portal = ["member"] }

[[roles.rules]]
source = "Admin"
realm_roles = ["admin"]
client_roles = { portal = ["admin", "auditor"] }
groups = ["staff/admins/"]

[[roles.rules]]
source = "app-*"
client_roles = { apps = ["user"] }

[[roles.rules]]
when = { field = "customAttributes.admin", equals = true }
realm_roles = ["superuser"]

[groups]
default_groups = ["/customers"]

[[groups.rules]]
source = "Engineering"
groups = ["/departments/engineering"]
realm_roles = ["developer"]
"#;

#[test]
fn role_rules_by_name_glob_and_condition_with_defaults() {
    let mut u = user("x", 1);
    u.roles = vec!["admin".into()];
    u.groups = vec!["Engineering".into()];
    u.metadata.insert(
        "app_metadata".into(),
        serde_json::json!({"roles": ["app-crm", "Admin"], "authorization": {"roles": ["app-erp"]}}),
    );
    u.metadata.insert(
        "customAttributes".into(),
        serde_json::json!({"admin": true, "role": "admin"}),
    );
    let p = plan_one(mapping(ROLE_RULES), u);
    assert_eq!(
        p.user.realm_roles.clone().unwrap(),
        vec!["admin", "developer", "superuser", "user"]
    );
    let cr = p.user.client_roles.clone().unwrap();
    assert_eq!(cr["portal"], vec!["admin", "auditor", "member"]);
    assert_eq!(cr["apps"], vec!["user"]);
    assert_eq!(
        p.user.groups.clone().unwrap(),
        vec!["/customers", "/departments/engineering", "/staff/admins"]
    );
}

#[test]
fn unmapped_roles_and_groups_drop_or_create_and_are_counted() {
    let mut u = user("x", 1);
    u.roles = vec!["billing".into(), "admin".into()];
    u.groups = vec!["R/D".into(), "Engineering".into()];
    let (out, summary) = run(mapping(ROLE_RULES), vec![u.clone()]);
    let p = planned(&out[0]);
    assert_eq!(
        p.user.realm_roles.clone().unwrap(),
        vec!["admin", "developer", "user"]
    );
    assert_eq!(summary.unmapped_roles.get("billing"), Some(&1));
    assert_eq!(summary.unmapped_groups.get("R/D"), Some(&1));
    assert!(!summary.realm_roles.contains_key("billing"));

    let body = ROLE_RULES
        .replace("[roles]\n", "[roles]\nunmapped = \"create\"\n")
        .replace("[groups]\n", "[groups]\nunmapped = \"create\"\n");
    let (out, summary) = run(mapping(&body), vec![u]);
    let p = planned(&out[0]);
    assert!(p
        .user
        .realm_roles
        .clone()
        .unwrap()
        .contains(&"billing".to_string()));
    assert!(p
        .user
        .groups
        .clone()
        .unwrap()
        .contains(&"/R\\/D".to_string()));
    assert_eq!(summary.realm_roles.get("billing"), Some(&1));
    assert_eq!(summary.groups.get("/R\\/D"), Some(&1));
    assert_eq!(
        summary.unmapped_roles.get("billing"),
        Some(&1),
        "still reported as unmapped"
    );
}

#[test]
fn summary_lists_roles_client_roles_and_groups_with_member_counts() {
    let mut a = user("a", 1);
    a.roles = vec!["Admin".into()];
    let b = user("b", 2);
    let (_, s) = run(mapping(ROLE_RULES), vec![a, b]);
    assert_eq!(s.realm_roles.get("user"), Some(&2));
    assert_eq!(s.realm_roles.get("admin"), Some(&1));
    assert_eq!(s.client_roles["portal"].get("member"), Some(&2));
    assert_eq!(s.client_roles["portal"].get("admin"), Some(&1));
    assert_eq!(s.groups.get("/customers"), Some(&2));
    assert_eq!(s.groups.get("/staff/admins"), Some(&1));
}

#[test]
fn firebase_claim_string_or_array_and_default_role_sources() {
    let mut a = user("a", 1);
    a.metadata.insert(
        "customAttributes".into(),
        serde_json::json!({"role": "editor"}),
    );
    let mut b = user("b", 2);
    b.metadata.insert(
        "customAttributes".into(),
        serde_json::json!({"roles": ["viewer", "editor"]}),
    );
    let m = mapping_for("firebase", "[roles]\nunmapped = \"create\"\n");
    let (out, _) = run(m, vec![a, b]);
    assert_eq!(
        planned(&out[0]).user.realm_roles.clone().unwrap(),
        vec!["editor"]
    );
    assert_eq!(
        planned(&out[1]).user.realm_roles.clone().unwrap(),
        vec!["editor", "viewer"]
    );
}

// ---------------------------------------------------------------- identities

fn linked(provider: &str, connection: Option<&str>, id: &str, primary: bool) -> LinkedIdentity {
    LinkedIdentity {
        connection: connection.map(Into::into),
        primary,
        email: Some("someone@example.com".into()),
        ..identity(provider, id)
    }
}

#[test]
fn identity_aliases_defaults_overrides_ignore_and_unknown() {
    let mut u = user("x", 1);
    u.password_hash = Some(kcm_model::PasswordHash::from_encoded(
        "$pbkdf2-sha256$i=27500,l=32$c2FsdHNhbHQ$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
    ));
    u.identities = vec![
        linked("auth0", Some("Username-Password-Authentication"), "1", true),
        linked("google-oauth2", Some("google-oauth2"), "g-1", false),
        linked("github", Some("github"), "77", false),
        linked("samlp", Some("acme-okta-saml"), "carol", false),
        linked("twitter", Some("twitter"), "t", false),
        linked("oidc", Some("partner-oidc"), "p", false),
    ];
    let body = "[identities]\nignore = [\"twitter\"]\n[identities.aliases]\n\"acme-okta-saml\" = \"acme-okta\"\ngithub = \"gh-enterprise\"\n";
    let (out, s) = run(mapping(body), vec![u.clone()]);
    let p = planned(&out[0]);
    let links: Vec<(String, String, Option<String>)> = p
        .user
        .federated_identities
        .clone()
        .unwrap()
        .into_iter()
        .map(|l| {
            (
                l.identity_provider.unwrap(),
                l.user_id.unwrap(),
                l.user_name,
            )
        })
        .collect();
    assert_eq!(
        links,
        vec![
            (
                "google".into(),
                "g-1".into(),
                Some("someone@example.com".into())
            ),
            (
                "gh-enterprise".into(),
                "77".into(),
                Some("someone@example.com".into())
            ),
            (
                "acme-okta".into(),
                "carol".into(),
                Some("someone@example.com".into())
            ),
        ]
    );
    assert!(p
        .diagnostics
        .iter()
        .any(|d| d.code == "identity_unmapped" && d.message.contains("oidc")));
    assert_eq!(s.identities.get("google"), Some(&1));
    assert_eq!(s.identities_dropped.get("twitter"), Some(&1));
    assert_eq!(s.identities_dropped.get("oidc"), Some(&1));

    let (out, _) = run(mapping("[identities]\nunknown = \"keep\"\n"), vec![u]);
    let aliases: Vec<String> = planned(&out[0])
        .user
        .federated_identities
        .clone()
        .unwrap()
        .into_iter()
        .filter_map(|l| l.identity_provider)
        .collect();
    assert_eq!(
        aliases,
        vec![
            "google",
            "github",
            "acme-okta-saml",
            "twitter",
            "partner-oidc"
        ]
    );
}

#[test]
fn firebase_provider_names_map_to_default_aliases() {
    let mut u = user("x", 1);
    u.identities = [
        "google.com",
        "apple.com",
        "github.com",
        "microsoft.com",
        "facebook.com",
        "twitter.com",
        "linkedin.com",
    ]
    .iter()
    .map(|p| linked(p, None, "id", false))
    .collect();
    let p = plan_one(mapping_for("firebase", ""), u);
    let aliases: Vec<String> = p
        .user
        .federated_identities
        .unwrap()
        .into_iter()
        .filter_map(|l| l.identity_provider)
        .collect();
    assert_eq!(
        aliases,
        vec![
            "google",
            "apple",
            "github",
            "microsoft",
            "facebook",
            "twitter",
            "linkedin"
        ]
    );
}

#[test]
fn social_only_users_get_no_credential_and_no_update_password() {
    let mut u = user("google-oauth2|1", 1);
    u.identities = vec![linked("google-oauth2", Some("google-oauth2"), "1", true)];
    u.status = "RECOVERY".into();
    let p = plan_one(mapping_for("okta", ""), u.clone());
    assert_eq!(p.password, PasswordOutcome::NotNeeded);
    assert_eq!(p.user.credentials, None);
    assert!(
        !actions(&p).contains(&UPDATE_PASSWORD.to_string()),
        "even the status's UPDATE_PASSWORD is dropped"
    );

    let p = plan_one(
        mapping_for("okta", "[passwords]\nsocial_only_update_password = true\n"),
        u,
    );
    assert_eq!(p.password, PasswordOutcome::NotNeeded);
    assert!(actions(&p).contains(&UPDATE_PASSWORD.to_string()));
}

#[test]
fn linked_only_user_whose_identities_all_drop_must_set_a_password() {
    // An Auth0 SMS passwordless user: `sms` maps to no Keycloak identity provider, so the
    // link is dropped; without UPDATE_PASSWORD the user would have no way to sign in.
    let mut u = user("sms|560ebaeef609ee1adaa7c551", 1);
    u.identities = vec![linked("sms", Some("sms"), "560ebaeef609ee1adaa7c551", true)];
    assert!(u.is_social_only());
    let p = plan_one(mapping(""), u);
    assert_eq!(p.user.federated_identities, None);
    assert!(
        matches!(p.password, PasswordOutcome::Reset { .. }),
        "{:?}",
        p.password
    );
    assert!(actions(&p).contains(&UPDATE_PASSWORD.to_string()));
    assert!(p
        .diagnostics
        .iter()
        .any(|d| d.code == "social_identity_not_mapped"));
}

// ---------------------------------------------------------------- filters

#[test]
fn exclude_and_include_filters_are_counted_by_name() {
    let body = r#"
[[filters]]
name = "corp"
include = { field = "email_domain", in = ["corp.example", "example.com"] }

[[filters]]
name = "deprovisioned"
exclude = { field = "status", equals = "DEPROVISIONED" }

[[filters]]
name = "test-accounts"
exclude = { field = "email", glob = "qa+*" }
"#;
    let mut a = user("a", 1);
    a.status = "DEPROVISIONED".into();
    let mut b = user("b", 2);
    b.email = Some("qa+1@corp.example".into());
    let mut c = user("c", 3);
    c.email = Some("c@elsewhere.example".into());
    let d = user("d", 4);
    let (out, s) = run(mapping_for("okta", body), vec![a, b, c, d]);
    let rules: Vec<String> = out
        .iter()
        .filter_map(|o| match o {
            Outcome::Filtered {
                rule, source_id, ..
            } => Some(format!("{source_id}:{rule}")),
            _ => None,
        })
        .collect();
    assert_eq!(
        rules,
        vec![
            "a:deprovisioned",
            "b:test-accounts",
            format!("c:{NOT_INCLUDED}").as_str()
        ]
    );
    planned(&out[3]);
    assert_eq!(s.filtered.total, 3);
    assert_eq!(s.filtered.by_rule.get("deprovisioned"), Some(&1));
    assert_eq!(s.filtered.by_rule.get(NOT_INCLUDED), Some(&1));
    assert_eq!(s.users_planned, 1);
}

#[test]
fn filters_see_connection_source_id_exists_and_combinators() {
    let body = r#"
[[filters]]
name = "enterprise"
exclude = { all = [{ field = "connection", suffix = "-saml" }, { not = { field = "app_metadata.keep", exists = true } }] }

[[filters]]
name = "legacy-ids"
exclude = { field = "source_id", prefix = "auth0|legacy-", case_sensitive = true }
"#;
    let mut a = user("samlp|x", 1);
    a.identities = vec![linked("samlp", Some("acme-saml"), "x", true)];
    let mut b = a.clone();
    b.source_id = "samlp|y".into();
    b.email = Some("y@example.com".into());
    b.metadata
        .insert("app_metadata".into(), serde_json::json!({"keep": true}));
    let c = user("auth0|legacy-1", 3);
    let d = user("auth0|LEGACY-2", 4);
    let (out, s) = run(mapping(body), vec![a, b, c, d]);
    assert!(matches!(&out[0], Outcome::Filtered { rule, .. } if rule == "enterprise"));
    planned(&out[1]);
    assert!(matches!(&out[2], Outcome::Filtered { rule, .. } if rule == "legacy-ids"));
    planned(&out[3]);
    assert_eq!(s.filtered.total, 2);
}

// ---------------------------------------------------------------- ids and representation

#[test]
fn deterministic_ids_are_stable_across_runs_and_sources() {
    let m = || mapping("deterministic_ids = true\n");
    let first = plan_one(m(), user("auth0|abc", 1)).user.id.unwrap();
    let second = plan_one(m(), user("auth0|abc", 7)).user.id.unwrap();
    assert_eq!(first, second);
    assert_eq!(first.len(), 36);
    assert_eq!(&first[14..15], "5", "UUID version 5");
    let other = plan_one(m(), user("auth0|abd", 1)).user.id.unwrap();
    assert_ne!(first, other);
    let okta = plan_one(
        mapping_for("okta", "deterministic_ids = true\n"),
        user("auth0|abc", 1),
    )
    .user
    .id
    .unwrap();
    assert_ne!(first, okta, "the source kind is part of the name");
    // Pinned value: changing the namespace or name scheme would re-key every loaded user.
    assert_eq!(
        first,
        uuid::Uuid::new_v5(&kcm_transform::USER_ID_NAMESPACE, b"auth0:auth0|abc").to_string()
    );
    assert_eq!(plan_one(mapping(""), user("auth0|abc", 1)).user.id, None);
}

#[test]
fn planned_user_is_complete() {
    let mut u = user("x", 1);
    u.username = Some("ada".into());
    u.first_name = Some("Ada".into());
    u.last_name = Some("Lovelace".into());
    u.created_at = Some(1_700_000_000_000);
    let p = plan_one(mapping("[roles]\ndefault_roles = [\"user\"]\n"), u);
    let json = serde_json::to_value(&p.user).unwrap();
    for key in [
        "username",
        "email",
        "emailVerified",
        "firstName",
        "lastName",
        "enabled",
        "createdTimestamp",
        "attributes",
        "requiredActions",
        "realmRoles",
    ] {
        assert!(json.get(key).is_some(), "{key} missing in {json}");
    }
    assert_eq!(json["createdTimestamp"], 1_700_000_000_000i64);
    assert_eq!(json["enabled"], true);
    // The representation passes Keycloak's strict parser (kcm-keycloak-types).
    let back: kcm_keycloak_types::UserRepresentation = serde_json::from_value(json).unwrap();
    assert_eq!(back, p.user);
}
