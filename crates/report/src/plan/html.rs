//! `report.html`: the same plan as one self-contained page for non-technical readers — inline
//! CSS, CSS bar charts, no scripts, no external assets or fonts. All data is HTML-escaped.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::plan::data::{num, pct, PlanReport, RecordExample, UserExample};
use crate::plan::estimate::human_duration;
use crate::plan::labels;

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;color:#1f2933;
background:#f7f8fa;margin:0;line-height:1.5}
main{max-width:60rem;margin:0 auto;padding:1.5rem 1rem 3rem}
h1{font-size:1.7rem;margin:.5rem 0}
h2{font-size:1.25rem;margin:2rem 0 .75rem;border-bottom:2px solid #d9dee5;padding-bottom:.25rem}
h3{font-size:1.05rem;margin:1.25rem 0 .5rem}
.lead{color:#52606d}
.warning{background:#fde8e8;border:2px solid #c81e1e;color:#771d1d;padding:.75rem 1rem;border-radius:.4rem;
font-weight:600;margin:1rem 0}
.ok{background:#e6f6ec;border:1px solid #31a354;padding:.5rem 1rem;border-radius:.4rem}
.cards{display:flex;flex-wrap:wrap;gap:.75rem;margin:1rem 0}
.card{background:#fff;border:1px solid #d9dee5;border-radius:.5rem;padding:.75rem 1rem;min-width:9rem;flex:1}
.card .n{font-size:1.6rem;font-weight:700}
.card .l{color:#52606d;font-size:.9rem}
table{border-collapse:collapse;width:100%;background:#fff;margin:.5rem 0}
th,td{border:1px solid #d9dee5;padding:.35rem .6rem;text-align:left;vertical-align:top}
th{background:#eef1f5}
td.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;background:#eef1f5;
padding:0 .2em;border-radius:.2em;word-break:break-all}
.chart{margin:.5rem 0 1rem}
.row{display:flex;align-items:center;gap:.5rem;margin:.2rem 0}
.row .label{flex:0 0 16rem;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.row .track{flex:1;background:#eef1f5;border-radius:.25rem;height:1.1rem}
.row .bar{height:100%;border-radius:.25rem;background:#3e7cb1}
.row .value{flex:0 0 7rem;text-align:right;font-variant-numeric:tabular-nums}
.stack{display:flex;height:1.6rem;border-radius:.3rem;overflow:hidden;background:#eef1f5;margin:.5rem 0}
.stack span{display:block;height:100%}
.legend{display:flex;flex-wrap:wrap;gap:1rem;font-size:.9rem}
.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:.15rem;margin-right:.3rem;vertical-align:middle}
.green{background:#31a354}.amber{background:#e6a117}.blue{background:#3e7cb1}.grey{background:#9aa5b1}
.red{background:#c81e1e}
ul.examples{font-size:.92rem}
";

/// Escapes text for HTML content and attribute values.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn code(text: &str) -> String {
    format!("<code>{}</code>", esc(text))
}

/// Renders the report as one HTML page.
pub(crate) fn render(r: &PlanReport) -> String {
    let mut h = Html::default();
    h.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.raw(&format!("<title>{}</title>\n", esc(&r.title)));
    h.raw(&format!(
        "<style>{STYLE}</style>\n</head>\n<body>\n<main>\n"
    ));
    h.header(r);
    h.summary(r);
    h.passwords(r);
    h.status(r);
    h.required_actions(r);
    h.roles_and_groups(r);
    h.identities(r);
    h.filtered(r);
    h.rejected(r);
    h.duplicates(r);
    h.not_mapped(r);
    h.estimate(r);
    h.raw(&format!(
        "<h2>Files</h2>\n<p>{} lists every record that will not be loaded, one JSON object per line ({} lines).</p>\n",
        code(&r.rejected_file.path),
        num(r.rejected_file.lines)
    ));
    h.raw("</main>\n</body>\n</html>\n");
    h.out
}

#[derive(Default)]
struct Html {
    out: String,
}

/// One bar or stack segment: label (already HTML), value, colour class.
struct Part {
    label: String,
    value: u64,
    class: &'static str,
}

impl Html {
    fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn h2(&mut self, text: &str) {
        self.raw(&format!("<h2>{}</h2>\n", esc(text)));
    }

    fn p(&mut self, html: &str) {
        self.raw(&format!("<p>{html}</p>\n"));
    }

    /// A table; `cells` are HTML; columns from `numeric_from` on are right-aligned.
    fn table(&mut self, head: &[&str], numeric_from: usize, rows: &[Vec<String>]) {
        self.raw("<table>\n<tr>");
        for h in head {
            self.raw(&format!("<th>{}</th>", esc(h)));
        }
        self.raw("</tr>\n");
        for row in rows {
            self.raw("<tr>");
            for (i, cell) in row.iter().enumerate() {
                if i >= numeric_from {
                    self.raw(&format!("<td class=\"n\">{cell}</td>"));
                } else {
                    self.raw(&format!("<td>{cell}</td>"));
                }
            }
            self.raw("</tr>\n");
        }
        self.raw("</table>\n");
    }

    /// A horizontal bar per entry, scaled to the largest value.
    fn bars(&mut self, parts: &[Part]) {
        let max = parts.iter().map(|p| p.value).max().unwrap_or(0);
        self.raw("<div class=\"chart\">\n");
        for part in parts {
            let width = if max == 0 {
                0.0
            } else {
                part.value as f64 * 100.0 / max as f64
            };
            self.raw(&format!(
                "<div class=\"row\"><span class=\"label\">{}</span><span class=\"track\"><span class=\"bar {}\" \
                 style=\"display:block;width:{width:.1}%\"></span></span><span class=\"value\">{}</span></div>\n",
                part.label,
                part.class,
                num(part.value)
            ));
        }
        self.raw("</div>\n");
    }

    /// One bar split into shares of the total, with a legend.
    fn stack(&mut self, parts: &[Part]) {
        let total: u64 = parts.iter().map(|p| p.value).sum();
        self.raw("<div class=\"stack\">");
        for part in parts.iter().filter(|p| p.value > 0) {
            let width = part.value as f64 * 100.0 / total as f64;
            self.raw(&format!(
                "<span class=\"{}\" style=\"width:{width:.1}%\"></span>",
                part.class
            ));
        }
        self.raw("</div>\n<div class=\"legend\">");
        for part in parts {
            self.raw(&format!(
                "<span><span class=\"swatch {}\"></span>{}: {} ({})</span>",
                part.class,
                part.label,
                num(part.value),
                pct(part.value, total)
            ));
        }
        self.raw("</div>\n");
    }

    fn counts(&mut self, head: [&str; 2], map: &BTreeMap<String, u64>) {
        if map.is_empty() {
            self.p("None.");
            return;
        }
        let rows: Vec<Vec<String>> = map.iter().map(|(k, n)| vec![code(k), num(*n)]).collect();
        self.table(&head, 1, &rows);
    }

    fn header(&mut self, r: &PlanReport) {
        self.raw(&format!("<h1>{}</h1>\n", esc(&r.title)));
        let mut about = format!(
            "Migration plan for the Keycloak realm {} from the {} source, using the mapping {}.",
            code(&r.realm),
            esc(&r.source),
            code(&r.mapping)
        );
        if let Some(at) = &r.generated_at {
            let _ = write!(about, " Generated {}.", esc(at));
        }
        self.raw(&format!("<p class=\"lead\">{about}</p>\n"));
        if r.personal_data == "masked" {
            self.p("Personal data is masked: examples show e-mails as <code>j***@example.com</code> and names as <code>J*** D***</code>.");
        } else {
            self.p("<strong>This report shows personal data unmasked.</strong> Share it only with people allowed to see it.");
        }
        for w in &r.warnings {
            self.raw(&format!(
                "<div class=\"warning\">WARNING: {}</div>\n",
                esc(w)
            ));
        }
    }

    fn summary(&mut self, r: &PlanReport) {
        let a = &r.accounting;
        self.h2("Summary");
        self.raw("<div class=\"cards\">\n");
        for (n, label) in [
            (a.records_read, "records read"),
            (a.users_planned, "users to create"),
            (a.filtered, "left out by a filter rule"),
            (a.rejected, "rejected"),
            (a.merged, "merged into another record"),
            (a.side_records, "role, group and membership records"),
        ] {
            self.raw(&format!(
                "<div class=\"card\"><div class=\"n\">{}</div><div class=\"l\">{}</div></div>\n",
                num(n),
                esc(label)
            ));
        }
        self.raw("</div>\n");
        let class = if a.balanced { "ok" } else { "warning" };
        self.raw(&format!(
            "<p class=\"{class}\">{}</p>\n",
            esc(&r.accounting_sentence())
        ));
    }

    fn passwords(&mut self, r: &PlanReport) {
        let p = &r.passwords;
        let users = r.users.planned;
        self.h2("Passwords");
        self.p(&format!(
            "{} of {} users ({}) keep their current password; {} ({}) must choose a new one at their first \
             sign-in; {} ({}) sign in only through a linked identity and need no password.",
            num(p.kept),
            num(users),
            pct(p.kept, users),
            num(p.reset),
            pct(p.reset, users),
            num(p.not_needed),
            pct(p.not_needed, users)
        ));
        self.stack(&[
            Part {
                label: "Keep their password".into(),
                value: p.kept,
                class: "green",
            },
            Part {
                label: "Must choose a new password".into(),
                value: p.reset,
                class: "amber",
            },
            Part {
                label: "No password needed".into(),
                value: p.not_needed,
                class: "blue",
            },
        ]);
        let mut rows = Vec::new();
        for (provider, n) in &p.kept_by_provider {
            rows.push(vec![
                format!("Keep their password (hash type {})", code(provider)),
                num(*n),
                pct(*n, users),
            ]);
        }
        for (reason, n) in &p.reset_by_reason {
            let why = labels::reset_reason(reason)
                .map(|w| format!(": {}", esc(w)))
                .unwrap_or_default();
            rows.push(vec![
                format!("Must choose a new password ({}{why})", code(reason)),
                num(*n),
                pct(*n, users),
            ]);
        }
        if p.not_needed > 0 {
            rows.push(vec![
                "No password needed (linked identity only)".to_string(),
                num(p.not_needed),
                pct(p.not_needed, users),
            ]);
        }
        if !rows.is_empty() {
            self.table(&["Outcome", "Users", "Share"], 1, &rows);
        }
        if !r.examples.password_reset.is_empty() {
            self.p("Examples of users who must choose a new password:");
            self.raw("<ul class=\"examples\">\n");
            for (reason, list) in &r.examples.password_reset {
                for ex in list {
                    self.raw(&format!(
                        "<li>{}: {}</li>\n",
                        code(reason),
                        user_example(ex)
                    ));
                }
            }
            self.raw("</ul>\n");
        }
    }

    fn status(&mut self, r: &PlanReport) {
        let u = &r.users;
        self.h2("Account status");
        self.stack(&[
            Part {
                label: "Enabled".into(),
                value: u.enabled,
                class: "green",
            },
            Part {
                label: "Disabled".into(),
                value: u.disabled,
                class: "grey",
            },
        ]);
    }

    fn required_actions(&mut self, r: &PlanReport) {
        self.h2("Required actions at first sign-in");
        if r.required_actions.is_empty() {
            self.p("None.");
            return;
        }
        let rows: Vec<Vec<String>> = r
            .required_actions
            .iter()
            .map(|(action, n)| {
                vec![
                    code(action),
                    esc(labels::required_action(action).unwrap_or("")),
                    num(*n),
                ]
            })
            .collect();
        self.table(&["Action", "The user must", "Users"], 2, &rows);
    }

    fn roles_and_groups(&mut self, r: &PlanReport) {
        self.h2("Roles and groups to create");
        self.raw("<h3>Realm roles</h3>\n");
        if r.realm_roles.is_empty() {
            self.p("None.");
        } else {
            let rows: Vec<Vec<String>> = r
                .realm_roles
                .iter()
                .map(|(role, n)| {
                    vec![
                        format!("{}{}", code(role), r.realm_role_note(role)),
                        num(*n),
                    ]
                })
                .collect();
            self.table(&["Role", "Members"], 1, &rows);
        }
        self.raw("<h3>Client roles</h3>\n");
        if r.client_roles.is_empty() {
            self.p("None.");
        } else {
            let rows: Vec<Vec<String>> = r
                .client_roles
                .iter()
                .flat_map(|(client, roles)| {
                    roles.iter().map(move |(role, n)| {
                        vec![
                            format!("{}{}", code(client), PlanReport::client_note(client)),
                            code(role),
                            num(*n),
                        ]
                    })
                })
                .collect();
            self.table(&["Client", "Role", "Members"], 2, &rows);
        }
        self.raw("<h3>Groups</h3>\n");
        if r.groups.is_empty() {
            self.p("None.");
        } else {
            let rows: Vec<Vec<String>> = r
                .group_rows()
                .into_iter()
                .map(|(path, n, parent_only)| {
                    let note = if parent_only {
                        " (parent group only)"
                    } else {
                        ""
                    };
                    vec![format!("{}{note}", code(path)), num(n)]
                })
                .collect();
            self.table(&["Group path", "Members"], 1, &rows);
        }
    }

    fn identities(&mut self, r: &PlanReport) {
        self.h2("Linked identities (social and enterprise sign-in)");
        if r.identities.is_empty() {
            self.p("None.");
        } else {
            let parts: Vec<Part> = r
                .identities
                .iter()
                .map(|(alias, n)| Part {
                    label: esc(alias),
                    value: *n,
                    class: "blue",
                })
                .collect();
            self.bars(&parts);
        }
        if !r.identities_dropped.is_empty() {
            self.p("Links not carried over (no identity provider is mapped for them):");
            self.counts(["Source provider", "Links"], &r.identities_dropped);
        }
    }

    fn filtered(&mut self, r: &PlanReport) {
        self.h2("Left out by filter rules");
        self.counts(["Rule", "Records"], &r.filtered.by_rule);
        self.record_examples(&r.examples.filtered);
    }

    fn rejected(&mut self, r: &PlanReport) {
        self.h2("Rejected records");
        if r.rejected.by_reason.is_empty() {
            self.p("None.");
        } else {
            let parts: Vec<Part> = r
                .rejected
                .by_reason
                .iter()
                .map(|(reason, n)| Part {
                    label: esc(reason),
                    value: *n,
                    class: "red",
                })
                .collect();
            self.bars(&parts);
            let rows: Vec<Vec<String>> = r
                .rejected
                .by_reason
                .iter()
                .map(|(reason, n)| {
                    vec![
                        code(reason),
                        esc(labels::rejection_reason(reason).unwrap_or("")),
                        num(*n),
                    ]
                })
                .collect();
            self.table(&["Reason", "Meaning", "Records"], 2, &rows);
            if !r.rejected.by_stage.is_empty() {
                let stages: Vec<String> = r
                    .rejected
                    .by_stage
                    .iter()
                    .map(|(stage, n)| format!("{} at the {} stage", num(*n), esc(stage)))
                    .collect();
                self.p(&format!("Decided: {}.", stages.join(", ")));
            }
        }
        self.record_examples(&r.examples.rejected);
    }

    fn record_examples(&mut self, examples: &BTreeMap<String, Vec<RecordExample>>) {
        if examples.is_empty() {
            return;
        }
        self.p("Examples:");
        self.raw("<ul class=\"examples\">\n");
        for (key, list) in examples {
            for ex in list {
                let id = ex
                    .source_id
                    .as_deref()
                    .map(|id| format!(" (source id {})", code(id)))
                    .unwrap_or_default();
                self.raw(&format!(
                    "<li>{} at {}{}: {}</li>\n",
                    code(key),
                    code(&format!("{}:{}", ex.file, ex.line)),
                    id,
                    esc(&ex.message)
                ));
            }
        }
        self.raw("</ul>\n");
    }

    fn duplicates(&mut self, r: &PlanReport) {
        let d = &r.duplicates;
        self.h2("Duplicates");
        self.p(&format!(
            "{} users rejected because their username was taken, {} because their e-mail was taken; \
             {} kept without their e-mail because another user has it.",
            num(d.usernames_rejected),
            num(d.emails_rejected),
            num(d.emails_dropped)
        ));
        if !d.examples.is_empty() {
            let rows: Vec<Vec<String>> = d
                .examples
                .iter()
                .map(|e| {
                    vec![
                        esc(&e.kind),
                        esc(&e.action),
                        code(&e.source_id),
                        code(&e.at),
                        code(&e.first),
                    ]
                })
                .collect();
            self.table(
                &["Key", "Action", "Source id", "At", "Already used at"],
                5,
                &rows,
            );
        }
    }

    fn not_mapped(&mut self, r: &PlanReport) {
        let sections: [(&str, [&str; 2], &BTreeMap<String, u64>); 4] = [
            (
                "Source roles no mapping rule covers (not migrated):",
                ["Source role", "Users"],
                &r.unmapped_roles,
            ),
            (
                "Source groups no mapping rule covers (not migrated):",
                ["Source group", "Users"],
                &r.unmapped_groups,
            ),
            (
                "Source statuses no status rule names (the source's enabled flag was kept):",
                ["Status", "Users"],
                &r.unknown_statuses,
            ),
            ("Notes on planned users:", ["Note", "Users"], &r.diagnostics),
        ];
        if sections.iter().all(|(_, _, map)| map.is_empty()) {
            return;
        }
        self.h2("Worth a look");
        for (intro, head, map) in sections {
            if !map.is_empty() {
                self.p(&esc(intro));
                self.counts(head, map);
            }
        }
    }

    fn estimate(&mut self, r: &PlanReport) {
        let e = &r.load_estimate;
        self.h2("Estimated load time");
        match e.seconds {
            Some(s) => self.p(&format!(
                "Loading this plan takes <strong>{}</strong> ({} requests at {} requests per second).",
                esc(&human_duration(s)),
                num(e.total_requests),
                e.request_rate
            )),
            None => self.p(&format!("{} requests; no duration estimated.", num(e.total_requests))),
        }
        let rows = vec![
            vec![
                format!("Users ({} per request)", num(e.batch_size as u64)),
                num(e.user_requests),
            ],
            vec![
                "Clients, roles and groups".to_string(),
                num(e.setup_requests),
            ],
            vec!["Total".to_string(), num(e.total_requests)],
        ];
        self.table(&["Requests for", "Requests"], 1, &rows);
        self.p("Assumptions:");
        self.raw("<ul>\n");
        for a in &e.assumptions {
            self.raw(&format!("<li>{}</li>\n", esc(a)));
        }
        self.raw("</ul>\n");
    }
}

fn user_example(ex: &UserExample) -> String {
    let mut text = code(&ex.username);
    if let Some(email) = &ex.email {
        let _ = write!(text, ", e-mail {}", code(email));
    }
    if let Some(name) = &ex.name {
        let _ = write!(text, ", name {}", code(name));
    }
    let _ = write!(
        text,
        " (source id {}, {})",
        code(&ex.source_id),
        code(&format!("{}:{}", ex.file, ex.line))
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_could_open_markup() {
        assert_eq!(
            esc(r#"<script>alert("x&y")</script>'"#),
            "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;&#39;"
        );
    }
}
