#!/usr/bin/env bash
# Benchmark `kc-migrate apply` against the Keycloak emulator (kc-fake) and compare batch sizes.
#
#   scripts/bench-apply.sh                                   # 100,000 Okta users, batch 250 (the default)
#   scripts/bench-apply.sh --batch-sizes "50 100 200 500 1000" --rate 1000
#   scripts/bench-apply.sh --smoke                           # 1,000 users, seconds (CI check)
#
# Options:
#   --users N            users to generate and load (default 100000)
#   --smoke              1,000 users (overrides --users)
#   --provider P         okta (default; no hashes, cheap transform) or auth0 (bcrypt hashes,
#                        roles; the emulator then offers the bcrypt provider)
#   --batch-sizes LIST   space- or comma-separated batch sizes, one run each (default "250", the product default)
#   --rate R             kc-migrate --rate, requests per second (default 20, the product default)
#   --concurrency C      kc-migrate --concurrency (default 2, the product default)
#   --latency-ms MS      delay added to every request by a local proxy (default 5; see below)
#   --direct             no proxy: kc-migrate talks to kc-fake directly (no added latency; the
#                        HTTP totals then come from apply-report.json and miss the requests
#                        made before the load phase; bytes per batch are not measured)
#   --seed S             generator seed (default 42)
#   --no-build           use the release binaries already in target/release
#   -h, --help           this text
#
# What it does:
#   1. cargo build --release -p kcm-cli -p kcm-gen -p kcm-keycloak-fake (a no-op when fresh)
#   2. generates data with kcm-gen into target/bench-data/apply-<provider>-<N>-s<seed>/,
#      reusing it while the size, seed and kcm-gen binary are unchanged
#   3. per batch size: starts a fresh kc-fake (127.0.0.1, random port, realm from the mapping),
#      a small Python counting proxy in front of it, and runs `kc-migrate apply` under GNU time
#      (/usr/bin/time) with KEYCLOAK_URL/KEYCLOAK_USER/KEYCLOAK_PASSWORD set; then stops both
#   4. prints a table and appends it to target/bench-data/apply-results.tsv; each run's files
#      (apply output, apply-report.json, proxy log) stay in target/bench-data/apply-runs/
#
# The proxy exists because kc-fake has no --latency-ms flag (the emulator library supports
# `Faults::latency`, the binary does not expose it): it sleeps --latency-ms before forwarding
# each request, and logs every request (start, end, method, path, body bytes, status), which
# gives the HTTP total including token grants and preflight, the partialImport body size and
# the request rate achieved during the load phase. It is Python (asyncio) and costs some CPU of
# its own; kc-migrate's CPU time is measured for the kc-migrate process alone.
#
# Columns: wall s = whole kc-migrate process (two passes over the input, preflight, structure,
# load); http = all HTTP requests; load req = requests from the first partialImport on;
# req/1k = load req per 1,000 users loaded; rate = load-phase requests per second
# ((load req - 1) / (last start - first partialImport start)); cpu s = user+sys of kc-migrate;
# cpu/10k = cpu s per 10,000 users; KiB/batch = mean partialImport body; users/s = users
# loaded per second of load phase.
#
# Exit status: 0 when every run completed (kc-migrate exit 0 or 1, i.e. clean or with
# per-record rejections) and loaded users; 1 when a run failed; 2 on a usage error.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEFAULT_USERS=100000
SMOKE_USERS=1000
USERS=$DEFAULT_USERS
SEED=42
PROVIDER=okta
BATCH_SIZES="250"
RATE=20
CONCURRENCY=2
LATENCY_MS=5
DIRECT=0
# Seconds to wait for kc-fake / the proxy to print their address.
STARTUP_TIMEOUT_S=20
ADMIN_USER=admin
# A throw-away password for a throw-away emulator bound to 127.0.0.1.
ADMIN_PASSWORD="bench-$$-$RANDOM"

