//! Mapping files: parsing (TOML, strict), checking and compiling into a [`Mapping`] the
//! transform runs. Every error names the file, line and column and the key it is about.
//!
//! The schema is documented in `docs/mapping.md`; `mappings/*.toml` are worked examples.

mod raw;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::path::Path;

use kcm_model::SourceKind;
use toml::Spanned;

use crate::condition::Condition;
use crate::fields::FieldPath;
use crate::identities::{IdentitySpec, UnknownProvider};
use crate::passwords::{FirebaseSettings, PasswordSettings, SecretRef};
use crate::roles::{
    name_matcher, normalize_group_path, Matcher, MembershipSide, MembershipSpec, Rule, Unmapped,
};
use crate::status::StatusTable;
use crate::template::Template;
use crate::transforms::ValueTransform;
use crate::validate::DEFAULT_MIN_USERNAME_CHARS;

use raw::*;

/// Default attribute that keeps the source id.
pub const DEFAULT_LEGACY_ID_ATTRIBUTE: &str = "legacy_id";

/// Largest mapping file read. Real mappings are a few KiB; a larger file is almost always an
/// export passed as `--mapping` by mistake, which must not be read whole into memory.
pub const MAX_MAPPING_BYTES: u64 = 1024 * 1024;

/// Attribute names that are first-class fields of a Keycloak user: mapping to them as
/// attributes would fight the dedicated fields.
const RESERVED_ATTRIBUTES: [&str; 5] = [
    "username",
    "email",
    "firstName",
    "lastName",
    "emailVerified",
];

/// A mapping file problem: where and what. `line`/`column` are 1-based (column in
/// characters).
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    // The cause is part of the message and deliberately not also a `source()`: callers
    // print error chains (`{:#}`), which would otherwise show it twice.
    #[error("cannot read mapping file {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("mapping file {path} is {bytes} bytes, more than the {limit} a mapping file may have (is this an export rather than the mapping?)")]
    TooLarge {
        path: String,
        bytes: u64,
        limit: u64,
    },
    #[error("{0}")]
    Invalid(Box<InvalidMapping>),
}

/// The details of an invalid mapping file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidMapping {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The dotted key the problem is about, when known.
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for InvalidMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if let Some(key) = &self.key {
            write!(f, "`{key}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl MappingError {
    /// The details when the file was read but is invalid.
    pub fn invalid(&self) -> Option<&InvalidMapping> {
        match self {
            MappingError::Invalid(i) => Some(i),
            MappingError::Read { .. } | MappingError::TooLarge { .. } => None,
        }
    }
}

/// Whether `name` is a first-class user field rather than an attribute.
pub(crate) fn is_reserved_attribute(name: &str) -> bool {
    RESERVED_ATTRIBUTES.contains(&name)
}

/// What to do with a value that fails validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidPolicy {
    /// Keep the user without the value, with a diagnostic.
    Drop,
    /// Reject the user.
    Reject,
}

/// What to do with a user whose e-mail a previous user already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicatePolicy {
    Reject,
    /// Keep the user without the e-mail, with a diagnostic.
    DropEmail,
}

/// Where `emailVerified` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    Source,
    Always,
    Never,
}

