#!/usr/bin/env bash
# Benchmark kc-migrate on synthetic exports.
#
#   scripts/bench.sh                 # 1,000,000 users per provider (release build)
#   scripts/bench.sh --users 200000  # another size
#   scripts/bench.sh --smoke         # 1,000 users: checks the pipeline end to end in seconds
#
# Options:
#   --users N          users per provider (default 1000000)
#   --smoke            1,000 users (overrides --users)
#   --seed S           generator seed (default 42)
#   --providers LIST   space- or comma-separated subset of "auth0 okta firebase"
#   --debug            use a debug build (fast to compile; numbers meaningless; for CI smoke)
#   -h, --help         this text
#
# What it does:
#   1. cargo build --release -p kcm-cli -p kcm-gen
#   2. generates data with kcm-gen into target/bench-data/<provider>-<N>-s<seed>/, reusing a
#      directory whose stamp file matches (provider, users, seed, gzip, kcm-gen binary checksum)
#   3. per provider, prints a table: wall time, users/second, peak RSS, exit code and rejected
#      records for generation and `kc-migrate inspect`; rows for `plan`, `export` and `apply`
#      run once `kc-migrate help <cmd>` succeeds, and read "n/a (command not available yet)"
#      until then. Extra arguments for them come from BENCH_PLAN_ARGS, BENCH_EXPORT_ARGS and
#      BENCH_APPLY_ARGS (apply also needs KEYCLOAK_URL; it is skipped without it).
#   4. appends every row to target/bench-data/results.tsv.
#
# Peak RSS comes from GNU time (`/usr/bin/time -f`; `apt-get install time` if missing). Without
# it (or with BENCH_POLL_RSS=1) the script polls VmHWM in /proc/<pid>/status, which can miss a
# peak reached in the last 50 ms.
#
# Exit status: 0 when every command that ran exited 0 or 1 and inspect rejected nothing;
# 1 otherwise (so CI can run --smoke as a check); 2 on a usage error.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEFAULT_USERS=1000000
SMOKE_USERS=1000
USERS=$DEFAULT_USERS
SEED=42
PROVIDERS="auth0 okta firebase"
PROFILE=release

usage() { sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --users) USERS="${2:?--users needs a number}"; shift 2 ;;
        --smoke) SMOKE=1; shift ;;
        --seed) SEED="${2:?--seed needs a number}"; shift 2 ;;
        --providers) PROVIDERS="${2//,/ }"; shift 2 ;;
        --debug) PROFILE=debug; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ "${SMOKE:-0}" = 1 ] && USERS=$SMOKE_USERS
case "$USERS" in ''|*[!0-9]*) echo "bench.sh: --users must be a whole number" >&2; exit 2 ;; esac
case "$SEED" in ''|*[!0-9]*) echo "bench.sh: --seed must be a whole number" >&2; exit 2 ;; esac
for p in $PROVIDERS; do
    case "$p" in auth0|okta|firebase) ;; *) echo "bench.sh: unknown provider: $p" >&2; exit 2 ;; esac
done

cd "$ROOT"
if [ "$PROFILE" = release ]; then
    cargo build --release -p kcm-cli -p kcm-gen
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"
else
    cargo build -p kcm-cli -p kcm-gen
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug"
fi
KCM="$BIN/kc-migrate"
GEN="$BIN/kcm-gen"
DATA_ROOT="$ROOT/target/bench-data"
RESULTS="$DATA_ROOT/results.tsv"
mkdir -p "$DATA_ROOT"
[ -f "$RESULTS" ] || printf 'date\tprofile\tprovider\tusers\tstep\twall_s\tusers_per_s\tpeak_rss_kib\texit\trejected\n' >"$RESULTS"

if [ -z "${BENCH_POLL_RSS:-}" ] && [ -x /usr/bin/time ] && /usr/bin/time -f '%e' true 2>/dev/null; then
    HAVE_GNU_TIME=1
else
    HAVE_GNU_TIME=0
    echo "note: /usr/bin/time (GNU time) not found; peak RSS is polled from /proc (apt-get install time)" >&2
fi

# measure OUT ERR CMD... : run CMD with stdout/stderr to files; sets WALL (s), RSS (KiB), RC.
measure() {
    local out="$1" err="$2"; shift 2
    local tf; tf="$(mktemp)"
    RC=0
    if [ "$HAVE_GNU_TIME" = 1 ]; then
        /usr/bin/time -f '%e %M' -o "$tf" "$@" >"$out" 2>"$err" || RC=$?
        # GNU time puts "Command exited with non-zero status N" before the figures.
        read -r WALL RSS < <(tail -n 1 "$tf")
    else
        local start end pid hwm
        start="$(date +%s.%N)"
        "$@" >"$out" 2>"$err" &
        pid=$!
        RSS=0
        while kill -0 "$pid" 2>/dev/null; do
            hwm="$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)"
            [ -n "$hwm" ] && RSS="$hwm"
            sleep 0.05
        done
        wait "$pid" || RC=$?
        end="$(date +%s.%N)"
        WALL="$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}')"
    fi
    rm -f "$tf"
}

