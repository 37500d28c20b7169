#!/usr/bin/env bash
# Runs Candor's whole test suite. Installs what the tests need and is missing (idempotent, quiet
# when everything is present), builds the solution once, then runs every test project.
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Debian packages the tests use, as "command-or-path:package" pairs (a path may be a glob).
# PostgreSQL: the collector's storage contract and two-instance tests start a throwaway server
# from /usr/lib/postgresql/<version>/bin. Chromium: the dashboard's browser test.
APT_NEEDS=(
  "/usr/lib/postgresql/*/bin/pg_ctl:postgresql"
  "script:bsdutils"  # a pseudo-terminal for the first-run question test (ConsentTerminalTests)
  "/usr/bin/chromium:chromium"
  "clang:clang"      # Native AOT: the acme tool package test compiles acme ahead of time
)

missing=()
for need in "${APT_NEEDS[@]+"${APT_NEEDS[@]}"}"; do
  probe="${need%%:*}" package="${need#*:}"
  if [[ "$probe" == /* ]]; then compgen -G "$probe" >/dev/null || missing+=("$package")
  else command -v "$probe" >/dev/null 2>&1 || missing+=("$package"); fi
done
if ((${#missing[@]})); then
  echo "test.sh: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK is required (dotnet not found on PATH)" >&2
  exit 1
fi

dotnet build Candor.slnx -c Debug -nologo -clp:ErrorsOnly -v:quiet

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test Candor.slnx -c Debug --no-build -nologo -v:quiet 2>&1 | tee "$log" || status=$?

# One plain closing line for CI: "N passed, N failed, N skipped".
awk '
  /(Passed|Failed)! +- +Failed:/ {
    gsub(/,/, "")
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:") f += $(i + 1)
      if ($i == "Passed:") p += $(i + 1)
      if ($i == "Skipped:") s += $(i + 1)
    }
  }
  END { printf "%d passed, %d failed, %d skipped\n", p, f, s }
' "$log"

if grep -q "No test is available\|No test matches" "$log"; then
  echo "test.sh: a test project ran no test" >&2
  status=1
fi
exit "$status"
