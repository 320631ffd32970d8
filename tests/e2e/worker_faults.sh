#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# Workers that crash or hang mid-probe, each running one probe at a time
# (--parallel 1): the probe they held gets one
# result ("crash" or "deadline"), every other target still gets exactly
# one, the slot is respawned and the scan carries on.
. "$E2E_LIB"

start_fixture --blackhole 4 --accept 4
B1=$(nth 1 $BLACKHOLE)
B2=$(nth 2 $BLACKHOLE)
B3=$(nth 3 $BLACKHOLE)
B4=$(nth 4 $BLACKHOLE)
A1=$(nth 1 $ACCEPT)
A2=$(nth 2 $ACCEPT)
A3=$(nth 3 $ACCEPT)
A4=$(nth 4 $ACCEPT)
ALL_B="$(canon "$B1") $(canon "$B2") $(canon "$B3") $(canon "$B4")"

# Sockets a process holds: a worker in the middle of a connect holds one
# more than an idle one.
sockets_of() {
	_n=0
	for _fd in "/proc/$1/fd/"*; do
		case $(readlink "$_fd" 2>/dev/null) in
		socket:*) _n=$((_n + 1)) ;;
		esac
	done
	echo "$_n"
}

# No worker seen during the run may outlive pulse.
assert_workers_gone() {
	for w in $1; do
		if alive "$w" && [ "$(comm_of "$w")" = pulse-worker ]; then
			fail "worker $w outlived pulse ($2)"
		fi
	done
}

# Remember every worker of the running pulse, respawned ones included.
SEEN=
note_workers() {
	for w in $(workers_of "$PULSE_PID"); do
		case " $SEEN " in
		*" $w "*) ;;
		*) SEEN="$SEEN $w" ;;
		esac
	done
}

# crash_test SIG: kill one of four busy workers with SIG mid-probe (each
# running one probe: --parallel 1).
crash_test() {
	f=$E2E_TMP/crash.txt
	printf '%s timeout=3s\n' "$B1" "$B2" "$B3" "$B4" >"$f"
	printf '%s\n' "$A1" "$A2" "$A3" "$A4" >>"$f"
	start_pulse scan --workers 4 --parallel 1 -t "$f"
	wait_workers "$PULSE_PID" 4
	SEEN=$WORKERS
	sleep 0.5
	victim=$(nth 1 $WORKERS)
	kill -"$1" "$victim"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		note_workers
		sleep 0.1
	done
	wait_pulse
	assert_rc 1 "SIG$1 to a worker"
	assert_document "$OUT"
	assert_jq "$OUT" '.counts.total == 8' "SIG$1: one result per target"
	assert_jq "$OUT" '[.results[] | select(.reason == "crash")] |
	    length == 1' "SIG$1: exactly one crash"
	assert_eq "$(jqr "$OUT" '.results[] | select(.reason == "crash") |
	    .error')" "worker crashed: SIG$1" "SIG$1: error of the crash"
	crashed=$(jqr "$OUT" '.results[] | select(.reason == "crash") |
	    .target')
	case " $ALL_B " in
	*" $crashed "*) ;;
	*) fail "SIG$1: crash reported for $crashed, not a probe in flight" ;;
	esac
	assert_jq "$OUT" '[.results[] | select(.target | IN($b1, $b2, $b3,
	    $b4)) | .reason] | sort == ["crash", "timeout", "timeout",
	    "timeout"]' "SIG$1: the other probes in flight timed out" \
	    --arg b1 "$(canon "$B1")" --arg b2 "$(canon "$B2")" \
	    --arg b3 "$(canon "$B3")" --arg b4 "$(canon "$B4")"
	for a in "$A1" "$A2" "$A3" "$A4"; do
		assert_eq "$(result "$OUT" "$(canon "$a")" .success)" true \
		    "SIG$1: $a probed after the crash"
	done
	assert_workers_gone "$SEEN" "SIG$1 test"
}

crash_test SEGV
crash_test KILL

