//! `kcm-fuzz`: a mutation-based fuzz driver for stable Rust (no libFuzzer needed).
//!
//! For each target it loads the seed corpus, runs every seed, then applies seeded,
//! deterministic mutations for a fixed time, keeping inputs that show new behaviour (item
//! kinds and message shapes) as further starting points. A panic, a hang past the timeout or
//! a broken invariant writes the input to `crates/fuzz/crashes/<target>-<hash>.bin`, prints
//! it and ends the run with exit code 1 (`--keep-going` collects distinct crashes instead).
//! See the crate README for the commands.

use std::collections::HashSet;
use std::io::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use kcm_fuzz::mutate::{Mutator, Rng};
use kcm_fuzz::{seeds, Target, TARGETS};
use sha2::{Digest, Sha256};

/// Default time per target.
const DEFAULT_SECONDS: u64 = 60;
/// Default seed of the mutation RNG.
const DEFAULT_SEED: u64 = 1;
/// One execution longer than this is reported as a hang.
const DEFAULT_TIMEOUT_MS: u64 = 10_000;
/// Most inputs kept in the working corpus.
const MAX_CORPUS: usize = 4096;
/// Bytes of a crashing input printed on the terminal.
const SHOWN_BYTES: usize = 600;
/// How often the watchdog looks at the running execution.
const WATCHDOG_TICK: Duration = Duration::from_millis(200);

#[derive(Parser, Debug)]
#[command(
    name = "kcm-fuzz",
    about = "Fuzz kc-migrate's parsers and mapping loader"
)]
struct Args {
    /// Target name, or `all` to run every target one after the other.
    #[arg(long, default_value = "all")]
    target: String,
    /// Seconds per target.
    #[arg(long, default_value_t = DEFAULT_SECONDS)]
    seconds: u64,
    /// Seed of the mutation RNG (runs are reproducible for a given seed and corpus).
    #[arg(long, default_value_t = DEFAULT_SEED)]
    seed: u64,
    /// Milliseconds after which one execution counts as a hang.
    #[arg(long, default_value_t = DEFAULT_TIMEOUT_MS)]
    timeout_ms: u64,
    /// Keep fuzzing after a crash, collecting distinct crashes (by panic location).
    #[arg(long)]
    keep_going: bool,
    /// Where crashing inputs go (default: crates/fuzz/crashes).
    #[arg(long)]
    crash_dir: Option<PathBuf>,
    /// Run one file through its target (reproduce a crash) instead of fuzzing.
    #[arg(long)]
    replay: Option<PathBuf>,
    /// With --replay: also print what a source target's parser yields, item by item.
    #[arg(long)]
    dump: bool,
    /// List the targets and their seed counts.
    #[arg(long)]
    list: bool,
}

/// The last panic's message and location, captured by the hook.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

fn install_panic_hook() {
    panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "<non-string panic>".to_string());
        let place = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        if let Ok(mut slot) = LAST_PANIC.lock() {
            *slot = Some(format!("{place}: {msg}"));
        }
    }));
}

/// The execution the watchdog looks at: the input and when it started (0 = idle).
struct Running {
    input: Mutex<Vec<u8>>,
    started_ms: AtomicU64,
    target: Mutex<&'static str>,
    stop: AtomicBool,
}

