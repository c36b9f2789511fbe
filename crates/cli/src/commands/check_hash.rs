//! `kc-migrate check-hash`: verify a known password against one user's hash in an export.
//! Migration engineers use it to prove, before cutover, that the hash parameters they hold
//! (Firebase's project hash config in particular) really match the export.

use std::io::{BufRead, Write};

use anyhow::{bail, Context as _};
use kcm_credentials::FirebaseScryptParams;
use kcm_model::SourceItem;
use kcm_source_io::{ReadOptions, SourceInputs};

use crate::args::{CheckHashArgs, SourceArg};
use crate::{sources, Outcome};

/// Environment variables holding the Firebase project's secret hash parameters.
const SIGNER_KEY_ENV: &str = "FIREBASE_SIGNER_KEY";
const SALT_SEPARATOR_ENV: &str = "FIREBASE_SALT_SEPARATOR";

pub fn run(args: &CheckHashArgs) -> anyhow::Result<Outcome> {
    let password = read_password()?;
    let firebase = firebase_params(args)?;
    let user = find_user(args)?;
    let Some(hash) = &user.password_hash else {
        let why = user
            .diagnostics
            .iter()
            .find(|d| d.code.starts_with("hash"))
            .map(|d| format!(" ({})", d.message))
            .unwrap_or_default();
        bail!(
            "user {} has no usable password hash in the export{why}",
            user.source_id
        );
    };
    let ok = kcm_credentials::verify(hash, password.as_bytes(), firebase.as_ref()).with_context(
        || {
            format!(
                "cannot check the {} hash of user {}",
                hash.algorithm_name(),
                user.source_id
            )
        },
    )?;
    let mut out = std::io::stdout().lock();
    if ok {
        writeln!(
            out,
            "match: the password verifies against the {} hash of {}",
            hash.algorithm_name(),
            user.source_id
        )?;
        Ok(Outcome::Clean)
    } else {
        writeln!(
            out,
            "no match: the password does not verify against the {} hash of {}",
            hash.algorithm_name(),
            user.source_id
        )?;
        Ok(Outcome::Rejections)
    }
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password.to_string())
}

fn firebase_params(args: &CheckHashArgs) -> anyhow::Result<Option<FirebaseScryptParams>> {
    if args.source != SourceArg::Firebase {
        return Ok(None);
    }
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let (Some(key), Some(sep)) = (env(SIGNER_KEY_ENV), env(SALT_SEPARATOR_ENV)) else {
        bail!("Firebase hashes need the project's hash parameters: set FIREBASE_SIGNER_KEY and FIREBASE_SALT_SEPARATOR (and FIREBASE_ROUNDS, FIREBASE_MEM_COST if not 8 and 14)");
    };
    let params =
        FirebaseScryptParams::from_base64(&key, &sep, args.firebase_rounds, args.firebase_mem_cost)
            .context("invalid Firebase hash parameters")?;
    Ok(Some(params))
}

/// Stream the export until the user turns up (by source id, or e-mail case-insensitively).
fn find_user(args: &CheckHashArgs) -> anyhow::Result<kcm_model::User> {
    let inputs = SourceInputs {
        users: vec![args.input.clone()],
        hashes: args.hashes.clone(),
        ..SourceInputs::default()
    };
    let stream = sources::open_inputs(args.source, &inputs, &ReadOptions::default())?;
    let wanted = args.user.trim();
    for item in stream {
        if let Ok(SourceItem::User(user)) = item {
            let by_email = user
                .email
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case(wanted));
            if user.source_id == wanted || by_email {
                return Ok(*user);
            }
        }
    }
    bail!(
        "{}: no user with id or e-mail `{wanted}`",
        args.input.display()
    )
}
