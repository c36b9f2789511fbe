//! The kc-migrate command line: argument parsing, logging set-up, command dispatch and exit
//! codes.
//!
//! Exit codes (ripgrep style): 0 = every record was read and handled; 1 = the command
//! finished but some records were rejected; 2 = usage, configuration or fatal error. A broken
//! pipe on stdout is not an error.

mod args;
mod commands;
mod files;
mod job;
mod logging;
mod progress;
mod sources;

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

pub use args::Cli;

/// How a command ended, mapped to the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything read and handled.
    Clean,
    /// Finished, but some records were rejected.
    Rejections,
}

/// Exit code for a fatal, usage or configuration error.
pub const EXIT_FATAL: u8 = 2;

pub fn main() -> ExitCode {
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            // clap prints help/version to stdout with exit 0, usage errors to stderr with 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_FATAL } else { 0 });
        }
    };
    logging::init(cli.global.verbose, cli.global.quiet);
    // The subcommand's own matches tell which values came from flags or the environment.
    let sub = matches
        .subcommand()
        .map(|(_, m)| m.clone())
        .unwrap_or_default();
    match commands::run(cli, &sub) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Rejections) => ExitCode::from(1),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "error: {err:#}");
            ExitCode::from(EXIT_FATAL)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
