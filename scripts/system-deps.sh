#!/usr/bin/env bash
# Debian packages Switchboard needs, installed only when missing (idempotent).
#   postgresql      the embedded database's binaries (skipped when any PostgreSQL is present)
#   chromium, chromium-driver   browser tests and the dashboard benchmark
#   espeak-ng, sox  offline speech for the LiveKit worker and its tests
#   libportaudio2   livekit-agents' `console` mode
#   wrk             the edge benchmark's load generator (bench/bench_edge.py)
set -euo pipefail
need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
for pkg in chromium chromium-driver espeak-ng sox libportaudio2 wrk; do
  have "$pkg" || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${need[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
