#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# Workers killed while pulse serve runs: SIGKILL and SIGSEGV to a worker
# in the middle of a probe of a blackhole, SIGSTOP to another.  The probe
# each held is a failure ("crash", "deadline"), the counters say so, the
# slot is respawned, later probes succeed and pulse keeps serving.  Then
# HTTP clients that stall mid-request: each is dropped after 10 s idle,
# and probing goes on
# meanwhile; with few descriptors a flood of them leaves pulse quiet
# (needs python3; not tested without it).
. "$E2E_LIB"
. "$E2E_SERVE_LIB"

start_fixture --blackhole 3 --accept 2
B1=$(nth 1 $BLACKHOLE)
B2=$(nth 2 $BLACKHOLE)
B3=$(nth 3 $BLACKHOLE)
A1=$(nth 1 $ACCEPT)
A2=$(nth 2 $ACCEPT)
TB1="target=\"tcp://$B1\""
TB2="target=\"tcp://$B2\""
TB3="target=\"tcp://$B3\""
TA1="target=\"tcp://$A1\""
TA2="target=\"tcp://$A2\""
NWORKERS=5

# Each blackhole is in flight three seconds out of four; the accepting
# endpoints are probed every second.  Five workers: one is always free.
f=$E2E_TMP/targets.txt
{
	printf '%s every=4s timeout=3s name=hole1\n' "$B1"
	printf '%s every=4s timeout=3s name=hole2\n' "$B2"
	printf '%s every=4s timeout=3s name=hole3\n' "$B3"
	printf '%s name=web\n%s name=db\n' "$A1" "$A2"
} >"$f"

# holder ADDR:PORT: set HOLDER to the worker of pulse whose socket is
# connecting to ADDR:PORT (a SYN sent, never answered), if any.
holder() {
	HOLDER=
	_ph=$(printf '%04X' "${1##*:}")
	_inodes=$(awk -v p="$_ph" '$4 == "02" && $3 == "0100007F:" p {
	    print $10 }' /proc/net/tcp)
	[ -n "$_inodes" ] || return 1
	for _w in $(workers_of "$SERVE_PID"); do
		[ "$(comm_of "$_w")" = pulse-worker ] || continue
		for _fd in "/proc/$_w/fd/"*; do
			_l=$(readlink "$_fd" 2>/dev/null) || continue
			for _i in $_inodes; do
				[ "$_l" = "socket:[$_i]" ] && HOLDER=$_w
			done
		done
	done
	[ -n "$HOLDER" ]
}

# fresh_holder ADDR:PORT: wait until a probe of ADDR:PORT starts (none in
# flight, then one) and set HOLDER to its worker, so that a signal comes
# early in the probe, seconds before its timeout.
no_holder() {
	! holder "$1"
}
fresh_holder() {
	wait_for 5 no_holder "$1" || fail "a probe of $1 lasts more than 5 s"
	wait_for 5 holder "$1" || fail "no probe of $1 started within 5 s"
}

# The row of the HTML page of the target named NAME, as text.
row() {
	http GET /
	[ "$HTTP_CODE" = 200 ] || fail "GET /: status $HTTP_CODE"
	tr '\n' ' ' <"$HTTP_BODY" | sed 's/<tr/\
<tr/g' | grep -F ">$1<" | sed 's/<[^>]*>/ /g' | tr -s ' '
}

# crash SIGNAL ENDPOINT T N NAME: SIGNAL to the worker probing ENDPOINT
# (label T, named NAME); its probe is a crash, the N-th, and the slot
# comes back.
crash() {
	fresh_holder "$2"
	victim=$HOLDER
	scrape
	fails=$(metric_sum pulse_probes_total "$3" 'result="failure"')
	kill -"$1" "$victim"
	wait_for 3 metric_is 1 probe_failure_reason "$3" 'reason="crash"' ||
	    fail "SIG$1: the probe of $2 is not a crash within 3 s"
	assert_metric 0 probe_success "$3"
	assert_metric "$4" pulse_worker_crashes_total
	assert_metric 0 pulse_deadline_kills_total
	assert_metric $((fails + 1)) pulse_probes_total "$3" 'result="failure"'
	r=$(row "$5")
	case $r in
	*"worker crashed: SIG$1"*) ;;
	*) fail "SIG$1: the page's row of $5 is '$r'" ;;
	esac
	wait_for 3 metric_at_least "$4" pulse_worker_restarts_total ||
	    fail "SIG$1: not respawned within 3 s"
	wait_workers "$SERVE_PID" $NWORKERS
	# shellcheck disable=SC2153
	case " $WORKERS " in
	*" $victim "*) fail "SIG$1: the killed worker $victim is listed" ;;
	esac
}

