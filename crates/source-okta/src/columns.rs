//! What each column of an Okta user CSV holds, decided from its header text.
//!
//! Okta CSVs come with three header styles (export-formats.md §2.1, gotcha 3): API variable
//! names (`login`, the import template), dotted API paths (`profile.login`,
//! `credentials.provider.type`, scripts that flatten the Users API JSON), and schema *titles*
//! (`Username`, `Primary email`: Rockstar and the console reports). Titles are matched
//! case-insensitively against the default user schema; any column that is none of these is a
//! custom profile attribute named as written.

use std::collections::HashMap;

/// Base profile attributes of the Okta user schema: API variable name and the title the
/// default schema (`/api/v1/meta/schemas/user/default`) gives it.
const BASE_PROFILE: &[(&str, &str)] = &[
    ("login", "Username"),
    ("firstName", "First name"),
    ("lastName", "Last name"),
    ("middleName", "Middle name"),
    ("honorificPrefix", "Honorific prefix"),
    ("honorificSuffix", "Honorific suffix"),
    ("email", "Primary email"),
    ("title", "Title"),
    ("displayName", "Display name"),
    ("nickName", "Nickname"),
    ("profileUrl", "Profile Url"),
    ("secondEmail", "Secondary email"),
    ("mobilePhone", "Mobile phone"),
    ("primaryPhone", "Primary phone"),
    ("streetAddress", "Street address"),
    ("city", "City"),
    ("state", "State"),
    ("zipCode", "Zip code"),
    ("countryCode", "Country code"),
    ("postalAddress", "Postal Address"),
    ("preferredLanguage", "Preferred language"),
    ("locale", "Locale"),
    ("timezone", "Time zone"),
    ("userType", "User type"),
    ("employeeNumber", "Employee number"),
    ("costCenter", "Cost center"),
    ("organization", "Organization"),
    ("division", "Division"),
    ("department", "Department"),
    ("managerId", "ManagerId"),
    ("manager", "Manager"),
];

/// Other header texts seen in console reports for profile attributes. The Password Health
/// report calls the display name `User` and the login `Login`; the User Accounts report's
/// filters are labelled `Okta username` and `User fullname` (its CSV headers are not
/// documented, so its filter labels are the best guess).
const PROFILE_ALIASES: &[(&str, &str)] = &[
    ("login", "login"),
    ("okta username", "login"),
    ("user", "displayName"),
    ("user fullname", "displayName"),
];

/// Top-level user fields (outside `profile`): API name, titles, and what the column is.
/// `User Id` is Rockstar's title; `Activation date`, `Last Login` and `Last Password Change`
/// are Password Health report headers; `Okta user status` and `Status change date` are User
/// Accounts report filter labels.
const TOP_LEVEL: &[(&str, &[&str], Top)] = &[
    ("id", &["User Id"], Top::Id),
    ("status", &["Okta user status"], Top::Status),
    ("created", &[], Top::Created),
    ("lastLogin", &["Last login"], Top::LastLogin),
    ("activated", &["Activation date"], Top::Meta),
    (
        "statusChanged",
        &["Status changed", "Status change date"],
        Top::Meta,
    ),
    ("lastUpdated", &["Last updated"], Top::Meta),
    (
        "passwordChanged",
        &["Password changed", "Last password change"],
        Top::Meta,
    ),
    ("transitioningToStatus", &[], Top::Meta),
    ("realmId", &[], Top::Meta),
    ("type.id", &[], Top::Meta),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Top {
    Id,
    Status,
    Created,
    LastLogin,
    Meta,
}

/// What one CSV column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Column {
    /// The Okta user id (`00u…`).
    Id,
    /// The lifecycle status (API enum or console label).
    Status,
    Created,
    LastLogin,
    /// A top-level field kept under this path in the user's metadata (`activated`,
    /// `credentials.provider.type`, ...).
    Meta(Vec<String>),
    /// A profile attribute: its API name when it is a base attribute, else the header.
    Profile(String),
    /// Not read: empty header, `_links`/`_embedded`, or credential material.
    Ignored,
}

