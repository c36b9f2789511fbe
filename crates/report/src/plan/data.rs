//! The plan report's figures: one serialisable structure (`report.json`) from which the
//! Markdown and HTML pages are rendered, so the three always agree. Field names are stable and
//! documented in the crate documentation.

use std::collections::BTreeMap;

use kcm_transform::PlanSummary;
use serde::Serialize;

use crate::export::{is_builtin_client, is_builtin_realm_role};
use crate::groups;
use crate::plan::estimate::{LoadEstimate, SetupCounts};
use crate::plan::ReportOptions;

/// Version of the `report.json` layout; bumped when a field changes meaning or is removed.
pub const REPORT_FORMAT_VERSION: u32 = 1;
/// File name of the rejected/filtered records list.
pub const REJECTED_FILE: &str = "rejected.ndjson";

/// Everything the plan reports show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanReport {
    pub format_version: u32,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<String>,
    pub mapping: String,
    pub source: String,
    pub realm: String,
    /// `masked` or `unmasked`.
    pub personal_data: String,
    pub accounting: Accounting,
    pub users: UserCounts,
    pub passwords: Passwords,
    pub required_actions: BTreeMap<String, u64>,
    pub realm_roles: BTreeMap<String, u64>,
    pub client_roles: BTreeMap<String, BTreeMap<String, u64>>,
    /// Granted group paths with their members.
    pub groups: BTreeMap<String, u64>,
    /// Groups created only because a granted path lies below them.
    pub parent_groups: Vec<String>,
    pub identities: BTreeMap<String, u64>,
    pub identities_dropped: BTreeMap<String, u64>,
    pub filtered: Filtered,
    pub rejected: Rejected,
    pub duplicates: Duplicates,
    pub side_records: SideRecords,
    pub unmapped_roles: BTreeMap<String, u64>,
    pub unmapped_groups: BTreeMap<String, u64>,
    pub unknown_statuses: BTreeMap<String, u64>,
    pub diagnostics: BTreeMap<String, u64>,
    pub load_estimate: LoadEstimate,
    pub examples: Examples,
    pub rejected_file: RejectedFile,
    /// Problems with the report itself (unbalanced accounting, missing lines); empty when all
    /// is well.
    pub warnings: Vec<String>,
}

