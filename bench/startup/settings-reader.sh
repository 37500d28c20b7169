#!/usr/bin/env bash
# What reading the settings files costs at startup: `acme --help` (consent resolved from the user file
# on every run) built with the settings reader as committed against the same tool built with
# `-p:CandorSettingsReader=tomlyn` (every file parsed by Tomlyn alone), as Native AOT publishes (the
# configuration the README recommends) and as Release builds run by `dotnet acme.dll` (JIT), in one
# hyperfine run. The user is in the steady state: a user file with a level, an install id and the
# notice version seen.
#
#   bench/startup/settings-reader.sh            # RUNS=40 by default
#   RUNS=60 bench/startup/settings-reader.sh
#
# Needs hyperfine and clang (apt-get install hyperfine clang). The second variant builds into its own
# artifacts folder (artifacts/bench/settings-reader/artifacts-tomlyn), so the normal build is untouched.
# Figures: bench/results/2026-12-07-settings-reader.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in hyperfine clang; do
  command -v "$tool" >/dev/null || { echo "settings-reader.sh: $tool is required (apt-get install hyperfine clang)" >&2; exit 1; }
done
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

out="$PWD/artifacts/bench/settings-reader"
mkdir -p "$out"
quiet=(-nologo -v:quiet -clp:ErrorsOnly)
aot=(-c Release -r linux-x64 -p:PublishAot=true "${quiet[@]}")
# The variant: a global ArtifactsPath keeps every project of its build (Candor included) apart.
variant=(-p:CandorSettingsReader=tomlyn "-p:ArtifactsPath=$out/artifacts-tomlyn")
dotnet build samples/Acme.Cli -c Release "${quiet[@]}"
dotnet build samples/Acme.Cli -c Release "${quiet[@]}" "${variant[@]}"
dotnet publish samples/Acme.Cli "${aot[@]}" -o "$out/aot-committed"
dotnet publish samples/Acme.Cli "${aot[@]}" "${variant[@]}" -o "$out/aot-tomlyn"
declare -A acme=(
  [aot-committed]="$out/aot-committed/acme"
  [aot-tomlyn]="$out/aot-tomlyn/acme"
  [jit-committed]="dotnet $PWD/artifacts/bin/Acme.Cli/release/acme.dll"
  [jit-tomlyn]="dotnet $out/artifacts-tomlyn/bin/Acme.Cli/release/acme.dll"
)
names=(aot-committed aot-tomlyn jit-committed jit-tomlyn)

# A fresh user whose notice has been shown: the steady state of every later run (opt-out, anonymous).
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_STATE_HOME="$home/.local/state"
export ACME_TELEMETRY_ENDPOINT=http://127.0.0.1:9/
unset DO_NOT_TRACK ACME_TELEMETRY CI GITHUB_ACTIONS 2>/dev/null || true
${acme[aot-committed]} --help >/dev/null 2>&1
${acme[aot-committed]} --help >/dev/null 2>&1
user_file="$XDG_CONFIG_HOME/acme/telemetry.toml"
grep -q install_id "$user_file" || { echo "settings-reader.sh: the steady state was not reached" >&2; exit 1; }
# Every variant must really read the same user file: `telemetry status` shows its install id.
id=$(sed -n 's/^install_id *= *"\(.*\)"/\1/p' "$user_file")
for name in "${names[@]}"; do
  ${acme[$name]} telemetry status | grep -qi "$id" || { echo "settings-reader.sh: $name does not read the user file" >&2; exit 1; }
done
echo "user file ($(wc -c <"$user_file") bytes):"; sed 's/^/  /' "$user_file"
ls -l "$out/aot-committed/acme" "$out/aot-tomlyn/acme" | awk '{print "  " $5 " bytes  " $9}'
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
    (c, cq1, cq3, cs), (t, tq1, tq3, ts) = figures(f"{build}-committed"), figures(f"{build}-tomlyn")
    print(f"{build}: committed median {c:.2f} ms (IQR {cq1:.2f}-{cq3:.2f}, sd {cs:.2f}) | "
          f"tomlyn median {t:.2f} ms (IQR {tq1:.2f}-{tq3:.2f}, sd {ts:.2f}) | tomlyn - committed {t - c:+.2f} ms")
PY
