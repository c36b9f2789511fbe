//! Masking of personal data and redaction of secret-looking text in everything the reports
//! show.
//!
//! Reports are read by people who should not see who the users are: by default e-mails show as
//! `j***@example.com` and names as `J*** D***`. Messages come from sources and the transform,
//! which promise never to include a password hash or salt; [`redact_secrets`] is a second line
//! of defence that removes anything shaped like one (modular-crypt strings, long hex or base64
//! runs, `{SSHA}`-style values) before a message is written anywhere.

/// What a masked word keeps: its first character followed by this.
pub const MASK: &str = "***";
/// What replaces a secret-looking token.
pub const REDACTED: &str = "[redacted]";

/// Words that, directly before a `` `quoted` `` value in a message, say the value is personal
/// data (a username, e-mail, login or person name).
const PERSONAL_KEYWORDS: &[&str] = &["e-mail", "email", "username", "login", "name"];

/// Shortest hex run treated as a digest (MD5 has 32 hex digits; ids such as MongoDB's have 24).
const MIN_HEX_SECRET: usize = 32;
/// Shortest unpadded base64 run treated as a hash (a 256-bit digest is 43 characters).
const MIN_BASE64_SECRET: usize = 40;
/// Shortest base64 run before `=` padding treated as a salt or hash (a 64-bit salt is 11).
const MIN_PADDED_BASE64_SECRET: usize = 8;
/// Shortest token with two `$` separators treated as a modular-crypt or Django-style hash.
const MIN_DOLLAR_SECRET: usize = 13;

/// `john.doe@example.com` → `j***@example.com`. A value without `@` is masked as a name.
pub fn mask_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => match local.chars().next() {
            Some(first) => format!("{first}{MASK}@{domain}"),
            None => format!("{MASK}@{domain}"),
        },
        None => mask_name(email),
    }
}

/// `John Doe` → `J*** D***`: each word keeps its first character.
pub fn mask_name(name: &str) -> String {
    let words: Vec<String> = name
        .split_whitespace()
        .map(|w| match w.chars().next() {
            Some(first) => format!("{first}{MASK}"),
            None => String::new(),
        })
        .collect();
    if words.is_empty() {
        MASK.to_string()
    } else {
        words.join(" ")
    }
}

/// Masks a value that may be an e-mail (usernames often are) or a name.
pub fn mask_value(value: &str) -> String {
    if value.contains('@') {
        mask_email(value)
    } else {
        mask_name(value)
    }
}

/// A message made safe to show: secrets redacted always; e-mails and personal values quoted
/// after a personal keyword (`` username `bob` ``) masked unless `unmasked`.
pub fn clean_message(message: &str, unmasked: bool) -> String {
    let redacted = redact_secrets(message);
    if unmasked {
        redacted
    } else {
        mask_emails(&mask_keyword_quotes(&redacted))
    }
}

fn is_delimiter(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '`' | '"' | '\'' | '(' | ')' | ',' | ';' | '<' | '>' | '[' | ']'
        )
}

/// Applies `f` to every token between delimiters, with trailing sentence punctuation kept
/// outside the token.
fn map_tokens(text: &str, mut f: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let start = rest.find(|c: char| !is_delimiter(c)).unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(is_delimiter).unwrap_or(rest.len());
        let token = &rest[..end];
        let core = token.trim_end_matches(['.', ':', '!', '?']);
        match f(core) {
            Some(replacement) => {
                out.push_str(&replacement);
                out.push_str(&token[core.len()..]);
            }
            None => out.push_str(token),
        }
        rest = &rest[end..];
    }
    out
}

/// Masks every token that contains `@`.
pub fn mask_emails(text: &str) -> String {
    map_tokens(text, |t| t.contains('@').then(|| mask_email(t)))
}

/// Replaces every secret-looking token by [`REDACTED`].
pub fn redact_secrets(text: &str) -> String {
    map_tokens(text, |t| looks_secret(t).then(|| REDACTED.to_string()))
}