start_serve -t "$f" --interval 1s -w $NWORKERS
wait_workers "$SERVE_PID" $NWORKERS
scrape
assert_metric 0 pulse_worker_crashes_total
assert_metric 0 pulse_worker_restarts_total

crash KILL "$B1" "$TB1" 1 hole1
crash SEGV "$B2" "$TB2" 2 hole2

# A stopped worker misses its deadline: killed, the probe a "deadline"
# failure within the timeout (3 s) and some slack.
fresh_holder "$B3"
victim=$HOLDER
track_worker "$victim"
kill -STOP "$victim"
t_stop=$(now_ms)
wait_for 6 metric_is 1 probe_failure_reason "$TB3" 'reason="deadline"' ||
    fail "SIGSTOP: the probe of $B3 is not a deadline failure within 6 s"
assert_le $(($(now_ms) - t_stop)) 5000 "SIGSTOP: deadline kill (ms)"
assert_metric 1 pulse_deadline_kills_total
# A worker killed holding a probe died holding it: a crash too.
assert_metric 3 pulse_worker_crashes_total
gone() {
	! alive "$victim"
}
wait_for 2 gone || fail "SIGSTOP: the stopped worker $victim still exists"
r=$(row hole3)
case $r in
*"deadline exceeded"*) ;;
*) fail "SIGSTOP: the page's row of hole3 is '$r'" ;;
esac
wait_for 3 metric_at_least 3 pulse_worker_restarts_total ||
    fail "SIGSTOP: not respawned within 3 s"
wait_workers "$SERVE_PID" $NWORKERS

# The pool recovered: the accepting endpoints keep succeeding, the
# blackholes are probed again and time out as usual.
scrape
ok1=$(metric pulse_probes_total "$TA1" 'result="success"')
ok2=$(metric pulse_probes_total "$TA2" 'result="success"')
wait_for 4 metric_at_least $((ok1 + 2)) pulse_probes_total "$TA1" \
    'result="success"' || fail "web is not probed after the faults"
wait_for 4 metric_at_least $((ok2 + 2)) pulse_probes_total "$TA2" \
    'result="success"' || fail "db is not probed after the faults"
assert_metric 1 probe_success "$TA1"
assert_metric 1 probe_success "$TA2"
assert_metric 0 pulse_probes_total "$TA1" 'result="failure"'
for t in "$TB1" "$TB2" "$TB3"; do
	wait_for 9 metric_is 1 probe_failure_reason "$t" 'reason="timeout"' ||
	    fail "$t: not probed to a timeout after the faults"
done
assert_metric 3 pulse_worker_crashes_total
assert_metric 1 pulse_deadline_kills_total
assert_http GET /-/healthy 200
assert_http GET /-/ready 200
alive "$SERVE_PID" || fail "pulse serve is gone"
for n in 1 2 3; do
	b=$(eval "echo \$B$n")
	assert_eq "$(log_count 'target down' "target=tcp://$b")" 1 \
	    "hole$n: 'target down' once, through crashes and timeouts"
done
assert_logfmt

# --- clients that stall ---------------------------------------------------------

# stall.py PORT N SECS: N connections each send part of a request and
# nothing more; prints how many the server closed within SECS, how many
# of those within 1 s, and the first and last close (s).
cat >"$E2E_TMP/stall.py" <<'EOF'
import select, socket, sys, time
port, n, limit = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    socks.append(s)
t0 = time.monotonic()
left = set(socks)
closed = []
while left and time.monotonic() - t0 < limit:
    ready, _, _ = select.select(list(left), [], [], 0.05)
    for s in ready:
        try:
            data = s.recv(65536)
        except OSError:
            data = b""
        if not data:
            closed.append(time.monotonic() - t0)
            left.discard(s)
            s.close()
print(len(closed), sum(1 for c in closed if c < 1.0),
      "%.2f" % min(closed, default=0), "%.2f" % max(closed, default=0))