impl Column {
    /// A key two columns share exactly when they hold the same thing.
    fn key(&self) -> Option<String> {
        Some(match self {
            Column::Id => "id".into(),
            Column::Status => "status".into(),
            Column::Created => "created".into(),
            Column::LastLogin => "lastlogin".into(),
            Column::Meta(path) => path.join(".").to_lowercase(),
            Column::Profile(name) => format!("profile.{}", name.to_lowercase()),
            Column::Ignored => return None,
        })
    }

    /// How the column is described in error messages.
    fn describe(&self) -> String {
        match self {
            Column::Id => "the user id".into(),
            Column::Status => "the status".into(),
            Column::Created => "`created`".into(),
            Column::LastLogin => "`lastLogin`".into(),
            Column::Meta(path) => format!("`{}`", path.join(".")),
            Column::Profile(name) => format!("profile attribute `{name}`"),
            Column::Ignored => "nothing".into(),
        }
    }
}

/// Trim and collapse runs of white space so `First  name ` matches `First name`.
pub(crate) fn tidy(header: &str) -> String {
    header.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The canonical API name of a base profile attribute, matched case-insensitively on the API
/// name only (used after a `profile.` prefix, where titles do not occur).
fn base_api_name(name: &str) -> Option<&'static str> {
    BASE_PROFILE
        .iter()
        .find(|(api, _)| api.eq_ignore_ascii_case(name))
        .map(|(api, _)| *api)
}

/// Decide what a user-CSV column holds from its header.
pub(crate) fn classify(header: &str) -> Column {
    let text = tidy(header);
    if text.is_empty() {
        return Column::Ignored;
    }
    let lower = text.to_lowercase();
    if let Some(rest) = strip_prefix_ci(&text, "profile.") {
        let rest = rest.trim();
        if rest.is_empty() {
            return Column::Ignored;
        }
        return Column::Profile(
            base_api_name(rest).map_or_else(|| rest.to_string(), str::to_string),
        );
    }
    if let Some(rest) = strip_prefix_ci(&text, "credentials.") {
        let segments: Vec<String> = rest.split('.').map(|s| s.trim().to_string()).collect();
        // Password values, imported hashes and recovery answers are secrets that no export
        // should carry; a column holding them is never read, so it cannot leak anywhere.
        let first = segments
            .first()
            .map(|s| s.to_lowercase())
            .unwrap_or_default();
        if first.is_empty() || first == "password" || first == "recovery_question" {
            return Column::Ignored;
        }
        let mut path = vec!["credentials".to_string()];
        path.extend(segments);
        return Column::Meta(path);
    }
    if lower.starts_with("_links.") || lower.starts_with("_embedded.") {
        return Column::Ignored;
    }
    for (api, titles, top) in TOP_LEVEL {
        if api.eq_ignore_ascii_case(&text) || titles.iter().any(|t| t.eq_ignore_ascii_case(&text)) {
            return match top {
                Top::Id => Column::Id,
                Top::Status => Column::Status,
                Top::Created => Column::Created,
                Top::LastLogin => Column::LastLogin,
                Top::Meta => Column::Meta(api.split('.').map(str::to_string).collect()),
            };
        }
    }
    for (api, title) in BASE_PROFILE {
        if api.eq_ignore_ascii_case(&text) || title.eq_ignore_ascii_case(&text) {
            return Column::Profile((*api).to_string());
        }
    }
    for (alias, api) in PROFILE_ALIASES {
        if alias.eq_ignore_ascii_case(&text) {
            return Column::Profile((*api).to_string());
        }
    }
    Column::Profile(text)
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        text.get(prefix.len()..)
    } else {
        None
    }
}