fn mask_keyword_quotes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('`') {
        let before = &rest[..open];
        out.push_str(before);
        let after_open = &rest[open + 1..];
        let Some(close) = after_open.find('`') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let value = &after_open[..close];
        let preceding = out.trim_end().to_ascii_lowercase();
        let personal = PERSONAL_KEYWORDS
            .iter()
            .any(|k| preceding.ends_with(k) && word_boundary_before(&preceding, k.len()));
        out.push('`');
        if personal {
            out.push_str(&mask_value(value));
        } else {
            out.push_str(value);
        }
        out.push('`');
        rest = &after_open[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Whether the keyword that ends `text` (of `len` bytes) starts a word.
fn word_boundary_before(text: &str, len: usize) -> bool {
    !matches!(
        text[..text.len() - len].chars().next_back(),
        Some(c) if c.is_alphanumeric() || c == '-' || c == '_'
    )
}

fn looks_secret(token: &str) -> bool {
    if token.len() >= MIN_DOLLAR_SECRET && token.matches('$').count() >= 2 {
        return true;
    }
    if let Some(rest) = token.strip_prefix('{') {
        if let Some((scheme, value)) = rest.split_once('}') {
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
                && value.len() >= 8
            {
                return true;
            }
        }
    }
    if longest_run(token, |c| c.is_ascii_hexdigit()) >= MIN_HEX_SECRET {
        return true;
    }
    base64_secret(token)
}

fn longest_run(token: &str, pred: impl Fn(char) -> bool) -> usize {
    let mut best = 0;
    let mut current = 0;
    for c in token.chars() {
        if pred(c) {
            current += 1;
            best = best.max(current);
        } else {
            current = 0;
        }
    }
    best
}

fn is_base64_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_')
}

/// Base64 runs that look random: mixed case and digits, not a path (few `/`), long enough, or
/// shorter but `=`-padded.
fn base64_secret(token: &str) -> bool {
    let mut rest = token;
    while let Some(start) = rest.find(is_base64_char) {
        rest = &rest[start..];
        let end = rest
            .find(|c: char| !is_base64_char(c))
            .unwrap_or(rest.len());
        // Base64 characters are ASCII, so byte counts are character counts.
        let run = &rest[..end];
        rest = &rest[end..];
        let padded = rest.starts_with('=');
        let count = |pred: fn(&u8) -> bool| run.bytes().filter(pred).count();
        let upper = count(u8::is_ascii_uppercase);
        let lower = count(u8::is_ascii_lowercase);
        let digits = count(u8::is_ascii_digit);
        let slashes = count(|b| *b == b'/');
        let not_a_path = slashes * 10 <= run.len();
        if padded
            && run.len() >= MIN_PADDED_BASE64_SECRET
            && upper >= 1
            && lower >= 1
            && digits >= 1
            && not_a_path
        {
            return true;
        }
        if run.len() >= MIN_BASE64_SECRET && upper >= 3 && lower >= 3 && digits >= 2 && not_a_path {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_emails_and_names() {
        assert_eq!(mask_email("john.doe@example.com"), "j***@example.com");
        assert_eq!(mask_email("@example.com"), "***@example.com");
        assert_eq!(mask_name("John  Doe"), "J*** D***");
        assert_eq!(mask_name(""), "***");
        assert_eq!(mask_value("Émile Zola"), "É*** Z***");
        assert_eq!(mask_value("a@b@c.org"), "a***@c.org");
    }

    #[test]
    fn messages_mask_emails_and_personal_quotes_but_not_ids() {
        let m = "e-mail `Jane@Example.com` is already used by the user at users.json:3";
        assert_eq!(
            clean_message(m, false),
            "e-mail `J***@Example.com` is already used by the user at users.json:3"
        );
        assert_eq!(clean_message(m, true), m);
        assert_eq!(
            clean_message("username `bobby` is already taken", false),
            "username `b***` is already taken"
        );
        assert_eq!(
            clean_message(
                "group membership `staff` for id `auth0|abc` matched no user",
                false
            ),
            "group membership `staff` for id `auth0|abc` matched no user"
        );
        assert_eq!(
            clean_message(
                "role membership `x` for login `jdoe` matched no user",
                false
            ),
            "role membership `x` for login `j***` matched no user"
        );
        assert_eq!(
            clean_message("mail me at ann@x.org.", false),
            "mail me at a***@x.org."
        );
        // "nickname" is not the keyword "name".
        assert_eq!(clean_message("nickname `zed`", false), "nickname `zed`");
    }

    #[test]
    fn secrets_are_redacted_even_unmasked() {
        let bcrypt = "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";
        let m = format!("bad hash `{bcrypt}` here");
        assert_eq!(clean_message(&m, true), "bad hash `[redacted]` here");
        assert_eq!(
            redact_secrets("sha1 5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8."),
            "sha1 [redacted]."
        );
        assert_eq!(redact_secrets("salt=42xEC+ixf3L2lw=="), REDACTED);
        assert_eq!(
            redact_secrets("{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="),
            REDACTED
        );
        assert_eq!(
            redact_secrets("pbkdf2_sha256$260000$abc$hashhashhash"),
            REDACTED
        );
        let firebase = "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==";
        assert_eq!(redact_secrets(firebase), REDACTED);
    }

    #[test]
    fn ordinary_text_is_not_redacted() {
        for text in [
            "auth0|5f7c8ec7c33c6c004bbafe82",
            "user 00u1abcdEFGH2345ijkl at /Users/John/Projects/Auth0Export2023/users.ndjson:12",
            "5ddc37d1-2fbf-5b0e-a3e6-f0f9b16b31da",
            "first name has 300 characters (max 255)",
            "price is $5 or $6",
            "1bXH3kzhQ5a1FmEXAMPLE0QmN2",
        ] {
            assert_eq!(redact_secrets(text), text);
        }
    }
}
