#!/usr/bin/env bash
# Long abuse runs of the collector: the acceptance tests of tests/Candor.EndToEnd.Tests whose class
# names contain "Fuzz", run in Release for longer than CI runs them, on DuckDB and on PostgreSQL.
#
#   bench/fuzz.sh [seconds] [cycles] [abuse requests]
#
#   seconds         how long the fuzz clients send, per store (CI: 45)             CANDOR_FUZZ_SECONDS
#   cycles          kill -9 cycles per store (CI: 3)                                CANDOR_FUZZ_CYCLES
#   abuse requests  abusive requests before memory is measured (CI: 10000)          CANDOR_ABUSE_REQUESTS
#
# Also read from the environment: CANDOR_FUZZ_SEED (replay a run: every run prints its seed),
# CANDOR_FUZZ_CLIENTS (fuzz clients at once, default 4), CANDOR_FUZZ_REPLAY ("client/number,..." keys
# printed with a failure: sends only those requests once, with the same seed), and
# CANDOR_FUZZ_FILTER (which tests: CollectorFuzzTests, CollectorFuzzKillTests, CollectorFuzzMemoryTests;
# default all of them). PostgreSQL must be installed as ./test.sh installs it.
#
# Prints the figures of every run at the end: requests, answers by status and code, acknowledged and
# stored events, the collector's peak and final resident memory, kill cycles, and what failed.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
export CANDOR_FUZZ_SECONDS=${1:-${CANDOR_FUZZ_SECONDS:-600}}
export CANDOR_FUZZ_CYCLES=${2:-${CANDOR_FUZZ_CYCLES:-20}}
export CANDOR_ABUSE_REQUESTS=${3:-${CANDOR_ABUSE_REQUESTS:-100000}}
filter=${CANDOR_FUZZ_FILTER:-Fuzz}

# The test project builds the collector it starts, in the same configuration.
dotnet build tests/Candor.EndToEnd.Tests -c Release -nologo -clp:ErrorsOnly -v:quiet

CANDOR_FUZZ_REPORT=$(mktemp /tmp/candor-fuzz-report-XXXXXX)
export CANDOR_FUZZ_REPORT
trap 'rm -f "$CANDOR_FUZZ_REPORT"' EXIT
echo "fuzz.sh: ${CANDOR_FUZZ_SECONDS} s of fuzzing and ${CANDOR_FUZZ_CYCLES} kill cycles per store, ${CANDOR_ABUSE_REQUESTS} abusive requests; tests matching '$filter'"
status=0
dotnet test tests/Candor.EndToEnd.Tests -c Release --no-build -nologo --filter "FullyQualifiedName~$filter" || status=$?
echo
echo "=== figures ==="
cat "$CANDOR_FUZZ_REPORT"
exit "$status"
