//! Hostile and broken inputs through the real `kc-migrate` binary: the hardening catalogue.
//!
//! One test per catalogue entry, each named after it. Every test checks what an operator
//! sees: the documented exit code (0 clean, 1 records rejected, 2 fatal), a message naming
//! the file and line (or the mapping key), and no panic. Records too large to hold are
//! rejected as `too_large` without the process holding them (peak RSS measured with
//! `/usr/bin/time -v` where it exists). The last part checks data protection: owner-only
//! output files, masking, and secrets from broken records never echoed.
//!
//! Tests marked `#[ignore]` reproduce defects found by this catalogue in crates this suite
//! may not change; each says what is wrong. They pass once the defect is fixed.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};

use kcm_keycloak_fake::{FakeConfig, FakeKeycloak, RealmSettings};

/// Size of the single oversized line: far above the default 1 MiB record limit.
const HUGE_LINE_BYTES: usize = 50 * 1024 * 1024;
/// Loose ceiling on the peak resident memory of a run that meets a huge record.
const MAX_PEAK_RSS_KB: u64 = 200 * 1024;
/// JSON nesting depth of the "deeply nested" records.
const DEEP_NESTING: usize = 10_000;
/// The fake Keycloak's admin password (a canary: it must never be printed).
const ADMIN_PASSWORD: &str = "hostile-admin-pw-5c1e";
/// The unprivileged user a root test run drops to for the permission test.
const NOBODY_UID: &str = "65534";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kc-migrate"))
}

/// The binary with a clean environment: no log filter, no secrets inherited from the shell.
fn command(program: impl AsRef<OsStr>) -> std::process::Command {
    let mut cmd = std::process::Command::new(program);
    cmd.current_dir(repo())
        .env_remove("RUST_LOG")
        .env_remove("FIREBASE_SIGNER_KEY")
        .env_remove("FIREBASE_SALT_SEPARATOR")
        .env_remove("KEYCLOAK_URL")
        .env_remove("KEYCLOAK_PASSWORD")
        .env_remove("KEYCLOAK_CLIENT_SECRET")
        .stdin(std::process::Stdio::null());
    cmd
}

struct Run {
    /// `None` when the process was killed by a signal (a stack overflow aborts).
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn of(mut cmd: std::process::Command) -> Run {
        let out = cmd.output().unwrap();
        let run = Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        run.assert_no_panic();
        run
    }

    fn assert_no_panic(&self) {
        assert!(
            self.code.is_some(),
            "killed by a signal (stack overflow?): {}",
            self.stderr
        );
        for bad in ["panicked", "stack overflow", "RUST_BACKTRACE"] {
            assert!(
                !self.stderr.contains(bad),
                "{bad} in stderr: {}",
                self.stderr
            );
        }
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not JSON ({e}): {}\n{}", self.stdout, self.stderr)
        })
    }

    /// Exit 2 with one line on stderr naming `path`, nothing on stdout.
    fn assert_fatal_naming(&self, path: &Path) {
        assert_eq!(self.code, Some(2), "{}", self.stderr);
        assert!(self.stdout.is_empty(), "{}", self.stdout);
        assert_eq!(self.stderr.trim_end().lines().count(), 1, "{}", self.stderr);
        assert!(
            self.stderr.contains(&path.display().to_string()),
            "{} not named: {}",
            path.display(),
            self.stderr
        );
    }
}

fn kc_migrate<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = command(bin());
    cmd.args(args);
    Run::of(cmd)
}

/// `inspect --output-format json` on `files` (paths, then any options in `extra`).
fn inspect(source: &str, files: &[&Path], extra: &[&str]) -> (Run, serde_json::Value) {
    let mut args: Vec<&OsStr> = vec![
        "inspect".as_ref(),
        "--source".as_ref(),
        source.as_ref(),
        "--output-format".as_ref(),
        "json".as_ref(),
    ];
    args.extend(files.iter().map(|p| p.as_os_str()));
    args.extend(extra.iter().map(|s| OsStr::new(*s)));
    let run = kc_migrate(args);
    let v = if run.code == Some(2) {
        serde_json::Value::Null
    } else {
        run.json()
    };
    (run, v)
}

