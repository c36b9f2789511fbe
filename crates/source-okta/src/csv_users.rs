//! Okta user CSV exports, read by header name (see [`crate::columns`] for the header styles).

use std::sync::Arc;

use kcm_model::{Provenance, SourceItem, SourceResult};
use kcm_source_io::{Input, SourceError};
use serde_json::Value;

use crate::columns::{self, Column};
use crate::csv_rows::{CsvRows, Row};
use crate::draft::{insert_path, Draft};

/// The users of one CSV file.
pub(crate) struct CsvUsers {
    rows: CsvRows,
    columns: Vec<Column>,
}

impl CsvUsers {
    /// Read and check the header: it must name a login column and hold each field once.
    pub(crate) fn open(input: Input, max_row_bytes: usize) -> Result<Self, SourceError> {
        let rows = CsvRows::open(input, max_row_bytes)?;
        let path = rows.path().to_string();
        let columns =
            columns::classify_all(rows.headers()).map_err(|why| SourceError::UnknownFormat {
                path: path.clone(),
                why,
            })?;
        if !columns.contains(&Column::Profile("login".into())) {
            return Err(SourceError::UnknownFormat {
                path,
                why: format!(
                    "not an Okta user CSV: no login column (`login`, `profile.login` or `Username`); columns found: {}",
                    columns::list(rows.headers())
                ),
            });
        }
        if !columns.contains(&Column::Id) {
            tracing::warn!(file = %path, "no user id column (`id` / `User Id`): logins are used as source ids");
        }
        if !columns.contains(&Column::Status) {
            tracing::warn!(file = %path, "no status column: every user is taken as ACTIVE");
        }
        Ok(Self { rows, columns })
    }
}

/// One data row → a user.
fn user(columns: &[Column], row: Row, path: &Arc<str>) -> SourceResult {
    let mut draft = Draft::default();
    for (column, cell) in columns.iter().zip(row.cells) {
        let value = cell.trim();
        if value.is_empty() {
            continue;
        }
        let value = if value.len() == cell.len() {
            cell
        } else {
            value.to_string()
        };
        match column {
            Column::Id => draft.id = Some(value),
            Column::Status => draft.status = Some(value),
            Column::Created => draft.created = Some(value),
            Column::LastLogin => draft.last_login = Some(value),
            Column::Meta(path) => insert_path(&mut draft.meta, path, Value::String(value)),
            Column::Profile(name) => {
                draft.profile.insert(name.clone(), Value::String(value));
            }
            Column::Ignored => {}
        }
    }
    let provenance = Provenance::new(path.clone(), row.line, row.record);
    draft
        .into_user(provenance)
        .map(|u| SourceItem::User(Box::new(u)))
}

impl Iterator for CsvUsers {
    type Item = SourceResult;

    fn next(&mut self) -> Option<SourceResult> {
        let row = self.rows.next()?;
        Some(row.and_then(|row| user(&self.columns, row, self.rows.path())))
    }
}
