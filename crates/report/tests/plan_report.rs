//! Plan report writer: golden report.json and report.md, the self-contained escaped HTML page,
//! masking, rejected.ndjson contents, accounting, bounded examples and file modes.

mod common;

use std::fs;
use std::path::Path;
use std::sync::Arc;

use common::{outcomes, summary, CANARY_HASH, CANARY_SECRET_DATA, GENERATED_AT, PERSONAL};
use kcm_model::Provenance;
use kcm_report::{PlanReportWriter, ReportOptions, ReportPaths};
use kcm_transform::{Outcome, PlanSummary, Rejection, Stage};
use serde_json::Value;

fn options(unmasked: bool) -> ReportOptions {
    ReportOptions {
        unmasked,
        request_rate: 20.0,
        batch_size: 100,
        title: "Acme: auth0-default from Auth0".into(),
        generated_at: Some(GENERATED_AT.into()),
        ..ReportOptions::default()
    }
}

fn write(
    dir: &Path,
    opts: ReportOptions,
    outcomes: &[Outcome],
    summary: &PlanSummary,
) -> ReportPaths {
    let mut writer = PlanReportWriter::create(dir, opts).expect("create");
    for o in outcomes {
        writer.record(o).expect("record");
    }
    writer.finish(summary).expect("finish")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).expect("readable")
}

fn all_files(paths: &ReportPaths) -> Vec<(String, String)> {
    [&paths.markdown, &paths.html, &paths.json, &paths.rejected]
        .into_iter()
        .map(|p| (p.display().to_string(), read(p)))
        .collect()
}

#[test]
fn golden_json_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write(dir.path(), options(false), &outcomes(), &summary());
    insta::assert_snapshot!("report_json", read(&paths.json));
    insta::assert_snapshot!("report_md", read(&paths.markdown));
    assert_eq!(paths.json, dir.path().join("report.json"));
    assert_eq!(paths.markdown, dir.path().join("report.md"));
    assert_eq!(paths.html, dir.path().join("report.html"));
    assert_eq!(paths.rejected, dir.path().join("rejected.ndjson"));
}

#[test]
fn json_states_the_accounting() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write(dir.path(), options(false), &outcomes(), &summary());
    let json: Value = serde_json::from_str(&read(&paths.json)).unwrap();
    let a = &json["accounting"];
    assert_eq!(
        (
            a["records_read"].as_u64(),
            a["users_planned"].as_u64(),
            a["filtered"].as_u64(),
            a["rejected"].as_u64(),
            a["merged"].as_u64(),
            a["side_records"].as_u64(),
            a["balanced"].as_bool()
        ),
        (
            Some(18),
            Some(6),
            Some(1),
            Some(4),
            Some(2),
            Some(5),
            Some(true)
        )
    );
    assert_eq!(json["warnings"], serde_json::json!([]));
    assert_eq!(json["rejected_file"]["complete"], true);
    assert!(paths.report.accounting.balanced);
    let md = read(&paths.markdown);
    assert!(md.contains(
        "Every record read is accounted for exactly once: 18 records read = 6 users planned + 1 filtered + \
         4 rejected + 2 merged + 5 side records."
    ));
    assert!(!md.contains("WARNING"));
}

