#!/usr/bin/env bash
# What Candor costs a service: the sample service's hello-world route (samples/Acme.Server, GET /hello)
# under wrk over HTTPS, Release build, three ways in the same run:
#   none    no instrumentation (the baseline)
#   candor  Candor.Hosting + Candor.AspNetCore as the sample configures them, sending to a real collector
#   otel    OpenTelemetry's ASP.NET Core instrumentation (traces and metrics) to in-memory exporters
# Target (issue 23): candor ≥ 98 % of none's requests/s.
#
#   bench/server-throughput.sh [seconds] [rounds] [connections]     (default 10 s, 5 rounds, 32 connections)
#
# Each round runs every mode once, in a rotated order, each in a fresh process after a 3 s warm-up; the
# figures are medians over the rounds: requests/s, the ratio to `none` within each round (paired, so
# drift of a shared machine between rounds cancels out), p99 latency, and the server process's CPU time
# per request (user + system, from /proc; less sensitive to other load than requests/s). Installs wrk from Debian's packages when it is missing (as
# root). Makes a throw-away certificate (openssl) for 127.0.0.1, starts the collector on https with a
# throw-away data directory, and checks at the end that Candor's events really arrived there.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10} rounds=${2:-5} connections=${3:-32}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if ! command -v wrk >/dev/null; then
  [[ $(id -u) -eq 0 ]] || { echo "server-throughput.sh: wrk is required (apt-get install wrk)" >&2; exit 1; }
  apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
fi
for tool in curl openssl python3; do
  command -v "$tool" >/dev/null || { echo "server-throughput.sh: $tool is required" >&2; exit 1; }
done

quiet=(-nologo -clp:ErrorsOnly -v:quiet)
dotnet build src/Candor.Collector -c Release "${quiet[@]}" >/dev/null
dotnet build bench/Acme.Server.Bench -c Release "${quiet[@]}" >/dev/null
collector="$PWD/artifacts/bin/Candor.Collector/release/Candor.Collector.dll"
server="$PWD/artifacts/bin/Acme.Server.Bench/release/Acme.Server.Bench.dll"

work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$work/tls.key" -out "$work/tls.crt" 2>/dev/null
tls=(Kestrel__Certificates__Default__Path="$work/tls.crt" Kestrel__Certificates__Default__KeyPath="$work/tls.key")
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

key=wk_bench_acme_server_0123456789abcdef
admin=adm_bench_0123456789abcdef0123
collector_port=$(free_port)
env Candor__SchemaDirectory="$PWD/samples/Acme.Server/schemas" Candor__DataDirectory="$work/data" Candor__AdminToken=$admin \
  Candor__Products__acme-server__WriteKey=$key ASPNETCORE_ENVIRONMENT=Production "${tls[@]}" \
  dotnet "$collector" --urls "https://127.0.0.1:$collector_port" >"$work/collector.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -ksf "https://127.0.0.1:$collector_port/readyz" >/dev/null && break; sleep 0.2; done

declare -A rps=() p99=() cpu=() paired=()
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime of the server process, in clock ticks
hz=$(getconf CLK_TCK)
run_mode() { # mode round
  local mode=$1 port
  port=$(free_port)
  env ASPNETCORE_ENVIRONMENT=Production "${tls[@]}" SSL_CERT_FILE="$work/tls.crt" \
    ACME_SERVER_TELEMETRY_ENDPOINT="https://127.0.0.1:$collector_port" ACME_SERVER_TELEMETRY_WRITE_KEY=$key \
    Candor__DefaultPolicy=OptOut Candor__StateDirectory="$work/state" \
    dotnet "$server" "$mode" --urls "https://127.0.0.1:$port" >"$work/server-$mode.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -ksf "https://127.0.0.1:$port/hello" >/dev/null && break; sleep 0.2; done
  wrk -t2 -c"$connections" -d3s "https://127.0.0.1:$port/hello" >/dev/null
  local out before after requests
  before=$(cpu_ticks "$pid")
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "https://127.0.0.1:$port/hello")
  after=$(cpu_ticks "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  last_rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  last_cpu=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$requests" 'BEGIN {printf "%.2f", 1e6 * t / hz / n}')
  rps[$mode]+="$last_rps "
  cpu[$mode]+="$last_cpu "
  p99[$mode]+="$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out") "
  printf '  round %d %-7s %10s req/s  p99 %-8s %6s µs CPU/request\n' "$2" "$mode" "$last_rps" "$(awk '$1 == "99%" {print $2}' <<<"$out")" "$last_cpu"
}

modes=(none candor otel)
echo "GET /hello over HTTPS, wrk -t2 -c$connections -d${seconds}s, $rounds rounds"
for round in $(seq "$rounds"); do
  declare -A this=()
  for i in 0 1 2; do
    mode=${modes[$(( (i + round) % 3 ))]}
    run_mode "$mode" "$round"
    this[$mode]=$last_rps
  done
  # Paired within the round: the machine's state drifts less within a round than across rounds.
  for mode in candor otel; do paired[$mode]+="$(awk -v a="${this[$mode]}" -v b="${this[none]}" 'BEGIN {print a/b}') "; done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
base=$(median <<<"${rps[none]}") base_cpu=$(median <<<"${cpu[none]}")
echo
printf '%-7s %13s %8s %15s %11s %17s %8s\n' mode "median req/s" "vs none" "median of round" "median p99" "µs CPU/request" "vs none"
printf '%-7s %13s %8s %15s %11s %17s %8s\n' "" "" "" "ratios to none" "" "(server process)" ""
for mode in "${modes[@]}"; do
  m=$(median <<<"${rps[$mode]}") p=$(median <<<"${p99[$mode]}") c=$(median <<<"${cpu[$mode]}")
  r=$([[ $mode == none ]] && echo 1 || median <<<"${paired[$mode]}")
  printf '%-7s %13.0f %7.1f%% %14.1f%% %8.2f ms %17.2f %7.1f%%\n' "$mode" "$m" "$(awk -v a="$m" -v b="$base" 'BEGIN {print 100*a/b}')" \
    "$(awk -v r="$r" 'BEGIN {print 100*r}')" "$p" "$c" "$(awk -v a="$c" -v b="$base_cpu" 'BEGIN {print 100*a/b}')"
done

# Candor's numbers count only if its events really arrived: the last interval is flushed at shutdown.
sleep 1
routes=$(curl -ksf -H "Authorization: Bearer $admin" "https://127.0.0.1:$collector_port/v1/admin/events?product=acme-server&limit=10000" \
  | python3 -c 'import json,sys; e=json.load(sys.stdin); print(sum(x["properties"]["count"] for x in e if x["name"]=="http_requests"))')
echo
echo "the collector holds $routes requests counted by Candor (its http_requests events)"
[[ "$routes" -gt 0 ]] || { echo "server-throughput.sh: Candor delivered nothing; its figures do not count" >&2; exit 1; }
