//! The plan report writer: streams rejected and filtered records to `rejected.ndjson` as the
//! transform produces them, keeps a few masked examples, and at the end writes `report.md`,
//! `report.html` and `report.json` from the transform's [`PlanSummary`].

mod data;
mod estimate;
mod html;
mod labels;
mod markdown;

use std::path::{Path, PathBuf};

use kcm_model::Provenance;
use kcm_transform::{Outcome, PasswordOutcome, PlanSummary, PlannedUser};
use serde::Serialize;

pub use data::{
    Accounting, DuplicateExample, Duplicates, Examples, Filtered, Passwords, PlanReport,
    RecordExample, Rejected, RejectedFile, SideRecords, UserCounts, UserExample, REJECTED_FILE,
    REPORT_FORMAT_VERSION,
};
pub use estimate::LoadEstimate;

use crate::error::ReportError;
use crate::files::{ensure_dir, write_private, PrivateFile};
use crate::mask::{clean_message, mask_email, mask_name, mask_value};

/// Requests per second assumed by the load-time estimate (the Keycloak sink's default rate).
pub const DEFAULT_REQUEST_RATE: f64 = 20.0;
/// Users per request assumed by the estimate (the Keycloak sink's default partialImport batch).
pub const DEFAULT_BATCH_SIZE: usize = 100;
/// Examples kept per rejection reason, filter rule and password-reset reason.
pub const DEFAULT_EXAMPLES_PER_REASON: usize = 5;
/// Report title when the caller gives none.
pub const DEFAULT_TITLE: &str = "kc-migrate migration plan";
/// Most distinct reasons or rules that keep examples, so memory stays bounded even if a source
/// invents reason codes.
const MAX_EXAMPLE_GROUPS: usize = 100;

/// File names inside the report directory.
pub const MARKDOWN_FILE: &str = "report.md";
pub const HTML_FILE: &str = "report.html";
pub const JSON_FILE: &str = "report.json";

/// How the plan report is written.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// Show personal data (e-mails, names, usernames) in examples and messages. Default:
    /// masked (`j***@example.com`, `J*** D***`).
    pub unmasked: bool,
    /// Requests per second for the load-time estimate.
    pub request_rate: f64,
    /// Users per request for the load-time estimate.
    pub batch_size: usize,
    /// Shown at the top of the reports (e.g. mapping and source).
    pub title: String,
    /// Shown as given; the caller formats the time so that tests can pass a fixed value.
    pub generated_at: Option<String>,
    /// Examples kept per reason or rule.
    pub examples_per_reason: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            unmasked: false,
            request_rate: DEFAULT_REQUEST_RATE,
            batch_size: DEFAULT_BATCH_SIZE,
            title: DEFAULT_TITLE.to_string(),
            generated_at: None,
            examples_per_reason: DEFAULT_EXAMPLES_PER_REASON,
        }
    }
}

/// What [`PlanReportWriter::finish`] wrote.
#[derive(Debug, Clone)]
pub struct ReportPaths {
    pub markdown: PathBuf,
    pub html: PathBuf,
    pub json: PathBuf,
    pub rejected: PathBuf,
    /// The figures written, e.g. to decide an exit code from `report.accounting.balanced`.
    pub report: PlanReport,
}

/// One line of `rejected.ndjson`.
#[derive(Serialize)]
struct RejectedLine<'a> {
    file: &'a str,
    line: u64,
    record: u64,
    source_id: Option<&'a str>,
    stage: &'a str,
    outcome: &'a str,
    reason: &'a str,
    message: &'a str,
}

/// Streams a plan into a report directory.
pub struct PlanReportWriter {
    dir: PathBuf,
    opts: ReportOptions,
    rejected: PrivateFile,
    rejected_lines: u64,
    examples: Examples,
}

impl std::fmt::Debug for PlanReportWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanReportWriter")
            .field("dir", &self.dir)
            .field("rejected_lines", &self.rejected_lines)
            .finish_non_exhaustive()
    }
}

