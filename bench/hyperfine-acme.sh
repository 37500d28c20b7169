#!/usr/bin/env bash
# What telemetry adds to a real command: `acme run` with telemetry off, on against a live collector,
# and on against a blackholed collector (a port that accepts connections and never answers), all over
# HTTPS, as a real collector is reached.
# Targets (issue 4): live ≤ off + 15 ms median; blackholed ≤ off + flush budget (200 ms) + 20 ms.
#
#   bench/hyperfine-acme.sh [runs] [--baseline DIR]    (default 30 runs per case, after 3 warm-ups)
#
# Three builds of acme, each measured off / live / blackholed in ONE hyperfine run (compare within it):
#   jit  the Release build run by `dotnet acme.dll` (JIT-compiled at startup, as `dotnet tool install` ships it)
#   r2r  a ReadyToRun publish, through its apphost
#   aot  a Native AOT publish (needs clang: apt-get install clang)
# --baseline DIR: DIR is another checkout of the repository (e.g. `git worktree add ../base main`); its
# three builds become extra cases (jit-baseline, r2r-baseline, aot-baseline) in the same hyperfine run,
# so before and after come from one run on the same machine state. Both post to this checkout's collector.
#
# Builds acme and the collector in Release, makes a throw-away self-signed certificate for 127.0.0.1
# and localhost (openssl, in the temp folder), starts the collector on https on a free loopback port
# with it and a throw-away data directory, and a Python blackhole; everything is stopped on exit.
# Only the benchmark's acme processes trust the certificate, through SSL_CERT_FILE (which .NET on Linux
# reads as the root store, in place of the system's): before measuring, the script checks that a run
# without it delivers nothing, so the trust is real and not switched off. A TLS client against the
# blackhole hangs in the handshake, as against an unreachable HTTPS collector. Each case has its own
# user and state folders (so its own install id), and the script checks, before and after the
# measurement, that every build's live runs really reached the collector: a build that silently
# delivers nothing cannot report a fast number.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=30 baseline=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --baseline) [[ -n "${2:-}" ]] || { echo "hyperfine-acme.sh: --baseline needs a directory" >&2; exit 2; }; baseline=$(cd "$2" && pwd); shift 2 ;;
    --baseline=*) baseline=$(cd "${1#--baseline=}" && pwd); shift ;;
    [0-9]*) runs=$1; shift ;;
    *) echo "usage: bench/hyperfine-acme.sh [runs] [--baseline DIR]" >&2; exit 2 ;;
  esac
done
[[ -z "$baseline" || -f "$baseline/samples/Acme.Cli/Acme.Cli.csproj" ]] || { echo "hyperfine-acme.sh: $baseline is not a checkout of this repository" >&2; exit 2; }
warmup=3
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

for tool in hyperfine clang curl python3 openssl; do
  command -v "$tool" >/dev/null || { echo "hyperfine-acme.sh: $tool is required (apt-get install hyperfine clang curl python3 openssl)" >&2; exit 1; }
done

out="$PWD/artifacts/bench/acme-run"
quiet=(-nologo -clp:ErrorsOnly -v:quiet)
dotnet build src/Candor.Collector -c Release "${quiet[@]}" >/dev/null
declare -A acme=()
builds=()
build_acme() { # checkout, suffix of the case names
  local root=$1 suffix=$2
  dotnet build "$root/samples/Acme.Cli" -c Release "${quiet[@]}" >/dev/null
  dotnet publish "$root/samples/Acme.Cli" -c Release -r linux-x64 --self-contained false -p:PublishAot=false -p:PublishReadyToRun=true "${quiet[@]}" -o "$out/r2r$suffix" >/dev/null
  dotnet publish "$root/samples/Acme.Cli" -c Release -r linux-x64 -p:PublishAot=true "${quiet[@]}" -o "$out/aot$suffix" >/dev/null
  acme[jit$suffix]="dotnet $root/artifacts/bin/Acme.Cli/release/acme.dll"
  acme[r2r$suffix]="$out/r2r$suffix/acme"
  acme[aot$suffix]="$out/aot$suffix/acme"
  builds+=("jit$suffix" "r2r$suffix" "aot$suffix")
}
build_acme "$PWD" ""
[[ -z "$baseline" ]] || build_acme "$baseline" -baseline
collector="$PWD/artifacts/bin/Candor.Collector/release/Candor.Collector.dll"

work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# A throw-away certificate for the collector, valid for a day; its key never leaves the temp folder.
cert="$work/collector.crt"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$work/collector.key" -out "$cert" 2>/dev/null

key=wk_bench_acme_0123456789abcdef
admin=adm_bench_0123456789abcdef0123
Candor__SchemaDirectory="$PWD/samples/Acme.Cli/schemas" Candor__DataDirectory="$work/data" Candor__AdminToken=$admin \
  Candor__Products__acme__WriteKey=$key ASPNETCORE_ENVIRONMENT=Production \
  Kestrel__Certificates__Default__Path="$cert" Kestrel__Certificates__Default__KeyPath="$work/collector.key" \
  dotnet "$collector" --urls https://127.0.0.1:0 >"$work/collector.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do
  live=$(grep -o 'Now listening on: https://[0-9.:]*' "$work/collector.log" | head -1 | sed 's/Now listening on: //') || true
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
blackhole="https://127.0.0.1:$(cat "$work/blackhole.port")/"