fn n(v: &serde_json::Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no `{key}` in {v:#}"))
}

/// The rejected example at `path:line`, which must have `reason` and a message.
fn assert_rejected_at(v: &serde_json::Value, reason: &str, path: &Path, line: u64) -> String {
    assert_rejected_for_one_of(v, &[reason], path, line)
}

/// The rejected example at `path:line`, with one of `reasons` and a message.
fn assert_rejected_for_one_of(
    v: &serde_json::Value,
    reasons: &[&str],
    path: &Path,
    line: u64,
) -> String {
    let place = format!("{}:{line}", path.display());
    let examples = v["rejected_examples"]
        .as_array()
        .expect("rejected_examples");
    let hit = examples
        .iter()
        .find(|e| e["place"] == place.as_str())
        .unwrap_or_else(|| panic!("nothing rejected at {place}: {v:#}"));
    assert!(
        reasons.iter().any(|r| hit["reason"] == *r),
        "{hit}: expected one of {reasons:?}"
    );
    let message = hit["message"].as_str().unwrap_or_default().to_string();
    assert!(message.len() > 10, "unclear message: {hit}");
    message
}

/// Records read = users + rejected (inspect's identity for a file of user records), and the
/// exit code follows the rejections.
fn assert_accounted(run: &Run, v: &serde_json::Value) {
    assert_eq!(
        n(v, "records_read"),
        n(v, "users")
            + n(v, "roles")
            + n(v, "groups")
            + n(v, "memberships")
            + n(v, "merged_rows")
            + n(v, "rejected"),
        "{v:#}"
    );
    let expected = if n(v, "rejected") > 0 { 1 } else { 0 };
    assert_eq!(run.code, Some(expected), "{}", run.stderr);
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Firebase's header-less CSV rows from the bundled sample (real column layouts).
fn firebase_csv_rows() -> Vec<String> {
    std::fs::read_to_string(repo().join("samples/firebase/users.csv"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn okta_json_user(i: u32) -> String {
    format!(
        r#"{{"id":"00u{i}","status":"ACTIVE","profile":{{"login":"user{i}@example.com","email":"user{i}@example.com"}}}}"#
    )
}

// ---------------------------------------------------------------------------------------
// Truncation
// ---------------------------------------------------------------------------------------

#[test]
fn truncated_json_array_cut_mid_record() {
    let dir = tempfile::tempdir().unwrap();
    let auth0 = write(
        dir.path(),
        "auth0.json",
        "[{\"user_id\":\"auth0|1\",\"email\":\"a@example.com\"},\n{\"user_id\":\"auth0|2\",\"email\":\"b@ex",
    );
    let firebase = write(
        dir.path(),
        "firebase.json",
        "{\"users\": [\n{\"localId\":\"user0001\",\"email\":\"a@example.com\"},\n{\"localId\":\"user0002\",\"email\":\"b@ex",
    );
    let okta = write(
        dir.path(),
        "okta.json",
        format!("[\n{},\n{}", okta_json_user(1), &okta_json_user(2)[..40]),
    );
    for (source, path, line) in [
        ("auth0", &auth0, 2),
        ("firebase", &firebase, 3),
        ("okta", &okta, 3),
    ] {
        let (run, v) = inspect(source, &[path], &[]);
        assert_accounted(&run, &v);
        assert_eq!(n(&v, "users"), 1, "{source}: the complete record is kept");
        let msg = assert_rejected_at(&v, "truncated", path, line);
        assert!(msg.contains("truncated") || msg.contains("ends"), "{msg}");
    }
}

#[test]
fn truncated_ndjson_last_line_cut() {
    let dir = tempfile::tempdir().unwrap();
    let users = write(
        dir.path(),
        "users.ndjson",
        "{\"user_id\":\"auth0|1\",\"email\":\"a@example.com\"}\n{\"user_id\":\"auth0|2\",\"email\":\"b@example.com\"}\n{\"user_id\":\"auth0|3\",\"email\":\"c@ex",
    );
    let (run, v) = inspect("auth0", &[&users], &[]);
    assert_accounted(&run, &v);
    assert_eq!(n(&v, "users"), 2);
    assert_rejected_at(&v, "truncated", &users, 3);

    // The password-hash export is NDJSON too.
    let hashes = write(
        dir.path(),
        "hashes.ndjson",
        "{\"_id\":{\"$oid\":\"1\"},\"email\":\"a@example.com\",\"passwordHash\":\"$2b$10$abc\"}\n{\"_id\":{\"$oid\":\"2\"},\"email\":\"b@exa",
    );
    let (run, v) = inspect("auth0", &[&users], &["--hashes", hashes.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_rejected_at(&v, "truncated", &hashes, 2);

    let okta = write(
        dir.path(),
        "okta.ndjson",
        format!("{}\n{}", okta_json_user(1), &okta_json_user(2)[..50]),
    );
    let (run, v) = inspect("okta", &[&okta], &[]);
    assert_accounted(&run, &v);
    assert_rejected_at(&v, "truncated", &okta, 2);
}

#[test]
fn truncated_csv_quote_never_closed() {
    let dir = tempfile::tempdir().unwrap();
    // Okta: the open quote would swallow the rest of the file into one cell; the row is
    // rejected as truncated instead.
    let okta = write(
        dir.path(),
        "okta.csv",
        "login,email,firstName\nada@example.com,ada@example.com,Ada\nbob@example.com,bob@example.com,\"Bob\ncarol@example.com,carol@example.com,Carol\n",
    );
    let (run, v) = inspect("okta", &[&okta], &[]);
    assert_accounted(&run, &v);
    assert_eq!(n(&v, "users"), 1);
    let msg = assert_rejected_at(&v, "truncated", &okta, 3);
    assert!(msg.contains("never closed"), "{msg}");

    // Firebase CSV was never written by a CSV library: an unbalanced quote inside a line is
    // literal text, so only a file that ends inside a quote is truncated.
    let rows = firebase_csv_rows();
    let cut = rows[1].find("\"Robert").unwrap() + 5;
    let firebase = write(
        dir.path(),
        "firebase.csv",
        format!("{}\n{}", rows[0], &rows[1][..cut]),
    );
    let (run, v) = inspect("firebase", &[&firebase], &[]);
    assert_accounted(&run, &v);
    assert_eq!(n(&v, "users"), 1);
    assert_rejected_at(&v, "truncated", &firebase, 2);
}

/// Auth0's CSV reader lets the `csv` crate read an unclosed quote to the end of the file:
/// every later row silently becomes part of one cell, and with a small file the run even
/// exits 0 (crates/source-auth0/src/csv_users.rs; Okta's `CsvRows` tracks the quote state).
#[test]
fn truncated_csv_quote_never_closed_auth0() {
    let dir = tempfile::tempdir().unwrap();
    let auth0 = write(
        dir.path(),
        "auth0.csv",
        "user_id,email,given_name\nauth0|1,a@example.com,Ann\nauth0|2,b@example.com,\"Bob\nauth0|3,c@example.com,Cy\n",
    );
    let (run, v) = inspect("auth0", &[&auth0], &[]);
    assert_accounted(&run, &v);
    assert_eq!(n(&v, "users"), 1);
    assert_rejected_at(&v, "truncated", &auth0, 3);
}

#[test]
fn truncated_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let half = |bytes: Vec<u8>| {
        let gz = gzip(&bytes);
        gz[..gz.len() / 2].to_vec()
    };
    let mut okta = String::from("login,email,firstName\n");
    let mut auth0 = String::new();
    let mut firebase_json = String::from("{\"users\": [\n");
    for i in 0..4000 {
        okta.push_str(&format!("u{i}@example.com,u{i}@example.com,Name{i}\n"));
        auth0.push_str(&format!(
            "{{\"user_id\":\"auth0|{i}\",\"email\":\"u{i}@example.com\"}}\n"
        ));
        firebase_json.push_str(&format!(
            "{{\"localId\":\"user{i:05}\",\"email\":\"u{i}@example.com\"}},\n"
        ));
    }
    let firebase_csv = firebase_csv_rows().join("\n").repeat(300);
    // Names do not say "gzip": the format is detected from the content.
    let cases = [
        (
            "okta",
            write(dir.path(), "okta.csv", half(okta.into_bytes())),
        ),
        (
            "auth0",
            write(dir.path(), "auth0.ndjson", half(auth0.into_bytes())),
        ),
        (
            "firebase",
            write(
                dir.path(),
                "firebase.json",
                half(firebase_json.into_bytes()),
            ),
        ),
        (
            "firebase",
            write(dir.path(), "firebase.csv", half(firebase_csv.into_bytes())),
        ),
    ];
    for (source, path) in &cases {
        let (run, v) = inspect(source, &[path], &[]);
        assert_accounted(&run, &v);
        assert!(
            n(&v, "users") > 100,
            "{source}: what was read is kept: {v:#}"
        );
        assert_eq!(v["rejected_by_reason"]["truncated"], 1, "{v:#}");
        let example = &v["rejected_examples"][0];
        let place = example["place"].as_str().unwrap();
        let line: u64 = place.rsplit(':').next().unwrap().parse().unwrap();
        assert!(
            place.starts_with(&path.display().to_string()) && line > 0,
            "{source}: {example}"
        );
    }
}

/// The Auth0 CSV reader reports a gzip stream that ends early at line 0: the `csv` crate's
/// I/O errors carry no position, and the reader does not fall back to the last row's line.
#[test]
fn truncated_gzip_auth0_csv_names_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("user_id,email\n");
    for i in 0..4000 {
        csv.push_str(&format!("auth0|{i},u{i}@example.com\n"));
    }
    let gz = gzip(csv.as_bytes());
    let path = write(dir.path(), "auth0.csv.gz", &gz[..gz.len() / 2]);
    let (run, v) = inspect("auth0", &[&path], &[]);
    assert_accounted(&run, &v);
    // Rows are lines 2..=users+1 (header = line 1): the cut is at or after the last of them.
    let last_row = n(&v, "users") + 1;
    let example = &v["rejected_examples"][0];
    let place = example["place"].as_str().unwrap_or_default();
    let line: u64 = place
        .rsplit(':')
        .next()
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    assert_eq!(example["reason"], "truncated", "{example}");
    assert!(
        line >= last_row,
        "{place}: expected a line at or after {last_row}"
    );
}

// ---------------------------------------------------------------------------------------
// Encodings and line endings
// ---------------------------------------------------------------------------------------

#[test]
fn invalid_utf8_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let auth0 = write(
        dir.path(),
        "auth0.ndjson",
        b"{\"user_id\":\"auth0|1\",\"email\":\"a@example.com\"}\n{\"user_id\":\"auth0|2\",\"name\":\"B\xffob\"}\n{\"user_id\":\"auth0|3\",\"email\":\"c@example.com\"}\n",
    );
    let firebase = write(
        dir.path(),
        "firebase.json",
        b"{\"users\":[\n{\"localId\":\"user0001\"},\n{\"localId\":\"user0002\",\"displayName\":\"B\xe9b\"},\n{\"localId\":\"user0003\"}]}",
    );
    let okta = write(
        dir.path(),
        "okta.json",
        [
            format!("[{},\n", okta_json_user(1)).into_bytes(),
            b"{\"id\":\"00u2\",\"profile\":{\"login\":\"b\xc3@example.com\"}},\n".to_vec(),
            format!("{}]\n", okta_json_user(3)).into_bytes(),
        ]
        .concat(),
    );
    for (source, path, line) in [
        ("auth0", &auth0, 2),
        ("firebase", &firebase, 3),
        ("okta", &okta, 2),
    ] {
        let (run, v) = inspect(source, &[path], &[]);
        assert_accounted(&run, &v);
        assert_eq!(n(&v, "users"), 2, "{source}: the other records are read");
        assert_rejected_at(&v, "invalid_utf8", path, line);
    }
}

/// `row` with `Robert` written in Latin-1 with an invalid byte (`Rob\xffert`), plus LF.
fn latin1_robert(row: &str) -> Vec<u8> {
    let (head, tail) = row.split_at(row.find("Robert").unwrap() + 3);
    [head.as_bytes(), b"\xff", tail.as_bytes(), b"\n"].concat()
}

#[test]
fn invalid_utf8_in_csv() {
    let dir = tempfile::tempdir().unwrap();
    let auth0 = write(
        dir.path(),
        "auth0.csv",
        b"user_id,email,given_name\nauth0|1,a@example.com,Ann\nauth0|2,b@example.com,B\xffob\nauth0|3,c@example.com,Cy\n",
    );
    let okta = write(
        dir.path(),
        "okta.csv",
        b"login,email,firstName\nada@example.com,ada@example.com,Ada\nbob@example.com,bob@example.com,B\xe9b\ncarol@example.com,carol@example.com,Carol\n",
    );
    let rows = firebase_csv_rows();
    let firebase = write(
        dir.path(),
        "firebase.csv",
        [
            format!("{}\n", rows[0]).into_bytes(),
            latin1_robert(&rows[1]),
            format!("{}\n", rows[2]).into_bytes(),
        ]
        .concat(),
    );
    for (source, path, line) in [
        ("auth0", &auth0, 3),
        ("okta", &okta, 3),
        ("firebase", &firebase, 2),
    ] {
        let (run, v) = inspect(source, &[path], &[]);
        assert_accounted(&run, &v);
        assert_eq!(n(&v, "users"), 2, "{source}: the other rows are read");
        let msg = assert_rejected_at(&v, "invalid_utf8", path, line);
        assert!(msg.contains("UTF-8"), "{msg}");
    }
}

#[test]
fn utf16_files_with_bom_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let json = "[{\"user_id\":\"auth0|1\",\"localId\":\"user0001\",\"email\":\"a@example.com\"}]\n";
    let csv = "login,user_id,email\nada@example.com,auth0|1,ada@example.com\n";
    for (bom, endian) in [([0xff, 0xfe], "le"), ([0xfe, 0xff], "be")] {
        let encode = |text: &str| -> Vec<u8> {
            let units = text.encode_utf16().flat_map(|u| {
                if endian == "le" {
                    u.to_le_bytes()
                } else {
                    u.to_be_bytes()
                }
            });
            bom.iter().copied().chain(units).collect()
        };
        for (ext, text) in [("json", json), ("csv", csv)] {
            let path = write(dir.path(), &format!("utf16{endian}.{ext}"), encode(text));
            for source in ["auth0", "okta", "firebase"] {
                let (run, _) = inspect(source, &[&path], &[]);
                run.assert_fatal_naming(&path);
                assert!(
                    run.stderr.contains("UTF-16") && run.stderr.contains("iconv"),
                    "{source} {endian} {ext}: {}",
                    run.stderr
                );
            }
        }
    }
}

#[test]
fn utf8_boms_are_skipped_in_json_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let bom = |text: &str| [&[0xef, 0xbb, 0xbf][..], text.as_bytes()].concat();
    let rows = firebase_csv_rows();
    // The first column is the one each reader requires (`user_id`, `login`) or, for
    // Firebase's header-less CSV, the user id: a BOM left in place would break them.
    let cases = [
        (
            "auth0",
            "mappings/auth0.toml",
            write(
                dir.path(),
                "auth0.json",
                bom("[{\"user_id\":\"auth0|1\",\"email\":\"ann@example.com\"}]"),
            ),
        ),
        (
            "auth0",
            "mappings/auth0.toml",
            write(
                dir.path(),
                "auth0.csv",
                bom("user_id,email\nauth0|1,ann@example.com\n"),
            ),
        ),
        (
            "okta",
            "mappings/okta.toml",
            write(
                dir.path(),
                "okta.json",
                bom(&format!("[{}]", okta_json_user(1))),
            ),
        ),
        (
            "okta",
            "mappings/okta.toml",
            write(
                dir.path(),
                "okta.csv",
                bom("login,email\nada@example.com,ada@example.com\n"),
            ),
        ),
        (
            "firebase",
            "mappings/firebase.toml",
            write(
                dir.path(),
                "firebase.json",
                bom("{\"users\":[{\"localId\":\"user0001\",\"email\":\"ann@example.com\"}]}"),
            ),
        ),
        (
            "firebase",
            "mappings/firebase.toml",
            write(dir.path(), "firebase.csv", bom(&format!("{}\n", rows[0]))),
        ),
    ];
    for (i, (source, mapping, path)) in cases.iter().enumerate() {
        let (run, v) = inspect(source, &[path], &[]);
        assert_eq!(run.code, Some(0), "{}: {}", path.display(), run.stderr);
        assert_eq!(
            (n(&v, "users"), n(&v, "rejected")),
            (1, 0),
            "{}",
            path.display()
        );
        // The user written for kc.sh import carries no byte-order mark anywhere.
        let out = dir.path().join(format!("export{i}"));
        let run = kc_migrate([
            OsStr::new("export"),
            "--mapping".as_ref(),
            mapping.as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
            path.as_os_str(),
        ]);
        assert_eq!(
            run.code,
            Some(0),
            "{}: {}{}",
            path.display(),
            run.stdout,
            run.stderr
        );
        let users = std::fs::read_to_string(out.join("acme-users-0.json")).unwrap();
        assert!(users.contains("\"username\""), "{users}");
        assert!(!users.contains('\u{feff}'), "BOM carried into {users}");
    }
}

#[test]
fn mixed_line_endings_crlf_lf_and_a_lone_cr() {
    let dir = tempfile::tempdir().unwrap();
    // Lines are counted by LF (a CRLF is one line end); a lone CR ends a CSV row but is mere
    // white space between JSON records.
    let ndjson = write(
        dir.path(),
        "users.ndjson",
        "{\"user_id\":\"auth0|1\"}\r\n{\"user_id\":\"auth0|2\"}\n{\"user_id\":\"auth0|3\"}\r{\"user_id\":\"auth0|4\"}\n{\"user_id\":\"auth0|5\",\"email\":\"e@ex\n{\"user_id\":\"auth0|6\"}\r\n",
    );
    let (run, v) = inspect("auth0", &[&ndjson], &[]);
    assert_accounted(&run, &v);
    assert_eq!(n(&v, "users"), 5, "{v:#}");
    assert_rejected_at(&v, "malformed", &ndjson, 4);

    let okta = write(
        dir.path(),
        "okta.csv",
        "login,email,firstName\r\nada@example.com,ada@example.com,Ada\nbob@example.com,bob@example.com,Bob\rcarol@example.com,carol@example.com,Carol\r\ndan@example.com,dan@example.com\neve@example.com,eve@example.com,Eve\r\n",
    );
    let auth0 = write(
        dir.path(),
        "auth0.csv",
        "user_id,email,given_name\r\nauth0|1,a@example.com,Ann\nauth0|2,b@example.com,Bob\rauth0|3,c@example.com,Cy\r\nauth0|4,d@example.com\nauth0|5,e@example.com,Eve\r\n",
    );
    for (source, path) in [("okta", &okta), ("auth0", &auth0)] {
        let (run, v) = inspect(source, &[path], &[]);
        assert_accounted(&run, &v);
        assert_eq!(n(&v, "users"), 4, "{source}: {v:#}");
        assert_rejected_at(&v, "malformed", path, 4);
    }

    // Firebase CSV: CRLF and LF rows read alike. The exporter never writes a lone CR; two
    // rows joined by one are rejected together (named at their line), not silently merged.
    let rows = firebase_csv_rows();
    let firebase = write(
        dir.path(),
        "firebase.csv",
        format!(
            "{}\r\n{}\n{}\r{}\r\n{}\n",
            rows[0], rows[1], rows[2], rows[3], rows[4]
        ),
    );
    let (run, v) = inspect("firebase", &[&firebase], &[]);
    assert_accounted(&run, &v);
    assert_eq!(n(&v, "users"), 3, "{v:#}");
    assert_rejected_at(&v, "invalid_field", &firebase, 3);
}

// ---------------------------------------------------------------------------------------
// Size and depth
// ---------------------------------------------------------------------------------------

/// Runs `kc-migrate args` under `/usr/bin/time -v` when it exists; returns the run and the
/// peak resident set size in KiB.
fn run_measured(args: &[&OsStr]) -> (Run, Option<u64>) {
    let time = Path::new("/usr/bin/time");
    let probe = time.exists()
        && std::process::Command::new(time)
            .args(["-v", "true"])
            .output()
            .is_ok_and(|o| {
                String::from_utf8_lossy(&o.stderr).contains("Maximum resident set size")
            });
    if !probe {
        println!("note: /usr/bin/time -v not available; peak memory not measured");
        return (kc_migrate(args), None);
    }
    let mut cmd = command(time);
    cmd.arg("-v").arg(bin()).args(args);
    let run = Run::of(cmd);
    let peak = run
        .stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse().ok());
    (run, peak)
}

/// Writes `head`, then `prefix` + `HUGE_LINE_BYTES` of `x` + `suffix`, then `tail`.
fn write_huge(path: &Path, head: &str, prefix: &str, suffix: &str, tail: &str) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    f.write_all(head.as_bytes()).unwrap();
    f.write_all(prefix.as_bytes()).unwrap();
    let chunk = vec![b'x'; 1024 * 1024];
    for _ in 0..HUGE_LINE_BYTES / chunk.len() {
        f.write_all(&chunk).unwrap();
    }
    f.write_all(suffix.as_bytes()).unwrap();
    f.write_all(tail.as_bytes()).unwrap();
    f.flush().unwrap();
}

