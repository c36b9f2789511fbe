//! `kc-migrate apply` and `verify` through the real binary against the in-repo Keycloak
//! emulator (crates/keycloak-fake): each provider's samples load, `verify` finds no
//! difference, and a second `apply` skips everything and changes nothing.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use std::time::Duration;

use kcm_keycloak_fake::{FakeConfig, FakeKeycloak, Faults, RealmSettings};

const ADMIN_PASSWORD: &str = "admin-pw-canary-7f3a";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn fake(hash_providers: &[&str]) -> FakeKeycloak {
    let mut config = FakeConfig {
        admin_username: "admin".into(),
        admin_password: ADMIN_PASSWORD.into(),
        ..FakeConfig::default()
    }
    .with_realm(RealmSettings::new("acme"));
    config.hash_providers = hash_providers.iter().map(|s| s.to_string()).collect();
    FakeKeycloak::start_in_thread(config).unwrap()
}

fn samples(provider: &str) -> Vec<&'static str> {
    match provider {
        "auth0" => vec![
            "samples/auth0/users.ndjson.gz",
            "samples/auth0/users.csv",
            "--hashes",
            "samples/auth0/password-hashes.ndjson",
            "--roles",
            "samples/auth0/roles.json",
        ],
        "okta" => vec![
            "samples/okta/users.csv",
            "samples/okta/users-api-columns.csv",
            "samples/okta/users.json",
            "--memberships",
            "samples/okta/group-memberships.csv",
        ],
        _ => vec![
            "samples/firebase/users.json",
            "samples/firebase/users.csv",
            "samples/firebase/users-2019.csv",
            "samples/firebase/emulator-accounts.json",
        ],
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn kc(kc: &FakeKeycloak, command: &str, provider: &str, out: &Path, extra: &[&str]) -> Run {
    let o = Command::cargo_bin("kc-migrate")
        .unwrap()
        .current_dir(repo())
        .env_remove("RUST_LOG")
        .env("KEYCLOAK_URL", &kc.base_url)
        .env("KEYCLOAK_USER", "admin")
        .env("KEYCLOAK_PASSWORD", ADMIN_PASSWORD)
        .env("FIREBASE_SIGNER_KEY", "KMvhjc3QWFrDVy2DefLtNBQP/lhONzYiIyP52SdoyrI7zrJVQSyUimgV4vYobS2DurgtT0yAcjxuPqVpymjavg==")
        .env("FIREBASE_SALT_SEPARATOR", "Bw==")
        .args([command, "--mapping", &format!("mappings/{provider}.toml"), "--out"])
        .arg(out)
        .args(samples(provider))
        .args(["--rate", "500", "--concurrency", "4", "--retry-base-delay-ms", "5", "--retry-max-delay-ms", "50"])
        .args(extra)
        .output()
        .unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn apply_report(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("apply-report.json")).unwrap()).unwrap()
}

#[test]
fn each_provider_loads_verifies_and_a_second_apply_changes_nothing() {
    for provider in ["auth0", "okta", "firebase"] {
        let server = fake(&[
            "pbkdf2",
            "pbkdf2-sha256",
            "pbkdf2-sha512",
            "argon2",
            "bcrypt",
            "firebase-scrypt",
        ]);
        let dir = tempfile::tempdir().unwrap();
        let first = kc(
            &server,
            "apply",
            provider,
            &dir.path().join("a1"),
            &["--all"][..0],
        );
        assert!(
            first.code == 0 || first.code == 1,
            "{provider} apply: {} {}",
            first.stdout,
            first.stderr
        );
        let r1 = apply_report(&dir.path().join("a1"));
        let planned = r1["plan"]["users_planned"].as_u64().unwrap();
        assert!(planned > 20, "{provider}");
        assert_eq!(
            r1["apply"]["users"]["added"].as_u64().unwrap(),
            planned,
            "{provider}: {}",
            first.stdout
        );
        assert_eq!(server.user_count("acme") as u64, planned, "{provider}");
        let users_before = server.realm_users("acme");

        let v = kc(
            &server,
            "verify",
            provider,
            &dir.path().join("v"),
            &["--all"],
        );
        assert_eq!(v.code, 0, "{provider} verify: {}{}", v.stdout, v.stderr);

        let second = kc(&server, "apply", provider, &dir.path().join("a2"), &[]);
        assert!(
            second.code == 0 || second.code == 1,
            "{provider}: {}",
            second.stderr
        );
        let r2 = apply_report(&dir.path().join("a2"));
        assert_eq!(
            r2["apply"]["users"]["skipped"].as_u64().unwrap(),
            planned,
            "{provider}: {}",
            second.stdout
        );
        assert_eq!(r2["apply"]["users"]["added"], 0);
        assert_eq!(
            server.realm_users("acme"),
            users_before,
            "{provider}: the second run changed the realm"
        );

        // The admin password never reaches any output or file.
        for text in [&first.stdout, &first.stderr, &second.stdout, &v.stdout] {
            assert!(!text.contains(ADMIN_PASSWORD));
        }
    }
}