#[test]
fn unbalanced_accounting_is_reported_loudly() {
    let mut s = summary();
    s.records_read += 3;
    let dir = tempfile::tempdir().unwrap();
    let paths = write(dir.path(), options(false), &outcomes(), &s);
    let json: Value = serde_json::from_str(&read(&paths.json)).unwrap();
    assert_eq!(json["accounting"]["balanced"], false);
    assert_eq!(json["accounting"]["difference"], 3);
    assert_eq!(json["accounting"]["accounted"], 18);
    let warnings = json["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].as_str().unwrap().contains("does not balance"));

    let md = read(&paths.markdown);
    assert!(
        md.contains("> **WARNING:** The accounting does not balance: 21 records were read but 18")
    );
    assert!(md.contains("**The records do NOT add up: 21 records read ≠ 6 users planned"));
    let html = read(&paths.html);
    assert!(html.contains("<div class=\"warning\">WARNING: The accounting does not balance"));
    assert!(html.contains("<p class=\"warning\">The records do NOT add up"));

    // Fewer records read than accounted for is just as wrong.
    s.records_read = 10;
    let dir = tempfile::tempdir().unwrap();
    let paths = write(dir.path(), options(false), &outcomes(), &s);
    assert_eq!(paths.report.accounting.difference, -8);
    assert!(!paths.report.warnings.is_empty());
}

#[test]
fn missing_rejected_lines_are_flagged() {
    // The caller forgot the outcomes of Transformer::finish (the unmatched membership).
    let mut partial = outcomes();
    partial.pop();
    let dir = tempfile::tempdir().unwrap();
    let paths = write(dir.path(), options(false), &partial, &summary());
    let f = &paths.report.rejected_file;
    assert_eq!((f.lines, f.expected_lines, f.complete), (4, 5, false));
    assert!(
        paths.report.warnings[0].contains("rejected.ndjson has 4 lines but the summary counts 5")
    );
}

/// Tags a report page may use: no script, image, link, frame or object of any kind.
const ALLOWED_TAGS: &[&str] = &[
    "!doctype", "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "p",
    "div", "span", "table", "tr", "th", "td", "code", "ul", "li", "strong",
];

/// The text between each `<` and the next `>`: with all data escaped, these are the real tags.
fn tags(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>').expect("every tag is closed");
        out.push(&after[..close]);
        rest = &after[close + 1..];
    }
    out
}

/// Markdown with the content of code spans (literal text, never markup) removed. Backslash
/// escapes are kept as they are: an escaped backtick does not open a span.
fn outside_code_spans(md: &str) -> String {
    let chars: Vec<char> = md.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' && i + 1 < chars.len() {
            out.push(chars[i]);
            out.push(chars[i + 1]);
            i += 2;
            continue;
        }
        if chars[i] != '`' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|c| **c == '`').count();
        let mut j = i + run;
        let mut closed = None;
        while j < chars.len() {
            if chars[j] == '`' {
                let other = chars[j..].iter().take_while(|c| **c == '`').count();
                if other == run {
                    closed = Some(j + other);
                    break;
                }
                j += other;
            } else {
                j += 1;
            }
        }
        match closed {
            Some(end) => i = end,
            None => {
                out.extend(&chars[i..i + run]);
                i += run;
            }
        }
    }
    out
}

#[test]
fn html_is_self_contained_and_escapes_data() {
    let mut s = summary();
    s.realm_roles
        .insert("<script>alert('role')</script>".into(), 1);
    s.groups.insert("/<img src=x onerror=alert(1)>".into(), 1);
    let mut opts = options(true);
    opts.title = "Plan <b>bold</b> & \"quoted\"".into();
    let mut all = outcomes();
    all.push(Outcome::Rejected(Rejection {
        provenance: Provenance::new(Arc::from("users.json"), 11, 11),
        source_id: Some("x".into()),
        reason: "invalid_field".into(),
        message: "picture is https://evil.example/x.js <script src=\"http://evil.example/a.js\"></script>".into(),
        stage: Stage::Source,
    }));
    let dir = tempfile::tempdir().unwrap();
    let paths = write(dir.path(), opts, &all, &s);
    let html = read(&paths.html);

    assert!(html.starts_with("<!DOCTYPE html>"));
    for tag in tags(&html) {
        let lower = tag.to_lowercase();
        let name: String = lower
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect();
        assert!(
            ALLOWED_TAGS.contains(&name.as_str()),
            "unexpected tag <{tag}>"
        );
        for external in ["src=", "href=", "http", "url("] {
            assert!(!lower.contains(external), "{external} in <{tag}>");
        }
    }
    let style = &html[html.find("<style>").unwrap()..html.find("</style>").unwrap()];
    assert!(!style.contains("@import") && !style.contains("url(") && !style.contains("http"));
    // The URLs of the message are there, as escaped text.
    assert!(html.contains("picture is https://evil.example/x.js &lt;script src=&quot;http://evil.example/a.js&quot;&gt;"));
    assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Evil"));
    assert!(html.contains("&lt;script&gt;alert(&#39;role&#39;)&lt;/script&gt;"));
    assert!(html.contains("<title>Plan &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;</title>"));
    // Charts: the password-continuity stack and the rejected-by-reason bars.
    assert!(html.contains("class=\"stack\""));
    assert!(html.contains("class=\"bar red\""));
    assert!(html.contains("class=\"bar blue\""));

    let md = read(&paths.markdown);
    let prose = outside_code_spans(&md);
    for (i, _) in prose.match_indices('<') {
        assert_eq!(
            prose.as_bytes()[i - 1],
            b'\\',
            "unescaped < in Markdown prose at {i}"
        );
    }
    assert!(
        md.contains("`<script>alert('role')</script>`"),
        "code spans show data literally"
    );
    assert!(md.contains("# Plan \\<b\\>bold\\</b\\> \\& \"quoted\""));
}

