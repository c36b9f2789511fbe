//! Keycloak's constraints on usernames, e-mail addresses and person names, checked before a
//! user is planned so that a violating record is rejected here with a reason instead of
//! failing a whole import batch later.
//!
//! Rules follow Keycloak's default user profile (keycloak-target.md §3): username length
//! 3–255 for REST create (the import path only needs non-empty and ≤ 255) and the
//! `username-prohibited-characters` validator; first/last name ≤ 255 and the
//! `person-name-prohibited-characters` validator; e-mail ≤ 255 with a practical RFC 5322
//! address check (dot-atom local part, hostname domain).

/// The longest username, e-mail, first or last name Keycloak stores (database column size).
pub const MAX_FIELD_CHARS: usize = 255;
/// Keycloak's default user profile minimum username length (REST create).
pub const DEFAULT_MIN_USERNAME_CHARS: usize = 3;
/// RFC 5321 limit on the local part of an address.
const MAX_LOCAL_PART: usize = 64;
/// RFC 5321 limit on a whole forward path address.
const MAX_EMAIL_CHARS: usize = 254;
/// RFC 1035 limit on one domain label.
const MAX_LABEL: usize = 63;

/// Characters Keycloak's `username-prohibited-characters` validator refuses (besides
/// whitespace and control characters).
const USERNAME_PROHIBITED: &str = "<>&\"'$%!#?§,;:*~/\\|^=[]{}()`";
/// Characters Keycloak's `person-name-prohibited-characters` validator refuses (besides
/// vertical whitespace and control characters).
const PERSON_NAME_PROHIBITED: &str = "<>&\"$%!#?§;*~/\\|^=[]{}()";

/// Java's `\s`, `\h` and `\v` classes together (the validator's whitespace).
fn is_java_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t'
            | '\n'
            | '\u{0B}'
            | '\u{0C}'
            | '\r'
            | '\u{85}'
            | '\u{A0}'
            | '\u{1680}'
            | '\u{180E}'
            | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// Java's `\v` class.
