#!/usr/bin/env bash
# Issue 19 measures at 1M events (10M did not fit the session on a saturated machine): generate, disk, rebuild (time, RSS), Parquet export.
set -euo pipefail
cd /work/wt/national
B=target/release/parcours
D=/work/bench-national
rm -rf $D/1m $D/parquet
echo "== $(date -u +%FT%TZ) commit $(git rev-parse --short HEAD); load: $(cat /proc/loadavg); df: $(df -h /work | tail -1)"
echo "== generate"
/usr/bin/time -v $B generate --events 1000000 --people 30000 --data $D/1m
echo "== $(date -u +%FT%TZ) load: $(cat /proc/loadavg)"
du -sb $D/1m; du -sh $D/1m
echo "== rebuild"
/usr/bin/time -v $B rebuild --data $D/1m
echo "== $(date -u +%FT%TZ) load: $(cat /proc/loadavg)"
echo "== export-parquet"
/usr/bin/time -v $B export-parquet --to $D/parquet --data $D/1m
du -sb $D/parquet; du -sh $D/parquet; find $D/parquet -type f | sort
echo "== $(date -u +%FT%TZ) load: $(cat /proc/loadavg)"
