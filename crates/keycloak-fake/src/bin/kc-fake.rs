//! `kc-fake`: runs the Keycloak emulator standalone and prints its base URL on stdout.
//!
//! The admin password comes from `--admin-password-file` or `KC_FAKE_ADMIN_PASSWORD`
//! (never from a plain flag, so it does not show in process listings or `--help`).

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use kcm_keycloak_fake::config::{
    DEFAULT_ADMIN_PASSWORD, DEFAULT_ADMIN_USERNAME, DEFAULT_KEYCLOAK_VERSION,
};
use kcm_keycloak_fake::{FakeConfig, FakeKeycloak, RealmSettings};

/// Environment variable holding the admin password when no file is given.
const ADMIN_PASSWORD_ENV: &str = "KC_FAKE_ADMIN_PASSWORD";

#[derive(Debug, Parser)]
#[command(
    name = "kc-fake",
    about = "Run the kc-migrate Keycloak Admin REST emulator"
)]
struct Args {
    /// Port on 127.0.0.1 (0 lets the OS choose).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Master admin user name.
    #[arg(long, default_value = DEFAULT_ADMIN_USERNAME)]
    admin_user: String,
    /// File whose first line is the admin password.
    #[arg(long)]
    admin_password_file: Option<PathBuf>,
    /// Admin password (environment only).
    #[arg(
        long = "admin-password",
        env = "KC_FAKE_ADMIN_PASSWORD",
        hide = true,
        hide_env_values = true
    )]
    admin_password_env: Option<String>,
    /// Password-hash provider id the server offers (repeatable; default: Keycloak 25+ set).
    #[arg(long = "hash-provider")]
    hash_providers: Vec<String>,
    /// Access-token lifespan of the master realm in seconds.
    #[arg(long)]
    token_lifespan_secs: Option<u64>,
    /// Realm to create at start (repeatable).
    #[arg(long = "realm")]
    realms: Vec<String>,
    /// Version reported by serverinfo.
    #[arg(long, default_value = DEFAULT_KEYCLOAK_VERSION)]
    keycloak_version: String,
    /// Pretend an SMTP server is configured (execute-actions-email succeeds).
    #[arg(long)]
    smtp: bool,
    /// Latency added to every Admin API request, in milliseconds (benchmarks).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let from_env = std::env::var(ADMIN_PASSWORD_ENV).ok();
    let admin_password = match (&args.admin_password_file, from_env) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading admin password file {}", path.display()))?;
            text.lines().next().unwrap_or_default().to_string()
        }
        (None, Some(p)) => p,
        (None, None) => DEFAULT_ADMIN_PASSWORD.to_string(),
    };
    let mut config = FakeConfig {
        port: args.port,
        admin_username: args.admin_user,
        admin_password,
        keycloak_version: args.keycloak_version,
        smtp_configured: args.smtp,
        ..Default::default()
    };
    if !args.hash_providers.is_empty() {
        config.hash_providers = args.hash_providers;
    }
    if let Some(secs) = args.token_lifespan_secs {
        config.access_token_lifespan = Duration::from_secs(secs);
    }
    config.realms = args.realms.into_iter().map(RealmSettings::new).collect();
    config.faults.latency = Duration::from_millis(args.latency_ms);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        let fake = FakeKeycloak::start(config)
            .await
            .context("starting the server")?;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "{}", fake.base_url)?;
        stdout.flush()?;
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        fake.shutdown();
        Ok(())
    })
}