impl PlanReportWriter {
    /// Creates `dir` (and parents) and opens `rejected.ndjson` in it (mode 0600 on unix).
    pub fn create(dir: &Path, opts: ReportOptions) -> Result<Self, ReportError> {
        ensure_dir(dir)?;
        let rejected = PrivateFile::create(dir.join(REJECTED_FILE))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            opts,
            rejected,
            rejected_lines: 0,
            examples: Examples::default(),
        })
    }

    /// Takes one transform outcome: rejected and filtered records become a line of
    /// `rejected.ndjson` (and perhaps an example); users who must reset their password may
    /// become an example. Record the outcomes of `Transformer::finish` too.
    pub fn record(&mut self, outcome: &Outcome) -> Result<(), ReportError> {
        match outcome {
            Outcome::Planned(user) => {
                self.user_example(user);
                Ok(())
            }
            Outcome::Filtered {
                provenance,
                source_id,
                rule,
            } => {
                let message = format!("removed by the filter rule `{rule}`");
                let message = clean_message(&message, self.opts.unmasked);
                self.write_line(
                    provenance,
                    Some(source_id),
                    "transform",
                    "filtered",
                    rule,
                    &message,
                )?;
                let example = record_example(provenance, Some(source_id), message);
                push_example(
                    &mut self.examples.filtered,
                    rule,
                    example,
                    self.opts.examples_per_reason,
                );
                Ok(())
            }
            Outcome::Rejected(r) => {
                let message = clean_message(&r.message, self.opts.unmasked);
                let source_id = r.source_id.as_deref();
                self.write_line(
                    &r.provenance,
                    source_id,
                    r.stage.as_str(),
                    "rejected",
                    &r.reason,
                    &message,
                )?;
                let example = record_example(&r.provenance, source_id, message);
                push_example(
                    &mut self.examples.rejected,
                    &r.reason,
                    example,
                    self.opts.examples_per_reason,
                );
                Ok(())
            }
            Outcome::Merged { .. } | Outcome::Side { .. } => Ok(()),
        }
    }

    /// Writes `report.md`, `report.html` and `report.json` (mode 0600 on unix) and closes
    /// `rejected.ndjson`.
    pub fn finish(self, summary: &PlanSummary) -> Result<ReportPaths, ReportError> {
        let rejected = self.rejected.finish()?;
        let report = PlanReport::build(summary, &self.opts, self.examples, self.rejected_lines);
        let json_path = self.dir.join(JSON_FILE);
        let mut json =
            serde_json::to_vec_pretty(&report).map_err(|source| ReportError::Serialize {
                what: "the plan report",
                path: json_path.clone(),
                source,
            })?;
        json.push(b'\n');
        let json = write_private(json_path, &json)?;
        let markdown = write_private(
            self.dir.join(MARKDOWN_FILE),
            markdown::render(&report).as_bytes(),
        )?;
        let html = write_private(self.dir.join(HTML_FILE), html::render(&report).as_bytes())?;
        Ok(ReportPaths {
            markdown,
            html,
            json,
            rejected,
            report,
        })
    }

    fn write_line(
        &mut self,
        provenance: &Provenance,
        source_id: Option<&str>,
        stage: &str,
        outcome: &str,
        reason: &str,
        message: &str,
    ) -> Result<(), ReportError> {
        let line = RejectedLine {
            file: &provenance.file,
            line: provenance.line,
            record: provenance.record,
            source_id,
            stage,
            outcome,
            reason,
            message,
        };
        self.rejected.write_json("a rejected record", &line)?;
        self.rejected.write_all(b"\n")?;
        self.rejected_lines += 1;
        Ok(())
    }

    fn user_example(&mut self, planned: &PlannedUser) {
        let PasswordOutcome::Reset { reason, .. } = &planned.password else {
            return;
        };
        let limit = self.opts.examples_per_reason;
        let reason = reason.as_str();
        if !has_room(&self.examples.password_reset, reason, limit) {
            return;
        }
        let unmasked = self.opts.unmasked;
        let user = &planned.user;
        let shown =
            |v: &str, mask: fn(&str) -> String| if unmasked { v.to_string() } else { mask(v) };
        let full_name = [user.first_name.as_deref(), user.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let example = UserExample {
            file: planned.provenance.file.to_string(),
            line: planned.provenance.line,
            source_id: planned.source_id.clone(),
            username: shown(user.username.as_deref().unwrap_or_default(), mask_value),
            email: user.email.as_deref().map(|e| shown(e, mask_email)),
            name: (!full_name.is_empty()).then(|| shown(&full_name, mask_name)),
        };
        push_example(&mut self.examples.password_reset, reason, example, limit);
    }
}

fn record_example(
    provenance: &Provenance,
    source_id: Option<&str>,
    message: String,
) -> RecordExample {
    RecordExample {
        file: provenance.file.to_string(),
        line: provenance.line,
        record: provenance.record,
        source_id: source_id.map(str::to_string),
        message,
    }
}

fn has_room<T>(map: &std::collections::BTreeMap<String, Vec<T>>, key: &str, limit: usize) -> bool {
    match map.get(key) {
        Some(list) => list.len() < limit,
        None => limit > 0 && map.len() < MAX_EXAMPLE_GROUPS,
    }
}

fn push_example<T>(
    map: &mut std::collections::BTreeMap<String, Vec<T>>,
    key: &str,
    example: T,
    limit: usize,
) {
    if has_room(map, key, limit) {
        map.entry(key.to_string()).or_default().push(example);
    }
}
