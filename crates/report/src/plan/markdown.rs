//! `report.md`: the plan for stakeholders, as Markdown. Every piece of data is escaped (or put
//! in a code span) so that names cannot inject Markdown or HTML into a rendered page.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::plan::data::{num, pct, PlanReport, RecordExample, UserExample};
use crate::plan::estimate::human_duration;
use crate::plan::labels;

/// Renders the report as Markdown.
pub(crate) fn render(r: &PlanReport) -> String {
    let mut md = Md::default();
    md.header(r);
    md.summary(r);
    md.passwords(r);
    md.status(r);
    md.required_actions(r);
    md.roles_and_groups(r);
    md.identities(r);
    md.filtered(r);
    md.rejected(r);
    md.duplicates(r);
    md.not_mapped(r);
    md.estimate(r);
    md.files(r);
    md.out
}

/// Escapes Markdown and HTML syntax in text (CommonMark lets any ASCII punctuation be
/// backslash-escaped); line breaks become spaces so that tables stay intact.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '&' | '!' | '~' | '{'
            | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' | '\t' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A code span holding `text` literally: fenced with more backticks than any run inside it.
pub(crate) fn code(text: &str) -> String {
    fence(text, false)
}

/// A code span for a table cell: `|` is escaped as well (GitHub-flavoured Markdown splits
/// cells on `|` even inside code, and unescapes `\|` there).
pub(crate) fn cell(text: &str) -> String {
    fence(text, true)
}