/// One place a username may come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsernameSource {
    Field(FieldPath),
    Template(Template),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UsernameSpec {
    pub from: Vec<UsernameSource>,
    pub min_length: usize,
    pub ascii_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EmailSpec {
    pub from: FieldPath,
    pub invalid: InvalidPolicy,
    pub duplicates: DuplicatePolicy,
    pub verified: Verified,
    pub verify_email_action: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NameSpec {
    pub first: Vec<FieldPath>,
    pub last: Vec<FieldPath>,
    pub split_display_name: bool,
    pub invalid: InvalidPolicy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttributeRule {
    pub from: Option<FieldPath>,
    pub to: String,
    pub transforms: Vec<ValueTransform>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttributeSpec {
    pub legacy_id: Option<String>,
    pub keep_unmapped: bool,
    pub rules: Vec<AttributeRule>,
}

/// Whether a filter keeps or removes the users its condition matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKind {
    Include,
    Exclude,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filter {
    pub name: String,
    pub kind: FilterKind,
    pub condition: Condition,
}

/// A checked, compiled mapping file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub(crate) name: String,
    pub(crate) source: SourceKind,
    pub(crate) realm: String,
    pub(crate) deterministic_ids: bool,
    pub(crate) username: UsernameSpec,
    pub(crate) email: EmailSpec,
    pub(crate) names: NameSpec,
    pub(crate) attributes: AttributeSpec,
    pub(crate) status: StatusTable,
    pub(crate) roles: MembershipSpec,
    pub(crate) groups: MembershipSpec,
    pub(crate) identities: IdentitySpec,
    pub(crate) filters: Vec<Filter>,
    pub(crate) passwords: PasswordSettings,
    pub(crate) warnings: Vec<String>,
}

impl Mapping {
    /// Read and compile a mapping file. The mapping's name defaults to the file stem.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, MappingError> {
        let path = path.as_ref();
        let text = read_limited(path)?;
        let mut mapping = Self::parse_named(&text, &path.display().to_string())?;
        if mapping.name.is_empty() {
            mapping.name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
        }
        Ok(mapping)
    }

    /// Compile mapping text; `name` is used in error messages and as the mapping's name
    /// unless the file sets `name`.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(text: &str, name: &str) -> Result<Self, MappingError> {
        let mut mapping = Self::parse_named(text, name)?;
        if mapping.name.is_empty() {
            mapping.name = name.to_string();
        }
        Ok(mapping)
    }

    fn parse_named(text: &str, file: &str) -> Result<Self, MappingError> {
        let ctx = Ctx { text, file };
        let raw: RawMapping = toml::from_str(text).map_err(|e| ctx.parse_error(&e))?;
        compile(raw, &ctx)
    }

    /// The mapping's name (the `name` key, else the file stem / given name).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn source(&self) -> SourceKind {
        self.source
    }

    pub fn realm(&self) -> &str {
        &self.realm
    }

    pub fn deterministic_ids(&self) -> bool {
        self.deterministic_ids
    }

    /// The `[passwords]` settings.
    pub fn passwords(&self) -> &PasswordSettings {
        &self.passwords
    }

    /// Non-fatal remarks about the file (literal secrets, statuses the source never uses).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The names of the filters, in file order.
    pub fn filter_names(&self) -> impl Iterator<Item = &str> {
        self.filters.iter().map(|f| f.name.as_str())
    }
}

/// Read a mapping file of at most [`MAX_MAPPING_BYTES`], without ever holding more.
fn read_limited(path: &Path) -> Result<String, MappingError> {
    use std::io::Read as _;
    let shown = path.display().to_string();
    let read_error = |error| MappingError::Read {
        path: shown.clone(),
        error,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let meta = file.metadata().map_err(read_error)?;
    if meta.is_dir() {
        return Err(read_error(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is a directory, not a file",
        )));
    }
    let mut bytes = Vec::new();
    // One byte past the limit tells a file at the limit from a larger one (a pipe or a file
    // growing while read has no reliable length in its metadata).
    file.take(MAX_MAPPING_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_MAPPING_BYTES {
        return Err(MappingError::TooLarge {
            path: shown,
            bytes: meta.len().max(bytes.len() as u64),
            limit: MAX_MAPPING_BYTES,
        });
    }
    String::from_utf8(bytes).map_err(|_| {
        read_error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the file is not valid UTF-8 (TOML files are UTF-8; a UTF-16 file needs converting, e.g. `iconv -f UTF-16 -t UTF-8`)",
        ))
    })
}

/// Error-position context: the text and its display name.
struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
}

