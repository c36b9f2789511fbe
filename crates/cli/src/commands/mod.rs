//! One module per command.

mod apply;
mod check_hash;
mod cutover;
mod export;
mod inspect;
mod pipeline;
mod plan;
mod target;
mod verify;

use clap::ArgMatches;

use crate::args::{Cli, Command};
use crate::job;
use crate::Outcome;

/// Run a command after merging its job file (if any): flags > environment > job file.
pub fn run(cli: Cli, m: &ArgMatches) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Inspect(mut args) => {
            job::merge_input(m, &mut args.input)?;
            inspect::run(&args)
        }
        Command::CheckHash(args) => check_hash::run(&args),
        Command::Rollback(args) => cutover::rollback(&args),
        Command::Notify(mut args) => {
            // E-mail is slow and visible to people: a low default rate unless one was given.
            if !matches!(
                m.value_source("rate"),
                Some(clap::parser::ValueSource::CommandLine)
            ) {
                args.target.rate = kcm_sink_keycloak::DEFAULT_NOTIFY_RATE;
            }
            cutover::notify(&args)
        }
        Command::Plan(mut args) => {
            let job = job::merge_input(m, &mut args.input)?;
            job::merge_mapping(m, &mut args.mapping, job.as_ref())?;
            job::merge_target(m, &mut args.target, job.as_ref());
            job::merge_out(m, &mut args.out, job.as_ref());
            plan::run(&args)
        }
        Command::Export(mut args) => {
            let job = job::merge_input(m, &mut args.input)?;
            job::merge_mapping(m, &mut args.mapping, job.as_ref())?;
            job::merge_out_opt(m, &mut args.out, job.as_ref());
            export::run(&args)
        }
        Command::Apply(mut args) => {
            let job = job::merge_input(m, &mut args.input)?;
            job::merge_mapping(m, &mut args.mapping, job.as_ref())?;
            job::merge_target(m, &mut args.target, job.as_ref());
            job::merge_out(m, &mut args.out, job.as_ref());
            let (b, o, c, u) = (
                &mut args.batch_size,
                &mut args.on_existing,
                &mut args.create_realm,
                &mut args.user_profile,
            );
            job::merge_load(m, job.as_ref(), b, o, c, u);
            apply::run(&args)
        }
        Command::Verify(mut args) => {
            let job = job::merge_input(m, &mut args.input)?;
            job::merge_mapping(m, &mut args.mapping, job.as_ref())?;
            job::merge_target(m, &mut args.target, job.as_ref());
            job::merge_out(m, &mut args.out, job.as_ref());
            verify::run(&args)
        }
    }
}
