#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# 2,000 targets with 64 workers: every one probed exactly once, all up,
# in input order, in bounded time.
. "$E2E_LIB"

N=2000
start_fixture --accept $N
f=$E2E_TMP/targets.txt
printf '%s\n' $ACCEPT >"$f"
assert_eq "$(wc -l <"$f" | tr -d ' ')" $N "targets written"

PULSE_LIMIT=90
run_pulse scan --workers 64 -q -t "$f"
assert_rc 0 "$N targets, all up"
assert_document "$OUT"
assert_jq "$OUT" ".counts == {total: $N, up: $N, down: 0, cancelled: 0}" \
    "counts"
assert_jq "$OUT" '.workers == 64' "workers"
targets_of "$OUT" >"$E2E_TMP/got.txt"
sed 's|^|tcp://|' "$f" >"$E2E_TMP/want.txt"
cmp -s "$E2E_TMP/got.txt" "$E2E_TMP/want.txt" ||
    fail "results not in input order: $(diff "$E2E_TMP/want.txt" \
	"$E2E_TMP/got.txt" | head -5)"
assert_eq "$(sort -u "$E2E_TMP/got.txt" | wc -l | tr -d ' ')" $N \
    "distinct targets"
assert_le "$ELAPSED_MS" 60000 "wall time of $N probes (ms)"
log "$N probes with 64 workers in $ELAPSED_MS ms"

log "ok"
