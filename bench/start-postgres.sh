#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the analytics benchmark and prints the connection string
# to export as CANDOR_BENCH_PG. The cluster lives in DIR (default $TMPDIR/candor-bench-pg) and is
# reused when it exists, so the generated events survive between runs.
#   bench/start-postgres.sh [DIR] [PORT]     start (or reuse)
#   bench/start-postgres.sh stop [DIR]       stop it (delete DIR yourself to drop the data)
# Uses Debian's /usr/lib/postgresql/<version>/bin (apt-get install postgresql) or pg_ctl on PATH.
# PostgreSQL refuses to run as root, so under root the cluster belongs to the postgres user.
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[[ -n "$bin" ]] || bin=$(dirname "$(command -v pg_ctl)")
as_pg=()
[[ $(id -u) -eq 0 ]] && as_pg=(runuser -u postgres --)

if [[ "${1:-}" == "stop" ]]; then
  dir=${2:-${TMPDIR:-/tmp}/candor-bench-pg}
  (cd / && "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop)
  exit 0
fi

dir=${1:-${TMPDIR:-/tmp}/candor-bench-pg}
port=${2:-55432}
mkdir -p "$dir"
[[ ${#as_pg[@]} -eq 0 ]] || chown postgres:postgres "$dir"
cd /
if [[ ! -d "$dir/data" ]]; then
  "${as_pg[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >/dev/null
fi
if ! "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
  # Settings of a small analytics server: enough memory for hash aggregates and sorts, parallel
  # scans on both cores. Nothing here is needed for correct answers, only for speed.
  "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o \
    "-p $port -k $dir -c listen_addresses=127.0.0.1 -c shared_buffers=2GB -c work_mem=256MB -c maintenance_work_mem=1GB -c max_wal_size=8GB -c effective_cache_size=8GB -c random_page_cost=1.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null
fi
echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