fn is_vertical_space(c: char) -> bool {
    matches!(
        c,
        '\n' | '\u{0B}' | '\u{0C}' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// Check a normalised (trimmed, lower-cased) username. Returns a human-readable problem.
pub fn check_username(username: &str, min_chars: usize, ascii_only: bool) -> Result<(), String> {
    let len = username.chars().count();
    if len == 0 {
        return Err("username is empty".into());
    }
    if len < min_chars {
        return Err(format!(
            "username `{username}` is shorter than {min_chars} characters (Keycloak's user profile minimum)"
        ));
    }
    if len > MAX_FIELD_CHARS {
        return Err(format!(
            "username is longer than {MAX_FIELD_CHARS} characters ({len})"
        ));
    }
    if let Some(c) = username
        .chars()
        .find(|c| USERNAME_PROHIBITED.contains(*c) || c.is_control() || is_java_space(*c))
    {
        return Err(format!(
            "username `{}` contains a character Keycloak prohibits ({})",
            username.escape_debug(),
            c.escape_debug()
        ));
    }
    if ascii_only && !username.is_ascii() {
        return Err(format!(
            "username `{username}` contains non-ASCII characters (username.ascii_only is set)"
        ));
    }
    Ok(())
}

/// Check a first or last name.
pub fn check_person_name(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if len > MAX_FIELD_CHARS {
        return Err(format!("longer than {MAX_FIELD_CHARS} characters ({len})"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| PERSON_NAME_PROHIBITED.contains(*c) || c.is_control() || is_vertical_space(*c))
    {
        return Err(format!(
            "contains a character Keycloak prohibits in names ({})",
            c.escape_debug()
        ));
    }
    Ok(())
}

/// Normalise an e-mail address the way Keycloak stores it: trimmed and lower-cased.
pub fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// Characters RFC 5322 allows in an unquoted local part (`atext`), besides alphanumerics
/// and non-ASCII (RFC 6531).
const ATEXT_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";

/// Non-ASCII letters and symbols are allowed in addresses (RFC 6531), invisible ones are not.
fn is_visible_non_ascii(c: char) -> bool {
    !c.is_ascii() && !c.is_control() && !c.is_whitespace()
}

fn is_local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || ATEXT_SPECIALS.contains(c) || is_visible_non_ascii(c)
}

fn is_domain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || is_visible_non_ascii(c)
}

/// A practical RFC 5322 check: `dot-atom@hostname`. Quoted local parts, comments and IP
/// literals are refused: real identity-provider exports do not contain them and Keycloak's
/// own validator refuses most of them too.
pub fn check_email(email: &str) -> Result<(), String> {
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err(format!("longer than {MAX_EMAIL_CHARS} characters"));
    }
    let (local, domain) = email.rsplit_once('@').ok_or_else(|| "no `@`".to_string())?;
    if local.is_empty() {
        return Err("empty local part".into());
    }
    if local.chars().count() > MAX_LOCAL_PART {
        return Err(format!(
            "local part longer than {MAX_LOCAL_PART} characters"
        ));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("misplaced `.` in the local part".into());
    }
    if let Some(c) = local.chars().find(|c| !is_local_char(*c)) {
        return Err(format!(
            "character `{}` not allowed in the local part",
            c.escape_debug()
        ));
    }
    if domain.is_empty() {
        return Err("empty domain".into());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err(format!("domain `{domain}` has no dot"));
    }
    for label in labels {
        if label.is_empty() {
            return Err(format!("empty label in domain `{domain}`"));
        }
        if label.chars().count() > MAX_LABEL {
            return Err(format!("domain label longer than {MAX_LABEL} characters"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("domain label `{label}` starts or ends with `-`"));
        }
        if let Some(c) = label.chars().find(|c| !is_domain_char(*c)) {
            return Err(format!(
                "character `{}` not allowed in the domain",
                c.escape_debug()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(check_username("ada.lovelace@example.com", 3, false).is_ok());
        assert!(check_username("a-b_c", 3, false).is_ok());
        assert!(check_username("čeněk", 3, false).is_ok());
        assert!(check_username("čeněk", 3, true).is_err());
        assert!(check_username("ab", 3, false)
            .unwrap_err()
            .contains("shorter"));
        assert!(check_username("ab", 1, false).is_ok());
        assert!(check_username("", 1, false).is_err());
        assert!(check_username(&"a".repeat(256), 3, false)
            .unwrap_err()
            .contains("longer"));
        for bad in [
            "auth0|123",
            "a b",
            "a\u{a0}b",
            "x/y",
            "a:b",
            "o'brien",
            "a§b",
            "tab\tx",
            "a#b",
        ] {
            assert!(check_username(bad, 1, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn person_names() {
        assert!(check_person_name("O'Brien").is_ok());
        assert!(check_person_name("Jean-Luc Picard").is_ok());
        assert!(check_person_name("Smith (Jr)").is_err());
        assert!(check_person_name("a\nb").is_err());
    }

    #[test]
    fn emails() {
        for ok in [
            "ada@example.com",
            "a.b+tag@sub.example.co.uk",
            "o'brien@example.ie",
            "jürgen@münchen.de",
        ] {
            assert!(check_email(ok).is_ok(), "{ok}");
        }
        for bad in [
            "plain",
            "@example.com",
            "ada@",
            "ada@localhost",
            "a..b@example.com",
            ".a@example.com",
            "a b@example.com",
            "ada@exa_mple.com",
            "ada@-example.com",
            "ada@example..com",
            "\"quoted\"@example.com",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        assert!(check_email(&format!("{}@example.com", "a".repeat(65))).is_err());
        assert_eq!(normalize_email("  Ada@Example.COM "), "ada@example.com");
    }
}
