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
    /// Indexes of the profile columns, sorted by attribute name: the profile map is then
    /// built from sorted pairs in one pass instead of one search per cell.
    profile_order: Vec<usize>,
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
        let mut profile_order: Vec<usize> = (0..columns.len())
            .filter(|&i| matches!(columns[i], Column::Profile(_)))
            .collect();
        profile_order.sort_by(|&a, &b| profile_name(&columns[a]).cmp(profile_name(&columns[b])));
        Ok(Self {
            rows,
            columns,
            profile_order,
        })
    }
}

fn profile_name(column: &Column) -> &str {
    match column {
        Column::Profile(name) => name,
        _ => "",
    }
}

/// A cell without its surrounding whitespace; `None` when nothing is left.
fn trimmed(cell: String) -> Option<String> {
    let value = cell.trim();
    if value.is_empty() {
        None
    } else if value.len() == cell.len() {
        Some(cell)
    } else {
        Some(value.to_string())
    }
}

/// One data row → a user.
fn user(columns: &[Column], profile_order: &[usize], row: Row, path: &Arc<str>) -> SourceResult {
    let mut draft = Draft::default();
    let mut cells = row.cells;
    for (column, cell) in columns.iter().zip(cells.iter_mut()) {
        let slot = match column {
            Column::Id => &mut draft.id,
            Column::Status => &mut draft.status,
            Column::Created => &mut draft.created,
            Column::LastLogin => &mut draft.last_login,
            Column::Meta(path) => {
                if let Some(value) = trimmed(std::mem::take(cell)) {
                    insert_path(&mut draft.meta, path, Value::String(value));
                }
                continue;
            }
            Column::Profile(_) | Column::Ignored => continue,
        };
        if let Some(value) = trimmed(std::mem::take(cell)) {
            *slot = Some(value);
        }
    }
    draft.profile = profile_order
        .iter()
        .filter_map(|&i| {
            let value = trimmed(std::mem::take(cells.get_mut(i)?))?;
            Some((
                profile_name(columns.get(i)?).to_string(),
                Value::String(value),
            ))
        })
        .collect();
    let provenance = Provenance::new(path.clone(), row.line, row.record);
    draft
        .into_user(provenance)
        .map(|u| SourceItem::User(Box::new(u)))
}

impl Iterator for CsvUsers {
    type Item = SourceResult;

    fn next(&mut self) -> Option<SourceResult> {
        let row = self.rows.next()?;
        Some(row.and_then(|row| user(&self.columns, &self.profile_order, row, self.rows.path())))
    }
}