# A stopped worker misses its deadline: the supervisor kills it and
# reports "deadline" within the timeout plus about 1.5 s.
f=$E2E_TMP/stop.txt
printf '%s timeout=2s\n' "$B1" "$B2" >"$f"
printf '%s\n' "$A1" >>"$f"
start_pulse scan --workers 2 --parallel 1 -t "$f"
wait_workers "$PULSE_PID" 2
SEEN=$WORKERS
sleep 0.5
victim=$(nth 1 $WORKERS)
track_worker "$victim"
kill -STOP "$victim"
note_workers
wait_pulse
assert_rc 1 "SIGSTOP to a worker"
assert_document "$OUT"
assert_jq "$OUT" '.counts.total == 3' "SIGSTOP: one result per target"
assert_jq "$OUT" '[.results[] | select(.reason == "deadline")] |
    length == 1' "SIGSTOP: exactly one deadline"
assert_jq "$OUT" '.results[] | select(.reason == "deadline") |
    .error | startswith("deadline exceeded")' "SIGSTOP: error of the deadline"
assert_jq "$OUT" '.results[] | select(.reason == "deadline") |
    .duration_seconds < 3.5' "SIGSTOP: deadline within timeout + 1.5 s"
assert_jq "$OUT" '[.results[].reason] | sort ==
    [null, "deadline", "timeout"]' "SIGSTOP: the other probes"
assert_le "$ELAPSED_MS" 4000 "SIGSTOP: wall time (ms)"
assert_eq "$(result "$OUT" "$(canon "$A1")" .success)" true \
    "SIGSTOP: the accepting endpoint was probed"
assert_workers_gone "$SEEN" "SIGSTOP test"

# After a crash the respawned slot probes the rest: one worker, killed
# during its first probe, and two targets after it.
printf '%s timeout=3s\n%s\n%s\n' "$B1" "$A1" "$A2" >"$E2E_TMP/respawn.txt"
start_pulse scan --workers 1 --parallel 1 -t "$E2E_TMP/respawn.txt"
wait_workers "$PULSE_PID" 1
SEEN=$WORKERS
sleep 0.5
kill -SEGV "$(nth 1 $WORKERS)"
note_workers
wait_pulse
assert_rc 1 "respawn after a crash"
assert_document "$OUT"
assert_eq "$(targets_of "$OUT" | tr '\n' ' ')" \
    "$(canon "$B1") $(canon "$A1") $(canon "$A2") " "respawn: every target"
assert_eq "$(result "$OUT" "$(canon "$B1")" .reason)" crash \
    "respawn: the first probe crashed"
assert_eq "$(result "$OUT" "$(canon "$A1")" .success)" true \
    "respawn: the second probe ran in the new worker"
assert_eq "$(result "$OUT" "$(canon "$A2")" .success)" true \
    "respawn: the third probe ran in the new worker"
assert_le "$ELAPSED_MS" 2900 \
    "respawn: crash seen at once, not at the 3s timeout (ms)"
assert_workers_gone "$SEEN" "respawn test"

# An idle worker that dies holds no probe: no result is made up for it.
# Of two workers, the one that probed the accepting endpoint is idle
# while the other waits on the blackhole.
printf '%s timeout=2s\n%s\n' "$B1" "$A1" >"$E2E_TMP/idle.txt"
start_pulse scan --workers 2 --parallel 1 -t "$E2E_TMP/idle.txt"
wait_workers "$PULSE_PID" 2
SEEN=$WORKERS
sleep 0.5
w1=$(nth 1 $WORKERS)
w2=$(nth 2 $WORKERS)
n1=$(sockets_of "$w1")
n2=$(sockets_of "$w2")
if [ "$n1" -ne "$n2" ]; then
	if [ "$n1" -lt "$n2" ]; then idle=$w1; else idle=$w2; fi
	kill -KILL "$idle"
	note_workers
	wait_pulse
	assert_rc 1 "idle worker killed"
	assert_document "$OUT"
	assert_jq "$OUT" '.counts.total == 2' "idle kill: one result per target"
	assert_eq "$(result "$OUT" "$(canon "$B1")" .reason)" timeout \
	    "idle kill: the busy worker's probe is unaffected"
	assert_eq "$(result "$OUT" "$(canon "$A1")" .success)" true \
	    "idle kill: the finished probe keeps its result"
	assert_jq "$OUT" '[.results[] | select(.reason == "crash")] |
	    length == 0' "idle kill: no crash reported"
	assert_workers_gone "$SEEN" "idle kill test"
else
	log "cannot tell the idle worker from the busy one: not tested"
	kill -TERM "$PULSE_PID"
	wait_pulse
fi

log "ok"
