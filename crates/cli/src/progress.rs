//! Progress bars on stderr for long Keycloak phases. They are drawn only when stderr is a
//! terminal, so logs, pipes and CI output stay clean.

use std::io::IsTerminal as _;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use kcm_sink_keycloak::{Phase, Progress};

pub struct Bars {
    multi: MultiProgress,
    /// Users expected in the users phase (known from the plan), for a bar with an ETA.
    users_total: Option<u64>,
    bars: Mutex<Vec<(Phase, ProgressBar)>>,
}

impl Bars {
    pub fn new(users_total: Option<u64>) -> Self {
        let target = if std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Self {
            multi: MultiProgress::with_draw_target(target),
            users_total,
            bars: Mutex::new(Vec::new()),
        }
    }

    fn bar(&self, phase: Phase) -> Option<ProgressBar> {
        let bars = self.bars.lock().ok()?;
        bars.iter()
            .find(|(p, _)| *p == phase)
            .map(|(_, b)| b.clone())
    }
}

fn label(phase: Phase) -> &'static str {
    match phase {
        Phase::Preflight => "preflight",
        Phase::Structure => "roles/groups",
        Phase::Users => "users",
        Phase::Reconcile => "reconcile",
        Phase::Verify => "verify",
    }
}

impl Progress for Bars {
    fn start(&self, phase: Phase, total: Option<u64>) {
        let total = total.or(if phase == Phase::Users {
            self.users_total
        } else {
            None
        });
        let bar = match total {
            Some(n) => ProgressBar::new(n).with_style(
                ProgressStyle::with_template(
                    "{prefix:>12} [{bar:30}] {pos}/{len} {per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{prefix:>12} {spinner} {pos} {per_sec}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        let bar = self.multi.add(bar.with_prefix(label(phase)));
        if let Ok(mut bars) = self.bars.lock() {
            bars.push((phase, bar));
        }
    }

    fn advance(&self, phase: Phase, done: u64) {
        if let Some(bar) = self.bar(phase) {
            bar.inc(done);
        }
    }

    fn finish(&self, phase: Phase) {
        if let Some(bar) = self.bar(phase) {
            bar.finish_and_clear();
        }
    }
}