struct Stats {
    execs: u64,
    /// Executions that hit a known bug (not counted as crashes).
    known: u64,
    crashes: Vec<PathBuf>,
    corpus: usize,
    features: usize,
    elapsed: Duration,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("kcm-fuzz: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> anyhow::Result<bool> {
    if args.list {
        for t in TARGETS {
            println!("{:<18} {} seeds", t.name, seeds::load(t).len());
        }
        return Ok(true);
    }
    let targets: Vec<&'static Target> = if args.target == "all" {
        TARGETS.iter().collect()
    } else {
        match kcm_fuzz::target(&args.target) {
            Some(t) => vec![t],
            None => bail!(
                "unknown target `{}`; one of: all, {}",
                args.target,
                TARGETS
                    .iter()
                    .map(|t| t.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    };
    let crash_dir = args
        .crash_dir
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("crashes"));
    if let Some(file) = &args.replay {
        // The default hook stays: it prints the message, and a backtrace with RUST_BACKTRACE=1.
        let data = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        let mut ok = true;
        for t in targets {
            if args.dump {
                for line in kcm_fuzz::dump(t.name, &data).unwrap_or_default() {
                    println!("  {line}");
                }
            }
            match exec(t, &data) {
                Ok(()) => println!("{}: ok", t.name),
                Err(msg) => {
                    println!("{}: PANIC {msg}", t.name);
                    ok = false;
                }
            }
        }
        return Ok(ok);
    }
    install_panic_hook();
    std::fs::create_dir_all(&crash_dir)
        .with_context(|| format!("creating {}", crash_dir.display()))?;

    let running = Arc::new(Running {
        input: Mutex::new(Vec::new()),
        started_ms: AtomicU64::new(0),
        target: Mutex::new(""),
        stop: AtomicBool::new(false),
    });
    let origin = Instant::now();
    let watchdog = spawn_watchdog(running.clone(), origin, args.timeout_ms, crash_dir.clone());

    let mut all_ok = true;
    let mut rows = Vec::new();
    for t in targets {
        let stats = fuzz_target(t, args, &crash_dir, &running, origin)?;
        let rate = stats.execs as f64 / stats.elapsed.as_secs_f64().max(1e-9);
        println!(
            "{:<18} {:>9} execs  {:>8.0} execs/s  corpus {:>4}  features {:>5}  crashes {}  known-bug hits {}",
            t.name,
            stats.execs,
            rate,
            stats.corpus,
            stats.features,
            stats.crashes.len(),
            stats.known
        );
        all_ok &= stats.crashes.is_empty();
        rows.push((t.name, stats));
        if !all_ok && !args.keep_going {
            break;
        }
    }
    running.stop.store(true, Ordering::SeqCst);
    let _ = watchdog.join();
    println!("\nsummary:");
    for (name, stats) in &rows {
        let verdict = if stats.crashes.is_empty() {
            "ok".to_string()
        } else {
            format!("{} crash(es)", stats.crashes.len())
        };
        println!(
            "  {name:<18} {:>9} execs in {:>5.1}s: {verdict}",
            stats.execs,
            stats.elapsed.as_secs_f64()
        );
        for c in &stats.crashes {
            println!("    {}", c.display());
        }
    }
    Ok(all_ok)
}

/// Run one input, catching a panic; `Err` carries the panic's location and message.
fn exec(t: &Target, data: &[u8]) -> Result<(), String> {
    match panic::catch_unwind(AssertUnwindSafe(|| (t.run)(data))) {
        Ok(_) => Ok(()),
        Err(_) => Err(LAST_PANIC
            .lock()
            .ok()
            .and_then(|mut s| s.take())
            .unwrap_or_else(|| "(message printed above)".to_string())),
    }
}

fn fuzz_target(
    t: &'static Target,
    args: &Args,
    crash_dir: &Path,
    running: &Running,
    origin: Instant,
) -> anyhow::Result<Stats> {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.seconds);
    if let Ok(mut name) = running.target.lock() {
        *name = t.name;
    }
    let seeds = seeds::load(t);
    if seeds.is_empty() {
        bail!("target {} has no seeds", t.name);
    }
    let mut corpus: Vec<Vec<u8>> = Vec::new();
    let mut seen_features: HashSet<u64> = HashSet::new();
    let mut seen_crashes: HashSet<String> = HashSet::new();
    let mut stats = Stats {
        execs: 0,
        known: 0,
        crashes: Vec::new(),
        corpus: 0,
        features: 0,
        elapsed: Duration::ZERO,
    };
    let mut rng = Rng::new(args.seed ^ fxhash(t.name.as_bytes()));
    let mut queue: Vec<Vec<u8>> = seeds.clone();
    loop {
        let input = if let Some(seed) = queue.pop() {
            seed
        } else {
            if Instant::now() >= deadline {
                break;
            }
            let base = pick(&mut rng, &corpus, &seeds);
            let other = pick(&mut rng, &corpus, &seeds);
            let mut m = Mutator {
                rng: Rng::new(rng.next_u64()),
                dictionary: t.dictionary,
            };
            m.mutate(&base, &other)
        };
        if let Ok(mut slot) = running.input.lock() {
            slot.clear();
            slot.extend_from_slice(&input);
        }
        running
            .started_ms
            .store(origin.elapsed().as_millis() as u64 + 1, Ordering::SeqCst);
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| (t.run)(&input)));
        running.started_ms.store(0, Ordering::SeqCst);
        stats.execs += 1;
        match outcome {
            Ok(summary) => {
                let before = seen_features.len();
                seen_features.extend(summary.features.iter().copied());
                let new = seen_features.len() > before;
                if new && corpus.len() < MAX_CORPUS {
                    corpus.push(input);
                }
            }
            Err(_) => {
                let msg = LAST_PANIC
                    .lock()
                    .ok()
                    .and_then(|mut s| s.take())
                    .unwrap_or_else(|| "<unknown panic>".to_string());
                if let Some(bug) = kcm_fuzz::known_bug(t.name, &msg) {
                    // Already reported (regressions/ + an ignored test): note it once, go on.
                    if seen_crashes.insert(format!("known:{}", bug.what)) {
                        let path = save_crash(crash_dir, t.name, "known-", &input)?;
                        println!(
                            "known bug ({}) hit: {} [{}]",
                            bug.owner,
                            bug.what,
                            path.display()
                        );
                    }
                    stats.known += 1;
                    continue;
                }
                if !seen_crashes.insert(crash_key(&msg)) {
                    continue;
                }
                let path = save_crash(crash_dir, t.name, "", &input)?;
                report_crash(t.name, &path, &msg, &input);
                stats.crashes.push(path);
                if !args.keep_going {
                    break;
                }
            }
        }
    }
    stats.corpus = corpus.len();
    stats.features = seen_features.len();
    stats.elapsed = start.elapsed();
    Ok(stats)
}

