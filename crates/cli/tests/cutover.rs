//! Cutover operations through the binary against the emulator: rollback, delta sync of
//! existing users, password-reset e-mails, identity-provider checks.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use kcm_keycloak_fake::{FakeConfig, FakeKeycloak, RealmSettings};
use kcm_keycloak_types::UserRepresentation;

const PW: &str = "cutover-admin-pw";
const BCRYPT_HELLO: &str = "$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn fake(realm: RealmSettings, providers: &[&str]) -> FakeKeycloak {
    let mut config = FakeConfig {
        admin_username: "admin".into(),
        admin_password: PW.into(),
        ..FakeConfig::default()
    }
    .with_realm(realm);
    config.hash_providers = providers.iter().map(|s| s.to_string()).collect();
    FakeKeycloak::start_in_thread(config).unwrap()
}

fn cmd(server: &FakeKeycloak) -> Command {
    let mut c = Command::cargo_bin("kc-migrate").unwrap();
    c.current_dir(repo())
        .env_remove("RUST_LOG")
        .env("KEYCLOAK_URL", &server.base_url)
        .env("KEYCLOAK_USER", "admin")
        .env("KEYCLOAK_PASSWORD", PW);
    c
}

fn run(mut c: Command) -> (i32, String, String) {
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const OKTA: &[&str] = &[
    "samples/okta/users.csv",
    "samples/okta/users-api-columns.csv",
    "samples/okta/users.json",
    "--memberships",
    "samples/okta/group-memberships.csv",
];

fn apply_okta(server: &FakeKeycloak, out: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut c = cmd(server);
    c.args([
        "apply",
        "--mapping",
        "mappings/okta.toml",
        "--rate",
        "500",
        "--out",
    ])
    .arg(out)
    .args(OKTA)
    .args(extra);
    run(c)
}

fn names<T>(items: Vec<T>, name: impl Fn(&T) -> Option<String>) -> Vec<String> {
    let mut v: Vec<String> = items.iter().filter_map(name).collect();
    v.sort();
    v
}

#[test]
fn apply_then_rollback_leaves_keycloak_exactly_as_before() {
    let server = fake(RealmSettings::new("acme"), &["pbkdf2", "argon2"]);
    // Two users existed before the run; one of them is also in the export (so it is skipped).
    for username in ["ada.lovelace@analytical.example", "someone.else"] {
        server
            .seed_user(
                "acme",
                UserRepresentation {
                    username: Some(username.into()),
                    enabled: Some(true),
                    first_name: Some("Pre".into()),
                    ..Default::default()
                },
            )
            .unwrap();
    }
    let before_users = server.realm_users("acme");
    let before_roles = names(server.realm_roles("acme"), |r| r.name.clone());
    let before_groups = names(server.realm_groups("acme"), |g| g.path.clone());

    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = apply_okta(&server, &dir.path().join("a"), &[]);
    assert!(code == 0 || code == 1, "{out}{err}");
    assert!(server.user_count("acme") > before_users.len());
    let journal = dir.path().join("a/journal.ndjson");

    // Dry run by default: nothing deleted.
    let mut c = cmd(&server);
    c.args(["rollback", "--journal"]).arg(&journal);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("would be deleted"), "{out}");
    assert!(server.user_count("acme") > before_users.len());

    let mut c = cmd(&server);
    c.args([
        "rollback",
        "--yes",
        "--roles-and-groups",
        "--rate",
        "500",
        "--journal",
    ])
    .arg(&journal);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        server.realm_users("acme"),
        before_users,
        "pre-existing users untouched, the run's users gone"
    );
    assert_eq!(
        names(server.realm_roles("acme"), |r| r.name.clone()),
        before_roles
    );
    assert_eq!(
        names(server.realm_groups("acme"), |g| g.path.clone()),
        before_groups
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("a/rollback-report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["left_in_place"]["skipped"], 1, "{report:#}");
}

fn auth0_user(
    id: &str,
    email: &str,
    given: &str,
    roles: &[&str],
    blocked: bool,
) -> serde_json::Value {
    serde_json::json!({
        "user_id": format!("auth0|{id}"),
        "email": email,
        "email_verified": true,
        "given_name": given,
        "family_name": "Tester",
        "blocked": blocked,
        "password_hash": BCRYPT_HELLO,
        "identities": [{"provider": "auth0", "connection": "Username-Password-Authentication", "user_id": id, "isSocial": false}],
        "app_metadata": {"roles": roles}
    })
}

fn write_ndjson(path: &Path, users: &[serde_json::Value]) {
    let text: String = users.iter().map(|u| format!("{u}\n")).collect();
    std::fs::write(path, text).unwrap();
}

fn credentials(server: &FakeKeycloak) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = server
        .realm_users("acme")
        .into_iter()
        .map(|u| {
            (
                u.username.clone().unwrap(),
                serde_json::to_string(&u.credentials).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn delta_sync_brings_existing_users_in_line_without_touching_credentials() {
    let server = fake(RealmSettings::new("acme"), &["pbkdf2", "argon2", "bcrypt"]);
    let dir = tempfile::tempdir().unwrap();
    let v1 = dir.path().join("v1.ndjson");
    write_ndjson(
        &v1,
        &[
            auth0_user("a1", "alice@example.com", "Alice", &["admin"], false),
            auth0_user("b1", "bob@example.com", "Bob", &["editor"], false),
            auth0_user("c1", "carol@example.com", "Carol", &[], false),
        ],
    );
    let apply = |input: &Path, out: &str, extra: &[&str]| {
        let mut c = cmd(&server);
        c.args([
            "apply",
            "--mapping",
            "mappings/auth0.toml",
            "--rate",
            "500",
            "--out",
        ])
        .arg(dir.path().join(out))
        .arg(input)
        .args(extra);
        run(c)
    };
    let (code, out, err) = apply(&v1, "a1", &[]);
    assert_eq!(code, 0, "{out}{err}");
    let creds_before = credentials(&server);
    assert!(
        creds_before.iter().all(|(_, c)| c.contains("bcrypt")),
        "{creds_before:?}"
    );

    // The export changes: a new user, a renamed user with a new role, a newly blocked user
    // whose role changed, and one unchanged user.
    let v2 = dir.path().join("v2.ndjson");
    write_ndjson(
        &v2,
        &[
            auth0_user(
                "a1",
                "alice@example.com",
                "Alicia",
                &["admin", "support"],
                false,
            ),
            auth0_user("b1", "bob@example.com", "Bob", &["viewer"], true),
            auth0_user("c1", "carol@example.com", "Carol", &[], false),
            auth0_user("d1", "dave@example.com", "Dave", &[], false),
        ],
    );
    let (code, out, err) = apply(&v2, "a2", &["--update-existing", "--prune"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 updated"), "{out}");

    let mut c = cmd(&server);
    c.args([
        "verify",
        "--all",
        "--mapping",
        "mappings/auth0.toml",
        "--out",
    ])
    .arg(dir.path().join("v"))
    .arg(&v2);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "verify after the delta run: {out}{err}");

    let alice = server
        .user_by_username("acme", "alice@example.com")
        .unwrap();
    assert_eq!(alice.first_name.as_deref(), Some("Alicia"));
    assert_eq!(
        server
            .user_by_username("acme", "bob@example.com")
            .unwrap()
            .enabled,
        Some(false)
    );
    let creds_after: Vec<(String, String)> = credentials(&server)
        .into_iter()
        .filter(|(u, _)| u != "dave@example.com")
        .collect();
    assert_eq!(
        creds_after, creds_before,
        "existing users' credentials are unchanged"
    );

    // Running the same delta again, given the last delta journal, changes nothing.
    let users_before = server.realm_users("acme");
    let previous = dir.path().join("a2/update-journal.ndjson");
    let previous = previous.to_str().unwrap();
    let (code, out, err) = apply(
        &v2,
        "a3",
        &[
            "--update-existing",
            "--prune",
            "--previous-journal",
            previous,
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 updated"), "{out}");
    assert_eq!(server.realm_users("acme"), users_before);
}

#[test]
fn notify_e_mails_each_eligible_user_exactly_once_across_an_interrupted_run() {
    let mut realm = RealmSettings::new("acme");
    realm.smtp_configured = Some(true);
    let server = fake(realm, &["pbkdf2", "argon2"]);
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = apply_okta(&server, &dir.path().join("a"), &[]);
    assert!(code == 0 || code == 1, "{out}{err}");
    let journal = dir.path().join("a/journal.ndjson");
    let eligible: Vec<String> = server
        .users_due_a_reset_email("acme")
        .into_iter()
        .map(|u| u.id.unwrap())
        .collect();
    assert!(eligible.len() > 5);

    // Dry run: nothing sent.
    let mut c = cmd(&server);
    c.args(["notify", "--journal"]).arg(&journal);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{out}{err}");
    assert!(server.sent_emails("acme").is_empty());

    // A trial batch of 3, then the rest: exactly one e-mail per eligible user.
    for extra in [&["--max-sends", "3"][..], &[][..]] {
        let mut c = cmd(&server);
        c.args(["notify", "--yes", "--rate", "500", "--journal"])
            .arg(&journal)
            .args(extra);
        let (code, out, err) = run(c);
        assert_eq!(code, 0, "{out}{err}");
    }
    let mut sent: Vec<String> = server
        .sent_emails("acme")
        .into_iter()
        .map(|e| e.user_id)
        .collect();
    sent.sort();
    let mut expected = eligible.clone();
    expected.sort();
    assert_eq!(sent, expected);
    assert!(server
        .sent_emails("acme")
        .iter()
        .all(|e| e.actions == ["UPDATE_PASSWORD"]));

    // A third run sends nothing more.
    let mut c = cmd(&server);
    c.args(["notify", "--yes", "--journal"]).arg(&journal);
    run(c);
    assert_eq!(server.sent_emails("acme").len(), eligible.len());
}

#[test]
fn notify_detects_a_realm_without_smtp_before_sending() {
    let server = fake(RealmSettings::new("acme"), &["pbkdf2", "argon2"]);
    let dir = tempfile::tempdir().unwrap();
    apply_okta(&server, &dir.path().join("a"), &[]);
    let requests_before = server.stats().total;
    let mut c = cmd(&server);
    c.args(["notify", "--yes", "--journal"])
        .arg(dir.path().join("a/journal.ndjson"));
    let (code, out, err) = run(c);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.to_lowercase().contains("smtp"), "{err}");
    assert!(server.sent_emails("acme").is_empty());
    let execute_calls = server.stats().count(
        "PUT",
        "/admin/realms/{realm}/users/{user-id}/execute-actions-email",
    );
    assert_eq!(
        execute_calls,
        0,
        "{} requests after",
        server.stats().total - requests_before
    );
}

#[test]
fn missing_identity_providers_are_reported_before_loading_and_created_on_request() {
    let server = fake(RealmSettings::new("acme"), &["pbkdf2", "argon2", "bcrypt"]);
    let dir = tempfile::tempdir().unwrap();
    let auth0 = [
        "samples/auth0/users.ndjson.gz",
        "samples/auth0/users.csv",
        "--hashes",
        "samples/auth0/password-hashes.ndjson",
        "--roles",
        "samples/auth0/roles.json",
    ];
    // The target-aware plan reports them without loading anything.
    let mut c = cmd(&server);
    c.args(["plan", "--mapping", "mappings/auth0.toml", "--out"])
        .arg(dir.path().join("p"))
        .args(auth0);
    let (_, out, _) = run(c);
    assert!(
        out.contains("Missing identity providers") && out.contains("google"),
        "{out}"
    );
    assert_eq!(server.user_count("acme"), 0);

    // apply warns before loading; with --create-identity-providers they become disabled
    // placeholders.
    let mut c = cmd(&server);
    c.args([
        "apply",
        "--create-identity-providers",
        "--rate",
        "500",
        "--mapping",
        "mappings/auth0.toml",
        "--out",
    ])
    .arg(dir.path().join("a"))
    .args(auth0);
    let (code, out, err) = run(c);
    assert!(code == 0 || code == 1, "{out}{err}");
    assert!(
        err.contains("identity providers missing") && err.contains("google"),
        "{err}"
    );
    let idps = server.identity_providers("acme");
    let google = idps
        .iter()
        .find(|i| i.alias.as_deref() == Some("google"))
        .expect("google placeholder");
    assert_eq!(google.enabled, Some(false));
    assert_eq!(google.provider_id.as_deref(), Some("google"));
}