/// Classify every header; two columns that hold the same thing (`email,email`, or `login`
/// next to `Username`) are an error naming them, because picking one would silently drop
/// the other's values.
pub(crate) fn classify_all(headers: &[String]) -> Result<Vec<Column>, String> {
    let columns: Vec<Column> = headers.iter().map(|h| classify(h)).collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut clashes = Vec::new();
    for (i, column) in columns.iter().enumerate() {
        let Some(key) = column.key() else { continue };
        match seen.get(&key) {
            Some(&first) => clashes.push(format!(
                "`{}` (column {}) and `{}` (column {}) both hold {}",
                headers.get(first).map(String::as_str).unwrap_or_default(),
                first + 1,
                headers.get(i).map(String::as_str).unwrap_or_default(),
                i + 1,
                column.describe()
            )),
            None => {
                seen.insert(key, i);
            }
        }
    }
    if clashes.is_empty() {
        Ok(columns)
    } else {
        Err(format!("duplicate columns: {}", clashes.join("; ")))
    }
}

/// The header list as shown in error messages.
pub(crate) fn list(headers: &[String]) -> String {
    if headers.is_empty() {
        return "(none)".into();
    }
    // Only cells that look like column names are quoted, and only the first few: when a data
    // line is taken for a header (JSON misread as CSV, a header-less file), its cells may hold
    // passwords or hashes.
    let mut shown: Vec<String> = headers
        .iter()
        .take(MAX_HEADERS_LISTED)
        .map(|h| {
            let looks_like_name = h.chars().count() <= MAX_HEADER_CHARS_LISTED
                && h.chars()
                    .all(|c| c.is_alphanumeric() || " _-.[]()#;,|'".contains(c));
            if looks_like_name {
                format!("`{h}`")
            } else {
                format!("<{}-character value not shown>", h.chars().count())
            }
        })
        .collect();
    if headers.len() > MAX_HEADERS_LISTED {
        shown.push(format!("… ({} columns in all)", headers.len()));
    }
    shown.join(", ")
}

/// How many header cells an error message lists, and how long one may be to be quoted.
const MAX_HEADERS_LISTED: usize = 30;
const MAX_HEADER_CHARS_LISTED: usize = 60;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_header_styles_resolve_to_the_same_attribute() {
        for header in [
            "login",
            "LOGIN",
            "profile.login",
            "Profile.Login",
            "Username",
            "  username ",
        ] {
            assert_eq!(
                classify(header),
                Column::Profile("login".into()),
                "{header}"
            );
        }
        assert_eq!(classify("Primary email"), Column::Profile("email".into()));
        assert_eq!(classify("Time zone"), Column::Profile("timezone".into()));
        assert_eq!(classify("User Id"), Column::Id);
        assert_eq!(classify("Last Login"), Column::LastLogin);
        assert_eq!(
            classify("statusChanged"),
            Column::Meta(vec!["statusChanged".into()])
        );
    }

    #[test]
    fn credentials_paths_are_metadata_and_secrets_are_ignored() {
        assert_eq!(
            classify("credentials.provider.type"),
            Column::Meta(vec!["credentials".into(), "provider".into(), "type".into()])
        );
        assert_eq!(classify("credentials.password.value"), Column::Ignored);
        assert_eq!(
            classify("credentials.recovery_question.answer"),
            Column::Ignored
        );
        assert_eq!(classify(""), Column::Ignored);
    }

    #[test]
    fn unknown_headers_are_custom_attributes_as_written() {
        assert_eq!(
            classify("Badge Number"),
            Column::Profile("Badge Number".into())
        );
        assert_eq!(
            classify("profile.badgeNumber"),
            Column::Profile("badgeNumber".into())
        );
    }

    #[test]
    fn clashing_columns_are_named() {
        let headers: Vec<String> = ["login", "email", "Username"].map(String::from).to_vec();
        let err = classify_all(&headers).unwrap_err();
        assert!(
            err.contains("`login` (column 1) and `Username` (column 3)"),
            "{err}"
        );
    }
}
