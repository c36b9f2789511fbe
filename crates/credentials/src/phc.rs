//! Argon2 PHC strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) taken apart into the pieces
//! Keycloak's native `argon2` provider stores separately.

use crate::b64;

/// Argon2 flavour, as the PHC identifier and Keycloak's `type` parameter name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Argon2Type {
    Id,
    I,
    D,
}

impl Argon2Type {
    /// Keycloak's `additionalParameters.type` value.
    pub(crate) fn keycloak_name(self) -> &'static str {
        match self {
            Argon2Type::Id => "id",
            Argon2Type::I => "i",
            Argon2Type::D => "d",
        }
    }
}

/// PHC `v=16`: the original Argon2 (Keycloak `version` "1.0").
pub(crate) const VERSION_10: u32 = 0x10;
/// PHC `v=19`: Argon2 1.3 (Keycloak `version` "1.3").
pub(crate) const VERSION_13: u32 = 0x13;

/// A decomposed Argon2 PHC string. Holds secret bytes: no `Debug`.
pub(crate) struct Argon2Phc {
    pub(crate) kind: Argon2Type,
    /// [`VERSION_10`] or [`VERSION_13`]; an absent `v=` means 0x10 (PHC rule).
    pub(crate) version: u32,
    pub(crate) memory_kib: u32,
    pub(crate) iterations: u32,
    pub(crate) parallelism: u32,
    pub(crate) salt: Vec<u8>,
    pub(crate) hash: Vec<u8>,
}

impl Argon2Phc {
    /// Keycloak's `additionalParameters.version` value.
    pub(crate) fn keycloak_version(&self) -> &'static str {
        if self.version == VERSION_13 {
            "1.3"
        } else {
            "1.0"
        }
    }
}

/// Parse a PHC string. The error is a fixed description safe to show (never input text).
pub(crate) fn parse_argon2(phc: &str) -> Result<Argon2Phc, &'static str> {
    let mut parts = phc
        .trim()
        .strip_prefix('$')
        .ok_or("does not start with `$`")?
        .split('$');
    let kind = match parts.next() {
        Some("argon2id") => Argon2Type::Id,
        Some("argon2i") => Argon2Type::I,
        Some("argon2d") => Argon2Type::D,
        _ => return Err("not an argon2id/argon2i/argon2d identifier"),
    };
    let mut field = parts.next().ok_or("missing parameters")?;
    let version = match field.strip_prefix("v=") {
        Some(v) => {
            field = parts.next().ok_or("missing parameters")?;
            match v {
                "16" => VERSION_10,
                "19" => VERSION_13,
                _ => return Err("unsupported version (only v=16 and v=19 exist)"),
            }
        }
        None => VERSION_10,
    };
    let (memory_kib, iterations, parallelism) = parse_params(field)?;
    let salt = parts.next().ok_or("missing salt")?;
    let hash = parts.next().ok_or("missing hash")?;
    if parts.next().is_some() {
        return Err("too many `$`-separated fields");
    }
    let salt = b64::decode(salt).ok_or("salt is not valid base64")?;
    let hash = b64::decode(hash).ok_or("hash is not valid base64")?;
    if salt.is_empty() {
        return Err("empty salt");
    }
    if hash.is_empty() {
        return Err("empty hash");
    }
    Ok(Argon2Phc {
        kind,
        version,
        memory_kib,
        iterations,
        parallelism,
        salt,
        hash,
    })
}

/// `m=…,t=…,p=…`, each exactly once, positive and within Java's `int` (Keycloak parses them
/// with `Integer.parseInt`). `keyid`/`data` are refused: Keycloak has nowhere to put them.
fn parse_params(field: &str) -> Result<(u32, u32, u32), &'static str> {
    let (mut m, mut t, mut p) = (None, None, None);
    for pair in field.split(',') {
        let (key, value) = pair.split_once('=').ok_or("parameter without `=`")?;
        let slot = match key {
            "m" => &mut m,
            "t" => &mut t,
            "p" => &mut p,
            _ => return Err("unsupported parameter (only m, t and p are allowed)"),
        };
        if slot.is_some() {
            return Err("repeated parameter");
        }
        *slot = Some(parse_positive(value)?);
    }
    match (m, t, p) {
        (Some(m), Some(t), Some(p)) => Ok((m, t, p)),
        _ => Err("m, t and p are all required"),
    }
}

fn parse_positive(value: &str) -> Result<u32, &'static str> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err("parameter is not a decimal number");
    }
    match value.parse::<u32>() {
        Ok(0) => Err("parameter must be positive"),
        Ok(n) if i32::try_from(n).is_ok() => Ok(n),
        _ => Err("parameter is too large"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposes_phc_strings() {
        let p = parse_argon2(
            "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
        )
        .unwrap();
        assert_eq!(p.kind, Argon2Type::Id);
        assert_eq!(
            (p.version, p.memory_kib, p.iterations, p.parallelism),
            (VERSION_13, 256, 2, 1)
        );
        assert_eq!(p.salt, b"somesalt");
        assert_eq!(p.hash.len(), 32);
        assert_eq!(p.keycloak_version(), "1.3");

        let old = parse_argon2(
            "$argon2i$m=256,t=2,p=1$c29tZXNhbHQ$/U3YPXYsSb3q9XxHvc0MLxur+GP960kN9j7emXX8zwY",
        )
        .unwrap();
        assert_eq!(
            (old.kind, old.version, old.keycloak_version()),
            (Argon2Type::I, VERSION_10, "1.0")
        );
    }

    #[test]
    fn refuses_malformed_strings_without_echoing_them() {
        let salt_hash = "c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4";
        let cases = [
            format!("argon2id$v=19$m=256,t=2,p=1${salt_hash}"),
            format!("$argon2x$v=19$m=256,t=2,p=1${salt_hash}"),
            format!("$argon2id$v=20$m=256,t=2,p=1${salt_hash}"),
            format!("$argon2id$v=19$m=256,t=2${salt_hash}"),
            format!("$argon2id$v=19$m=256,t=2,p=1,p=1${salt_hash}"),
            format!("$argon2id$v=19$m=256,t=0,p=1${salt_hash}"),
            format!("$argon2id$v=19$m=-1,t=2,p=1${salt_hash}"),
            format!("$argon2id$v=19$m=4294967295,t=2,p=1${salt_hash}"),
            format!("$argon2id$v=19$m=256,t=2,p=1,keyid=abc${salt_hash}"),
            format!("$argon2id$v=19$m=256,t=2,p=1${salt_hash}$extra"),
            "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ".to_string(),
            "$argon2id$v=19$m=256,t=2,p=1$c2!!$nf65EOgLrQ".to_string(),
            "$argon2id$v=19$m=256,t=2,p=1$$nf65EOgLrQ".to_string(),
            "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$".to_string(),
            "$argon2id".to_string(),
            String::new(),
        ];
        for case in &cases {
            let err = parse_argon2(case)
                .err()
                .unwrap_or_else(|| panic!("accepted {case}"));
            assert!(!err.contains("c29t") && !err.contains("nf65"), "{err}");
        }
    }
}