fn inspect_measured(source: &str, path: &Path) -> (Run, serde_json::Value, Option<u64>) {
    let args: Vec<&OsStr> = vec![
        "inspect".as_ref(),
        "--source".as_ref(),
        source.as_ref(),
        "--output-format".as_ref(),
        "json".as_ref(),
        path.as_os_str(),
    ];
    let (run, peak) = run_measured(&args);
    // GNU time appends its report to stderr; stdout is the binary's alone.
    let v = run.json();
    (run, v, peak)
}

fn assert_peak_below(peak: Option<u64>, limit_kb: u64, what: &str) {
    if let Some(kb) = peak {
        println!("{what}: peak RSS {} MiB", kb / 1024);
        assert!(kb < limit_kb, "{what}: peak RSS {kb} KiB ≥ {limit_kb} KiB");
    }
}

#[test]
fn single_50_mb_line_is_rejected_as_too_large_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.ndjson");
    write_huge(
        &path,
        "{\"user_id\":\"auth0|1\",\"email\":\"a@example.com\"}\n",
        "{\"user_id\":\"auth0|2\",\"pad\":\"",
        "\"}\n",
        "{\"user_id\":\"auth0|3\",\"email\":\"c@example.com\"}\n",
    );
    let (run, v, peak) = inspect_measured("auth0", &path);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(n(&v, "users"), 2, "the record after the huge line is read");
    let msg = assert_rejected_at(&v, "too_large", &path, 2);
    assert!(msg.contains("--max-record-size"), "{msg}");
    assert_peak_below(peak, MAX_PEAK_RSS_KB, "50 MB NDJSON line");
}