FAILED=0
NOW="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

row() { # step wall rss rc rejected
    local step="$1" wall="$2" rss="$3" rc="$4" rejected="$5" ups
    ups="$(awk -v n="$USERS" -v t="$wall" 'BEGIN {if (t > 0) printf "%.0f", n / t; else print "-"}')"
    printf '  %-10s %10s %12s %14s %6s %10s\n' "$step" "$wall" "$ups" \
        "$(awk -v k="$rss" 'BEGIN {printf "%.1f", k / 1024}')" "$rc" "$rejected"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$NOW" "$PROFILE" "$PROVIDER" "$USERS" \
        "$step" "$wall" "$ups" "$rss" "$rc" "$rejected" >>"$RESULTS"
    if [ "$rc" -ge 2 ]; then FAILED=1; fi
}

na_row() { printf '  %-10s %s\n' "$1" "$2"; }

# Generate (or reuse) one provider's data set; prints its table row.
generate() {
    local dir="$1" gzip_flag="$2" stamp want
    stamp="$dir/.kcm-gen-stamp"
    # The binary's checksum stands for the generator's logic: a changed generator regenerates.
    want="provider=$PROVIDER users=$USERS seed=$SEED gzip=${gzip_flag:-no} gen=$(sha256sum "$GEN" | cut -c1-16)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        na_row generate "reused $dir"
        return
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    measure "$dir/.gen.out" "$dir/.gen.err" \
        "$GEN" --provider "$PROVIDER" --users "$USERS" --seed "$SEED" --out "$dir" $gzip_flag
    row generate "$WALL" "$RSS" "$RC" "-"
    if [ "$RC" -ne 0 ]; then
        cat "$dir/.gen.err" >&2
        FAILED=1
        return 1
    fi
    echo "$want" >"$stamp"
}

has_command() { "$KCM" help "$1" >/dev/null 2>&1; }

# Run `kc-migrate <cmd> <inputs> <extra>` and print its row.
run_step() {
    local cmd="$1" extra="$2" out err rejected
    if ! has_command "$cmd"; then
        na_row "$cmd" "n/a (command not available yet)"
        return
    fi
    if [ "$cmd" = apply ] && [ -z "${KEYCLOAK_URL:-}" ]; then
        na_row "$cmd" "n/a (set KEYCLOAK_URL and BENCH_APPLY_ARGS to run it)"
        return
    fi
    out="$RUN_DIR/$cmd.out"
    err="$RUN_DIR/$cmd.err"
    # shellcheck disable=SC2086 # extra arguments are meant to split
    measure "$out" "$err" "$KCM" "$cmd" "${INPUTS[@]}" $extra
    rejected="-"
    if [ "$cmd" = inspect ]; then
        rejected="$(awk '/^  rejected:/ {print $2; exit}' "$out")"
        rejected="${rejected:-?}"
        if [ "$rejected" != 0 ]; then FAILED=1; fi
    fi
    row "$cmd" "$WALL" "$RSS" "$RC" "$rejected"
    if [ "$RC" -ge 2 ]; then sed 's/^/    stderr: /' "$err" | head -n 5 >&2; fi
}

for PROVIDER in $PROVIDERS; do
    DIR="$DATA_ROOT/$PROVIDER-$USERS-s$SEED"
    RUN_DIR="$DATA_ROOT/runs/$PROVIDER-$USERS-s$SEED"
    mkdir -p "$RUN_DIR"
    EXTRA_INSPECT=""
    case "$PROVIDER" in
        auth0)
            GZIP="--gzip"
            INPUTS=(--source auth0 "$DIR/users.ndjson.gz" --hashes "$DIR/password-hashes.ndjson" --roles "$DIR/roles.json")
            ;;
        okta)
            GZIP=""
            INPUTS=(--source okta "$DIR/users.csv" --memberships "$DIR/group-memberships.csv")
            ;;
        firebase)
            GZIP=""
            INPUTS=(--source firebase "$DIR/users.json")
            ;;
    esac
    echo
    echo "== $PROVIDER: $USERS users, seed $SEED, $PROFILE build ($DIR) =="
    printf '  %-10s %10s %12s %14s %6s %10s\n' step "wall s" "users/s" "peak RSS MiB" exit rejected
    generate "$DIR" "$GZIP" || continue
    run_step inspect "$EXTRA_INSPECT"
    # plan and export with the provider's example mapping; export refuses a directory that
    # already holds an export, so both start from empty directories.
    rm -rf "$RUN_DIR/plan" "$RUN_DIR/export"
    run_step plan "--offline --mapping mappings/$PROVIDER.toml --out $RUN_DIR/plan ${BENCH_PLAN_ARGS:-}"
    run_step export "--mapping mappings/$PROVIDER.toml --out $RUN_DIR/export ${BENCH_EXPORT_ARGS:-}"
    run_step apply "${BENCH_APPLY_ARGS:-}"
done
echo
echo "rows appended to $RESULTS; command output in $DATA_ROOT/runs/"
exit "$FAILED"
