#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# A blackholed port (a listener whose full backlog drops SYNs) times out:
# reason "timeout", reported within the timeout plus 0.5 s, whether the
# timeout comes from timeout=, from --timeout or from the default.
. "$E2E_LIB"

start_fixture --blackhole 3 --accept 1
B1=$(nth 1 $BLACKHOLE)
B2=$(nth 2 $BLACKHOLE)
B3=$(nth 3 $BLACKHOLE)
A1=$(nth 1 $ACCEPT)

# check_timeout TARGET SECONDS: TARGET timed out after about SECONDS.
check_timeout() {
	r=$(canon "$1")
	assert_eq "$(result "$OUT" "$r" .success)" false "$r is down"
	assert_eq "$(result "$OUT" "$r" .reason)" timeout "$r: reason"
	assert_eq "$(result "$OUT" "$r" .timeout_seconds)" "$2" \
	    "$r: timeout_seconds"
	assert_eq "$(result "$OUT" "$r" .connect_seconds)" null \
	    "$r: no handshake completed"
	assert_jq "$OUT" '.results[] | select(.target == $t) |
	    .duration_seconds >= $s - 0.05 and .duration_seconds < $s + 0.5' \
	    "$r: duration_seconds close to the timeout" \
	    --arg t "$r" --argjson s "$2"
}

# timeout= on the line.
printf '%s timeout=1s\n' "$B1" >"$E2E_TMP/t1.txt"
run_timed 1500 scan --workers 2 -t "$E2E_TMP/t1.txt"
assert_rc 1 "blackholed target"
assert_document "$OUT"
check_timeout "$B1" 1
assert_le 950 "$ELAPSED_MS" "pulse gave up before the timeout (ms)"

# Several blackholes in parallel take one timeout, not the sum; an
# endpoint that accepts is unaffected.
printf '%s timeout=1s\n' "$B1" "$B2" "$B3" >"$E2E_TMP/t3.txt"
printf '%s\n' "$A1" >>"$E2E_TMP/t3.txt"
run_timed 1500 scan --workers 4 -t "$E2E_TMP/t3.txt"
assert_rc 1 "three blackholes and one accepting endpoint"
assert_document "$OUT"
for b in "$B1" "$B2" "$B3"; do
	check_timeout "$b" 1
done
assert_eq "$(result "$OUT" "$(canon "$A1")" .success)" true "accepting endpoint"

# Sub-second timeouts.
printf '%s timeout=300ms\n' "$B2" >"$E2E_TMP/t300.txt"
run_timed 800 scan --workers 1 -t "$E2E_TMP/t300.txt"
assert_rc 1 "300ms timeout"
check_timeout "$B2" 0.3

# --timeout is the default for targets without timeout=, and timeout=
# wins over it.
run_timed 1500 scan --workers 2 --timeout 1s "$B1"
assert_rc 1 "--timeout 1s"
check_timeout "$B1" 1

# B3 times out on its own 1s while B2 waits for --timeout's 30s; the
# scan is cut short with SIGTERM once B3 should be done, rather than
# waiting the full 30 s.
printf '%s timeout=1s\n' "$B3" >"$E2E_TMP/t1b.txt"
start_pulse scan --workers 2 --timeout 30s --grace 100ms \
    -t "$E2E_TMP/t1b.txt" "$B2"
sleep 2
kill -TERM "$PULSE_PID"
wait_pulse
assert_rc 143 "scan cut short by SIGTERM"
assert_document "$OUT"
check_timeout "$B3" 1
assert_eq "$(result "$OUT" "$(canon "$B2")" .timeout_seconds)" 30 \
    "--timeout applies to an argument target"
assert_eq "$(result "$OUT" "$(canon "$B2")" .reason)" cancelled \
    "the 30s probe was cancelled"

# Without any timeout option the default is 5s.
run_timed 5500 scan --workers 1 "$B1"
assert_rc 1 "default timeout"
check_timeout "$B1" 5

log "ok"
