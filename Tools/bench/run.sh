#!/usr/bin/env bash
# The speed benchmark, one command: ImOrleans (embedded, SQLite) beside mosquitto, the same workload in the same
# run, one table with the ImOrleans/mosquitto ratios last.
#
#   bash Tools/bench/run.sh             # the full run: about ten minutes, most of it setting up accounts
#   bash Tools/bench/run.sh --quick     # a smoke run
#   bash Tools/bench/run.sh --postgres  # ImOrleans on PostgreSQL too (cluster mode, one silo): a third column
#   bash Tools/bench/run.sh --idle 5000 --seconds 10    # any `LoadGen compare` option (Tools/LoadGen/CompareOptions.cs)
#
# Installs what is missing: mosquitto and, for --postgres, postgresql (Debian packages; the benchmark starts its own
# throwaway servers, never the packages' services) and dotnet-counters (NuGet tool, into Tools/bench/.tools), then
# builds Silo and LoadGen in Release.
set -euo pipefail
cd "$(dirname "$0")/../.."

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)
if [ ! -x "$mosquitto" ]; then
  echo "installing mosquitto ..." >&2
  $sudo apt-get install -y mosquitto >&2 || { $sudo apt-get update >&2 && $sudo apt-get install -y mosquitto >&2; }
  mosquitto=/usr/sbin/mosquitto
fi

if [[ " $* " == *" --postgres "* ]] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "installing postgresql ..." >&2
  $sudo apt-get install -y postgresql >&2 || { $sudo apt-get update >&2 && $sudo apt-get install -y postgresql >&2; }
fi

counters=$(command -v dotnet-counters || true)
if [ -z "$counters" ]; then
  tools=Tools/bench/.tools
  [ -x "$tools/dotnet-counters" ] || dotnet tool install dotnet-counters --tool-path "$tools" >&2 ||
    echo "dotnet-counters could not be installed; Orleans messages will not be counted" >&2
  [ -x "$tools/dotnet-counters" ] && counters=$PWD/$tools/dotnet-counters
fi

echo "building Silo and LoadGen (Release) ..." >&2
dotnet build -c Release Silo/Silo.csproj -nologo -v q >&2
dotnet build -c Release Tools/LoadGen/LoadGen.csproj -nologo -v q >&2

# 15 000 idle client sockets live in the load tool's process (the servers hold as many each): up to 20 000 files.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

exec dotnet Tools/LoadGen/bin/Release/net10.0/LoadGen.dll compare --silo Silo/bin/Release/net10.0/Silo.dll \
  --mosquitto "$mosquitto" ${counters:+--counters "$counters"} "$@"