#[test]
fn personal_data_is_masked_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write(dir.path(), options(false), &outcomes(), &summary());
    for (file, text) in all_files(&paths) {
        for personal in PERSONAL {
            assert!(!text.contains(personal), "{file} shows {personal}");
        }
    }
    let json: Value = serde_json::from_str(&read(&paths.json)).unwrap();
    assert_eq!(json["personal_data"], "masked");
    let bob = &json["examples"]["password_reset"]["no_hash"][0];
    assert_eq!(bob["email"], "b***@example.com");
    assert_eq!(bob["name"], "B*** S***");
    assert_eq!(bob["username"], "b***");
    assert_eq!(bob["source_id"], "auth0|bob");
}

#[test]
fn unmasked_shows_personal_data_but_never_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write(dir.path(), options(true), &outcomes(), &summary());
    let json: Value = serde_json::from_str(&read(&paths.json)).unwrap();
    assert_eq!(json["personal_data"], "unmasked");
    let bob = &json["examples"]["password_reset"]["no_hash"][0];
    assert_eq!(bob["email"], "bob@example.com");
    assert_eq!(bob["name"], "Bob Stone");
    let md = read(&paths.markdown);
    assert!(md.contains("**This report shows personal data unmasked.**"));
    assert!(read(&paths.rejected).contains("zed@example.org"));
    for (file, text) in all_files(&paths) {
        assert!(!text.contains(CANARY_HASH), "{file} leaks the planted hash");
        assert!(
            !text.contains("N9qo8uLOickgx2ZMRZoMy"),
            "{file} leaks part of the planted hash"
        );
        assert!(
            !text.contains("CanarySecretValue"),
            "{file} leaks a credential"
        );
        assert!(
            !text.contains(CANARY_SECRET_DATA),
            "{file} leaks secretData"
        );
    }
}