impl Ctx<'_> {
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        (line, column)
    }

    fn error(
        &self,
        span: Option<Range<usize>>,
        key: Option<String>,
        message: impl Into<String>,
    ) -> MappingError {
        let (line, column) = span.map_or((1, 1), |s| self.line_col(s.start));
        MappingError::Invalid(Box::new(InvalidMapping {
            file: self.file.to_string(),
            line,
            column,
            key,
            message: message.into(),
        }))
    }

    fn at(&self, span: Range<usize>, key: &str, message: impl Into<String>) -> MappingError {
        self.error(Some(span), Some(key.to_string()), message)
    }

    fn parse_error(&self, e: &toml::de::Error) -> MappingError {
        let span = e.span();
        let message = one_line(e.message());
        // A missing key is reported at the table that lacks it: only a table header there
        // names the key's place; at the top level the span's first line is an unrelated key.
        let key = span.as_ref().and_then(|s| {
            if message.starts_with("missing field") && !self.header_at(s.start) {
                None
            } else {
                self.key_at(s.start)
            }
        });
        self.error(span, key, message)
    }

    /// Whether the line holding `offset` is a table header.
    fn header_at(&self, offset: usize) -> bool {
        let offset = offset.min(self.text.len());
        let line_start = self
            .text
            .get(..offset)
            .and_then(|b| b.rfind('\n'))
            .map_or(0, |i| i + 1);
        let line = self
            .text
            .get(line_start..)
            .and_then(|rest| rest.lines().next())
            .unwrap_or("");
        table_header(line.trim()).is_some()
    }

    /// The dotted key written at `offset`: the enclosing table header plus the key on that
    /// line (or the header itself when the offset is on a header line).
    fn key_at(&self, offset: usize) -> Option<String> {
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset)?;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[line_start..]
            .find('\n')
            .map_or(self.text.len(), |i| line_start + i);
        let line = self.text.get(line_start..line_end)?.trim();
        if let Some(header) = table_header(line) {
            return Some(header);
        }
        let key = line.split_once('=').map(|(k, _)| clean_key(k))?;
        if key.is_empty() {
            return None;
        }
        let header = self.text[..line_start]
            .lines()
            .rev()
            .find_map(|l| table_header(l.trim()));
        Some(match header {
            Some(h) => format!("{h}.{key}"),
            None => key,
        })
    }
}

/// The TOML parser's multi-line messages (`invalid table header` / `expected ...`) as one
/// line, so the command line's one-line error stays one line.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

fn clean_key(k: &str) -> String {
    k.trim()
        .chars()
        .filter(|c| *c != '"' && *c != '\'')
        .collect::<String>()
}

fn table_header(line: &str) -> Option<String> {
    let inner = line
        .strip_prefix("[[")
        .and_then(|l| l.split("]]").next())
        .or_else(|| line.strip_prefix('[').and_then(|l| l.split(']').next()))?;
    Some(clean_key(inner))
}

fn parse_path(ctx: &Ctx, s: &Spanned<String>, key: &str) -> Result<FieldPath, MappingError> {
    FieldPath::parse(s.get_ref()).map_err(|e| ctx.at(s.span(), key, e.to_string()))
}

fn paths(ctx: &Ctx, list: &[Spanned<String>], key: &str) -> Result<Vec<FieldPath>, MappingError> {
    list.iter()
        .enumerate()
        .map(|(i, s)| parse_path(ctx, s, &format!("{key}[{i}]")))
        .collect()
}

fn default_paths(list: &[&str]) -> Vec<FieldPath> {
    list.iter()
        .filter_map(|p| FieldPath::parse(p).ok())
        .collect()
}

/// Default places source role names are read from, per source.
fn default_role_sources(kind: SourceKind) -> Vec<FieldPath> {
    match kind {
        SourceKind::Auth0 => default_paths(&[
            "roles",
            "app_metadata.roles",
            "app_metadata.authorization.roles",
        ]),
        SourceKind::Okta => default_paths(&["roles"]),
        SourceKind::Firebase => {
            default_paths(&["roles", "customAttributes.role", "customAttributes.roles"])
        }
    }
}

/// Default places source group names are read from, per source.
fn default_group_sources(kind: SourceKind) -> Vec<FieldPath> {
    match kind {
        SourceKind::Auth0 => default_paths(&[
            "groups",
            "app_metadata.groups",
            "app_metadata.authorization.groups",
        ]),
        SourceKind::Okta | SourceKind::Firebase => default_paths(&["groups"]),
    }
}

/// Statuses each source actually produces (for the "unknown status" warning).
fn known_statuses(kind: SourceKind) -> &'static [&'static str] {
    match kind {
        SourceKind::Auth0 => &["active", "blocked"],
        SourceKind::Okta => &[
            "ACTIVE",
            "STAGED",
            "PROVISIONED",
            "ACTIVATING",
            "RECOVERY",
            "PASSWORD_EXPIRED",
            "LOCKED_OUT",
            "SUSPENDED",
            "DEPROVISIONED",
        ],
        SourceKind::Firebase => &["active", "disabled"],
    }
}

