//! Dispatch from the `--source` argument to the source adapter crates.

use anyhow::Context as _;
use kcm_model::SourceKind;
use kcm_source_io::{ReadOptions, SourceInputs, SourceStream};

use crate::args::{InputArgs, SourceArg};

pub fn kind(arg: SourceArg) -> SourceKind {
    match arg {
        SourceArg::Auth0 => SourceKind::Auth0,
        SourceArg::Okta => SourceKind::Okta,
        SourceArg::Firebase => SourceKind::Firebase,
    }
}

/// The source kind: `--source`, else the mapping's `source`; both given must agree.
pub fn resolve(arg: Option<SourceArg>, mapping: Option<SourceKind>) -> anyhow::Result<SourceArg> {
    let from_mapping = mapping.map(|k| match k {
        SourceKind::Auth0 => SourceArg::Auth0,
        SourceKind::Okta => SourceArg::Okta,
        SourceKind::Firebase => SourceArg::Firebase,
    });
    match (arg, from_mapping) {
        (Some(a), Some(m)) if a != m => anyhow::bail!(
            "--source {} does not match the mapping file's source = \"{}\"",
            kind(a),
            kind(m)
        ),
        (Some(a), _) => Ok(a),
        (None, Some(m)) => Ok(m),
        (None, None) => anyhow::bail!("--source is required (auth0, okta or firebase)"),
    }
}

/// Open every input of a run; an unreadable file or unknown format is fatal here.
pub fn open(args: &InputArgs, source: SourceArg) -> anyhow::Result<SourceStream> {
    let inputs = SourceInputs {
        users: args.files.clone(),
        hashes: args.hashes.clone(),
        roles: args.roles.clone(),
        memberships: args.memberships.clone(),
    };
    let opts = ReadOptions {
        max_record_bytes: args.max_record_size,
    };
    open_inputs(source, &inputs, &opts)
}

pub fn open_inputs(
    source: SourceArg,
    inputs: &SourceInputs,
    opts: &ReadOptions,
) -> anyhow::Result<SourceStream> {
    let stream = match kind(source) {
        SourceKind::Auth0 => kcm_source_auth0::read(inputs, opts),
        SourceKind::Okta => kcm_source_okta::read(inputs, opts),
        SourceKind::Firebase => kcm_source_firebase::read(inputs, opts),
    };
    stream.with_context(|| format!("cannot read the {} inputs", kind(source)))
}