#[test]
fn rejected_ndjson_lists_every_record_left_out() {
    for unmasked in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let paths = write(dir.path(), options(unmasked), &outcomes(), &summary());
        let text = read(&paths.rejected);
        assert!(
            !text.contains(CANARY_HASH) && !text.contains("$2b$"),
            "hash in rejected.ndjson"
        );
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
            .collect();
        assert_eq!(lines.len(), 5);
        for line in &lines {
            let keys: Vec<&str> = line
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            let mut expected = vec![
                "file",
                "line",
                "message",
                "outcome",
                "reason",
                "record",
                "source_id",
                "stage",
            ];
            expected.sort_unstable();
            let mut keys_sorted = keys.clone();
            keys_sorted.sort_unstable();
            assert_eq!(keys_sorted, expected);
        }
        let outcomes: Vec<(&str, &str, &str)> = lines
            .iter()
            .map(|l| {
                (
                    l["outcome"].as_str().unwrap(),
                    l["reason"].as_str().unwrap(),
                    l["stage"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            outcomes,
            vec![
                ("filtered", "blocked_users", "transform"),
                ("rejected", "malformed", "source"),
                ("rejected", "duplicate", "transform"),
                ("rejected", "invalid_email", "transform"),
                ("rejected", "unmatched", "transform"),
            ]
        );
        assert_eq!(lines[0]["source_id"], "auth0|blocked");
        assert_eq!(lines[1]["source_id"], Value::Null);
        assert_eq!(
            (lines[2]["file"].as_str(), lines[2]["line"].as_u64()),
            (Some("users.json"), Some(9))
        );
        assert_eq!(lines[4]["record"], 3);
        let duplicate = lines[2]["message"].as_str().unwrap();
        let unmatched = lines[4]["message"].as_str().unwrap();
        let invalid = lines[3]["message"].as_str().unwrap();
        if unmasked {
            assert!(duplicate.contains("`ada@example.com`"));
            assert!(unmatched.contains("`zed@example.org`"));
        } else {
            assert_eq!(
                duplicate,
                "e-mail `a***@example.com` is already used by the user at users.json:1"
            );
            assert_eq!(
                unmatched,
                "group membership `admins` for e-mail `z***@example.org` matched no user"
            );
            assert!(
                invalid.starts_with("e-mail `o***@example.com` is invalid"),
                "{invalid}"
            );
        }
        assert!(invalid.ends_with("hash [redacted] looked odd"), "{invalid}");
    }
}

#[test]
fn examples_are_bounded_but_every_line_is_written() {
    let rejections: Vec<Outcome> = (1..=20)
        .map(|i| {
            Outcome::Rejected(Rejection {
                provenance: Provenance::new(Arc::from("big.ndjson"), i, i),
                source_id: Some(format!("id{i}")),
                reason: "malformed".into(),
                message: format!("record {i} is broken"),
                stage: Stage::Source,
            })
        })
        .collect();
    let mut s = PlanSummary {
        records_read: 20,
        ..PlanSummary::default()
    };
    s.rejected.total = 20;
    s.rejected.by_reason.insert("malformed".into(), 20);
    let dir = tempfile::tempdir().unwrap();
    let paths = write(dir.path(), options(false), &rejections, &s);
    assert_eq!(read(&paths.rejected).lines().count(), 20);
    let examples = &paths.report.examples.rejected["malformed"];
    assert_eq!(examples.len(), kcm_report::DEFAULT_EXAMPLES_PER_REASON);
    assert_eq!(examples[0].message, "record 1 is broken");
    assert!(paths.report.accounting.balanced);
    assert!(paths.report.rejected_file.complete);
}

#[test]
fn load_estimate_counts_requests() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(false);
    opts.batch_size = 4;
    opts.request_rate = 2.0;
    let paths = write(dir.path(), opts, &outcomes(), &summary());
    let e = &paths.report.load_estimate;
    // 6 users / 4 per request = 2; then 1 client (billing), 1 realm role (staff), 1 client role
    // (billing/payer) and 6 groups (4 granted + /ops and /ops/oncall). Built-in clients and
    // roles (realm-management, offline_access) already exist.
    assert_eq!(e.user_requests, 2);
    assert_eq!(e.setup_requests, 1 + 1 + 1 + 6);
    assert_eq!(e.total_requests, 11);
    assert_eq!(e.seconds, Some(5.5));
    assert_eq!(
        paths.report.parent_groups,
        vec!["/ops".to_string(), "/ops/oncall".to_string()]
    );
    assert!(read(&paths.markdown)
        .contains("Loading this plan takes about 6 s (11 requests at 2 requests per second)."));
}

#[cfg(unix)]
#[test]
fn every_report_file_is_private() {
    let dir = tempfile::tempdir().unwrap();
    // An older, world-readable file of the same name is tightened too.
    fs::write(dir.path().join("report.md"), "old").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(
            dir.path().join("report.md"),
            fs::Permissions::from_mode(0o644),
        )
        .unwrap();
    }
    let paths = write(dir.path(), options(false), &outcomes(), &summary());
    for p in [&paths.markdown, &paths.html, &paths.json, &paths.rejected] {
        assert_eq!(common::mode(p), 0o600, "{}", p.display());
    }
}

#[test]
fn creates_missing_directories() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b/plan");
    let paths = write(&nested, options(false), &[], &PlanSummary::default());
    assert!(paths.json.starts_with(&nested));
    assert_eq!(read(&paths.rejected), "");
    assert!(read(&paths.markdown).contains("No user is planned."));
}

#[test]
fn a_plan_that_read_nothing_warns_but_balances() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write(dir.path(), options(false), &[], &PlanSummary::default());
    assert!(paths.report.accounting.balanced);
    assert_eq!(
        paths.report.warnings.len(),
        1,
        "{:?}",
        paths.report.warnings
    );
    assert!(paths.report.warnings[0].contains("No records were read"));
    assert!(read(&paths.markdown).contains("> **WARNING:** No records were read"));
}