#[test]
fn single_50_mb_csv_row_and_json_record_are_rejected_as_too_large() {
    let dir = tempfile::tempdir().unwrap();
    let rows = firebase_csv_rows();
    let (fb_prefix, fb_suffix) = rows[1].split_at(rows[1].find("Robert").unwrap());
    let cases = [
        (
            "okta",
            "okta.csv",
            "login,email,firstName\nada@example.com,ada@example.com,Ada\n".to_string(),
            "bob@example.com,bob@example.com,".to_string(),
            "\n".to_string(),
            "carol@example.com,carol@example.com,Carol\n".to_string(),
            3,
        ),
        (
            "auth0",
            "auth0.csv",
            "user_id,email,given_name\nauth0|1,a@example.com,Ann\n".to_string(),
            "auth0|2,b@example.com,".to_string(),
            "\n".to_string(),
            "auth0|3,c@example.com,Cy\n".to_string(),
            3,
        ),
        (
            "firebase",
            "firebase.csv",
            format!("{}\n", rows[0]),
            fb_prefix.to_string(),
            format!("{fb_suffix}\n"),
            format!("{}\n", rows[2]),
            2,
        ),
        (
            "firebase",
            "firebase.json",
            "{\"users\":[\n{\"localId\":\"user0001\"},\n".to_string(),
            "{\"localId\":\"user0002\",\"displayName\":\"".to_string(),
            "\"},\n".to_string(),
            "{\"localId\":\"user0003\"}]}\n".to_string(),
            3,
        ),
    ];
    for (source, name, head, prefix, suffix, tail, line) in &cases {
        let path = dir.path().join(name);
        write_huge(&path, head, prefix, suffix, tail);
        let (run, v, peak) = inspect_measured(source, &path);
        assert_eq!(run.code, Some(1), "{name}: {}", run.stderr);
        let msg = assert_rejected_at(&v, "too_large", &path, *line);
        // The record after it is read, or (Okta CSV, which cannot tell where a row that big
        // ends) the message says the rest of the file is not read.
        assert!(
            n(&v, "users") == 2 || msg.contains("rest of this file is not read"),
            "{name}: {v:#}"
        );
        assert_peak_below(peak, MAX_PEAK_RSS_KB, name);
        std::fs::remove_file(&path).unwrap();
    }
}

/// Auth0's CSV reader reads a whole row (50 MB here: about 85 MB peak) before comparing it
/// with the limit; the JSON readers and the Okta/Firebase CSV readers stay near 20 MB.
#[test]
fn single_50_mb_csv_row_auth0_is_not_held_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("auth0.csv");
    write_huge(
        &path,
        "user_id,email,given_name\nauth0|1,a@example.com,Ann\n",
        "auth0|2,b@example.com,",
        "\n",
        "auth0|3,c@example.com,Cy\n",
    );
    let (_, v, peak) = inspect_measured("auth0", &path);
    assert_rejected_at(&v, "too_large", &path, 3);
    // Holding the row would need at least its own size.
    assert_peak_below(peak, (HUGE_LINE_BYTES / 1024) as u64, "50 MB Auth0 CSV row");
}

const PAD_2KB: usize = 2048;

#[test]
fn max_record_size_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let pad = "p".repeat(PAD_2KB);
    let rows = firebase_csv_rows();
    let cases = [
        ("auth0", write(dir.path(), "users.ndjson", format!("{{\"user_id\":\"auth0|1\"}}\n{{\"user_id\":\"auth0|2\",\"pad\":\"{pad}\"}}\n{{\"user_id\":\"auth0|3\"}}\n")), 2),
        ("auth0", write(dir.path(), "users.csv", format!("user_id,email,title\nauth0|1,a@example.com,Dr\nauth0|2,b@example.com,{pad}\nauth0|3,c@example.com,Dr\n")), 3),
        ("firebase", write(dir.path(), "firebase.csv", format!("{}\n{}\n{}\n", rows[0], rows[1].replacen("Robert", &pad, 1), rows[2])), 2),
        ("firebase", write(dir.path(), "firebase.json", format!("{{\"users\":[\n{{\"localId\":\"user0001\"}},\n{{\"localId\":\"user0002\",\"displayName\":\"{pad}\"}},\n{{\"localId\":\"user0003\"}}]}}")), 3),
    ];
    for (source, path, line) in &cases {
        let (run, v) = inspect(source, &[path], &["--max-record-size", "1024"]);
        assert_accounted(&run, &v);
        assert_eq!(
            n(&v, "users"),
            2,
            "{}: the other records are read",
            path.display()
        );
        let msg = assert_rejected_at(&v, "too_large", path, *line);
        assert!(msg.contains("1024"), "the limit in force is named: {msg}");
        // The default limit (1 MiB) takes the same record.
        let (run, v) = inspect(source, &[path], &[]);
        assert_eq!((run.code, n(&v, "rejected")), (Some(0), 0), "{v:#}");
    }
}

