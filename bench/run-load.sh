#!/usr/bin/env bash
# Runs the collector (Release build) on a free loopback port over a fresh data directory, then the
# load generator against it: first the read-and-discard baseline, then real ingest. Prints the table.
#
#   bench/run-load.sh [duckdb|postgres] [seconds] [concurrency] [rate events/s, 0 = unpaced]
#
# Extra collector settings go in CANDOR_LOAD_ARGS, e.g. CANDOR_LOAD_ARGS="--Candor:DuckDbMemoryLimit=128MB".
# CANDOR_LOAD_TIMELINE=FILE writes the events phase's latencies per 250 ms to FILE (CSV) and the DuckDB
# WAL and checkpoint-journal sizes every 100 ms to FILE.files, to line slow requests up with checkpoints.
# CANDOR_LOAD_MODE=events skips the read-and-discard phase (for quick A/B runs of the same phase).
# Extra environment for the collector process only (not the load generator) goes in CANDOR_COLLECTOR_ENV,
# e.g. CANDOR_COLLECTOR_ENV="DOTNET_GCgen0size=0x4000000".
#
# For postgres, set CANDOR_BENCH_PG to a connection string, or leave it unset and the script starts a
# throwaway cluster (Debian's postgresql package, as ./test.sh installs it) on a free loopback port
# and deletes it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
storage=${1:-duckdb} seconds=${2:-60} concurrency=${3:-16} rate=${4:-0}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build -c Release src/Candor.Collector -nologo -clp:ErrorsOnly -v:quiet >/dev/null
dotnet build -c Release bench/Candor.LoadGenerator -nologo -clp:ErrorsOnly -v:quiet >/dev/null

data=$(mktemp -d /tmp/candor-load-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key=wk_load_0123456789abcdef
# The load generator is one write key from one address at 100k+ events/s, which the ingest rate limit
# (100 requests/s per key and address by default) exists to refuse: it is turned off here.
args=(--urls "http://127.0.0.1:$port" --Candor:DataDirectory="$data" --Candor:AdminToken=adm_load_0123456789abcdef
  --Candor:Products:acme:WriteKey=$key --Candor:SchemaDirectory=samples/Acme.Cli/schemas
  --Candor:EnableDiscardEndpoint=true --Candor:RateLimits:IngestRequestsPerSecond=0 --Logging:LogLevel:Default=Warning)
# shellcheck disable=SC2206
args+=(${CANDOR_LOAD_ARGS:-})
cleanup_pg() { :; }
if [[ "$storage" == postgres && -z "${CANDOR_BENCH_PG:-}" ]]; then
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [[ -x "$bin/pg_ctl" ]] || { echo "run-load.sh: PostgreSQL is not installed (run ./test.sh once, or set CANDOR_BENCH_PG)" >&2; exit 1; }
  pgdir=$(mktemp -d /tmp/candor-load-pg-XXXXXX)
  pgport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_pg=(); [[ $(id -u) == 0 ]] && { chown postgres:postgres "$pgdir"; as_pg=(runuser -u postgres --); }
  (cd /tmp && "${as_pg[@]}" "$bin/initdb" -D "$pgdir/data" -U postgres -A trust -E UTF8 >/dev/null)
  (cd /tmp && "${as_pg[@]}" "$bin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -o "-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c shared_buffers=256MB -c max_wal_size=4GB" start >/dev/null)
  cleanup_pg() { (cd /tmp && "${as_pg[@]}" "$bin/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1) || true; rm -rf "$pgdir"; }
  trap cleanup_pg EXIT
  CANDOR_BENCH_PG="Host=127.0.0.1;Port=$pgport;Username=postgres;Database=postgres"
fi
if [[ "$storage" == postgres ]]; then
  args+=(--Candor:Storage=postgres --Candor:ConnectionString="$CANDOR_BENCH_PG")
fi

# shellcheck disable=SC2086
env ${CANDOR_COLLECTOR_ENV:-} ASPNETCORE_ENVIRONMENT=Production dotnet artifacts/bin/Candor.Collector/release/Candor.Collector.dll "${args[@]}" &
collector=$!
trap 'kill -TERM $collector 2>/dev/null; wait $collector 2>/dev/null; rm -rf "$data"; cleanup_pg' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done

timeline=()
if [[ -n "${CANDOR_LOAD_TIMELINE:-}" ]]; then
  timeline=(--timeline "$CANDOR_LOAD_TIMELINE")
  # Every 100 ms beside it: the DuckDB WAL's size (a checkpoint empties it), the journal files' total
  # size, the collector's resident memory and its managed heap (from /metrics).
  (echo "unix_time,wal_bytes,journal_bytes,rss_kb,managed_bytes"
   while kill -0 $collector 2>/dev/null; do
     printf '%s,%s,%s,%s,%s\n' "$(date +%s.%N | cut -c1-14)" "$(stat -c %s "$data/candor.duckdb.wal" 2>/dev/null || echo 0)" \
       "$(cat "$data"/candor.duckdb.journal* 2>/dev/null | wc -c)" "$(awk '/^VmRSS/ {print $2}' /proc/$collector/status 2>/dev/null || echo 0)" \
       "$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^dotnet_total_memory_bytes/ {print $2}')"
     sleep 0.1
   done) > "$CANDOR_LOAD_TIMELINE.files" &
fi
dotnet artifacts/bin/Candor.LoadGenerator/release/Candor.LoadGenerator.dll --url "http://127.0.0.1:$port" --write-key $key \
  --seconds "$seconds" --concurrency "$concurrency" --rate "$rate" --mode "${CANDOR_LOAD_MODE:-both}" --collector-pid $collector "${timeline[@]}" || status=$?
metrics=$(curl -s "http://127.0.0.1:$port/metrics" || true)
grep -E '^(candor_(events_accepted_total|commit_events_(sum|count)|commit_duration_seconds_(sum|count))|dotnet_total_memory_bytes|process_working_set_bytes)' <<<"$metrics" || true
if [[ -n "${CANDOR_LOAD_METRICS:-}" ]]; then printf '%s\n' "$metrics" > "$CANDOR_LOAD_METRICS"; fi
exit "${status:-0}"