fn non_empty_names(
    ctx: &Ctx,
    list: &[Spanned<String>],
    key: &str,
) -> Result<Vec<String>, MappingError> {
    list.iter()
        .enumerate()
        .map(|(i, s)| {
            let v = s.get_ref().trim();
            if v.is_empty() {
                Err(ctx.at(s.span(), &format!("{key}[{i}]"), "must not be empty"))
            } else {
                Ok(v.to_string())
            }
        })
        .collect()
}

fn compile(raw: RawMapping, ctx: &Ctx) -> Result<Mapping, MappingError> {
    let mut warnings = Vec::new();
    let realm = raw.realm.get_ref().trim().to_string();
    if realm.is_empty() {
        return Err(ctx.at(raw.realm.span(), "realm", "must not be empty"));
    }
    let source = raw.source;

    // Username.
    let template = match &raw.username.template {
        Some(t) => Some(
            Template::parse(t.get_ref(), false)
                .map_err(|e| ctx.at(t.span(), "username.template", e.to_string()))?,
        ),
        None => None,
    };
    let username_from = match &raw.username.from {
        None => {
            let mut v = vec![UsernameSource::Field(FieldPath::Username)];
            if let Some(t) = &template {
                v.push(UsernameSource::Template(t.clone()));
            }
            v.push(UsernameSource::Field(FieldPath::Email));
            v.push(UsernameSource::Field(FieldPath::SourceId));
            v
        }
        Some(list) => {
            if list.is_empty() {
                return Err(ctx.error(
                    None,
                    Some("username.from".into()),
                    "needs at least one source",
                ));
            }
            let mut v = Vec::new();
            for (i, entry) in list.iter().enumerate() {
                let key = format!("username.from[{i}]");
                let text = entry.get_ref().trim();
                let source = if text == "template" {
                    UsernameSource::Template(template.clone().ok_or_else(|| {
                        ctx.at(
                            entry.span(),
                            &key,
                            "`template` is listed but username.template is not set",
                        )
                    })?)
                } else if text.contains('{') || text.contains('}') {
                    UsernameSource::Template(
                        Template::parse(text, false)
                            .map_err(|e| ctx.at(entry.span(), &key, e.to_string()))?,
                    )
                } else {
                    UsernameSource::Field(parse_path(ctx, entry, &key)?)
                };
                v.push(source);
            }
            if template.is_some() && !list.iter().any(|e| e.get_ref().trim() == "template") {
                warnings.push(
                    "username.template is set but `template` is not listed in username.from".into(),
                );
            }
            v
        }
    };
    let min_length = match &raw.username.min_length {
        Some(m) if *m.get_ref() == 0 || *m.get_ref() > crate::validate::MAX_FIELD_CHARS => {
            return Err(ctx.at(m.span(), "username.min_length", "must be between 1 and 255"));
        }
        Some(m) => *m.get_ref(),
        None => DEFAULT_MIN_USERNAME_CHARS,
    };
    let username = UsernameSpec {
        from: username_from,
        min_length,
        ascii_only: raw.username.ascii_only,
    };

    // E-mail.
    let email = EmailSpec {
        from: match &raw.email.from {
            Some(p) => parse_path(ctx, p, "email.from")?,
            None => FieldPath::Email,
        },
        invalid: match raw.email.invalid_email.unwrap_or(RawInvalidPolicy::Reject) {
            RawInvalidPolicy::Drop => InvalidPolicy::Drop,
            RawInvalidPolicy::Reject => InvalidPolicy::Reject,
        },
        duplicates: match raw.email.duplicates.unwrap_or(RawDuplicatePolicy::Reject) {
            RawDuplicatePolicy::Reject => DuplicatePolicy::Reject,
            RawDuplicatePolicy::DropEmail => DuplicatePolicy::DropEmail,
        },
        verified: match raw.email.verified.unwrap_or(RawVerified::Source) {
            RawVerified::Source => Verified::Source,
            RawVerified::Always => Verified::Always,
            RawVerified::Never => Verified::Never,
        },
        verify_email_action: raw.email.verify_email_action,
    };

    // Names.
    let names = NameSpec {
        first: match &raw.names.first_name {
            Some(list) => paths(ctx, list, "names.first_name")?,
            None => vec![FieldPath::FirstName],
        },
        last: match &raw.names.last_name {
            Some(list) => paths(ctx, list, "names.last_name")?,
            None => vec![FieldPath::LastName],
        },
        split_display_name: raw.names.split_display_name.unwrap_or(true),
        invalid: match raw.names.invalid.unwrap_or(RawInvalidPolicy::Drop) {
            RawInvalidPolicy::Drop => InvalidPolicy::Drop,
            RawInvalidPolicy::Reject => InvalidPolicy::Reject,
        },
    };

    // Attributes.
    let legacy_id = match &raw.attributes.legacy_id {
        None => Some(DEFAULT_LEGACY_ID_ATTRIBUTE.to_string()),
        Some(s) => match s.get_ref() {
            RawLegacyId::Disabled => None,
            RawLegacyId::Name(n) if n.trim().is_empty() => {
                return Err(ctx.at(
                    s.span(),
                    "attributes.legacy_id",
                    "give an attribute name, or false to disable",
                ));
            }
            RawLegacyId::Name(n) => Some(n.trim().to_string()),
        },
    };
    let mut rules = Vec::new();
    for (i, r) in raw.attributes.map.iter().enumerate() {
        let key = format!("attributes.map[{i}]");
        let to = r.to.get_ref().trim();
        if to.is_empty() {
            return Err(ctx.at(r.to.span(), &format!("{key}.to"), "must not be empty"));
        }
        if RESERVED_ATTRIBUTES.contains(&to) {
            return Err(ctx.at(
                r.to.span(),
                &format!("{key}.to"),
                format!("`{to}` is a user field, not an attribute; use the [username]/[email]/[names] sections"),
            ));
        }
        if legacy_id.as_deref() == Some(to) {
            return Err(ctx.at(
                r.to.span(),
                &format!("{key}.to"),
                format!("`{to}` already holds the source id (attributes.legacy_id)"),
            ));
        }
        let from = match &r.from {
            Some(p) => Some(parse_path(ctx, p, &format!("{key}.from"))?),
            None => None,
        };
        let transforms = r
            .transforms
            .iter()
            .enumerate()
            .map(|(j, t)| {
                ValueTransform::parse(t.get_ref())
                    .map_err(|e| ctx.at(t.span(), &format!("{key}.transforms[{j}]"), e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if from.is_none() && !transforms.first().is_some_and(ValueTransform::is_generator) {
            return Err(ctx.at(
                r.to.span(),
                &key,
                "needs `from`, or transforms starting with constant(...) or template(...)",
            ));
        }
        rules.push(AttributeRule {
            from,
            to: to.to_string(),
            transforms,
        });
    }
    let attributes = AttributeSpec {
        legacy_id,
        keep_unmapped: raw.attributes.keep_unmapped,
        rules,
    };

    // Status.
    let mut status = StatusTable::defaults(source);
    for (name, rule) in &raw.status {
        if name.trim().is_empty() {
            return Err(ctx.error(
                None,
                Some("status".into()),
                "status names must not be empty",
            ));
        }
        if let Some(actions) = &rule.required_actions {
            if actions.iter().any(|a| a.trim().is_empty()) {
                return Err(ctx.error(
                    None,
                    Some(format!("status.{name}.required_actions")),
                    "required actions must not be empty",
                ));
            }
        }
        if !known_statuses(source)
            .iter()
            .any(|s| s.eq_ignore_ascii_case(name.trim()))
        {
            warnings.push(format!(
                "status.{name}: {source} exports do not use this status (known: {})",
                known_statuses(source).join(", ")
            ));
        }
        status.set(
            name,
            rule.enabled,
            rule.required_actions
                .as_ref()
                .map(|a| a.iter().map(|s| s.trim().to_string()).collect()),
        );
    }

    // Roles and groups.
    let roles = MembershipSpec {
        side: MembershipSide::Roles,
        from: match &raw.roles.from {
            Some(list) => paths(ctx, list, "roles.from")?,
            None => default_role_sources(source),
        },
        rules: compile_rules(ctx, &raw.roles.rules, "roles.rules")?,
        unmapped: unmapped(raw.roles.unmapped),
        default_realm_roles: non_empty_names(ctx, &raw.roles.default_roles, "roles.default_roles")?,
        default_client_roles: raw
            .roles
            .default_client_roles
            .iter()
            .map(|(client, roles)| {
                let key = format!("roles.default_client_roles.{client}");
                if client.trim().is_empty() {
                    return Err(ctx.error(None, Some(key), "client id must not be empty"));
                }
                Ok((
                    client.trim().to_string(),
                    non_empty_names(ctx, roles, &key)?,
                ))
            })
            .collect::<Result<BTreeMap<_, _>, _>>()?,
        default_groups: Vec::new(),
    };
    let groups = MembershipSpec {
        side: MembershipSide::Groups,
        from: match &raw.groups.from {
            Some(list) => paths(ctx, list, "groups.from")?,
            None => default_group_sources(source),
        },
        rules: compile_rules(ctx, &raw.groups.rules, "groups.rules")?,
        unmapped: unmapped(raw.groups.unmapped),
        default_realm_roles: Vec::new(),
        default_client_roles: BTreeMap::new(),
        default_groups: raw
            .groups
            .default_groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                normalize_group_path(g.get_ref())
                    .map_err(|e| ctx.at(g.span(), &format!("groups.default_groups[{i}]"), e))
            })
            .collect::<Result<_, _>>()?,
    };

    // Identities.
    let mut identities = IdentitySpec::default();
    for (provider, alias) in &raw.identities.aliases {
        let a = alias.get_ref().trim();
        if a.is_empty() {
            return Err(ctx.at(
                alias.span(),
                &format!("identities.aliases.{provider}"),
                "alias must not be empty (list the provider in identities.ignore to drop its links)",
            ));
        }
        identities
            .aliases
            .insert(provider.trim().to_string(), a.to_string());
    }
    identities.ignore = raw
        .identities
        .ignore
        .iter()
        .map(|s| s.trim().to_string())
        .collect();
    identities.unknown = match raw.identities.unknown.unwrap_or(RawUnknownProvider::Drop) {
        RawUnknownProvider::Drop => UnknownProvider::Drop,
        RawUnknownProvider::Keep => UnknownProvider::Keep,
    };

    // Filters.
    let mut filters = Vec::new();
    let mut filter_names = BTreeSet::new();
    for (i, f) in raw.filters.iter().enumerate() {
        let key = format!("filters[{i}]");
        let name = f.name.get_ref().trim().to_string();
        if name.is_empty() {
            return Err(ctx.at(f.name.span(), &format!("{key}.name"), "must not be empty"));
        }
        if !filter_names.insert(name.clone()) {
            return Err(ctx.at(
                f.name.span(),
                &format!("{key}.name"),
                format!("filter name `{name}` is used twice"),
            ));
        }
        let (kind, cond, sub) = match (&f.include, &f.exclude) {
            (Some(c), None) => (FilterKind::Include, c, "include"),
            (None, Some(c)) => (FilterKind::Exclude, c, "exclude"),
            _ => {
                return Err(ctx.at(
                    f.name.span(),
                    &key,
                    "a filter needs exactly one of `include` or `exclude`",
                ))
            }
        };
        let condition = cond
            .get_ref()
            .compile()
            .map_err(|e| ctx.at(cond.span(), &format!("{key}.{sub}"), e))?;
        filters.push(Filter {
            name,
            kind,
            condition,
        });
    }

    // Passwords.
    let firebase = match &raw.passwords.firebase {
        None => None,
        Some(fb) => {
            let fbr = fb.get_ref();
            let signer_key = SecretRef::parse(&fbr.signer_key);
            let salt_separator = SecretRef::parse(&fbr.salt_separator);
            for (key, r) in [
                ("signer_key", &signer_key),
                ("salt_separator", &salt_separator),
            ] {
                match r {
                    SecretRef::Literal(_) => warnings.push(format!(
                        "passwords.firebase.{key} is written in the mapping file; prefer \"env:NAME\" so the secret stays out of files"
                    )),
                    SecretRef::Env(var) if var.is_empty() => {
                        return Err(ctx.at(fb.span(), &format!("passwords.firebase.{key}"), "`env:` needs a variable name"));
                    }
                    SecretRef::Env(_) => {}
                }
            }
            Some(FirebaseSettings {
                signer_key,
                salt_separator,
                rounds: fbr.rounds,
                mem_cost: fbr.mem_cost,
            })
        }
    };
    if firebase.is_some() && source != SourceKind::Firebase {
        warnings.push(format!(
            "passwords.firebase is set but the source is {source}"
        ));
    }
    let providers: Vec<String> = raw
        .passwords
        .providers
        .iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();

    Ok(Mapping {
        name: raw.name.unwrap_or_default(),
        source,
        realm,
        deterministic_ids: raw.deterministic_ids,
        username,
        email,
        names,
        attributes,
        status,
        roles,
        groups,
        identities,
        filters,
        passwords: PasswordSettings {
            providers,
            social_only_update_password: raw.passwords.social_only_update_password,
            firebase,
        },
        warnings,
    })
}

fn unmapped(u: Option<RawUnmapped>) -> Unmapped {
    match u.unwrap_or(RawUnmapped::Drop) {
        RawUnmapped::Drop => Unmapped::Drop,
        RawUnmapped::Create => Unmapped::Create,
    }
}

fn compile_rules(
    ctx: &Ctx,
    rules: &[Spanned<RawRule>],
    key: &str,
) -> Result<Vec<Rule>, MappingError> {
    let mut out = Vec::new();
    for (i, spanned) in rules.iter().enumerate() {
        let key = format!("{key}[{i}]");
        let span = spanned.span();
        let r = spanned.get_ref();
        let matcher = match (&r.source, &r.when) {
            (Some(s), None) if !s.trim().is_empty() => name_matcher(s),
            (None, Some(c)) => Matcher::When(c.compile().map_err(|e| ctx.at(span.clone(), &format!("{key}.when"), e))?),
            _ => {
                return Err(ctx.at(
                    span,
                    &key,
                    "a rule needs exactly one of `source` (a source name or glob) or `when` (a condition)",
                ))
            }
        };
        if r.realm_roles.is_empty() && r.client_roles.is_empty() && r.groups.is_empty() {
            return Err(ctx.at(
                span,
                &key,
                "a rule must grant realm_roles, client_roles or groups",
            ));
        }
        if r.realm_roles.iter().any(|n| n.trim().is_empty()) {
            return Err(ctx.at(
                span,
                &format!("{key}.realm_roles"),
                "role names must not be empty",
            ));
        }
        let mut client_roles = BTreeMap::new();
        for (client, roles) in &r.client_roles {
            if client.trim().is_empty()
                || roles.is_empty()
                || roles.iter().any(|n| n.trim().is_empty())
            {
                return Err(ctx.at(
                    span,
                    &format!("{key}.client_roles"),
                    "client ids and their role names must not be empty",
                ));
            }
            client_roles.insert(
                client.trim().to_string(),
                roles.iter().map(|n| n.trim().to_string()).collect(),
            );
        }
        let groups = r
            .groups
            .iter()
            .map(|g| {
                normalize_group_path(g)
                    .map_err(|e| ctx.at(span.clone(), &format!("{key}.groups"), e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.push(Rule {
            matcher,
            realm_roles: r.realm_roles.iter().map(|n| n.trim().to_string()).collect(),
            client_roles,
            groups,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_at_finds_header_and_key() {
        let text = "source = \"okta\"\n[email]\ninvalid_email = 3\n[[filters]]\nname = 1\n";
        let ctx = Ctx {
            text,
            file: "m.toml",
        };
        let off = text.find("3").unwrap();
        assert_eq!(ctx.key_at(off).as_deref(), Some("email.invalid_email"));
        assert_eq!(ctx.line_col(off), (3, 17));
        let off = text.find("1\n").unwrap();
        assert_eq!(ctx.key_at(off).as_deref(), Some("filters.name"));
        assert_eq!(ctx.key_at(0).as_deref(), Some("source"));
    }
}
