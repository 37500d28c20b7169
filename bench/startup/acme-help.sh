#!/usr/bin/env bash
# What Candor adds to a tool's startup: `acme --help` with Candor (consent resolved from the user
# file, install id read, context built, client created and disposed) against the same tool built
# without Candor (`-p:AcmeWithoutCandor=true`), in one hyperfine run: Release builds (JIT-compiled at
# startup, as `dotnet tool install` ships them), ReadyToRun publishes (precompiled, as a tool
# shipped as an app would be), each through its apphost, and Native AOT publishes.
#
#   bench/startup/acme-help.sh            # RUNS=40 by default
#   RUNS=100 bench/startup/acme-help.sh
#
# Needs hyperfine and clang for Native AOT (apt-get install hyperfine clang). Writes results to
# artifacts/bench/startup/.
set -euo pipefail
cd "$(dirname "$0")/../.."

for tool in hyperfine clang; do
  command -v "$tool" >/dev/null || { echo "acme-help.sh: $tool is required (apt-get install hyperfine clang)" >&2; exit 1; }
done
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

out=artifacts/bench/startup
mkdir -p "$out"
dotnet build samples/Acme.Cli -c Release -nologo -v:quiet -clp:ErrorsOnly
dotnet build samples/Acme.Cli -c Release -p:AcmeWithoutCandor=true -nologo -v:quiet -clp:ErrorsOnly
r2r=(-c Release -r linux-x64 --self-contained false -p:PublishAot=false -p:PublishReadyToRun=true -nologo -v:quiet -clp:ErrorsOnly)
dotnet publish samples/Acme.Cli "${r2r[@]}" -o "$out/r2r-with-candor"
dotnet publish samples/Acme.Cli "${r2r[@]}" -p:AcmeWithoutCandor=true -o "$out/r2r-without-candor"
aot=(-c Release -r linux-x64 -p:PublishAot=true -nologo -v:quiet -clp:ErrorsOnly)
dotnet publish samples/Acme.Cli "${aot[@]}" -o "$out/aot-with-candor"
dotnet publish samples/Acme.Cli "${aot[@]}" -p:AcmeWithoutCandor=true -o "$out/aot-without-candor"
with=artifacts/bin/Acme.Cli/release/acme
without=artifacts/bin/Acme.Cli/release_without-candor/acme

# A fresh user whose notice has been shown: the steady state of every later run (opt-out, anonymous).
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_STATE_HOME="$home/.local/state"
export ACME_TELEMETRY_ENDPOINT=http://127.0.0.1:9/
unset DO_NOT_TRACK ACME_TELEMETRY CI GITHUB_ACTIONS 2>/dev/null || true
"$with" --help >/dev/null 2>&1
"$with" --help >/dev/null 2>&1
grep -q install_id "$XDG_CONFIG_HOME/acme/telemetry.toml" || { echo "acme-help.sh: the steady state was not reached" >&2; exit 1; }
# Every build with Candor must really resolve consent: `telemetry status` reads the same user file.
for build in "$with" "$out/r2r-with-candor/acme" "$out/aot-with-candor/acme"; do
  "$build" telemetry status | grep -q '^Telemetry: anonymous' || { echo "acme-help.sh: $build does not report the steady state" >&2; exit 1; }
done
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

hyperfine -N --warmup 10 --runs "${RUNS:-40}" \
  --export-json "$out/acme-help.json" --export-markdown "$out/acme-help.md" \
  -n with-candor "$with --help" \
  -n without-candor "$without --help" \
  -n r2r-with-candor "$out/r2r-with-candor/acme --help" \
  -n r2r-without-candor "$out/r2r-without-candor/acme --help" \
  -n aot-with-candor "$out/aot-with-candor/acme --help" \
  -n aot-without-candor "$out/aot-without-candor/acme --help"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$out/acme-help.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
for prefix in ("", "r2r-", "aot-"):
    w, wo = results[prefix + "with-candor"]["median"] * 1000, results[prefix + "without-candor"]["median"] * 1000
    print(f"{prefix or 'jit-'}build: median with Candor {w:.2f} ms, without {wo:.2f} ms: +{w - wo:.2f} ms, ratio {w / wo:.3f}")
PY
