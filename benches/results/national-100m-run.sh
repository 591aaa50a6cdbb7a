#!/usr/bin/env bash
# Issue 19 at 100M events, a national decade (2026-12-08): generate through the bulk path, then the disk ratio.
# Usage: benches/results/national-100m-run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
B=target/release/parcours
D=/work/bench-national
rm -rf $D/decade
echo "== $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD); load: $(cat /proc/loadavg); df: $(df -h /work | tail -1)"
echo "== generate --events 100000000 --people 3000000 --years 10"
/usr/bin/time -v $B generate --events 100000000 --people 3000000 --years 10 --data $D/decade
echo "== $(date -u +%FT%TZ) load: $(cat /proc/loadavg)"
du -sb $D/decade; du -sh $D/decade; df -h /work | tail -1
echo "== disk ratio"
target/release/examples/disk_ratio $D/decade
echo "== $(date -u +%FT%TZ) load: $(cat /proc/loadavg)"