usage() { sed -n '2,/^$/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die_usage() { echo "bench-apply.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --users) USERS="${2:?--users needs a number}"; shift 2 ;;
        --smoke) SMOKE=1; shift ;;
        --provider) PROVIDER="${2:?--provider needs okta or auth0}"; shift 2 ;;
        --batch-sizes) BATCH_SIZES="${2//,/ }"; shift 2 ;;
        --rate) RATE="${2:?--rate needs a number}"; shift 2 ;;
        --concurrency) CONCURRENCY="${2:?--concurrency needs a number}"; shift 2 ;;
        --latency-ms) LATENCY_MS="${2:?--latency-ms needs a number}"; shift 2 ;;
        --direct) DIRECT=1; shift ;;
        --seed) SEED="${2:?--seed needs a number}"; shift 2 ;;
        --no-build) NO_BUILD=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die_usage "unknown argument: $1 (see --help)" ;;
    esac
done
[ "${SMOKE:-0}" = 1 ] && USERS=$SMOKE_USERS
is_uint() { case "$1" in ''|*[!0-9]*) return 1 ;; *) return 0 ;; esac; }
is_uint "$USERS" && [ "$USERS" -gt 0 ] || die_usage "--users must be a positive whole number"
is_uint "$SEED" || die_usage "--seed must be a whole number"
is_uint "$CONCURRENCY" && [ "$CONCURRENCY" -gt 0 ] || die_usage "--concurrency must be a positive whole number"
is_uint "$LATENCY_MS" || die_usage "--latency-ms must be a whole number"
case "$RATE" in ''|*[!0-9.]*|*.*.*) die_usage "--rate must be a positive number" ;; esac
[ -n "$BATCH_SIZES" ] || die_usage "--batch-sizes is empty"
for b in $BATCH_SIZES; do
    is_uint "$b" && [ "$b" -gt 0 ] || die_usage "batch sizes must be positive whole numbers: $b"
done
case "$PROVIDER" in okta|auth0) ;; *) die_usage "--provider must be okta or auth0" ;; esac
command -v python3 >/dev/null || { echo "bench-apply.sh: python3 is required" >&2; exit 1; }
[ -x /usr/bin/time ] && /usr/bin/time -f '%e' true 2>/dev/null \
    || { echo "bench-apply.sh: GNU time (/usr/bin/time) is required (apt-get install time)" >&2; exit 1; }

cd "$ROOT"
if [ "${NO_BUILD:-0}" = 0 ]; then
    cargo build --release -p kcm-cli -p kcm-gen -p kcm-keycloak-fake
fi
DATA_ROOT="$ROOT/target/bench-data"
DATA="$DATA_ROOT/apply-$PROVIDER-$USERS-s$SEED"
RUNS="$DATA_ROOT/apply-runs"
RESULTS="$DATA_ROOT/apply-results.tsv"
# A private copy of the binaries: a build in the shared checkout during the runs cannot
# change what is measured half-way.
BIN="$RUNS/bin"
mkdir -p "$BIN"
for exe in kc-migrate kcm-gen kc-fake; do
    [ -x "$ROOT/target/release/$exe" ] \
        || { echo "bench-apply.sh: target/release/$exe missing (run without --no-build)" >&2; exit 1; }
    cp "$ROOT/target/release/$exe" "$BIN/$exe"
done
KCM="$BIN/kc-migrate"
GEN="$BIN/kcm-gen"
FAKE="$BIN/kc-fake"

# ---- data ----------------------------------------------------------------------------------
case "$PROVIDER" in
    okta)
        GZIP=""
        MAPPING="$ROOT/mappings/okta.toml"
        INPUTS=("$DATA/users.csv" --memberships "$DATA/group-memberships.csv")
        FAKE_EXTRA=()
        ;;
    auth0)
        GZIP="--gzip"
        MAPPING="$ROOT/mappings/auth0.toml"
        INPUTS=("$DATA/users.ndjson.gz" --hashes "$DATA/password-hashes.ndjson" --roles "$DATA/roles.json")
        # The Auth0 mapping carries bcrypt hashes: offer the plugin's provider besides the
        # Keycloak 25+ natives, as a target with keycloak-bcrypt installed would.
        FAKE_EXTRA=(--hash-provider pbkdf2 --hash-provider pbkdf2-sha256 --hash-provider pbkdf2-sha512
                    --hash-provider argon2 --hash-provider bcrypt)
        ;;