fn fence(text: &str, in_table: bool) -> String {
    let mut clean: String = text
        .chars()
        .map(|c| {
            if matches!(c, '\r' | '\n' | '\t') {
                ' '
            } else {
                c
            }
        })
        .collect();
    if in_table {
        clean = clean.replace('|', "\\|");
    }
    if clean.is_empty() {
        return "` `".to_string();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in clean.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(longest + 1);
    let pad = if clean.starts_with('`') || clean.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{clean}{pad}{fence}")
}

#[derive(Default)]
struct Md {
    out: String,
}

impl Md {
    fn line(&mut self, text: &str) {
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn blank(&mut self) {
        self.out.push('\n');
    }

    fn heading(&mut self, text: &str) {
        self.blank();
        self.line(&format!("## {text}"));
        self.blank();
    }

    fn table(&mut self, head: &[&str], right_aligned_from: usize, rows: &[Vec<String>]) {
        self.line(&format!("| {} |", head.join(" | ")));
        let aligns: Vec<&str> = (0..head.len())
            .map(|i| {
                if i >= right_aligned_from {
                    "---:"
                } else {
                    "---"
                }
            })
            .collect();
        self.line(&format!("| {} |", aligns.join(" | ")));
        for row in rows {
            self.line(&format!("| {} |", row.join(" | ")));
        }
    }

    /// A two-column `name | count` table, or `none_text` when empty.
    fn counts(&mut self, head: [&str; 2], map: &BTreeMap<String, u64>, none_text: &str) {
        if map.is_empty() {
            self.line(none_text);
            return;
        }
        let rows: Vec<Vec<String>> = map.iter().map(|(k, n)| vec![cell(k), num(*n)]).collect();
        self.table(&head, 1, &rows);
    }

    fn header(&mut self, r: &PlanReport) {
        self.line(&format!("# {}", esc(&r.title)));
        self.blank();
        let mut about = format!(
            "Migration plan for the Keycloak realm {} from the {} source, using the mapping {}.",
            code(&r.realm),
            esc(&r.source),
            code(&r.mapping)
        );
        if let Some(at) = &r.generated_at {
            let _ = write!(about, " Generated {}.", esc(at));
        }
        self.line(&about);
        self.blank();
        if r.personal_data == "masked" {
            self.line(
                "Personal data is masked: examples show e-mails as `j***@example.com` and names as `J*** D***`.",
            );
        } else {
            self.line("**This report shows personal data unmasked.** Share it only with people allowed to see it.");
        }
        for warning in &r.warnings {
            self.blank();
            self.line(&format!("> **WARNING:** {}", esc(warning)));
        }
    }

    fn summary(&mut self, r: &PlanReport) {
        let a = &r.accounting;
        self.heading("Summary");
        let rows = vec![
            vec!["Records read".to_string(), num(a.records_read)],
            vec!["Users to create".to_string(), num(a.users_planned)],
            vec!["Left out by a filter rule".to_string(), num(a.filtered)],
            vec!["Rejected".to_string(), num(a.rejected)],
            vec!["Merged into another record".to_string(), num(a.merged)],
            vec![
                "Role, group and membership records".to_string(),
                num(a.side_records),
            ],
        ];
        self.table(&["", "Records"], 1, &rows);
        self.blank();
        let sentence = r.accounting_sentence();
        if a.balanced {
            self.line(&esc(&sentence));
        } else {
            self.line(&format!("**{}**", esc(&sentence)));
        }
    }

    fn passwords(&mut self, r: &PlanReport) {
        let p = &r.passwords;
        let users = r.users.planned;
        self.heading("Passwords");
        self.line(&format!(
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
        self.blank();
        let mut rows = Vec::new();
        for (provider, n) in &p.kept_by_provider {
            rows.push(vec![
                format!("Keep their password (hash type {})", cell(provider)),
                num(*n),
                pct(*n, users),
            ]);
        }
        for (reason, n) in &p.reset_by_reason {
            let why = labels::reset_reason(reason)
                .map(|w| format!(": {w}"))
                .unwrap_or_default();
            rows.push(vec![
                format!("Must choose a new password ({}{})", cell(reason), esc(&why)),
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
        if rows.is_empty() {
            self.line("No user is planned.");
        } else {
            self.table(&["Outcome", "Users", "Share"], 1, &rows);
        }
        if !r.examples.password_reset.is_empty() {
            self.blank();
            self.line("Examples of users who must choose a new password:");
            self.blank();
            for (reason, list) in &r.examples.password_reset {
                for ex in list {
                    self.line(&format!("- {}: {}", code(reason), user_example(ex)));
                }
            }
        }
    }

    fn status(&mut self, r: &PlanReport) {
        let u = &r.users;
        self.heading("Account status");
        let rows = vec![
            vec![
                "Enabled".to_string(),
                num(u.enabled),
                pct(u.enabled, u.planned),
            ],
            vec![
                "Disabled".to_string(),
                num(u.disabled),
                pct(u.disabled, u.planned),
            ],
        ];
        self.table(&["Status", "Users", "Share"], 1, &rows);
    }

    fn required_actions(&mut self, r: &PlanReport) {
        self.heading("Required actions at first sign-in");
        if r.required_actions.is_empty() {
            self.line("None.");
            return;
        }
        let rows: Vec<Vec<String>> = r
            .required_actions
            .iter()
            .map(|(action, n)| {
                let what = labels::required_action(action).unwrap_or("");
                vec![cell(action), esc(what), num(*n)]
            })
            .collect();
        self.table(&["Action", "The user must", "Users"], 2, &rows);
    }

    fn roles_and_groups(&mut self, r: &PlanReport) {
        self.heading("Roles and groups to create");
        self.line("### Realm roles");
        self.blank();
        if r.realm_roles.is_empty() {
            self.line("None.");
        } else {
            let rows: Vec<Vec<String>> = r
                .realm_roles
                .iter()
                .map(|(role, n)| {
                    vec![
                        format!("{}{}", cell(role), r.realm_role_note(role)),
                        num(*n),
                    ]
                })
                .collect();
            self.table(&["Role", "Members"], 1, &rows);
        }
        self.blank();
        self.line("### Client roles");
        self.blank();
        if r.client_roles.is_empty() {
            self.line("None.");
        } else {
            let rows: Vec<Vec<String>> = r
                .client_roles
                .iter()
                .flat_map(|(client, roles)| {
                    roles.iter().map(move |(role, n)| {
                        vec![
                            format!("{}{}", cell(client), PlanReport::client_note(client)),
                            cell(role),
                            num(*n),
                        ]
                    })
                })
                .collect();
            self.table(&["Client", "Role", "Members"], 2, &rows);
        }
        self.blank();
        self.line("### Groups");
        self.blank();
        if r.groups.is_empty() {
            self.line("None.");
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
                    vec![format!("{}{note}", cell(path)), num(n)]
                })
                .collect();
            self.table(&["Group path", "Members"], 1, &rows);
        }
    }

    fn identities(&mut self, r: &PlanReport) {
        self.heading("Linked identities (social and enterprise sign-in)");
        self.counts(["Identity provider alias", "Links"], &r.identities, "None.");
        if !r.identities_dropped.is_empty() {
            self.blank();
            self.line("Links not carried over (no identity provider is mapped for them):");
            self.blank();
            self.counts(["Source provider", "Links"], &r.identities_dropped, "None.");
        }
    }

    fn filtered(&mut self, r: &PlanReport) {
        self.heading("Left out by filter rules");
        self.counts(["Rule", "Records"], &r.filtered.by_rule, "None.");
        self.record_examples(&r.examples.filtered);
    }

    fn rejected(&mut self, r: &PlanReport) {
        self.heading("Rejected records");
        if r.rejected.by_reason.is_empty() {
            self.line("None.");
        } else {
            let rows: Vec<Vec<String>> = r
                .rejected
                .by_reason
                .iter()
                .map(|(reason, n)| {
                    vec![
                        cell(reason),
                        esc(labels::rejection_reason(reason).unwrap_or("")),
                        num(*n),
                    ]
                })
                .collect();
            self.table(&["Reason", "Meaning", "Records"], 2, &rows);
            if !r.rejected.by_stage.is_empty() {
                self.blank();
                let stages: Vec<String> = r
                    .rejected
                    .by_stage
                    .iter()
                    .map(|(stage, n)| format!("{} at the {} stage", num(*n), esc(stage)))
                    .collect();
                self.line(&format!("Decided: {}.", stages.join(", ")));
            }
        }
        self.record_examples(&r.examples.rejected);
    }

    fn record_examples(&mut self, examples: &BTreeMap<String, Vec<RecordExample>>) {
        if examples.is_empty() {
            return;
        }
        self.blank();
        self.line("Examples:");
        self.blank();
        for (key, list) in examples {
            for ex in list {
                let id = ex
                    .source_id
                    .as_deref()
                    .map(|id| format!(" (source id {})", code(id)))
                    .unwrap_or_default();
                self.line(&format!(
                    "- {} at {}{}: {}",
                    code(key),
                    code(&format!("{}:{}", ex.file, ex.line)),
                    id,
                    esc(&ex.message)
                ));
            }
        }
    }

    fn duplicates(&mut self, r: &PlanReport) {
        let d = &r.duplicates;
        self.heading("Duplicates");
        self.line(&format!(
            "{} users rejected because their username was taken, {} because their e-mail was taken; \
             {} kept without their e-mail because another user has it.",
            num(d.usernames_rejected),
            num(d.emails_rejected),
            num(d.emails_dropped)
        ));
        if !d.examples.is_empty() {
            self.blank();
            let rows: Vec<Vec<String>> = d
                .examples
                .iter()
                .map(|e| {
                    vec![
                        esc(&e.kind),
                        esc(&e.action),
                        cell(&e.source_id),
                        cell(&e.at),
                        cell(&e.first),
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
        let any = !(r.unmapped_roles.is_empty()
            && r.unmapped_groups.is_empty()
            && r.unknown_statuses.is_empty()
            && r.diagnostics.is_empty());
        if !any {
            return;
        }
        self.heading("Worth a look");
        if !r.unmapped_roles.is_empty() {
            self.line("Source roles no mapping rule covers (not migrated):");
            self.blank();
            self.counts(["Source role", "Users"], &r.unmapped_roles, "None.");
            self.blank();
        }
        if !r.unmapped_groups.is_empty() {
            self.line("Source groups no mapping rule covers (not migrated):");
            self.blank();
            self.counts(["Source group", "Users"], &r.unmapped_groups, "None.");
            self.blank();
        }
        if !r.unknown_statuses.is_empty() {
            self.line("Source statuses no status rule names (the source's enabled flag was kept):");
            self.blank();
            self.counts(["Status", "Users"], &r.unknown_statuses, "None.");
            self.blank();
        }
        if !r.diagnostics.is_empty() {
            self.line("Notes on planned users:");
            self.blank();
            self.counts(["Note", "Users"], &r.diagnostics, "None.");
        }
    }

    fn estimate(&mut self, r: &PlanReport) {
        let e = &r.load_estimate;
        self.heading("Estimated load time");
        match e.seconds {
            Some(s) => self.line(&format!(
                "Loading this plan takes {} ({} requests at {} requests per second).",
                human_duration(s),
                num(e.total_requests),
                e.request_rate
            )),
            None => self.line(&format!(
                "{} requests; no duration estimated.",
                num(e.total_requests)
            )),
        }
        self.blank();
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
        self.blank();
        self.line("Assumptions:");
        self.blank();
        for a in &e.assumptions {
            self.line(&format!("- {}", esc(a)));
        }
    }

    fn files(&mut self, r: &PlanReport) {
        let f = &r.rejected_file;
        self.heading("Files");
        self.line(&format!(
            "{} lists every record that will not be loaded, one JSON object per line ({} lines).",
            code(&f.path),
            num(f.lines)
        ));
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
    fn escapes_markdown_and_html() {
        assert_eq!(
            esc("<script>*x*</script>"),
            "\\<script\\>\\*x\\*\\</script\\>"
        );
        assert_eq!(esc("a|b\nc"), "a\\|b c");
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("a|b"), "`a|b`");
        assert_eq!(cell("a|b"), "`a\\|b`");
        assert_eq!(code(""), "` `");
    }
}
