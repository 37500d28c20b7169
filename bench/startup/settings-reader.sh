#!/usr/bin/env bash
# What reading the settings files costs at startup: `acme --help` (consent resolved from the user file
# on every run) built from this checkout against the same tool built from another checkout, as Native
# AOT publishes (the configuration the README recommends) and as Release builds run by
# `dotnet acme.dll` (JIT), in one hyperfine run; then the instructions each AOT build executes
# (valgrind's callgrind: the same count whatever else the machine is doing). The user is in the steady
# state: a user file with an install id and the notice version seen.
#
#   bench/startup/settings-reader.sh --baseline DIR      # RUNS=40 by default
#
# It was written to decide FlatToml (a hand-written reader for the flat files Candor writes, in front
# of Tomlyn) against Tomlyn alone: to rerun that, DIR is a checkout of a commit that still has
# src/Candor/Consent/FlatToml.cs (e.g. b33ac47).
# Figures and decision: bench/results/2026-12-07-settings-reader.md.
#
# Needs hyperfine and clang (apt-get install hyperfine clang); valgrind for the instruction counts.
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ "${1:-}" == --baseline && -f "${2:-}/samples/Acme.Cli/Acme.Cli.csproj" ]] || { echo "usage: bench/startup/settings-reader.sh --baseline DIR (another checkout)" >&2; exit 2; }
baseline=$(cd "$2" && pwd)

for tool in hyperfine clang; do
  command -v "$tool" >/dev/null || { echo "settings-reader.sh: $tool is required (apt-get install hyperfine clang)" >&2; exit 1; }
done
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

out="$PWD/artifacts/bench/settings-reader"
mkdir -p "$out"
quiet=(-nologo -v:quiet -clp:ErrorsOnly)
aot=(-c Release -r linux-x64 -p:PublishAot=true "${quiet[@]}")
dotnet build samples/Acme.Cli -c Release "${quiet[@]}"
dotnet build "$baseline/samples/Acme.Cli" -c Release "${quiet[@]}"
dotnet publish samples/Acme.Cli "${aot[@]}" -o "$out/aot"
dotnet publish "$baseline/samples/Acme.Cli" "${aot[@]}" -o "$out/aot-baseline"
declare -A acme=(
  [aot]="$out/aot/acme"
  [aot-baseline]="$out/aot-baseline/acme"
  [jit]="dotnet $PWD/artifacts/bin/Acme.Cli/release/acme.dll"
  [jit-baseline]="dotnet $baseline/artifacts/bin/Acme.Cli/release/acme.dll"
)
names=(aot aot-baseline jit jit-baseline)

# A fresh user whose notice has been shown: the steady state of every later run (opt-out, anonymous).
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_STATE_HOME="$home/.local/state"
export ACME_TELEMETRY_ENDPOINT=http://127.0.0.1:9/
unset DO_NOT_TRACK ACME_TELEMETRY CI GITHUB_ACTIONS 2>/dev/null || true
${acme[aot]} --help >/dev/null 2>&1
${acme[aot]} --help >/dev/null 2>&1
user_file="$XDG_CONFIG_HOME/acme/telemetry.toml"
grep -q install_id "$user_file" || { echo "settings-reader.sh: the steady state was not reached" >&2; exit 1; }
# Every variant must really read the same user file: `telemetry status` shows its install id.
id=$(sed -n 's/^install_id *= *"\(.*\)"/\1/p' "$user_file")
for name in "${names[@]}"; do
  ${acme[$name]} telemetry status | grep -qi "$id" || { echo "settings-reader.sh: $name does not read the user file" >&2; exit 1; }
done
echo "user file ($(wc -c <"$user_file") bytes):"; sed 's/^/  /' "$user_file"
echo "baseline: $baseline ($(git -C "$baseline" log -1 --format='%h %s' 2>/dev/null | cut -c1-72))"
ls -l "$out/aot/acme" "$out/aot-baseline/acme" | awk '{print "  " $5 " bytes  " $9}'
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

commands=()
for name in "${names[@]}"; do commands+=(-n "$name" "${acme[$name]} --help"); done
hyperfine -N --warmup 10 --runs "${RUNS:-40}" --export-json "$out/settings-reader.json" "${commands[@]}"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$out/settings-reader.json" <<'PY'
import json, statistics, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
def figures(name):
    times = sorted(t * 1000 for t in results[name]["times"])
    q1, _, q3 = statistics.quantiles(times, n=4)
    return statistics.median(times), q1, q3, statistics.stdev(times)
for build in ("aot", "jit"):
    (b, bq1, bq3, bs), (t, tq1, tq3, ts) = figures(f"{build}-baseline"), figures(build)
    print(f"{build}: baseline median {b:.2f} ms (IQR {bq1:.2f}-{bq3:.2f}, sd {bs:.2f}) | "
          f"this checkout median {t:.2f} ms (IQR {tq1:.2f}-{tq3:.2f}, sd {ts:.2f}) | difference {t - b:+.2f} ms")
PY

# Instructions (all threads) of one `acme --help` per AOT build, twice each. The binaries are copied
# away from their .dbg files, which valgrind cannot read.
if command -v valgrind >/dev/null; then
  for name in aot aot-baseline aot aot-baseline; do
    mkdir -p "$home/cg-$name" && cp "$out/$name/acme" "$home/cg-$name/acme"
    count=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$home/cg-$name/acme" --help 2>&1 >/dev/null | sed -n 's/.*Collected : //p')
    echo "$name: $count instructions (callgrind)"
  done
fi
