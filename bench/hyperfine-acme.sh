#!/usr/bin/env bash
# What telemetry adds to a real command: `acme run` with telemetry off, on against a live collector,
# and on against a blackholed collector (a port that accepts connections and never answers).
# Targets (issue 4): live ≤ off + 15 ms median; blackholed ≤ off + flush budget (200 ms) + 20 ms.
#
#   bench/hyperfine-acme.sh [runs]      (default 30 runs per case, after 3 warm-ups)
#
# Builds acme and the collector in Release, starts the collector on a free loopback port with a
# throw-away data directory, and a Python blackhole; everything is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-30}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

dotnet build samples/Acme.Cli -c Release -nologo -clp:ErrorsOnly -v:quiet >/dev/null
dotnet build src/Candor.Collector -c Release -nologo -clp:ErrorsOnly -v:quiet >/dev/null
acme="$PWD/artifacts/bin/Acme.Cli/release/acme.dll"
collector="$PWD/artifacts/bin/Candor.Collector/release/Candor.Collector.dll"

work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

key=wk_bench_acme_0123456789abcdef
Candor__SchemaDirectory="$PWD/samples/Acme.Cli/schemas" Candor__DataDirectory="$work/data" Candor__AdminToken=adm_bench_0123456789abcdef0123 \
  Candor__Products__acme__WriteKey=$key ASPNETCORE_ENVIRONMENT=Production \
  dotnet "$collector" --urls http://127.0.0.1:0 >"$work/collector.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do
  live=$(grep -o 'Now listening on: http://[0-9.:]*' "$work/collector.log" | head -1 | sed 's/Now listening on: //') || true
  [[ -n "${live:-}" ]] && break
  sleep 0.1
done
[[ -n "${live:-}" ]] || { echo "collector did not start:"; cat "$work/collector.log"; exit 1; }

# Listens with a backlog and never accepts: the kernel completes the handshake, nobody ever answers.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1024)
print(s.getsockname()[1], flush=True)
time.sleep(86400)' >"$work/blackhole.port" &
pids+=($!)
for _ in $(seq 1 50); do [[ -s "$work/blackhole.port" ]] && break; sleep 0.1; done
blackhole="http://127.0.0.1:$(cat "$work/blackhole.port")/"

common=(HOME="$work/home" XDG_STATE_HOME="$work/state" XDG_CONFIG_HOME="$work/config" ACME_TELEMETRY_WRITE_KEY=$key CI= ACME_FLUSH_MS=200)
echo "collector: $live   blackhole: $blackhole   runs: $runs"
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/results.json" \
  -n off        "env ${common[*]} ACME_TELEMETRY=off dotnet $acme run --pipeline nightly" \
  -n live       "env ${common[*]} ACME_TELEMETRY=anonymous ACME_TELEMETRY_ENDPOINT=$live/ dotnet $acme run --pipeline nightly" \
  -n blackholed "env ${common[*]} XDG_STATE_HOME=$work/state-blackholed ACME_TELEMETRY=anonymous ACME_TELEMETRY_ENDPOINT=$blackhole dotnet $acme run --pipeline nightly"

python3 - "$work/results.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
off = results["off"]["median"] * 1000
print(f"\nmedians: off {off:.1f} ms", end="")
for name, target in (("live", 15), ("blackholed", 220)):
    median = results[name]["median"] * 1000
    print(f" | {name} {median:.1f} ms (+{median - off:.1f} ms, x{median / off:.2f}, target +{target} ms)", end="")
print()
PY
echo "events stored by the live collector: $(curl -s -H 'Authorization: Bearer adm_bench_0123456789abcdef0123' "$live/v1/admin/events?product=acme&limit=1000" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
