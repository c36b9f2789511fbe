//! The offline pipeline shared by `plan` and `export`: load the mapping, open the source,
//! push every record through the transform, and hand each outcome to the caller.

use anyhow::Context as _;
use kcm_transform::{
    HashCapabilities, Mapping, OptionsError, Outcome, PlanSummary, TransformOptions, Transformer,
};

use crate::args::{InputArgs, MappingArgs};
use crate::sources;

/// A loaded mapping with the options the command line adds.
pub struct Prepared {
    pub mapping: Mapping,
    pub options: TransformOptions,
    pub realm: String,
    pub source: crate::args::SourceArg,
}

pub fn prepare(input: &InputArgs, args: &MappingArgs) -> anyhow::Result<Prepared> {
    let path = args
        .mapping
        .as_deref()
        .context("no mapping file: give --mapping FILE or `mapping` in the job file")?;
    let mapping = Mapping::from_path(path)?;
    for warning in mapping.warnings() {
        tracing::warn!("{}: {warning}", path.display());
    }
    let source = sources::resolve(input.source, Some(mapping.source()))?;
    let mut options = match TransformOptions::from_mapping(&mapping) {
        Ok(options) => options,
        // Without the Firebase project parameters the hashes cannot be carried over; the
        // plan still runs and those users get UPDATE_PASSWORD (reason missing_firebase_params).
        Err(err @ OptionsError::MissingEnv { .. }) => {
            tracing::warn!(
                "{}: {err}; Firebase password hashes will not be carried over (users get UPDATE_PASSWORD)",
                path.display()
            );
            TransformOptions {
                capabilities: mapping
                    .passwords()
                    .providers
                    .iter()
                    .fold(HashCapabilities::keycloak_default(), |caps, id| {
                        caps.with(id.clone())
                    }),
                firebase: None,
            }
        }
        Err(err) => {
            return Err(err).with_context(|| format!("{}: password settings", path.display()))
        }
    };
    for id in &args.hash_providers {
        options.capabilities = options.capabilities.clone().with(id.clone());
    }
    let realm = args
        .realm
        .clone()
        .unwrap_or_else(|| mapping.realm().to_string());
    Ok(Prepared {
        mapping,
        options,
        realm,
        source,
    })
}

/// Environment variable that sets how many threads plan users (see [`workers`]).
pub const WORKERS_ENV: &str = "KC_MIGRATE_WORKERS";

/// Threads that plan users beside the one reading the input: `KC_MIGRATE_WORKERS` when set
/// (0 plans everything on one thread), else one per core beyond the first.
pub fn workers() -> anyhow::Result<usize> {
    match std::env::var(WORKERS_ENV) {
        Ok(v) => v.trim().parse().with_context(|| {
            format!("{WORKERS_ENV}={v:?}: expected a number of threads (0 or more)")
        }),
        Err(_) => Ok(kcm_transform::default_workers()),
    }
}

/// Stream the inputs through the transform; `each` sees every outcome, in order, including
/// those produced at the end (memberships that matched no user). Users are planned on worker
/// threads when the machine has more than one core.
pub fn run(
    input: &InputArgs,
    prepared: Prepared,
    each: impl FnMut(&Outcome) -> anyhow::Result<()>,
) -> anyhow::Result<PlanSummary> {
    let stream = sources::open(input, prepared.source)?;
    let transformer = Transformer::new(prepared.mapping, prepared.options);
    let mut summary = transformer.run(stream, workers()?, each)?;
    // `--realm` overrides the mapping's realm for everything written from the summary.
    summary.realm = prepared.realm;
    Ok(summary)
}
