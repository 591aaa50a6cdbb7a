#!/bin/sh
# Reproduction of a published report (issues 16.7 and 19.4): the first request after the log moved
# past the publication folds the log up to its position; the next ones read the kept bytes; a
# publication that nothing has changed since is read off the live projections.
#
#   cargo build --release -p parcours-server
#   sh benches/results/reproduction-run.sh EVENTS PEOPLE DIR
set -eu
EVENTS=${1:-300000}
PEOPLE=${2:-10000}
DIR=${3:-/tmp/parcours-reproduction}
BIN=${PARCOURS_BIN:-target/release/parcours}
TOKEN=prc_reproduction_bench_admin_token
rm -rf "$DIR"
echo "start $(date -u +%Y-%m-%dT%H:%M:%SZ), load $(cut -d' ' -f1-3 /proc/loadavg), binary $BIN"
/usr/bin/time -f "generate: %e s wall, %U+%S s CPU, %M KiB peak" "$BIN" generate --events "$EVENTS" --people "$PEOPLE" --data "$DIR/data"
PARCOURS_ADMIN_TOKEN=$TOKEN "$BIN" serve --data "$DIR/data" --addr 127.0.0.1:0 > "$DIR/serve.out" 2> "$DIR/serve.err" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null' EXIT
until grep -q "listening on" "$DIR/serve.out" 2>/dev/null; do sleep 0.2; done
URL=$(sed -n 's/^listening on //p' "$DIR/serve.out")
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")" = 200 ]; do sleep 0.2; done
get() { curl -s -o /dev/null -w "%{http_code} %{time_total}" -H "Authorization: Bearer $TOKEN" "$URL$1"; }
post() { curl -s -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "$2" "$URL$1"; }
STRUCTURE=$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/beneficiaries?limit=1" | sed 's/.*"current_structure":"\([^"]*\)".*/\1/')
YEAR=$(( $(date -u +%Y) - 1 ))
QUESTION="{\"structures\": [\"$STRUCTURE\"], \"from\": \"$YEAR-01-01\", \"to\": \"$YEAR-12-31\"}"
echo "log of $(curl -s "$URL/healthz"), report of $STRUCTURE for $YEAR"
ID=$(post /api/reports/activity/publish "$QUESTION" | sed 's/.*"id":"\([^"]*\)".*/\1/')
echo "at head (live projections, no fold): $(get /api/reports/published/$ID)"
echo "again (kept): $(get /api/reports/published/$ID)"
SECOND=$(post /api/reports/activity/publish "$QUESTION" | sed 's/.*"id":"\([^"]*\)".*/\1/')
post /api/beneficiaries "{\"occurred_on\": \"$YEAR-12-30\", \"data\": {\"structure\": \"$STRUCTURE\", \"gender\": \"female\", \"birth_year\": 1990}}" > /dev/null
echo "log now at $(curl -s "$URL/healthz")"
echo "after the log moved past it (one fold up to its position): $(get /api/reports/published/$SECOND)"
for run in 1 2 3 4 5; do echo "again $run (kept): $(get /api/reports/published/$SECOND)"; done
curl -s -H "Authorization: Bearer $TOKEN" "$URL/metrics" | grep '^parcours_publication_folds_total'
echo "end $(date -u +%Y-%m-%dT%H:%M:%SZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
