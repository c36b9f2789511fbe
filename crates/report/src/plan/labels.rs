//! Plain-language explanations of the stable codes the reports show, for readers who do not
//! know them. Unknown codes are shown as they are.

use kcm_transform::UnusableReason;

const UNUSABLE_REASONS: [UnusableReason; 5] = [
    UnusableReason::NoHash,
    UnusableReason::UnknownAlgorithm,
    UnusableReason::NoProvider,
    UnusableReason::MissingFirebaseParams,
    UnusableReason::InvalidHash,
];

/// Why users with this reset reason must choose a new password.
pub(crate) fn reset_reason(code: &str) -> Option<&'static str> {
    UNUSABLE_REASONS
        .iter()
        .find(|r| r.as_str() == code)
        .map(|r| r.describe())
}

/// What a rejection reason code means.
pub(crate) fn rejection_reason(code: &str) -> Option<&'static str> {
    Some(match code {
        "malformed" => "the record is not valid JSON or CSV",
        "invalid_field" => "a field has the wrong type or an impossible value",
        "missing_field" => "a required field (such as the user id) is missing",
        "invalid_utf8" => "the record is not valid UTF-8 text",
        "too_large" => "the record is larger than the maximum record size",
        "truncated" => "the input ended in the middle of the record",
        "io" => "reading the input failed",
        "unmatched" => "a membership or password-hash row matched no user",
        "duplicate" => "the username or e-mail is already taken by another user",
        "invalid" => "a mapping rule or Keycloak constraint rejected the record",
        "missing_username" => "no username could be derived",
        "invalid_username" => "the username breaks a Keycloak rule",
        "invalid_email" => "the e-mail address is malformed",
        "invalid_name" => "a first or last name breaks a Keycloak rule",
        _ => return None,
    })
}

/// What a required action asks of the user at the next sign-in.
pub(crate) fn required_action(code: &str) -> Option<&'static str> {
    Some(match code {
        "UPDATE_PASSWORD" => "choose a new password",
        "VERIFY_EMAIL" => "confirm their e-mail address",
        "CONFIGURE_TOTP" => "set up a one-time-password app",
        "UPDATE_PROFILE" => "review their profile",
        "TERMS_AND_CONDITIONS" => "accept the terms and conditions",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_are_explained() {
        assert!(reset_reason("no_hash").is_some_and(|s| s.contains("no password hash")));
        assert_eq!(reset_reason("nope"), None);
        assert!(rejection_reason("duplicate").is_some());
        assert!(required_action("UPDATE_PASSWORD").is_some());
    }
}