# Stored events per install id (each build has its own user folder, so its own install id).
stored() {
  curl -s --cacert "$cert" -H "Authorization: Bearer $admin" "$live/v1/admin/events?product=acme&limit=10000" |
    python3 -c 'import json, sys; print(sum(1 for e in json.load(sys.stdin) if (e["context"].get("install_id") or "").lower() == sys.argv[1].lower()))' "$1"
}
install_id() { sed -n 's/^install_id *= *"\(.*\)"/\1/p' "$work/$1/config/acme/telemetry.toml"; }
# SSL_CERT_FILE: the acme processes' only trusted root is the collector's certificate (the rest of
# the script, and every other process on the machine, is untouched); no proxy for loopback.
mkdir -p "$work/no-ca-dir"
trust="SSL_CERT_FILE=$cert SSL_CERT_DIR=$work/no-ca-dir NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost"
env_of() { # build, case
  local dirs="HOME=$work/$1/home XDG_CONFIG_HOME=$work/$1/config XDG_STATE_HOME=$work/$1/state-$2"
  echo "$dirs ACME_TELEMETRY_WRITE_KEY=$key CI= ACME_FLUSH_MS=200 $trust"
}

# The trust is real: a run of each build that does not trust the certificate (the system's roots,
# as any other process on the machine) must deliver nothing, even with a generous budget.
for b in "${builds[@]}"; do
  # shellcheck disable=SC2046
  env -u SSL_CERT_FILE -u SSL_CERT_DIR $(env_of "$b" untrusted | sed 's/ SSL_CERT_[A-Z]*=[^ ]*//g') XDG_CONFIG_HOME="$work/$b/config-untrusted" \
    ACME_TELEMETRY=anonymous ACME_TELEMETRY_ENDPOINT="$live/" ACME_FLUSH_MS=3000 ${acme[$b]} run --pipeline check >/dev/null 2>&1
  id=$(sed -n 's/^install_id *= *"\(.*\)"/\1/p' "$work/$b/config-untrusted/acme/telemetry.toml")
  untrusted=$(stored "$id")
  [[ "$untrusted" == 0 ]] || { echo "hyperfine-acme.sh: the $b build delivered without trusting the certificate (stored: $untrusted)" >&2; exit 1; }
done

# Before measuring: one run of each build against the live collector (the first one also shows the
# notice) must store exactly one event each, given a generous budget.
declare -A before
for b in "${builds[@]}"; do
  # shellcheck disable=SC2046
  env $(env_of "$b" live) ACME_TELEMETRY=anonymous ACME_TELEMETRY_ENDPOINT="$live/" ACME_FLUSH_MS=5000 ${acme[$b]} run --pipeline check >/dev/null 2>&1
  id=$(install_id "$b")
  before[$b]=$(stored "$id")
  [[ "${before[$b]}" == 1 ]] || { echo "hyperfine-acme.sh: the $b build did not deliver its event (stored: ${before[$b]})" >&2; exit 1; }
done

commands=()
for b in "${builds[@]}"; do
  commands+=(-n "$b-off"        "env $(env_of "$b" off) ACME_TELEMETRY=off ${acme[$b]} run --pipeline nightly")
  commands+=(-n "$b-live"       "env $(env_of "$b" live) ACME_TELEMETRY=anonymous ACME_TELEMETRY_ENDPOINT=$live/ ${acme[$b]} run --pipeline nightly")
  commands+=(-n "$b-blackholed" "env $(env_of "$b" blackholed) ACME_TELEMETRY=anonymous ACME_TELEMETRY_ENDPOINT=$blackhole ${acme[$b]} run --pipeline nightly")
done
echo "collector: $live   blackhole: $blackhole   runs: $runs   load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "untrusted runs (no SSL_CERT_FILE) delivered nothing: ${builds[*]}"
[[ -z "$baseline" ]] || echo "baseline: $baseline ($(git -C "$baseline" log -1 --format='%h %s' 2>/dev/null | cut -c1-72))"
hyperfine -N --warmup "$warmup" --runs "$runs" --export-json "$work/results.json" "${commands[@]}"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$out" && cp "$work/results.json" "$out/results.json"

python3 - "$work/results.json" "${builds[@]}" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
jit_off = results["jit-off"]["median"] * 1000
for build in sys.argv[2:]:
    off = results[f"{build}-off"]["median"] * 1000
    print(f"{build}: off {off:.1f} ms (x{off / jit_off:.2f} of jit-off)", end="")
    for name, target in (("live", 15), ("blackholed", 220)):
        median = results[f"{build}-{name}"]["median"] * 1000
        verdict = "met" if median - off <= target else "NOT met"
        print(f" | {name} {median:.1f} ms (+{median - off:.1f} ms, x{median / off:.2f}, target +{target}: {verdict})", end="")
    print()
for build in sys.argv[2:]:
    if f"{build}-baseline-off" in results:
        print(f"{build}: baseline -> this checkout, medians:", " | ".join(
            f"{case} {results[f'{build}-baseline-{case}']['median'] * 1000:.1f} -> {results[f'{build}-{case}']['median'] * 1000:.1f} ms"
            for case in ("off", "live", "blackholed")))
PY

# Every live run (warm-ups included) must have stored its event, at the latest through the next run's spool.
expected=$((warmup + runs))
for b in "${builds[@]}"; do
  sleep 0.2
  n=$(( $(stored "$(install_id "$b")") - before[$b] ))
  left=$(find "$work/$b/state-live" -name '*.batch.json' 2>/dev/null | wc -l)
  echo "$b: events stored by the live collector during the measurement: $n of $expected (batches left in the spool: $left)"
done