/// Crashes are told apart by panic location and message shape (digits and quoted values
/// dropped), so one bug found through many inputs is reported once.
fn crash_key(msg: &str) -> String {
    let mut key = String::new();
    let mut quoted = false;
    for c in msg.chars().take(160) {
        match c {
            '`' | '"' => quoted = !quoted,
            _ if quoted => {}
            c if c.is_ascii_digit() => {}
            c => key.push(c),
        }
    }
    key
}

fn pick(rng: &mut Rng, corpus: &[Vec<u8>], seeds: &[Vec<u8>]) -> Vec<u8> {
    // Seeds stay in the mix so the corpus does not drift away from real formats.
    let from_corpus = !corpus.is_empty() && !rng.chance(3);
    let pool = if from_corpus { corpus } else { seeds };
    pool.get(rng.index(pool.len())).cloned().unwrap_or_default()
}

fn fxhash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn save_crash(dir: &Path, target: &str, kind: &str, input: &[u8]) -> anyhow::Result<PathBuf> {
    let digest = hex::encode(Sha256::digest(input));
    let short = digest.get(..16).unwrap_or(&digest);
    let path = dir.join(format!("{target}-{kind}{short}.bin"));
    std::fs::write(&path, input).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

fn report_crash(target: &str, path: &Path, msg: &str, input: &[u8]) {
    let shown = String::from_utf8_lossy(input.get(..SHOWN_BYTES).unwrap_or(input));
    println!("\n=== CRASH in {target}: {msg}");
    println!("input ({} bytes) saved to {}", input.len(), path.display());
    println!(
        "{:?}{}",
        shown,
        if input.len() > SHOWN_BYTES {
            " …"
        } else {
            ""
        }
    );
    let _ = std::io::stdout().flush();
}

/// A thread that saves the running input and ends the process when one execution takes
/// longer than the timeout (a hang cannot be caught like a panic).
fn spawn_watchdog(
    running: Arc<Running>,
    origin: Instant,
    timeout_ms: u64,
    crash_dir: PathBuf,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !running.stop.load(Ordering::SeqCst) {
            std::thread::sleep(WATCHDOG_TICK);
            let started = running.started_ms.load(Ordering::SeqCst);
            let now = origin.elapsed().as_millis() as u64 + 1;
            if started == 0 || now.saturating_sub(started) < timeout_ms {
                continue;
            }
            let target = running.target.lock().map(|t| *t).unwrap_or("unknown");
            let input = running.input.lock().map(|i| i.clone()).unwrap_or_default();
            match save_crash(&crash_dir, target, "timeout-", &input) {
                Ok(path) => report_crash(
                    target,
                    &path,
                    &format!("hang: one execution ran longer than {timeout_ms} ms"),
                    &input,
                ),
                Err(e) => eprintln!("kcm-fuzz: {e:#}"),
            }
            std::process::exit(1);
        }
    })
}
