#!/usr/bin/env bash
# Issue 19 at 10M events (2026-12-08): generate, disk ratio, rebuild (time, RSS), Parquet export, with the bulk
# path's sorted index runs and id blocks. Usage: benches/results/national-10m-run.sh [EVENTS] [PEOPLE]
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS=${1:-10000000}
PEOPLE=${2:-300000}
B=target/release/parcours
D=/work/bench-national
rm -rf $D/log $D/parquet
echo "== $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD); load: $(cat /proc/loadavg); df: $(df -h /work | tail -1)"
echo "== generate --events $EVENTS --people $PEOPLE"
/usr/bin/time -v $B generate --events $EVENTS --people $PEOPLE --data $D/log
echo "== $(date -u +%FT%TZ) load: $(cat /proc/loadavg)"
du -sb $D/log; du -sh $D/log
echo "== disk ratio"
target/release/examples/disk_ratio $D/log
echo "== $(date -u +%FT%TZ) load: $(cat /proc/loadavg)"
echo "== rebuild"
/usr/bin/time -v $B rebuild --data $D/log
echo "== $(date -u +%FT%TZ) load: $(cat /proc/loadavg)"
echo "== export-parquet"
/usr/bin/time -v $B export-parquet --to $D/parquet --data $D/log
du -sb $D/parquet; du -sh $D/parquet; find $D/parquet -type f | sort
echo "== $(date -u +%FT%TZ) load: $(cat /proc/loadavg)"