/// `records_read = users_planned + filtered + rejected + merged + side_records`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accounting {
    pub records_read: u64,
    pub users_planned: u64,
    pub filtered: u64,
    pub rejected: u64,
    pub merged: u64,
    pub side_records: u64,
    /// The right-hand side of the identity.
    pub accounted: u64,
    /// `records_read - accounted` (0 when balanced).
    pub difference: i128,
    pub balanced: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserCounts {
    pub planned: u64,
    pub enabled: u64,
    pub disabled: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Passwords {
    /// Users who keep their password.
    pub kept: u64,
    /// By Keycloak hash-provider id.
    pub kept_by_provider: BTreeMap<String, u64>,
    /// Users who must choose a new password.
    pub reset: u64,
    /// By reason code.
    pub reset_by_reason: BTreeMap<String, u64>,
    /// Users who sign in only through a linked identity.
    pub not_needed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Filtered {
    pub total: u64,
    pub by_rule: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    pub total: u64,
    pub by_reason: BTreeMap<String, u64>,
    pub by_stage: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Duplicates {
    pub usernames_rejected: u64,
    pub emails_rejected: u64,
    pub emails_dropped: u64,
    pub examples: Vec<DuplicateExample>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DuplicateExample {
    /// `username` or `email`.
    pub kind: String,
    /// `rejected` or `email_dropped`.
    pub action: String,
    pub source_id: String,
    /// `file:line` of the later record.
    pub at: String,
    /// `file:line` of the record that holds the key.
    pub first: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SideRecords {
    pub total: u64,
    pub roles: u64,
    pub groups: u64,
    pub memberships: u64,
    pub memberships_attached: u64,
    pub memberships_unmatched: u64,
    pub memberships_after_users: u64,
}

/// Bounded, masked examples (the first few per reason).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Examples {
    pub rejected: BTreeMap<String, Vec<RecordExample>>,
    pub filtered: BTreeMap<String, Vec<RecordExample>>,
    pub password_reset: BTreeMap<String, Vec<UserExample>>,
}

/// A record that will not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordExample {
    pub file: String,
    pub line: u64,
    pub record: u64,
    pub source_id: Option<String>,
    pub message: String,
}

/// A planned user, masked unless the report is unmasked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserExample {
    pub file: String,
    pub line: u64,
    pub source_id: String,
    pub username: String,
    pub email: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedFile {
    pub path: String,
    /// Lines written.
    pub lines: u64,
    /// `filtered.total + rejected.total` from the summary.
    pub expected_lines: u64,
    pub complete: bool,
}

impl PlanReport {
    pub(crate) fn build(
        summary: &PlanSummary,
        opts: &ReportOptions,
        examples: Examples,
        rejected_lines: u64,
    ) -> Self {
        let accounted = summary.accounted();
        let balanced = summary.is_balanced();
        let accounting = Accounting {
            records_read: summary.records_read,
            users_planned: summary.users_planned,
            filtered: summary.filtered.total,
            rejected: summary.rejected.total,
            merged: summary.merged,
            side_records: summary.side_records.total,
            accounted,
            difference: i128::from(summary.records_read) - i128::from(accounted),
            balanced,
        };
        let p = &summary.passwords;
        let passwords = Passwords {
            kept: p.carried.values().sum(),
            kept_by_provider: p.carried.clone(),
            reset: p.reset.values().sum(),
            reset_by_reason: p.reset.clone(),
            not_needed: p.not_needed,
        };

        let tree = groups::build_tree(summary.groups.iter().map(|(path, n)| (path.as_str(), *n)));
        let nodes = groups::flatten(&tree);
        let parent_groups: Vec<String> = nodes
            .iter()
            .filter(|n| !n.granted)
            .map(|n| n.path.clone())
            .collect();
        // Keycloak's built-in clients and roles already exist: no request creates them.
        let created_clients = || {
            summary
                .client_roles
                .iter()
                .filter(|(c, _)| !is_builtin_client(c))
        };
        let setup = SetupCounts {
            clients: created_clients().count() as u64,
            realm_roles: summary
                .realm_roles
                .keys()
                .filter(|r| !is_builtin_realm_role(&summary.realm, r))
                .count() as u64,
            client_roles: created_clients().map(|(_, roles)| roles.len() as u64).sum(),
            groups: nodes.len() as u64,
        };
        let load_estimate = LoadEstimate::compute(
            summary.users_planned,
            setup,
            opts.request_rate,
            opts.batch_size,
        );

        let expected_lines = summary.filtered.total + summary.rejected.total;
        let rejected_file = RejectedFile {
            path: REJECTED_FILE.to_string(),
            lines: rejected_lines,
            expected_lines,
            complete: rejected_lines == expected_lines,
        };

        let mut warnings = Vec::new();
        if !balanced {
            warnings.push(format!(
                "The accounting does not balance: {} records were read but {} are accounted for \
                 ({} planned + {} filtered + {} rejected + {} merged + {} side records), a difference of {}. \
                 Some records are missing from (or counted twice in) this plan: do not load it before \
                 finding out why.",
                summary.records_read,
                accounted,
                summary.users_planned,
                summary.filtered.total,
                summary.rejected.total,
                summary.merged,
                summary.side_records.total,
                accounting.difference
            ));
        }
        if !rejected_file.complete {
            warnings.push(format!(
                "{REJECTED_FILE} has {rejected_lines} lines but the summary counts {expected_lines} filtered \
                 and rejected records: the list of records that will not be loaded is incomplete."
            ));
        }

        // An export of zero users is possible (a new tenant) but far more often the wrong or
        // a failed download; the run still succeeds, and the report says so.
        if summary.records_read == 0 {
            warnings.push(
                "No records were read: every input is empty. Check that the export finished and that \
                 the right files were given before relying on this plan."
                    .to_string(),
            );
        }

        let s = &summary.side_records;
        let d = &summary.duplicates;
        Self {
            format_version: REPORT_FORMAT_VERSION,
            title: opts.title.clone(),
            generated_at: opts.generated_at.clone(),
            mapping: summary.mapping.clone(),
            source: summary.source.clone(),
            realm: summary.realm.clone(),
            personal_data: if opts.unmasked { "unmasked" } else { "masked" }.to_string(),
            accounting,
            users: UserCounts {
                planned: summary.users_planned,
                enabled: summary.enabled,
                disabled: summary.disabled,
            },
            passwords,
            required_actions: summary.required_actions.clone(),
            realm_roles: summary.realm_roles.clone(),
            client_roles: summary.client_roles.clone(),
            groups: summary.groups.clone(),
            parent_groups,
            identities: summary.identities.clone(),
            identities_dropped: summary.identities_dropped.clone(),
            filtered: Filtered {
                total: summary.filtered.total,
                by_rule: summary.filtered.by_rule.clone(),
            },
            rejected: Rejected {
                total: summary.rejected.total,
                by_reason: summary.rejected.by_reason.clone(),
                by_stage: summary.rejected.by_stage.clone(),
            },
            duplicates: Duplicates {
                usernames_rejected: d.usernames_rejected,
                emails_rejected: d.emails_rejected,
                emails_dropped: d.emails_dropped,
                examples: d
                    .examples
                    .iter()
                    .map(|e| DuplicateExample {
                        kind: e.kind.clone(),
                        action: e.action.clone(),
                        source_id: e.source_id.clone(),
                        at: e.at.clone(),
                        first: e.first.clone(),
                    })
                    .collect(),
            },
            side_records: SideRecords {
                total: s.total,
                roles: s.roles,
                groups: s.groups,
                memberships: s.memberships,
                memberships_attached: s.memberships_attached,
                memberships_unmatched: s.memberships_unmatched,
                memberships_after_users: s.memberships_after_users,
            },
            unmapped_roles: summary.unmapped_roles.clone(),
            unmapped_groups: summary.unmapped_groups.clone(),
            unknown_statuses: summary.unknown_statuses.clone(),
            diagnostics: summary.diagnostics.clone(),
            load_estimate,
            examples,
            rejected_file,
            warnings,
        }
    }

    /// Every group to create, granted or parent-only, sorted by path: `(path, members,
    /// parent_only)`.
    pub(crate) fn group_rows(&self) -> Vec<(&str, u64, bool)> {
        let mut rows: Vec<(&str, u64, bool)> = self
            .groups
            .iter()
            .map(|(path, n)| (path.as_str(), *n, false))
            .chain(
                self.parent_groups
                    .iter()
                    .map(|path| (path.as_str(), 0, true)),
            )
            .collect();
        rows.sort_unstable();
        rows
    }

    /// A note for a realm role Keycloak creates itself.
    pub(crate) fn realm_role_note(&self, role: &str) -> &'static str {
        if is_builtin_realm_role(&self.realm, role) {
            " (built in, already exists)"
        } else {
            ""
        }
    }

    /// A note for a client Keycloak creates itself.
    pub(crate) fn client_note(client: &str) -> &'static str {
        if is_builtin_client(client) {
            " (built in, already exists)"
        } else {
            ""
        }
    }

    /// The accounting identity in words and numbers.
    pub fn accounting_sentence(&self) -> String {
        let a = &self.accounting;
        let equation = format!(
            "{} records read {} {} users planned + {} filtered + {} rejected + {} merged + {} side records{}",
            num(a.records_read),
            if a.balanced { "=" } else { "≠" },
            num(a.users_planned),
            num(a.filtered),
            num(a.rejected),
            num(a.merged),
            num(a.side_records),
            if a.balanced {
                String::new()
            } else {
                format!(" (= {})", num(a.accounted))
            }
        );
        if a.balanced {
            format!("Every record read is accounted for exactly once: {equation}.")
        } else {
            format!("The records do NOT add up: {equation}.")
        }
    }
}

/// `1234567` → `1,234,567`.
pub(crate) fn num(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    // A separator goes before every digit whose distance from the end is a multiple of 3.
    let offset = digits.len() % 3;
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && i % 3 == offset {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Share of `part` in `whole` with one decimal, `–` when `whole` is 0.
pub(crate) fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "–".to_string()
    } else {
        format!("{:.1}%", part as f64 * 100.0 / whole as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(num(0), "0");
        assert_eq!(num(999), "999");
        assert_eq!(num(1000), "1,000");
        assert_eq!(num(1234567), "1,234,567");
        assert_eq!(pct(1, 3), "33.3%");
        assert_eq!(pct(1, 0), "–");
    }
}
