#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# SIGTERM and SIGINT mid-scan: queued probes are cancelled, probes in
# flight get the grace period, the document is still complete and valid,
# and the exit status says which signal (143, 130).  A second signal ends
# the grace at once.
. "$E2E_LIB"

start_fixture --accept 2 --blackhole 4
A1=$(nth 1 $ACCEPT)
A2=$(nth 2 $ACCEPT)
B1=$(nth 1 $BLACKHOLE)
B2=$(nth 2 $BLACKHOLE)
B3=$(nth 3 $BLACKHOLE)
B4=$(nth 4 $BLACKHOLE)

f=$E2E_TMP/targets.txt
printf '%s\n' "$A1" "$A2" >"$f"
printf '%s timeout=30s\n' "$B1" "$B2" "$B3" "$B4" >>"$f"
expect="$(canon "$A1") $(canon "$A2") $(canon "$B1") $(canon "$B2") \
$(canon "$B3") $(canon "$B4") "

# check_interrupted FILE SIGNAME: the accepting endpoints are up, every
# blackhole was cancelled, nothing is missing.
check_interrupted() {
	assert_document "$1"
	assert_jq "$1" '.interrupted == $s' "interrupted by $2" --arg s "$2"
	assert_eq "$(targets_of "$1" | tr '\n' ' ')" "$expect" \
	    "$2: every target accounted for, in order"
	assert_jq "$1" '.counts == {total: 6, up: 2, down: 0, cancelled: 4}' \
	    "$2: counts"
	for b in "$B1" "$B2" "$B3" "$B4"; do
		assert_eq "$(result "$1" "$(canon "$b")" .reason)" cancelled \
		    "$2: $b"
		result "$1" "$(canon "$b")" .error | grep -q '^cancelled' ||
		    fail "$2: $b: error does not start with 'cancelled'"
	done
}

# start_scan ARGS: start a scan of the file with two workers and wait
# until the accepting endpoints are done and two blackholes are in flight.
start_scan() {
	start_pulse scan --workers 2 --parallel 1 -t "$f" "$@"
	wait_workers "$PULSE_PID" 2
	sleep 0.7
}

# SIGTERM: the grace period (1s) is waited for, then 143.
start_scan --grace 1s
t_sig=$(now_ms)
kill -TERM "$PULSE_PID"
wait_pulse
after=$(($(now_ms) - t_sig))
assert_rc 143 "SIGTERM"
check_interrupted "$OUT" SIGTERM
assert_le "$after" 2000 "SIGTERM: exit after the 1s grace (ms)"
assert_le 900 "$after" "SIGTERM: the grace was cut short (ms)"

# SIGINT: 130, and --output is written all the same.
mkdir -m 1777 "$E2E_TMP/int" # writable by the user pulse drops to
start_scan --grace 1s -o "$E2E_TMP/int/report.json"
kill -INT "$PULSE_PID"
wait_pulse
assert_rc 130 "SIGINT"
assert_empty "$OUT" "SIGINT with --output: stdout"
check_interrupted "$E2E_TMP/int/report.json" SIGINT
assert_eq "$(ls -A "$E2E_TMP/int")" report.json \
    "SIGINT: no temp file beside the output"

# A second SIGTERM ends a long grace at once.
start_scan --grace 30s
kill -TERM "$PULSE_PID"
sleep 0.5
t_sig=$(now_ms)
kill -TERM "$PULSE_PID"
wait_pulse
after=$(($(now_ms) - t_sig))
assert_rc 143 "second SIGTERM"
check_interrupted "$OUT" SIGTERM
assert_le "$after" 1000 "exit after the second SIGTERM (ms)"

# Without --grace, probes in flight get 5 s.
start_pulse scan --workers 1 --timeout 30s "$B1"
wait_workers "$PULSE_PID" 1
sleep 0.3
t_sig=$(now_ms)
kill -TERM "$PULSE_PID"
wait_pulse
after=$(($(now_ms) - t_sig))
assert_rc 143 "SIGTERM with the default grace"
assert_document "$OUT"
assert_eq "$(result "$OUT" "$(canon "$B1")" .reason)" cancelled \
    "default grace: the probe in flight was cancelled"
assert_le 4900 "$after" "default grace: exit after 5 s, not before (ms)"
assert_le "$after" 6000 "default grace: exit soon after 5 s (ms)"

# Probes in flight that finish within the grace keep their own result,
# queued ones are cancelled, and pulse does not wait out the rest of
# the grace once nothing is in flight.
printf '%s timeout=1s\n' "$B1" "$B2" "$B3" >"$E2E_TMP/grace.txt"
start_pulse scan --workers 2 --parallel 1 --grace 10s -t "$E2E_TMP/grace.txt"
wait_workers "$PULSE_PID" 2
sleep 0.3
kill -TERM "$PULSE_PID"
wait_pulse
assert_rc 143 "SIGTERM with probes finishing in the grace"
assert_document "$OUT"
assert_jq "$OUT" '[.results[].reason] == ["timeout", "timeout",
    "cancelled"]' "in-flight probes finish, the queued one is cancelled"
assert_le "$ELAPSED_MS" 2500 "no waiting once the grace has nothing left (ms)"

# Workers ignore SIGTERM: a signal to the whole process group reaches
# only the supervisor's logic, so probes in flight still finish.
if command -v setsid >/dev/null 2>&1; then
	printf '%s timeout=1s\n' "$B1" "$B2" >"$E2E_TMP/pgrp.txt"
	PULSE_SETSID=1
	start_pulse scan --workers 2 --grace 5s \
	    -t "$E2E_TMP/pgrp.txt"
	PULSE_SETSID=0
	wait_workers "$PULSE_PID" 2
	sleep 0.3
	pgid=$(ps -o pgid= -p "$PULSE_PID" | tr -d ' ')
	assert_eq "$pgid" "$PULSE_PID" "pulse leads its process group"
	kill -s TERM -- "-$pgid"
	wait_pulse
	assert_rc 143 "SIGTERM to the process group"
	assert_document "$OUT"
	assert_jq "$OUT" '[.results[].reason] == ["timeout", "timeout"]' \
	    "workers survived SIGTERM to the group"
else
	log "no setsid: process group signal not tested"
fi

# SIGKILL mid-scan leaves the previous --output whole (only a temp file
# beside it), and no worker outlives pulse.
d=$E2E_TMP/killed
mkdir -m 777 "$d" # the user pulse drops to replaces files here
echo '{"previous": true}' >"$d/report.json"
start_scan -o "$d/report.json"
workers=$(workers_of "$PULSE_PID")
kill -KILL "$PULSE_PID"
# timeout(1) passes on the 137 of a killed pulse: not a hang, so no
# wait_pulse here.
wait "$PULSE_WRAPPER" || true
untrack_pid "$PULSE_WRAPPER"
untrack_pid "$PULSE_PID"
assert_eq "$(cat "$d/report.json")" '{"previous": true}' \
    "SIGKILL: the previous output"
for w in $workers; do
	i=0
	while alive "$w"; do
		i=$((i + 1))
		[ $i -le 100 ] || fail "SIGKILL: worker $w outlived pulse"
		sleep 0.05
	done
done

log "ok"