/// Okta's CSV reader enforces the limit on the bytes its reader hands the `csv` crate, not
/// on the row: a too-large row that ends inside the crate's read buffer (8 KiB) is accepted
/// as a user, and the overflow then surfaces on the *next* read as a phantom `too_large`
/// record at a later line that also stops the file ("the rest of this file is not read"),
/// dropping good rows (crates/source-okta/src/csv_rows.rs, `QuoteTracker`).
#[test]
fn max_record_size_is_honoured_okta_csv() {
    let dir = tempfile::tempdir().unwrap();
    let pad = "p".repeat(PAD_2KB);
    let mut text = format!("login,email,title\nada@example.com,ada@example.com,Dr\nbob@example.com,bob@example.com,{pad}\n");
    for i in 0..500 {
        text.push_str(&format!("u{i}@example.com,u{i}@example.com,Dr\n"));
    }
    let okta = write(dir.path(), "okta.csv", text);
    let (run, v) = inspect("okta", &[&okta], &["--max-record-size", "1024"]);
    assert_accounted(&run, &v);
    assert_eq!(
        n(&v, "records_read"),
        502,
        "one record per row, no phantom: {v:#}"
    );
    assert_eq!(n(&v, "users"), 501, "the rows after the large one are read");
    assert_rejected_at(&v, "too_large", &okta, 3);
}

/// How a too-deep record is refused: as JSON past the parser's recursion limit, or — by
/// readers that stream or type a record's fields (the roles reader's member lists, the hash
/// export's rows) — as a field of the wrong shape. Either names the place.
const NESTING_REASONS: &[&str] = &["malformed", "invalid_field"];

