//! `kcm-gen` binary: parse arguments, generate, print a one-line summary on stderr.
//! Exit codes: 0 success, 2 usage or write error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use kcm_gen::{generate, GenOptions, Provider, DEFAULT_SEED};

/// Generate synthetic Auth0 / Okta / Firebase user exports (deterministic for a seed).
#[derive(Debug, Parser)]
#[command(name = "kcm-gen", version, about)]
struct Args {
    /// Export format to write.
    #[arg(long, value_enum)]
    provider: ProviderArg,
    /// Number of users.
    #[arg(long, value_name = "N")]
    users: u64,
    /// Random seed; the same seed and size give byte-identical files.
    #[arg(long, value_name = "S", default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Output directory (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Gzip the users file (users.ndjson.gz, users.csv.gz, users.json.gz).
    #[arg(long)]
    gzip: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ProviderArg {
    Auth0,
    Okta,
    Firebase,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let opts = GenOptions {
        provider: match args.provider {
            ProviderArg::Auth0 => Provider::Auth0,
            ProviderArg::Okta => Provider::Okta,
            ProviderArg::Firebase => Provider::Firebase,
        },
        users: args.users,
        seed: args.seed,
        out_dir: args.out,
        gzip: args.gzip,
    };
    match generate(&opts) {
        Ok(report) => {
            eprintln!("{}", report.summary_line());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("kcm-gen: error: {err}");
            ExitCode::from(2)
        }
    }
}
