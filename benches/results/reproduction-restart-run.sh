#!/bin/sh
# The first reproduction of a published report after a restart (issue 19.4): from the snapshot
# kept when it was published, then, the snapshots deleted, by the fold of the log up to its
# position (the path every first reproduction took before snapshots). Two publications: one
# structure's report, and the report of every structure of the log (everyone ever followed).
# Each case is RUNS restarts; each time is curl's time_total of GET /api/reports/published/{id}
# (JSON), the first request for it after the restart, once /readyz is 200.
#
#   sh benches/results/reproduction-restart-run.sh EVENTS PEOPLE STRUCTURES DIR [RUNS]
set -eu
EVENTS=${1:-3000000}
PEOPLE=${2:-90000}
STRUCTURES=${3:-150}
DIR=${4:-/tmp/parcours-restart}
RUNS=${5:-3}
BIN=${PARCOURS_BIN:-target/release/parcours}
TOKEN=prc_reproduction_bench_admin_token
rm -rf "$DIR"
mkdir -p "$DIR"
echo "start $(date -u +%Y-%m-%dT%H:%M:%SZ), load $(cut -d' ' -f1-3 /proc/loadavg), binary $BIN"
/usr/bin/time -f "generate: %e s wall, %U+%S s CPU, %M KiB peak" "$BIN" generate --events "$EVENTS" --people "$PEOPLE" \
  --structures "$STRUCTURES" --data "$DIR/data"
SERVER=
start() {
  : > "$DIR/serve.out"
  PARCOURS_ADMIN_TOKEN=$TOKEN "$BIN" serve --data "$DIR/data" --addr 127.0.0.1:0 > "$DIR/serve.out" 2>> "$DIR/serve.err" &
  SERVER=$!
  until grep -q "listening on" "$DIR/serve.out" 2>/dev/null; do sleep 0.2; done
  URL=$(sed -n 's/^listening on //p' "$DIR/serve.out")
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")" = 200 ]; do sleep 0.2; done
}
stop() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; }
trap 'kill $SERVER 2>/dev/null || true' EXIT
get() { curl -s -o /dev/null -w "%{http_code} %{time_total}" -H "Authorization: Bearer $TOKEN" "$URL$1"; }
post() { curl -s -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "$2" "$URL$1"; }
metric() { curl -s -H "Authorization: Bearer $TOKEN" "$URL/metrics" | sed -n "s/^parcours_$1_total //p"; }

start
ALL=$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/structures" |
  python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("structures",d) if isinstance(d,dict) else d; print(json.dumps(sorted(s["slug"] for s in d)))')
ONE=$(echo "$ALL" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[:1]))')
echo "log of $(curl -s "$URL/healthz"); $(echo "$ALL" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') structures"
publish() {
  /usr/bin/time -f "publish $1: %e s wall" curl -s -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d "{\"structures\": $2, \"from\": \"2025-01-01\", \"to\": \"2025-12-31\"}" "$URL/api/reports/activity/publish" |
    sed 's/.*"id":"\([^"]*\)".*/\1/'
}
ID_ONE=$(publish "one structure" "$ONE")
ID_ALL=$(publish "every structure" "$ALL")
echo "published $ID_ONE (one structure: $ONE) and $ID_ALL (every structure)"
ls -l "$DIR/data/snapshots"
post /api/beneficiaries '{"occurred_on": "2026-10-30", "data": {"structure": "'"$(echo "$ONE" | sed 's/\["\(.*\)"\]/\1/')"'", "gender": "female", "birth_year": 1990}}' > /dev/null
echo "log now at $(curl -s "$URL/healthz")"
stop

for run in $(seq 1 "$RUNS"); do
  start
  echo "snapshot run $run: one structure $(get /api/reports/published/$ID_ONE); every structure $(get /api/reports/published/$ID_ALL); folds $(metric publication_folds), snapshots $(metric publication_snapshots)"
  stop
done
for run in $(seq 1 "$RUNS"); do
  rm -f "$DIR"/data/snapshots/*.snap
  start
  echo "fold run $run: one structure $(get /api/reports/published/$ID_ONE); every structure $(get /api/reports/published/$ID_ALL); folds $(metric publication_folds), snapshots $(metric publication_snapshots)"
  stop
done
# Where the time of each reproduction from a snapshot went (the server's log, ANSI colours taken out).
sed 's/\x1b\[[0-9;]*m//g' "$DIR/serve.err" | grep "reproduced from its snapshot" | sed 's/.*INFO //'
du -sh "$DIR/data" "$DIR/data/snapshots"
echo "end $(date -u +%Y-%m-%dT%H:%M:%SZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
