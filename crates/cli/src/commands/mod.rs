//! One module per command.

mod apply;
mod check_hash;
mod export;
mod inspect;
mod pipeline;
mod plan;
mod target;
mod verify;

use crate::args::{Cli, Command};
use crate::Outcome;

pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Inspect(args) => inspect::run(&args),
        Command::CheckHash(args) => check_hash::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Apply(args) => apply::run(&args),
        Command::Verify(args) => verify::run(&args),
    }
}