#[test]
fn deeply_nested_json_10000_levels() {
    let dir = tempfile::tempdir().unwrap();
    let objects = format!(
        "{}1{}",
        "{\"a\":".repeat(DEEP_NESTING),
        "}".repeat(DEEP_NESTING)
    );
    let arrays = format!("{}{}", "[".repeat(DEEP_NESTING), "]".repeat(DEEP_NESTING));
    let auth0 = write(
        dir.path(),
        "auth0.ndjson",
        format!("{{\"user_id\":\"auth0|1\"}}\n{{\"user_id\":\"auth0|2\",\"app_metadata\":{objects}}}\n{{\"user_id\":\"auth0|3\"}}\n"),
    );
    let auth0_array = write(
        dir.path(),
        "auth0.json",
        format!("[{{\"user_id\":\"auth0|1\"}},\n{{\"user_id\":\"auth0|2\",\"x\":{arrays}}},\n{{\"user_id\":\"auth0|3\"}}]"),
    );
    let firebase = write(
        dir.path(),
        "firebase.json",
        format!("{{\"users\":[\n{{\"localId\":\"user0001\"}},\n{{\"localId\":\"user0002\",\"providerUserInfo\":{arrays}}},\n{{\"localId\":\"user0003\"}}]}}"),
    );
    let okta = write(
        dir.path(),
        "okta.json",
        format!(
            "[{},\n{{\"id\":\"00u2\",\"profile\":{objects}}},\n{}]",
            okta_json_user(1),
            okta_json_user(3)
        ),
    );
    for (source, path, line) in [
        ("auth0", &auth0, 2),
        ("auth0", &auth0_array, 2),
        ("firebase", &firebase, 3),
        ("okta", &okta, 2),
    ] {
        let (run, v) = inspect(source, &[path], &[]);
        assert_accounted(&run, &v);
        assert_eq!(n(&v, "users"), 2, "{}: {v:#}", path.display());
        // serde_json's recursion limit (128) stops the parse: no stack overflow.
        assert_rejected_for_one_of(&v, NESTING_REASONS, path, line);
    }

    // The side files of an Auth0 run go through the same reader.
    let users = write(dir.path(), "u.ndjson", "{\"user_id\":\"auth0|1\"}\n");
    let roles = write(
        dir.path(),
        "roles.json",
        format!("[{{\"name\":\"admin\",\"users\":{arrays}}}]"),
    );
    let hashes = write(
        dir.path(),
        "hashes.ndjson",
        format!("{{\"_id\":{{\"$oid\":\"1\"}},\"passwordHash\":{arrays}}}\n"),
    );
    let (run, v) = inspect(
        "auth0",
        &[&users],
        &[
            "--roles",
            roles.to_str().unwrap(),
            "--hashes",
            hashes.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_rejected_for_one_of(&v, NESTING_REASONS, &roles, 1);
    assert_rejected_for_one_of(&v, NESTING_REASONS, &hashes, 1);
}

// ---------------------------------------------------------------------------------------
// CSV shape
// ---------------------------------------------------------------------------------------

#[test]
fn csv_with_a_wrong_delimiter_names_the_file_and_the_columns_found() {
    let dir = tempfile::tempdir().unwrap();
    let okta = write(
        dir.path(),
        "okta.csv",
        "login;email;firstName\nada@example.com;ada@example.com;Ada\n",
    );
    let auth0 = write(
        dir.path(),
        "auth0.csv",
        "user_id;email;given_name\nauth0|1;a@example.com;Ann\n",
    );
    for (source, path, header) in [
        ("okta", &okta, "login;email;firstName"),
        ("auth0", &auth0, "user_id;email;given_name"),
    ] {
        let (run, _) = inspect(source, &[path], &[]);
        run.assert_fatal_naming(path);
        assert!(
            run.stderr.contains(header),
            "columns found are shown: {}",
            run.stderr
        );
    }
    let rows = firebase_csv_rows();
    let firebase = write(
        dir.path(),
        "firebase.csv",
        rows[..3].join("\n").replace(',', ";"),
    );
    let (run, _) = inspect("firebase", &[&firebase], &[]);
    run.assert_fatal_naming(&firebase);
    assert!(run.stderr.contains("no comma"), "{}", run.stderr);
}

#[test]
fn csv_missing_required_columns() {
    let dir = tempfile::tempdir().unwrap();
    let auth0 = write(dir.path(), "auth0.csv", "email,name\na@example.com,Ann\n");
    let okta = write(dir.path(), "okta.csv", "firstName,lastName\nAda,Lovelace\n");
    for (source, path, column) in [("auth0", &auth0, "user_id"), ("okta", &okta, "login")] {
        let (run, _) = inspect(source, &[path], &[]);
        run.assert_fatal_naming(path);
        assert!(
            run.stderr.contains(column),
            "the missing column is named: {}",
            run.stderr
        );
    }
    // An Okta group-membership file without a user column.
    let users = write(
        dir.path(),
        "users.csv",
        "login,email\nada@example.com,ada@example.com\n",
    );
    let members = write(dir.path(), "members.csv", "foo,bar\nEng,ada\n");
    let (run, _) = inspect(
        "okta",
        &[&users],
        &["--memberships", members.to_str().unwrap()],
    );
    run.assert_fatal_naming(&members);
    assert!(run.stderr.contains("`foo`, `bar`"), "{}", run.stderr);

    // Firebase CSV has no header: a row with too few columns is rejected at its line.
    let rows = firebase_csv_rows();
    let short: Vec<&str> = rows[1].split(',').take(10).collect();
    let firebase = write(
        dir.path(),
        "firebase.csv",
        format!("{}\n{}\n{}\n", rows[0], short.join(","), rows[2]),
    );
    let (run, v) = inspect("firebase", &[&firebase], &[]);
    assert_accounted(&run, &v);
    let msg = assert_rejected_at(&v, "invalid_field", &firebase, 2);
    assert!(msg.contains("columns"), "{msg}");
}

#[test]
fn csv_duplicate_headers() {
    let dir = tempfile::tempdir().unwrap();
    let okta = write(
        dir.path(),
        "okta.csv",
        "login,email,email\nada@example.com,ada@example.com,other@example.com\n",
    );
    let (run, _) = inspect("okta", &[&okta], &[]);
    run.assert_fatal_naming(&okta);
    assert!(run.stderr.contains("duplicate columns"), "{}", run.stderr);
    // Two spellings of one field are duplicates too.
    let aliases = write(
        dir.path(),
        "aliases.csv",
        "login,Username,email\nada@example.com,bob@example.com,ada@example.com\n",
    );
    let (run, _) = inspect("okta", &[&aliases], &[]);
    run.assert_fatal_naming(&aliases);
    assert!(
        run.stderr.contains("`login`") && run.stderr.contains("`Username`"),
        "{}",
        run.stderr
    );
}

/// Auth0's CSV reader folds duplicate columns into one field and the last cell silently
/// wins (here the user id becomes `auth0|2`); Okta's refuses such a header.
#[test]
fn csv_duplicate_headers_auth0() {
    let dir = tempfile::tempdir().unwrap();
    let auth0 = write(
        dir.path(),
        "auth0.csv",
        "user_id,email,user_id\nauth0|1,a@example.com,auth0|2\n",
    );
    let (run, _) = inspect("auth0", &[&auth0], &[]);
    run.assert_fatal_naming(&auth0);
    assert!(run.stderr.contains("user_id"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------
// Files that are not exports
// ---------------------------------------------------------------------------------------

/// An empty export is suspicious but possible: Auth0's bulk export and Firebase's CSV
/// export of a project without users are empty files, so those read as 0 records (exit 0),
/// and `plan` puts a warning in the report. An Okta CSV always has a header row, so an empty
/// Okta file cannot be an export and is fatal. Structurally empty exports (`[]`,
/// `{"users":[]}`, a header without rows) are 0 records everywhere.
#[test]
fn empty_files() {
    let dir = tempfile::tempdir().unwrap();
    let empty_json = write(dir.path(), "empty.json", "");
    let empty_csv = write(dir.path(), "empty.csv", "");
    let blank = write(dir.path(), "blank.ndjson", "\n \r\n\n");
    for source in ["auth0", "firebase"] {
        for path in [&empty_json, &empty_csv, &blank] {
            let (run, v) = inspect(source, &[path], &[]);
            assert_eq!(
                run.code,
                Some(0),
                "{source} {}: {}",
                path.display(),
                run.stderr
            );
            assert_eq!(n(&v, "records_read"), 0);
        }
    }
    for path in [&empty_json, &empty_csv] {
        let (run, _) = inspect("okta", &[path], &[]);
        run.assert_fatal_naming(path);
        assert!(run.stderr.contains("empty"), "{}", run.stderr);
    }
    let structural = [
        ("auth0", write(dir.path(), "array.json", "[]")),
        ("auth0", write(dir.path(), "header.csv", "user_id,email\n")),
        (
            "okta",
            write(dir.path(), "okta-header.csv", "login,email\n"),
        ),
        ("okta", write(dir.path(), "okta-array.json", "[ ]\n")),
        (
            "firebase",
            write(dir.path(), "wrapper.json", "{\"users\": []}\n"),
        ),
    ];
    for (source, path) in &structural {
        let (run, v) = inspect(source, &[path], &[]);
        assert_eq!(
            run.code,
            Some(0),
            "{source} {}: {}",
            path.display(),
            run.stderr
        );
        assert_eq!(n(&v, "records_read"), 0);
    }

    let out = dir.path().join("plan");
    let run = kc_migrate([
        OsStr::new("plan"),
        "--mapping".as_ref(),
        "mappings/auth0.toml".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
        empty_json.as_os_str(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains("No records were read"),
        "{}",
        run.stderr
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["accounting"]["balanced"], true);
    assert!(
        report["warnings"]
            .to_string()
            .contains("No records were read"),
        "{report:#}"
    );
}

#[test]
fn a_file_that_is_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("export");
    std::fs::create_dir(&folder).unwrap();
    let f = folder.to_str().unwrap();
    let users = write(
        dir.path(),
        "users.csv",
        "login,user_id,email\nada@example.com,auth0|1,ada@example.com\n",
    );
    let u = users.to_str().unwrap();
    let cases: [(&str, Vec<&str>); 6] = [
        ("auth0", vec![f]),
        ("okta", vec![f]),
        ("firebase", vec![f]),
        ("auth0", vec![u, "--hashes", f]),
        ("auth0", vec![u, "--roles", f]),
        ("okta", vec![u, "--memberships", f]),
    ];
    for (source, args) in &cases {
        let mut all = vec!["inspect", "--source", *source];
        all.extend(args);
        let run = kc_migrate(&all);
        run.assert_fatal_naming(&folder);
        assert!(run.stderr.contains("is a directory"), "{}", run.stderr);
    }
    let run = kc_migrate([
        "plan",
        "--mapping",
        f,
        "--out",
        dir.path().join("o").to_str().unwrap(),
        u,
    ]);
    run.assert_fatal_naming(&folder);
    assert!(run.stderr.contains("directory"), "{}", run.stderr);
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `kc-migrate args`, as an unprivileged user when the tests run as root (permissions do not
/// stop root); `None` when that is impossible here.
fn run_unprivileged(args: &[&OsStr]) -> Option<Run> {
    if !is_root() {
        return Some(kc_migrate(args));
    }
    let setpriv = Path::new("/usr/bin/setpriv");
    if !setpriv.exists() {
        return None;
    }
    let mut cmd = command(setpriv);
    cmd.args([
        &format!("--reuid={NOBODY_UID}"),
        &format!("--regid={NOBODY_UID}"),
        "--clear-groups",
    ])
    .arg(bin())
    .args(args);
    let out = cmd.output().ok()?;
    Some(Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

#[cfg(unix)]
#[test]
fn unreadable_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    // The directory must be traversable for the unprivileged user; only the file is locked.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let text = "login,user_id,email\nada@example.com,auth0|1,ada@example.com\n";
    let readable = write(dir.path(), "readable.csv", text);
    let locked = write(dir.path(), "locked.csv", text);
    let mapping = dir.path().join("locked.toml");
    std::fs::copy(repo().join("mappings/okta.toml"), &mapping).unwrap();
    for p in [&readable, &locked, &mapping] {
        let mode = if p == &readable { 0o644 } else { 0o000 };
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let inspect_args = |path: &Path| -> Vec<std::ffi::OsString> {
        vec![
            "inspect".into(),
            "--source".into(),
            "okta".into(),
            path.into(),
        ]
    };
    // Control: the same run on a readable file works, so a failure below is the permission.
    let control: Vec<std::ffi::OsString> = inspect_args(&readable);
    let control: Vec<&OsStr> = control.iter().map(|s| s.as_os_str()).collect();
    match run_unprivileged(&control) {
        Some(run) if run.code == Some(0) => {}
        other => {
            println!(
                "skipped: running as root and cannot run the binary as an unprivileged user ({})",
                other.map_or("no setpriv".to_string(), |r| r.stderr)
            );
            return;
        }
    }
    let locked_args: Vec<std::ffi::OsString> = inspect_args(&locked);
    let locked_args: Vec<&OsStr> = locked_args.iter().map(|s| s.as_os_str()).collect();
    let run = run_unprivileged(&locked_args).unwrap();
    run.assert_no_panic();
    run.assert_fatal_naming(&locked);
    assert!(run.stderr.contains("Permission denied"), "{}", run.stderr);

    let out = dir.path().join("out");
    let plan: Vec<&OsStr> = vec![
        "plan".as_ref(),
        "--mapping".as_ref(),
        mapping.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        readable.as_os_str(),
    ];
    let run = run_unprivileged(&plan).unwrap();
    run.assert_no_panic();
    run.assert_fatal_naming(&mapping);
    assert!(run.stderr.contains("Permission denied"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------
// Mapping files
// ---------------------------------------------------------------------------------------

/// `plan` with `mapping` (TOML text) on a one-user Okta CSV.
fn plan_with_mapping(dir: &Path, mapping: &str) -> (Run, PathBuf) {
    let m = write(dir, "mapping.toml", mapping);
    let users = write(
        dir,
        "users.csv",
        "login,email\nada@example.com,ada@example.com\n",
    );
    let out = dir.join("out");
    let run = kc_migrate([
        OsStr::new("plan"),
        "--mapping".as_ref(),
        m.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        users.as_os_str(),
    ]);
    (run, m)
}

const MAPPING_HEAD: &str = "source = \"okta\"\nrealm = \"acme\"\n";

#[test]
fn mapping_with_type_errors() {
    let cases = [
        (
            "[username]\nfrom = [\"login\"]\nmin_length = \"three\"\n",
            "5:",
            "`username.min_length`",
            "invalid type",
        ),
        (
            "[email]\nduplicates = 3\n",
            "4:",
            "`email.duplicates`",
            "string",
        ),
        (
            "deterministic_ids = \"yes\"\n",
            "3:",
            "`deterministic_ids`",
            "invalid type",
        ),
        (
            "[groups]\ndefault_groups = \"/staff\"\n",
            "4:",
            "`groups.default_groups`",
            "invalid type",
        ),
    ];
    for (body, line, key, what) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (run, m) = plan_with_mapping(dir.path(), &format!("{MAPPING_HEAD}{body}"));
        run.assert_fatal_naming(&m);
        let at = format!("{}:{line}", m.display());
        assert!(
            run.stderr.contains(&at) && run.stderr.contains(key) && run.stderr.contains(what),
            "{body}: {}",
            run.stderr
        );
        assert!(
            !dir.path().join("out").exists(),
            "nothing written for a broken mapping"
        );
    }
}

#[test]
fn mapping_with_unknown_keys() {
    let cases = [
        ("[emial]\nduplicates = \"reject\"\n", "3:", "`emial`"),
        ("realm_name = \"x\"\n", "3:", "`realm_name`"),
        (
            "[username]\nfrom = [\"login\"]\nmin_lenght = 3\n",
            "5:",
            "`username.min_lenght`",
        ),
    ];
    for (body, line, key) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (run, m) = plan_with_mapping(dir.path(), &format!("{MAPPING_HEAD}{body}"));
        run.assert_fatal_naming(&m);
        assert!(
            run.stderr.contains(&format!("{}:{line}", m.display()))
                && run.stderr.contains(key)
                && run.stderr.contains("unknown field")
                && run.stderr.contains("expected one of"),
            "{body}: {}",
            run.stderr
        );
    }
    // Broken TOML and a missing required key: still one line, naming the file.
    for body in ["[groups\n", ""] {
        let dir = tempfile::tempdir().unwrap();
        let text = if body.is_empty() {
            "source = \"okta\"\n".to_string()
        } else {
            format!("{MAPPING_HEAD}{body}")
        };
        let (run, m) = plan_with_mapping(dir.path(), &text);
        run.assert_fatal_naming(&m);
    }
}

/// The mapping expresses groups only as paths (`/parent/child`); parents are implied by the
/// path, so a parent chain cannot loop. What can go wrong is a path Keycloak would not
/// create as meant: empty segments, `.`/`..` segments (a group literally named `..`), names
/// over 255 characters.
#[test]
fn mapping_with_invalid_or_cyclic_looking_group_paths() {
    let long = "g".repeat(256);
    let cases = [
        (
            "[groups]\ndefault_groups = [\"//\"]\n".to_string(),
            "`groups.default_groups[0]`",
            "names no group",
        ),
        (
            "[groups]\ndefault_groups = [\"/a/../a\"]\n".to_string(),
            "`groups.default_groups[0]`",
            "`..` segment",
        ),
        (
            "[[groups.rules]]\nsource = \"eng\"\ngroups = [\"/a//b\"]\n".to_string(),
            "`groups.rules[0].groups`",
            "empty segment",
        ),
        (
            "[[roles.rules]]\nsource = \"admin\"\ngroups = [\"/staff/./admins\"]\n".to_string(),
            "`roles.rules[0].groups`",
            "`.` segment",
        ),
        (
            format!("[groups]\ndefault_groups = [\"/staff/{long}\"]\n"),
            "`groups.default_groups[0]`",
            "255",
        ),
    ];
    for (body, key, what) in &cases {
        let dir = tempfile::tempdir().unwrap();
        let (run, m) = plan_with_mapping(dir.path(), &format!("{MAPPING_HEAD}{body}"));
        run.assert_fatal_naming(&m);
        assert!(
            run.stderr.contains(key) && run.stderr.contains(what),
            "{body}: {}",
            run.stderr
        );
    }
    // Valid: dots inside names, a `/` inside a name escaped as `\/`.
    let dir = tempfile::tempdir().unwrap();
    let (run, _) = plan_with_mapping(
        dir.path(),
        &format!("{MAPPING_HEAD}[groups]\ndefault_groups = [\"/v1.2/R\\\\/D\"]\n"),
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let report = std::fs::read_to_string(dir.path().join("out/report.json")).unwrap();
    assert!(report.contains("/v1.2/R\\\\/D"), "{report}");
}

// ---------------------------------------------------------------------------------------
// Data protection
// ---------------------------------------------------------------------------------------

#[cfg(unix)]
fn assert_owner_only(dir: &Path) -> usize {
    use std::os::unix::fs::PermissionsExt;
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            checked += assert_owner_only(&path);
            continue;
        }
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} has mode {mode:o}", path.display());
        checked += 1;
    }
    checked
}

#[cfg(unix)]
#[test]
fn plan_and_export_outputs_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan");
    // A report left world-readable by an older run is made private when overwritten.
    std::fs::create_dir(&plan).unwrap();
    let stale = write(&plan, "report.md", "old");
    std::fs::set_permissions(&stale, std::fs::Permissions::from_mode(0o644)).unwrap();
    let samples = [
        "samples/auth0/users.ndjson.gz",
        "samples/auth0/users.csv",
        "--hashes",
        "samples/auth0/password-hashes.ndjson",
        "--roles",
        "samples/auth0/roles.json",
    ];
    let mut args = vec![
        "plan",
        "--mapping",
        "mappings/auth0.toml",
        "--out",
        plan.to_str().unwrap(),
    ];
    args.extend(samples);
    let run = kc_migrate(&args);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(
        assert_owner_only(&plan),
        4,
        "report.md, .html, .json, rejected.ndjson"
    );

    let export = dir.path().join("export");
    let mut args = vec![
        "export",
        "--mapping",
        "mappings/auth0.toml",
        "--out",
        export.to_str().unwrap(),
    ];
    args.extend(samples);
    let run = kc_migrate(&args);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let users_file = std::fs::read_to_string(export.join("acme-users-0.json")).unwrap();
    assert!(
        users_file.contains("\"credentials\""),
        "the export holds password hashes"
    );
    assert!(
        assert_owner_only(&export) >= 6,
        "realm, users and report files"
    );
}

fn fake_keycloak() -> FakeKeycloak {
    let config = FakeConfig {
        admin_username: "admin".into(),
        admin_password: ADMIN_PASSWORD.into(),
        ..FakeConfig::default()
    }
    .with_realm(RealmSettings::new("acme"));
    FakeKeycloak::start_in_thread(config).unwrap()
}

fn apply_okta_samples(server: &FakeKeycloak, command: &str, out: &Path) -> Run {
    let mut cmd = command_with_keycloak(server);
    cmd.args([command, "--mapping", "mappings/okta.toml", "--out"])
        .arg(out)
        .args([
            "samples/okta/users.csv",
            "samples/okta/users.json",
            "--memberships",
            "samples/okta/group-memberships.csv",
            "--rate",
            "500",
        ]);
    Run::of(cmd)
}

fn command_with_keycloak(server: &FakeKeycloak) -> std::process::Command {
    let mut cmd = command(bin());
    cmd.env("KEYCLOAK_URL", &server.base_url)
        .env("KEYCLOAK_USER", "admin")
        .env("KEYCLOAK_PASSWORD", ADMIN_PASSWORD);
    cmd
}

#[cfg(unix)]
#[test]
fn apply_journal_and_plan_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let server = fake_keycloak();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("apply");
    let run = apply_okta_samples(&server, "apply", &out);
    assert!(
        run.code == Some(0) || run.code == Some(1),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(server.user_count("acme") > 10);
    let journal = out.join("journal.ndjson");
    let mode = std::fs::metadata(&journal).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "journal mode {mode:o}");
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(!text.contains(ADMIN_PASSWORD) && !text.contains("access_token"));
    assert_eq!(assert_owner_only(&out.join("plan")), 4);
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(ADMIN_PASSWORD));
    }
}

/// `apply-report.{md,json}` list users Keycloak rejected (usernames, Keycloak's messages)
/// and `verify-report.json` lists missing users and differing field values, but the CLI
/// writes them with `std::fs::write` (mode 0666 minus umask, usually 0644):
/// crates/cli/src/commands/apply.rs `write_reports` and commands/verify.rs.
#[cfg(unix)]
#[test]
fn apply_and_verify_reports_are_owner_only() {
    let server = fake_keycloak();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("apply");
    let run = apply_okta_samples(&server, "apply", &out);
    assert!(run.code == Some(0) || run.code == Some(1), "{}", run.stderr);
    let verify = dir.path().join("verify");
    let run = apply_okta_samples(&server, "verify", &verify);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        assert_owner_only(&out) >= 7,
        "journal, plan/ and apply-report files"
    );
    assert_eq!(assert_owner_only(&verify), 1);
}

/// Personal data from the Auth0 samples: every e-mail address in the hash export.
fn sample_emails() -> Vec<String> {
    let text =
        std::fs::read_to_string(repo().join("samples/auth0/password-hashes.ndjson")).unwrap();
    let emails: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["email"].as_str().map(str::to_string))
        .collect();
    assert!(emails.len() > 5);
    emails
}

fn all_text(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(all_text(&path));
        } else {
            out.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
        }
    }
    out
}

/// plan.rs checks report.md and rejected.ndjson of a plan; this covers every report file,
/// the export's report/ directory, and that `--unmasked` is what shows the data.
#[test]
fn reports_are_masked_in_every_file_unless_unmasked() {
    let emails = sample_emails();
    let dir = tempfile::tempdir().unwrap();
    let samples = [
        "samples/auth0/users.ndjson.gz",
        "samples/auth0/users.csv",
        "--hashes",
        "samples/auth0/password-hashes.ndjson",
        "--roles",
        "samples/auth0/roles.json",
    ];
    let plan = dir.path().join("plan");
    let export = dir.path().join("export");
    for (command, out) in [("plan", &plan), ("export", &export)] {
        let mut args = vec![
            command,
            "--mapping",
            "mappings/auth0.toml",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(samples);
        let run = kc_migrate(&args);
        assert_eq!(run.code, Some(1), "{}", run.stderr);
    }
    let mut masked = all_text(&plan);
    masked.extend(all_text(&export.join("report")));
    assert_eq!(masked.len(), 8);
    for (path, text) in &masked {
        for email in &emails {
            assert!(
                !text.contains(email.as_str()),
                "{} shows {email}",
                path.display()
            );
        }
    }
    let unmasked = dir.path().join("unmasked");
    let mut args = vec![
        "plan",
        "--mapping",
        "mappings/auth0.toml",
        "--unmasked",
        "--out",
        unmasked.to_str().unwrap(),
    ];
    args.extend(samples);
    kc_migrate(&args);
    let shown = all_text(&unmasked)
        .into_iter()
        .map(|(_, t)| t)
        .collect::<String>();
    assert!(
        emails.iter().any(|e| shown.contains(e.as_str())),
        "--unmasked shows personal data (so the masked check can see it)"
    );
}

#[test]
fn secrets_in_broken_records_are_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let canaries = [
        "CANARYhashONE",
        "CANARYhashTWO",
        "CANARYhashTHREE",
        "CANARYsaltFOUR",
        "CANARYhashFIVE",
    ];
    let users = write(
        dir.path(),
        "users.ndjson",
        "{\"user_id\":\"auth0|u1\",\"email\":\"a@example.com\"}\n",
    );
    let hashes = write(
        dir.path(),
        "hashes.ndjson",
        format!(
            "{{\"_id\":{{\"$oid\":\"u1\"}},\"email\":\"a@example.com\",\"passwordHash\":\"$2b$10${0}\", \"broken\": }}\n\
             {{\"_id\":{{\"$oid\":\"u2\"}},\"email\":\"b@example.com\",\"passwordHash\":{{\"v\":\"{1}\"}}}}\n\
             {{\"_id\":{{\"$oid\":\"u3\"}},\"email\":\"c@example.com\",\"passwordHash\":\"$2b$10${2}\"}}\n",
            canaries[0], canaries[1], canaries[2]
        ),
    );
    let firebase = write(
        dir.path(),
        "firebase.json",
        format!(
            "{{\"users\":[{{\"localId\":\"user0001\",\"email\":\"a@example.com\",\"passwordHash\":\"aGFzaA==\",\"salt\":\"!!{0}!!\"}},\
             {{\"localId\":\"user0002\",\"email\":\"b@example.com\",\"passwordHash\":\"**{1}\",\"salt\":5}}]}}",
            canaries[3], canaries[4]
        ),
    );
    let mut texts = Vec::new();
    let auth0_out = dir.path().join("auth0");
    let firebase_out = dir.path().join("firebase");
    let runs = [
        vec![
            "inspect",
            "--source",
            "auth0",
            users.to_str().unwrap(),
            "--hashes",
            hashes.to_str().unwrap(),
        ],
        vec![
            "plan",
            "--mapping",
            "mappings/auth0.toml",
            "--unmasked",
            "--out",
            auth0_out.to_str().unwrap(),
            users.to_str().unwrap(),
            "--hashes",
            hashes.to_str().unwrap(),
        ],
        vec![
            "inspect",
            "--source",
            "firebase",
            firebase.to_str().unwrap(),
        ],
        vec![
            "export",
            "--mapping",
            "mappings/firebase.toml",
            "--unmasked",
            "--out",
            firebase_out.to_str().unwrap(),
            firebase.to_str().unwrap(),
        ],
    ];
    for args in &runs {
        let run = kc_migrate(args);
        assert!(
            run.code == Some(0) || run.code == Some(1),
            "{args:?}: {}",
            run.stderr
        );
        texts.push((format!("{args:?} stdout"), run.stdout));
        texts.push((format!("{args:?} stderr"), run.stderr));
    }
    for out in [&auth0_out, &firebase_out] {
        texts.extend(
            all_text(out)
                .into_iter()
                .map(|(p, t)| (p.display().to_string(), t)),
        );
    }
    let rejected = std::fs::read_to_string(auth0_out.join("rejected.ndjson")).unwrap();
    assert!(
        rejected.lines().count() >= 2,
        "the broken hash rows are reported: {rejected}"
    );
    for (name, text) in &texts {
        for canary in canaries {
            assert!(
                !text.contains(canary),
                "{name} echoes a secret from a broken record"
            );
        }
    }
}
