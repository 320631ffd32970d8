#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# A worker runs several HTTP probes at once: servers that never answer
# hold up no other probe, each probe keeps its own timeout, and a worker
# that crashes or hangs in the middle of a batch has each of the probes it
# ran reported, while the scan goes on with a new worker.
. "$E2E_LIB"
. "$E2E_HTTP_LIB"

start_http_fixture

# --- probes side by side -----------------------------------------------------

# Six requests that are never answered and two good ones, in one worker:
# together they take one timeout, not six, and the good ones succeed.
f=$E2E_TMP/side.txt
for i in 1 2 3 4 5 6; do
	printf 'http://%s/s%s timeout=2s name=stall%s\n' "$HF_STALL" $i $i
done >"$f"
printf 'http://%s/ name=ok1\nhttp://%s/echo name=ok2\n' "$HF_OK" \
    "$HF_OK" >>"$f"
run_timed 4500 scan --workers 1 -t "$f"
assert_rc 1 "stalled servers are down"
assert_http_document "$OUT"
assert_jq "$OUT" '.counts == {total: 8, up: 2, down: 6, cancelled: 0}' \
    "two up, six down"
for i in 1 2 3 4 5 6; do
	assert_down "$OUT" stall$i timeout "timed out"
done
assert_up "$OUT" ok1
assert_up "$OUT" ok2
# The good ones did not wait for the stalled ones ahead of them.
assert_res "$OUT" ok2 '.duration_seconds < 1' "ok2 answered at once"

# --- each its own timeout ----------------------------------------------------

f=$E2E_TMP/timeouts.txt
printf 'http://%s/a timeout=3s name=slow\n' "$HF_STALL" >"$f"
printf 'http://%s/b timeout=1s name=quick\n' "$HF_STALL" >>"$f"
run_pulse scan --workers 1 -t "$f"
assert_rc 1 "two stalled servers"
assert_down "$OUT" quick timeout "timed out"
assert_down "$OUT" slow timeout "timed out"
assert_res "$OUT" quick '.duration_seconds >= 0.9 and
    .duration_seconds < 1.5' "quick timed out after its own 1s"
assert_res "$OUT" slow '.duration_seconds >= 2.9 and
    .duration_seconds < 3.5' "slow timed out after its own 3s"

# --- a worker that dies in the middle of a batch -----------------------------

# batch_fault SIGNAL REASON WORDS: four stalled probes run in one worker,
# which gets SIGNAL; each of the four is reported with REASON, and a good
# target queued behind them is probed by the worker that replaces it.
batch_fault() {
	f=$E2E_TMP/fault.txt
	for i in 1 2 3 4; do
		printf 'http://%s/f%s timeout=4s name=held%s\n' "$HF_STALL" \
		    $i $i
	done >"$f"
	printf 'tcp://%s name=after\n' "$HF_OK" >>"$f"
	start_pulse scan --workers 1 -t "$f"
	wait_workers "$PULSE_PID" 1
	victim=$(nth 1 $WORKERS)
	sleep 0.5
	kill -"$1" "$victim"
	[ "$1" = STOP ] && track_worker "$victim"
	wait_pulse
	assert_rc 1 "SIG$1 to a worker running four probes"
	assert_http_document "$OUT"
	assert_jq "$OUT" '.counts.total == 5' "SIG$1: one result per target"
	for i in 1 2 3 4; do
		assert_down "$OUT" held$i "$2" "$3"
	done
	assert_up "$OUT" after
}

batch_fault SEGV crash "worker crashed: SIGSEGV"
assert_le "$ELAPSED_MS" 3500 "SIGSEGV: no probe waited for its timeout"
# A stopped worker misses the first deadline (4 s + 0.5 s) and is killed.
batch_fault STOP deadline "deadline exceeded"
assert_le "$ELAPSED_MS" 7000 "SIGSTOP: killed at the deadline"
exit 0