const PARTIAL_IMPORT: &str = "/admin/realms/{realm}/partialImport";

/// Generate `users` Okta users (kcm-gen, seeded) into `dir`; returns the input arguments.
fn generated_okta(dir: &Path, users: u64) -> Vec<String> {
    kcm_gen::generate(&kcm_gen::GenOptions {
        provider: kcm_gen::Provider::Okta,
        users,
        seed: 7,
        out_dir: dir.to_path_buf(),
        gzip: false,
    })
    .unwrap();
    vec![
        dir.join("users.csv").display().to_string(),
        "--memberships".into(),
        dir.join("group-memberships.csv").display().to_string(),
    ]
}

fn kc_migrate(server: &FakeKeycloak) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("kc-migrate"));
    cmd.current_dir(repo())
        .env_remove("RUST_LOG")
        .env("KEYCLOAK_URL", &server.base_url)
        .env("KEYCLOAK_USER", "admin")
        .env("KEYCLOAK_PASSWORD", ADMIN_PASSWORD)
        .stdin(std::process::Stdio::null());
    cmd
}

fn output(mut cmd: std::process::Command) -> Run {
    let o = cmd.output().unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Issue acceptance: 2 s tokens, 10% of requests answered 429 (with Retry-After) or 503, 2% of
/// connections dropped; 20,000 users end present exactly once and the request rate never
/// exceeds --rate by more than 5% in any 5-second window.
#[test]
fn twenty_thousand_users_load_exactly_once_under_faults_within_the_rate() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = generated_okta(&dir.path().join("in"), 20_000);
    let mut config = FakeConfig {
        admin_username: "admin".into(),
        admin_password: ADMIN_PASSWORD.into(),
        access_token_lifespan: Duration::from_secs(2),
        ..FakeConfig::default()
    }
    .with_realm(RealmSettings::new("acme"));
    config.faults = Faults {
        seed: 42,
        rate_429: 0.05,
        retry_after_secs: 1,
        rate_503: 0.05,
        drop_connection_rate: 0.01,
        drop_after_processing_rate: 0.01,
        include_token_endpoint: true,
        ..Faults::default()
    };
    let server = FakeKeycloak::start_in_thread(config).unwrap();
    let rate = 40.0;
    let mut cmd = kc_migrate(&server);
    cmd.args([
        "apply",
        "--mapping",
        "mappings/okta.toml",
        "--batch-size",
        "200",
        "--concurrency",
        "4",
    ])
    .args([
        "--rate",
        &rate.to_string(),
        "--retry-base-delay-ms",
        "20",
        "--retry-max-delay-ms",
        "1000",
        "--max-attempts",
        "12",
    ])
    .arg("--out")
    .arg(dir.path().join("out"))
    .args(&inputs);
    let run = output(cmd);
    assert!(
        run.code == 0 || run.code == 1,
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    let report = apply_report(&dir.path().join("out"));
    let planned = report["plan"]["users_planned"].as_u64().unwrap();
    assert!(planned > 19_000, "{planned}");
    let users = server.realm_users("acme");
    assert_eq!(users.len() as u64, planned, "{}", run.stdout);
    let mut names: Vec<_> = users.iter().map(|u| u.username.clone().unwrap()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len() as u64, planned, "a user is present twice");
    let stats = server.stats();
    assert!(
        stats.throttled + stats.unavailable > 0 && stats.dropped > 0,
        "faults were injected: {stats:?}"
    );
    let peak = server.max_requests_in_window(Duration::from_secs(5)) as f64;
    assert!(
        peak <= rate * 5.0 * 1.05,
        "{peak} requests in a 5 s window at --rate {rate}"
    );
}

#[test]
fn a_batch_with_one_bad_record_is_bisected_and_the_rest_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let server = fake(&["pbkdf2", "argon2"]);
    // Planned username of one Okta sample user; Keycloak fails any batch containing it.
    let bad = "ada.lovelace@analytical.example";
    server.set_faults(Faults {
        fail_user_names: vec![bad.into()],
        ..Faults::default()
    });
    let run = kc(
        &server,
        "apply",
        "okta",
        &dir.path().join("a"),
        &["--batch-size", "8"],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let report = apply_report(&dir.path().join("a"));
    let planned = report["plan"]["users_planned"].as_u64().unwrap();
    let rejected = report["apply"]["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0]["username"], bad);
    assert!(!rejected[0]["message"].as_str().unwrap().is_empty());
    assert!(report["apply"]["bisections"].as_u64().unwrap() >= 1);
    assert_eq!(server.user_count("acme") as u64, planned - 1);
    assert!(server.user_by_username("acme", bad).is_none());
}

/// SIGKILL at several points during a load, then --resume: exactly the planned users, no
/// duplicates, and completed batches are not sent again.
#[test]
fn killed_runs_resume_to_exactly_the_planned_users() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = generated_okta(&dir.path().join("in"), 3_000);
    let mut config = FakeConfig {
        admin_username: "admin".into(),
        admin_password: ADMIN_PASSWORD.into(),
        ..FakeConfig::default()
    }
    .with_realm(RealmSettings::new("acme"));
    config.faults.latency = Duration::from_millis(20);
    let server = FakeKeycloak::start_in_thread(config).unwrap();
    let out = dir.path().join("out");
    let apply = |resume: bool| {
        let mut cmd = kc_migrate(&server);
        cmd.args([
            "apply",
            "--mapping",
            "mappings/okta.toml",
            "--batch-size",
            "50",
            "--rate",
            "200",
            "--concurrency",
            "2",
        ])
        .arg("--out")
        .arg(&out)
        .args(&inputs)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
        if resume {
            cmd.arg("--resume");
        }
        cmd
    };
    let imports = || server.stats().count("POST", PARTIAL_IMPORT);
    for (i, kill_at) in [3u64, 20, 40].into_iter().enumerate() {
        let mut child = apply(i > 0).spawn().unwrap();
        // Wait on the condition (the server has seen `kill_at` batches), not on time.
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while imports() < kill_at && child.try_wait().unwrap().is_none() {
            assert!(std::time::Instant::now() < deadline, "no progress");
            std::thread::yield_now();
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    let sent_before_final = imports();
    let last = output(apply(true));
    assert!(last.code == 0 || last.code == 1, "{}", last.stderr);
    let report = apply_report(&out);
    let planned = report["plan"]["users_planned"].as_u64().unwrap();
    assert_eq!(server.user_count("acme") as u64, planned);
    let batches = planned.div_ceil(50);
    // Every batch is sent once, plus at most the in-flight ones (concurrency 2) per kill.
    assert!(
        imports() <= batches + 3 * 2,
        "{} partialImport requests for {batches} batches",
        imports()
    );
    assert!(
        report["apply"]["users"]["already_done_from_journal"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(
        imports() > sent_before_final,
        "the final run finished the load"
    );
}

#[test]
fn password_outcome_follows_the_server_hash_providers() {
    let cred_count = |server: &FakeKeycloak| {
        server
            .realm_users("acme")
            .iter()
            .filter(|u| u.credentials.as_ref().is_some_and(|c| !c.is_empty()))
            .count()
    };
    let resets = |server: &FakeKeycloak| {
        server
            .realm_users("acme")
            .iter()
            .filter(|u| {
                u.required_actions
                    .as_ref()
                    .is_some_and(|a| a.iter().any(|x| x == "UPDATE_PASSWORD"))
            })
            .count()
    };
    // Users with neither a credential nor UPDATE_PASSWORD: exactly the plan's social-only
    // users, each with a federated identity to sign in through.
    let neither = |server: &FakeKeycloak| {
        let mut names: Vec<String> = server
            .realm_users("acme")
            .into_iter()
            .filter(|u| u.credentials.as_ref().is_none_or(|c| c.is_empty()))
            .filter(|u| {
                !u.required_actions
                    .as_ref()
                    .is_some_and(|a| a.iter().any(|x| x == "UPDATE_PASSWORD"))
            })
            .inspect(|u| {
                assert!(
                    u.federated_identities
                        .as_ref()
                        .is_some_and(|f| !f.is_empty()),
                    "{:?} has no way to sign in",
                    u.username
                )
            })
            .filter_map(|u| u.username)
            .collect();
        names.sort();
        names
    };
    let dir = tempfile::tempdir().unwrap();
    // Auth0 with the bcrypt plugin: the 10 bcrypt users get a credential.
    let with = fake(&[
        "pbkdf2",
        "pbkdf2-sha256",
        "pbkdf2-sha512",
        "argon2",
        "bcrypt",
    ]);
    kc(&with, "apply", "auth0", &dir.path().join("w"), &[]);
    assert_eq!(cred_count(&with), 10);
    let social_only = neither(&with);
    let plan: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("w/plan/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        social_only.len() as u64,
        plan["passwords"]["not_needed"].as_u64().unwrap(),
        "{social_only:?}"
    );
    assert!(social_only.len() >= 5);
    // Without it: no credentials, those users must reset.
    let without = fake(&["pbkdf2", "pbkdf2-sha256", "pbkdf2-sha512", "argon2"]);
    kc(&without, "apply", "auth0", &dir.path().join("wo"), &[]);
    assert_eq!(cred_count(&without), 0);
    assert_eq!(resets(&without), resets(&with) + 10);
    assert_eq!(
        neither(&without),
        social_only,
        "social-only users get neither, whatever the target"
    );
    // Okta never has hashes: everyone enabled gets UPDATE_PASSWORD.
    let okta = fake(&["pbkdf2", "bcrypt"]);
    kc(&okta, "apply", "okta", &dir.path().join("o"), &[]);
    assert_eq!(cred_count(&okta), 0);
    assert_eq!(resets(&okta), okta.user_count("acme"));
}

/// Canary secrets in every secret input never appear in stdout, stderr at -vv, reports or the
/// journal.
#[test]
fn no_secret_reaches_any_output_or_file() {
    let dir = tempfile::tempdir().unwrap();
    let signer =
        "KMvhjc3QWFrDVy2DefLtNBQP/lhONzYiIyP52SdoyrI7zrJVQSyUimgV4vYobS2DurgtT0yAcjxuPqVpymjavg==";
    let server = fake(&["pbkdf2", "argon2", "firebase-scrypt", "bcrypt"]);
    let pw_file = dir.path().join("pw");
    std::fs::write(&pw_file, format!("{ADMIN_PASSWORD}\n")).unwrap();
    let mut outputs = Vec::new();
    for provider in ["auth0", "firebase"] {
        let out = dir.path().join(provider);
        let mut cmd = kc_migrate(&server);
        cmd.env_remove("KEYCLOAK_PASSWORD")
            .env("FIREBASE_SIGNER_KEY", signer)
            .env("FIREBASE_SALT_SEPARATOR", "Bw==")
            .args([
                "-vv",
                "apply",
                "--mapping",
                &format!("mappings/{provider}.toml"),
                "--rate",
                "500",
                "--password-file",
            ])
            .arg(&pw_file)
            .arg("--out")
            .arg(&out)
            .args(samples(provider));
        let run = output(cmd);
        assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
        assert!(
            run.stderr.contains("DEBUG") || run.stderr.contains("INFO"),
            "-vv logs something"
        );
        outputs.push(run.stdout);
        outputs.push(run.stderr);
        let mut stack = vec![out];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    outputs.push(std::fs::read_to_string(&p).unwrap());
                }
            }
        }
    }
    let hashes =
        std::fs::read_to_string(repo().join("samples/auth0/password-hashes.ndjson")).unwrap();
    let bcrypts: Vec<String> = hashes
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["passwordHash"].as_str().map(str::to_string))
        .collect();
    for text in &outputs {
        assert!(!text.contains(ADMIN_PASSWORD), "admin password leaked");
        assert!(!text.contains(signer), "Firebase signer key leaked");
        for b in &bcrypts {
            assert!(!text.contains(b.as_str()), "password hash leaked");
        }
        assert!(
            !text.contains("access_token") || !text.contains("eyJ"),
            "token leaked"
        );
    }
}

/// `plan --keycloak-url`: read-only, uses the server's hash providers, and says what a load
/// would add or skip.
#[test]
fn target_aware_plan_reads_the_server_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = fake(&["pbkdf2", "pbkdf2-sha256", "pbkdf2-sha512", "argon2"]);
    let before = kc(&server, "plan", "auth0", &dir.path().join("p1"), &[]);
    assert_eq!(before.code, 1, "{}{}", before.stdout, before.stderr);
    let target: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("p1/target.json")).unwrap())
            .unwrap();
    let planned = target["users_planned"].as_u64().unwrap();
    assert_eq!(target["users_to_add"].as_u64().unwrap(), planned);
    assert_eq!(server.user_count("acme"), 0, "plan changes nothing");
    // This server has no bcrypt provider: the Auth0 bcrypt users must reset.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("p1/report.json")).unwrap())
            .unwrap();
    assert!(
        report["passwords"]["kept_by_provider"]
            .as_object()
            .unwrap()
            .is_empty(),
        "{}",
        report["passwords"]
    );
    assert!(
        before
            .stdout
            .contains("Target hash providers: argon2, pbkdf2"),
        "{}",
        before.stdout
    );

    kc(&server, "apply", "auth0", &dir.path().join("a"), &[]);
    let after = kc(&server, "plan", "auth0", &dir.path().join("p2"), &[]);
    let target: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("p2/target.json")).unwrap())
            .unwrap();
    assert_eq!(target["users_to_add"], 0, "{}", after.stdout);
    assert_eq!(
        target["users_existing"]["by_username"].as_u64().unwrap(),
        planned
    );
    assert!(target["realm_roles_to_create"]
        .as_array()
        .unwrap()
        .is_empty());
}