EOF
if command -v python3 >/dev/null 2>&1; then
	scrape
	ok1=$(metric pulse_probes_total "$TA1" 'result="success"')
	skipped=$(metric pulse_schedule_skipped_total)
	t_stall=$(now_ms)
	timeout -k 2 20 python3 "$E2E_TMP/stall.py" "$SERVE_PORT" 100 13 \
	    >"$E2E_TMP/stall.out" 2>&1 ||
	    fail "stall.py: $(cat "$E2E_TMP/stall.out")"
	secs=$((($(now_ms) - t_stall) / 1000))
	read -r nclosed early first last <"$E2E_TMP/stall.out"
	log "100 stalled clients: $nclosed closed, $early within 1 s," \
	    "first at $first s, last at $last s"
	# Probing went on all along: web once a second, no slot skipped.
	scrape
	assert_le $((ok1 + secs - 2)) \
	    "$(metric pulse_probes_total "$TA1" 'result="success"')" \
	    "web's successes while clients stalled for $secs s"
	assert_metric "$skipped" pulse_schedule_skipped_total
	assert_http GET /-/healthy 200
	assert_eq "$nclosed" 100 "stalled clients dropped within 13 s"
	awk -v t="$last" 'BEGIN { exit !(t >= 9 && t <= 12) }' ||
	    fail "the last stalled client was dropped at $last s, not ~10 s"
	# A connection counts towards the limit of 64 once it has sent a
	# request; one that never finishes a request is dropped at 10 s.
	assert_eq "$early" 0 "stalled clients kept until their timeout"
else
	log "python3 is not installed: stalled clients not tested"
fi

stop_serve TERM
assert_rc 0 "SIGTERM after the faults"

# --- out of descriptors -----------------------------------------------------------

# With few descriptors (a soft limit of 128, as a service manager may
# set) a flood of connections that never finish a request must not make
# pulse spin on accept(): it stays quiet (a few lines of logfmt, little
# CPU), probing goes on, and scrapes work again once the flood is gone.
cat >"$E2E_TMP/flood.py" <<'EOF'
import socket, sys, time
port, n, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    socks.append(s)
time.sleep(hold)
print(len(socks))
EOF

# CPU time of a process so far, in clock ticks.
cpu_ticks() {
	awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

if ! command -v python3 >/dev/null 2>&1; then
	log "python3 is not installed: a flood of connections not tested"
elif ! command -v prlimit >/dev/null 2>&1; then
	log "prlimit is not installed: a flood of connections not tested"
else
	printf '%s name=web\n%s name=db\n' "$A1" "$A2" >"$E2E_TMP/accept.txt"
	# Lowered from the start: pulse gives up the privilege to have it
	# lowered from outside once it runs.
	SERVE_PREFIX="prlimit --nofile=128:128 --" \
	    start_serve -t "$E2E_TMP/accept.txt" --interval 1s -w 2
	wait_for 3 metric_at_least 1 pulse_probes_total "$TA1" \
	    'result="success"' || fail "flood: web not probed"
	ok1=$(metric pulse_probes_total "$TA1" 'result="success"')
	lines=$(wc -l <"$SERVE_LOG")
	cpu0=$(cpu_ticks "$SERVE_PID")
	t_flood=$(now_ms)
	timeout -k 2 15 python3 "$E2E_TMP/flood.py" "$SERVE_PORT" 200 2 \
	    >"$E2E_TMP/flood.out" 2>&1 ||
	    fail "flood.py: $(cat "$E2E_TMP/flood.out")"
	cpu=$(($(cpu_ticks "$SERVE_PID") - cpu0))
	secs=$((($(now_ms) - t_flood) / 1000))
	new=$(($(wc -l <"$SERVE_LOG") - lines))
	log "a flood of 200 connections at 128 descriptors: $new log lines," \
	    "$cpu ticks of CPU in $secs s"
	alive "$SERVE_PID" || fail "flood: pulse died"
	assert_le "$new" 20 "flood: lines logged"
	assert_logfmt
	assert_le "$cpu" "$(getconf CLK_TCK)" "flood: CPU ticks of pulse"
	wait_for 3 metric_at_least $((ok1 + secs - 1)) pulse_probes_total \
	    "$TA1" 'result="success"' || fail "flood: web not probed meanwhile"
	assert_http GET /-/healthy 200
	stop_serve TERM
	assert_rc 0 "SIGTERM after a flood"
fi

log "ok"