esac
STAMP="$DATA/.kcm-gen-stamp"
WANT="provider=$PROVIDER users=$USERS seed=$SEED gen=$(sha256sum "$GEN" | cut -c1-16)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
    echo "data: reusing $DATA"
else
    rm -rf "$DATA"
    mkdir -p "$DATA"
    "$GEN" --provider "$PROVIDER" --users "$USERS" --seed "$SEED" --out "$DATA" $GZIP
    echo "$WANT" >"$STAMP"
fi
if [ "$PROVIDER" = auth0 ]; then
    # One JSON record per role lists all its members: above the 1 MiB default at this scale.
    INPUTS+=(--max-record-size "$(( $(stat -c %s "$DATA/roles.json") + 1 ))")
fi
REALM="$(sed -n 's/^realm *= *"\([^"]*\)".*/\1/p' "$MAPPING" | head -n 1)"
[ -n "$REALM" ] || { echo "bench-apply.sh: no realm in $MAPPING" >&2; exit 1; }

# ---- the counting / latency proxy ------------------------------------------------------------
PROXY_PY="$RUNS/latency-proxy.py"
cat >"$PROXY_PY" <<'PY'
"""HTTP/1.1 reverse proxy for bench-apply.sh: delays each request, logs one TSV line per request.

usage: latency-proxy.py UPSTREAM_HOST UPSTREAM_PORT LATENCY_MS LOG_FILE
Prints the base URL it listens on (127.0.0.1, random port), then serves until killed.
Log columns: start end method path request_body_bytes status (times: time.monotonic()).
"""
import asyncio
import sys
import time

UPSTREAM_HOST, UPSTREAM_PORT = sys.argv[1], int(sys.argv[2])
LATENCY_S = int(sys.argv[3]) / 1000.0
LOG = open(sys.argv[4], "a", buffering=1)
MAX_HEAD = 64 * 1024


def parse_head(head):
    lines = head.split(b"\r\n")
    headers = {}
    for line in lines[1:]:
        if b":" in line:
            k, v = line.split(b":", 1)
            headers[k.strip().lower()] = v.strip()
    return lines[0].decode("latin-1"), headers


async def read_body(reader, headers, until_eof):
    """Raw body bytes (chunked framing kept, since it is forwarded as is) and payload size."""
    if b"content-length" in headers:
        n = int(headers[b"content-length"])
        return await reader.readexactly(n), n
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        raw, size = bytearray(), 0
        while True:
            line = await reader.readuntil(b"\r\n")
            raw += line
            n = int(line.split(b";")[0].strip(), 16)
            if n == 0:
                while True:
                    trailer = await reader.readuntil(b"\r\n")
                    raw += trailer
                    if trailer == b"\r\n":
                        return bytes(raw), size
            raw += await reader.readexactly(n + 2)
            size += n
    if until_eof:
        data = await reader.read()
        return data, len(data)
    return b"", 0


async def handle(client_r, client_w):
    up_r = up_w = None
    try:
        while True:
            try:
                head = await client_r.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            start = time.monotonic()
            request_line, headers = parse_head(head)
            method, target = (request_line.split(" ") + ["", ""])[:2]
            body, body_len = await read_body(client_r, headers, False)
            if LATENCY_S > 0:
                await asyncio.sleep(LATENCY_S)
            if up_w is None:
                up_r, up_w = await asyncio.open_connection(UPSTREAM_HOST, UPSTREAM_PORT)
            up_w.write(head + body)
            await up_w.drain()
            resp_head = await up_r.readuntil(b"\r\n\r\n")
            status_line, resp_headers = parse_head(resp_head)
            status = (status_line.split(" ") + ["", ""])[1]
            no_body = method == "HEAD" or status in ("204", "304") or status.startswith("1")
            close = resp_headers.get(b"connection", b"").lower() == b"close"
            if no_body:
                resp_body = b""
            else:
                resp_body, _ = await read_body(up_r, resp_headers, True)
            client_w.write(resp_head + resp_body)
            await client_w.drain()
            LOG.write(f"{start:.6f}\t{time.monotonic():.6f}\t{method}\t{target.split('?')[0]}\t{body_len}\t{status}\n")
            if close or (b"content-length" not in resp_headers
                         and b"chunked" not in resp_headers.get(b"transfer-encoding", b"").lower()
                         and not no_body):
                return
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError) as err:
        print(f"latency-proxy: connection ended: {err!r}", file=sys.stderr)
    finally:
        for w in (client_w, up_w):
            if w is not None:
                w.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, limit=MAX_HEAD)
    port = server.sockets[0].getsockname()[1]
    print(f"http://127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
PY

# ---- helpers -----------------------------------------------------------------------------------
FAKE_PID=""
PROXY_PID=""
stop_servers() {
    for pid in "$PROXY_PID" "$FAKE_PID"; do
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    FAKE_PID=""
    PROXY_PID=""
}
trap stop_servers EXIT INT TERM

# wait_for_url FILE PID: prints the first line of FILE once the process wrote it.
wait_for_url() {
    local file="$1" pid="$2" waited=0
    while [ ! -s "$file" ]; do
        if ! kill -0 "$pid" 2>/dev/null || [ "$waited" -ge $((STARTUP_TIMEOUT_S * 10)) ]; then
            return 1
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    head -n 1 "$file"
}

[ -f "$RESULTS" ] || printf 'date\tprovider\tusers\tloaded\tbatch\trate\tconcurrency\tlatency_ms\twall_s\thttp_total\tload_requests\treq_per_1k\tachieved_rate\tcpu_s\tcpu_per_10k\tkib_per_batch\tusers_per_s\tpeak_rss_mib\texit\n' >"$RESULTS"
NOW="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
LAT_LABEL="$LATENCY_MS"
RUN_SUFFIX="-l$LATENCY_MS"
if [ "$DIRECT" = 1 ]; then
    LAT_LABEL="0 (direct)"
    RUN_SUFFIX="-direct"
fi

echo
echo "== apply: $PROVIDER, $USERS users, rate $RATE/s, concurrency $CONCURRENCY, added latency ${LAT_LABEL} ms =="
echo "   $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)); shared machine: times are indicative"
printf '%6s %8s %8s %7s %8s %7s %8s %7s %8s %9s %8s %7s %5s\n' \
    batch loaded "wall s" http "load req" "req/1k" rate "cpu s" "cpu/10k" KiB/batch users/s "RSS MiB" exit

FAILED=0
for BATCH in $BATCH_SIZES; do
    RUN="$RUNS/$PROVIDER-$USERS-b$BATCH-r$RATE-c$CONCURRENCY$RUN_SUFFIX"
    rm -rf "$RUN"
    mkdir -p "$RUN"
    KC_FAKE_ADMIN_PASSWORD="$ADMIN_PASSWORD" "$FAKE" --port 0 --admin-user "$ADMIN_USER" \
        --realm "$REALM" "${FAKE_EXTRA[@]}" >"$RUN/fake.out" 2>"$RUN/fake.err" &
    FAKE_PID=$!
    if ! FAKE_URL="$(wait_for_url "$RUN/fake.out" "$FAKE_PID")"; then
        echo "bench-apply.sh: kc-fake did not start:" >&2
        cat "$RUN/fake.err" >&2
        exit 1
    fi
    URL="$FAKE_URL"
    if [ "$DIRECT" = 0 ]; then
        port="${FAKE_URL##*:}"
        python3 "$PROXY_PY" 127.0.0.1 "$port" "$LATENCY_MS" "$RUN/requests.tsv" \
            >"$RUN/proxy.out" 2>"$RUN/proxy.err" &
        PROXY_PID=$!
        if ! URL="$(wait_for_url "$RUN/proxy.out" "$PROXY_PID")"; then
            echo "bench-apply.sh: the proxy did not start:" >&2
            cat "$RUN/proxy.err" >&2
            exit 1
        fi
    fi

    RC=0
    KEYCLOAK_URL="$URL" KEYCLOAK_USER="$ADMIN_USER" KEYCLOAK_PASSWORD="$ADMIN_PASSWORD" \
        /usr/bin/time -f '%e %U %S %M' -o "$RUN/time.txt" \
        "$KCM" --quiet apply --mapping "$MAPPING" --out "$RUN/out" --rate "$RATE" \
        --concurrency "$CONCURRENCY" --batch-size "$BATCH" "${INPUTS[@]}" \
        >"$RUN/apply.out" 2>"$RUN/apply.err" || RC=$?
    stop_servers
    # GNU time writes "Command exited with non-zero status N" before the figures.
    read -r WALL USR SYS RSS < <(tail -n 1 "$RUN/time.txt")
    REPORT="$RUN/out/apply-report.json"
    if [ "$RC" -ge 2 ] || [ ! -f "$REPORT" ]; then
        echo "bench-apply.sh: kc-migrate apply exited $RC (batch $BATCH); last lines of $RUN/apply.err:" >&2
        tail -n 5 "$RUN/apply.err" >&2
        FAILED=1
        continue
    fi

    # Figures from the report (and from the proxy log unless --direct).
    ROW="$(python3 - "$REPORT" "$RUN/requests.tsv" "$DIRECT" "$WALL" "$USR" "$SYS" "$RSS" <<'PY'
import json, sys
report_path, log_path, direct, wall, usr, sys_s, rss = sys.argv[1:8]
rep = json.load(open(report_path))["apply"]
users = rep["users"]
loaded = users["added"] + users["added_unconfirmed"] + users["skipped"] + users["overwritten"]
cpu = float(usr) + float(sys_s)
pi_total = rep["partial_import_requests"]
if direct == "1":
    http = load_req = f'{rep["requests"]["requests_total"]}*'
    per_k = "-"
    rate = kib = ups = "-"
else:
    rows = []
    for line in open(log_path):
        f = line.rstrip("\n").split("\t")
        rows.append((float(f[0]), float(f[1]), f[2], f[3], int(f[4]), f[5]))
    rows.sort()
    pis = [r for r in rows if r[2] == "POST" and r[3].endswith("/partialImport")]
    http = len(rows)
    if pis:
        first = pis[0][0]
        load = [r for r in rows if r[0] >= first]
        last_start = load[-1][0]
        load_req = len(load)
        span = last_start - first
        rate = f"{(load_req - 1) / span:.1f}" if span > 0 else "-"
        kib = f"{sum(r[4] for r in pis) / len(pis) / 1024:.1f}"
        end = max(r[1] for r in load)
        ups = f"{loaded / (end - first):.0f}" if end > first else "-"
        per_k = f"{load_req * 1000 / loaded:.2f}" if loaded else "-"
    else:
        load_req, rate, kib, ups, per_k = 0, "-", "-", "-", "-"
cpu10k = f"{cpu * 10000 / loaded:.3f}" if loaded else "-"
print("\t".join(str(x) for x in [loaded, http, load_req, per_k, rate, f"{cpu:.2f}", cpu10k, kib, ups,
                                 f"{int(rss) / 1024:.1f}"]))
PY
)"
    IFS=$'\t' read -r LOADED HTTP LOADREQ PERK ARATE CPU CPU10K KIB UPS RSSMIB <<<"$ROW"
    printf '%6s %8s %8s %7s %8s %7s %8s %7s %8s %9s %8s %7s %5s\n' \
        "$BATCH" "$LOADED" "$WALL" "$HTTP" "$LOADREQ" "$PERK" "$ARATE" "$CPU" "$CPU10K" "$KIB" "$UPS" "$RSSMIB" "$RC"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$NOW" "$PROVIDER" "$USERS" "$LOADED" "$BATCH" "$RATE" "$CONCURRENCY" "$LAT_LABEL" "$WALL" \
        "$HTTP" "$LOADREQ" "$PERK" "$ARATE" "$CPU" "$CPU10K" "$KIB" "$UPS" "$RSSMIB" "$RC" >>"$RESULTS"
    if [ "$LOADED" = 0 ]; then
        echo "bench-apply.sh: batch $BATCH loaded no users (see $RUN)" >&2
        FAILED=1
    fi
done
[ "$DIRECT" = 0 ] || echo "  * --direct: http/load req are apply-report.json's requests_total (load phase incl. structure; no token grant or preflight)"
echo
echo "rows appended to $RESULTS; run files in $RUNS/"
exit "$FAILED"
