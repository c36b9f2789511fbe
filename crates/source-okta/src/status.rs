//! Okta lifecycle statuses: the Users API enum and the Admin Console labels, both mapped to
//! the API enum (export-formats.md §2.3, gotcha 1).

/// The status assumed when an export has no status column or an empty status cell.
pub(crate) const DEFAULT_STATUS: &str = "ACTIVE";

/// Longest status text quoted back in an error message; longer cells are cut so one broken
/// row cannot produce a huge message.
const MAX_QUOTED_STATUS: usize = 64;

/// Map a status cell to the API enum. Matching ignores case and treats spaces and hyphens as
/// underscores, so `Locked out`, `LOCKED_OUT` and `locked-out` are the same.
pub(crate) fn normalize(raw: &str) -> Option<&'static str> {
    let key: String = raw
        .trim()
        .chars()
        .map(|c| match c {
            ' ' | '-' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    Some(match key.as_str() {
        "STAGED" => "STAGED",
        "PROVISIONED" | "PENDING_USER_ACTION" => "PROVISIONED",
        "ACTIVE" => "ACTIVE",
        "RECOVERY" | "PASSWORD_RESET" => "RECOVERY",
        "PASSWORD_EXPIRED" => "PASSWORD_EXPIRED",
        "LOCKED_OUT" => "LOCKED_OUT",
        "SUSPENDED" => "SUSPENDED",
        "DEPROVISIONED" | "DEACTIVATED" => "DEPROVISIONED",
        // Transitional and not settable, but the API can return it mid-activation.
        "ACTIVATING" => "ACTIVATING",
        _ => return None,
    })
}

/// Whether a user in this (normalised) status may sign in as far as the source is concerned.
/// Users who must reset or change a password are still enabled: the transform turns those
/// statuses into required actions.
pub(crate) fn is_enabled(status: &str) -> bool {
    !matches!(status, "SUSPENDED" | "DEPROVISIONED")
}

/// The status text as quoted in an error message.
pub(crate) fn quoted(raw: &str) -> String {
    let mut shown: String = raw.chars().take(MAX_QUOTED_STATUS).collect();
    if raw.chars().count() > MAX_QUOTED_STATUS {
        shown.push('…');
    }
    format!("`{shown}`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_enums_agree() {
        assert_eq!(normalize("Pending user action"), Some("PROVISIONED"));
        assert_eq!(normalize(" password reset "), Some("RECOVERY"));
        assert_eq!(normalize("Deactivated"), Some("DEPROVISIONED"));
        assert_eq!(normalize("locked-out"), Some("LOCKED_OUT"));
        assert_eq!(normalize("Retired"), None);
        assert!(!is_enabled("SUSPENDED"));
        assert!(is_enabled("PASSWORD_EXPIRED"));
    }
}
