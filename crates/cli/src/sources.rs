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

/// Open every input of a run; an unreadable file or unknown format is fatal here.
pub fn open(args: &InputArgs) -> anyhow::Result<SourceStream> {
    let inputs = SourceInputs {
        users: args.files.clone(),
        hashes: args.hashes.clone(),
        roles: args.roles.clone(),
        memberships: args.memberships.clone(),
    };
    let opts = ReadOptions {
        max_record_bytes: args.max_record_size,
    };
    open_inputs(args.source, &inputs, &opts)
}

pub fn open_inputs(source: SourceArg, inputs: &SourceInputs, opts: &ReadOptions) -> anyhow::Result<SourceStream> {
    let stream = match kind(source) {
        SourceKind::Auth0 => kcm_source_auth0::read(inputs, opts),
        SourceKind::Okta => kcm_source_okta::read(inputs, opts),
        SourceKind::Firebase => kcm_source_firebase::read(inputs, opts),
    };
    stream.with_context(|| format!("cannot read the {} inputs", kind(source)))
}
