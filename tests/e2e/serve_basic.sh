#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# pulse serve on its own: /metrics has the probe families of every target
# with the right values (a TCP port that accepts, one that refuses, ICMP
# to 127.0.0.1), pulse's own counters, gauges and histograms, in text
# promtool finds nothing wrong with; /-/healthy, /-/ready, the HTML page
# (names escaped), 404, 405 and 403; state changes logged once, in
# logfmt, and not at all with -q; a probe that waits for a worker counts
# as late; SIGTERM closes the listener, drains and exits 0; a bad targets
# file exits 2 and a port in use 3.
. "$E2E_LIB"
. "$E2E_SERVE_LIB"

start_fixture --accept 4 --refuse 1 --blackhole 1
A1=$(nth 1 $ACCEPT)
A2=$(nth 2 $ACCEPT)
A3=$(nth 3 $ACCEPT)
A4=$(nth 4 $ACCEPT)
R=$(nth 1 $REFUSE)
B=$(nth 1 $BLACKHOLE)
XSS='<script>alert("x")</script> & co'

f=$E2E_TMP/targets.txt
{
	printf '%s name=accept label.team=ops\n' "$A1"
	printf 'tcp://%s name=refuse\n' "$R"
	printf "%s name='%s'\n" "$A2" "$XSS"
} >"$f"
NTARGETS=3
ICMP=0
if [ "$(id -u)" = 0 ]; then
	echo 'icmp://127.0.0.1 name=loopback' >>"$f"
	NTARGETS=4
	ICMP=1
else
	log "not root: ICMP not tested"
fi
TA="target=\"tcp://$A1\""
TR="target=\"tcp://$R\""
TX="target=\"tcp://$A2\""
TI='target="icmp://127.0.0.1"'
VERSION=$("$PULSE" --version | sed -n 's/^pulse //p')
BUCKETS='0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 +Inf'

start_serve -t "$f" --interval 1s
T_START=$SERVE_T0

# Every target has a result within its first interval (and some slack).
all_probed() {
	scrape
	[ "$(samples probe_success)" -eq "$NTARGETS" ]
}
wait_for 5 all_probed ||
    fail "not every target has a probe_success: $(grep '^probe_success' \
	"$SCRAPE")"

# --- /metrics -----------------------------------------------------------------

assert_http GET /metrics 200
assert_eq "$HTTP_TYPE" 'text/plain; version=0.0.4; charset=utf-8' \
    "/metrics Content-Type"
m1=$E2E_TMP/first.prom
cp "$HTTP_BODY" "$m1"
SCRAPE=$m1
assert_contains "$m1" \
    "probe_success{target=\"tcp://$A1\",kind=\"tcp\",name=\"accept\",team=\"ops\"} 1" \
    "probe_success of accept, with its label"
assert_contains "$m1" \
    "probe_success{target=\"tcp://$R\",kind=\"tcp\",name=\"refuse\"} 0" \
    "probe_success of refuse"
assert_contains "$m1" \
    "probe_success{target=\"tcp://$A2\",kind=\"tcp\",name=\"<script>alert(\\\"x\\\")</script> & co\"} 1" \
    "probe_success of the target with <script> in its name"
assert_contains "$m1" \
    "probe_failure_reason{target=\"tcp://$R\",kind=\"tcp\",name=\"refuse\",reason=\"refused\"} 1" \
    "the reason refuse failed"
assert_eq "$(samples probe_failure_reason)" 1 "one failure reason"
assert_metric 4 probe_ip_protocol "$TA"
[ -n "$(metric probe_tcp_connect_duration_seconds "$TA")" ] ||
    fail "no probe_tcp_connect_duration_seconds for accept"
if [ $ICMP = 1 ]; then
	assert_metric 1 probe_success "$TI" 'name="loopback"'
	assert_metric 1 probe_icmp_packets_received "$TI"
	assert_metric 0.0 probe_icmp_loss_ratio "$TI"
fi
assert_not_contains "$m1" pulse_scan_ "no pulse_scan_* family"

# pulse's own families, each of its type.
for fam in pulse_build_info:gauge pulse_targets:gauge \
    pulse_probes_total:counter pulse_probe_duration_seconds:histogram \
    pulse_schedule_delay_seconds:histogram \
    pulse_schedule_skipped_total:counter \
    pulse_worker_crashes_total:counter pulse_worker_restarts_total:counter \
    pulse_deadline_kills_total:counter pulse_queue_depth:gauge \
    pulse_probes_in_flight:gauge pulse_config_reloads_total:counter \
    pulse_config_last_reload_successful:gauge \
    pulse_config_last_reload_success_timestamp_seconds:gauge; do
	assert_count "$m1" "# TYPE ${fam%:*} ${fam#*:}" 1 "TYPE of ${fam%:*}"
done
assert_families "$m1"
assert_contains "$m1" "pulse_build_info{version=\"$VERSION\"} 1" \
    "pulse_build_info"
assert_metric "$NTARGETS" pulse_targets
assert_metric 0 pulse_schedule_skipped_total
assert_metric 0 pulse_worker_crashes_total
assert_metric 0 pulse_worker_restarts_total
assert_metric 0 pulse_deadline_kills_total
assert_metric 0 pulse_config_reloads_total 'result="success"'
assert_metric 0 pulse_config_reloads_total 'result="failure"'
assert_metric 1 pulse_config_last_reload_successful
ts=$(metric pulse_config_last_reload_success_timestamp_seconds)
lo=$((T_START / 1000 - 1))
hi=$(($(now_ms) / 1000 + 1))
awk -v ts="$ts" -v lo=$lo -v hi=$hi \
    'BEGIN { exit !(ts + 0 >= lo && ts + 0 <= hi) }' ||
    fail "last reload success timestamp $ts is not the start ($lo..$hi)"
for g in pulse_queue_depth pulse_probes_in_flight; do
	v=$(metric $g)
	case $v in
	'' | *[!0-9]*) fail "$g is '$v', not a whole number" ;;
	esac
	assert_le "$v" "$NTARGETS" "$g"
done
assert_contains "$m1" "pulse_probes_total{target=\"tcp://$A1\",kind=\"tcp\",name=\"accept\",team=\"ops\",result=\"success\"} " \
    "pulse_probes_total of accept, with its label and result"
[ -z "$(metric pulse_probes_total "$TR" 'result="success"')" ] ||
    [ "$(metric pulse_probes_total "$TR" 'result="success"')" = 0 ] ||
    fail "refuse has successful probes"

# Histograms: the buckets of the spec, cumulative, +Inf == _count; every
# probe counted once per kind, and a schedule delay for each probe
# started (those in flight too: at most one a target).
assert_histogram pulse_probe_duration_seconds "$BUCKETS" 'kind="tcp"'
[ $ICMP = 0 ] ||
    assert_histogram pulse_probe_duration_seconds "$BUCKETS" 'kind="icmp"'
assert_eq "$(metric pulse_probe_duration_seconds_count 'kind="tcp"')" \
    "$(metric_sum pulse_probes_total 'kind="tcp"')" \
    "tcp probes in the histogram and in pulse_probes_total"
delay_les=$(buckets_of pulse_schedule_delay_seconds_bucket)
assert_eq "${delay_les%% *}" 0.001 "first bound of the schedule delay"
assert_histogram pulse_schedule_delay_seconds "$delay_les"
done_n=$(metric_sum pulse_probes_total)
delays=$(metric pulse_schedule_delay_seconds_count)
assert_le "$done_n" "$delays" "probes done vs. schedule delays observed"
assert_le "$delays" $((done_n + NTARGETS)) \
    "schedule delays vs. probes done and in flight"

# promtool finds nothing to say.
if command -v promtool >/dev/null 2>&1; then
	promtool check metrics <"$m1" >"$E2E_TMP/promtool.out" 2>&1 ||
	    fail "promtool check metrics failed: $(cat "$E2E_TMP/promtool.out")"
	assert_empty "$E2E_TMP/promtool.out" "promtool check metrics"
else
	log "promtool is not installed: not checked by it"
fi

# Counters count on across scrapes: accept is probed every second.
ok1=$(metric pulse_probes_total "$TA" 'result="success"')
fail1=$(metric pulse_probes_total "$TR" 'result="failure"')
wait_for 5 metric_at_least $((ok1 + 2)) pulse_probes_total "$TA" \
    'result="success"' ||
    fail "accept's successes did not go from $ok1 to $((ok1 + 2)) in 5 s"
wait_for 5 metric_at_least $((fail1 + 2)) pulse_probes_total "$TR" \
    'result="failure"' ||
    fail "refuse's failures did not go from $fail1 to $((fail1 + 2)) in 5 s"
assert_metric 1 probe_success "$TA"
assert_metric 0 probe_success "$TR"
assert_histogram pulse_probe_duration_seconds "$BUCKETS" 'kind="tcp"'
assert_eq "$(metric pulse_probe_duration_seconds_count 'kind="tcp"')" \
    "$(metric_sum pulse_probes_total 'kind="tcp"')" \
    "tcp probes in the histogram and in pulse_probes_total, later"
# A target is probed once an interval: at most one more than the seconds
# since the start.
n=$(metric_sum pulse_probes_total "$TA")
assert_le "$n" $((($(now_ms) - T_START) / 1000 + 1)) \
    "probes of accept since the start"
assert_metric 0 pulse_schedule_skipped_total

# --- the other endpoints --------------------------------------------------------

assert_http GET /-/healthy 200
assert_body 'Healthy\n' "/-/healthy"
assert_http GET /-/ready 200
assert_body 'Ready\n' "/-/ready"

assert_http GET / 200
case $HTTP_TYPE in
text/html*) ;;
*) fail "/: Content-Type '$HTTP_TYPE', expected text/html" ;;
esac
page=$E2E_TMP/index.html
cp "$HTTP_BODY" "$page"
assert_contains "$page" '&lt;script&gt;alert(' "/: the name is escaped"
assert_contains "$page" '&lt;/script&gt; &amp; co' "/: the name is escaped"
assert_not_contains "$page" '<script>alert' "/: no raw <script> from a name"
# One row a target: name, kind, state and last error in it.
tr '\n' ' ' <"$page" | sed 's/<tr/\
<tr/g' >"$E2E_TMP/rows"
row() {
	grep -F ">$1<" "$E2E_TMP/rows" | sed 's/<[^>]*>/ /g' | tr -s ' '
}
for t in accept:up refuse:down; do
	r=$(row "${t%:*}")
	[ -n "$r" ] || fail "/: no row for ${t%:*}"
	for w in tcp "${t#*:}"; do
		case " $r " in
		*" $w "*) ;;
		*) fail "/: row of ${t%:*} is '$r', no '$w' in it" ;;
		esac
	done
done
row refuse | grep -qF 'connection refused' ||
    fail "/: the row of refuse has no last error: $(row refuse)"
[ $ICMP = 0 ] || row loopback | grep -qF ' icmp ' ||
    fail "/: no row for loopback"

assert_http GET /nope 404
assert_http GET /metricsx 404
assert_http GET /-/healthyx 404
assert_http POST /metrics 405
assert_http PUT / 405
assert_http DELETE /-/healthy 405
assert_http POST /-/ready 405
assert_http POST /-/reload 403
# It did not reload.
scrape
assert_metric 0 pulse_config_reloads_total 'result="success"'

# --- the log ----------------------------------------------------------------------

# The refused target has failed three times by now, and is down once.
assert_logfmt
assert_eq "$(log_count 'target down' "target=tcp://$R")" 1 \
    "'target down' logged once for refuse"
log_lines 'target down' "target=tcp://$R" 'level=warn' 'reason=refused' \
    'error="connection refused"' 'name=refuse' >"$E2E_TMP/down"
assert_eq "$(wc -l <"$E2E_TMP/down" | tr -d ' ')" 1 \
    "the 'target down' line of refuse has level, name, reason and error"
assert_eq "$(log_count 'target up' "target=tcp://$A1")" 1 \
    "'target up' logged once for accept"
assert_eq "$(log_count 'target down' "target=tcp://$A1")" 0 \
    "accept never down"
assert_eq "$(log_count 'target up' "target=tcp://$R")" 0 "refuse never up"

# --log-level error and -q: state changes are not errors.
for opt in '--log-level error' -q; do
	stop_serve TERM
	assert_rc 0 "SIGTERM before $opt"
	start_serve -t "$f" --interval 1s $opt
	wait_for 5 all_probed || fail "$opt: not every target probed"
	assert_eq "$(log_count 'target up')" 0 "$opt: no 'target up'"
	assert_eq "$(log_count 'target down')" 0 "$opt: no 'target down'"
	assert_logfmt
done

# --- a busy pool ------------------------------------------------------------------

# The schedule delay is how late a probe starts, waiting for a worker
# included.  One worker running one probe at a time (--parallel 1), and
# a blackhole that holds it 0.9 s of every second: the four accepting
# endpoints, due at 0.2, 0.4, 0.6 and 0.8 s of each second, start only
# when it is free, 0.1 to 0.7 s late.
stop_serve TERM
assert_rc 0 "SIGTERM before the busy pool"
{
	printf '%s timeout=900ms name=hole\n' "$B"
	printf '%s name=a%s\n' "$A1" 1 "$A2" 2 "$A3" 3 "$A4" 4
} >"$E2E_TMP/busy.txt"
start_serve -t "$E2E_TMP/busy.txt" --interval 1s -w 1 --parallel 1
# late N: scrape, and N delays are over 50 ms.
late() {
	scrape
	[ $(($(metric pulse_schedule_delay_seconds_count) -
	    $(metric pulse_schedule_delay_seconds_bucket 'le="0.05"'))) -ge "$1" ]
}
wait_for 6 late 8 ||
    fail "a probe waiting for the only worker is not late:" \
	"$(grep '^pulse_schedule_delay_seconds' "$SCRAPE" | tr '\n' ' ')"
assert_metric 0 pulse_schedule_skipped_total

# --- SIGTERM ----------------------------------------------------------------------

# Nothing in flight: out at once, 0, the port closed.
port=$SERVE_PORT
t_sig=$(now_ms)
stop_serve TERM
assert_rc 0 "SIGTERM"
assert_le $(($(now_ms) - t_sig)) 1000 "exit with nothing in flight (ms)"
! port_listening "$port" || fail "port $port still listening after exit"
assert_logfmt

# A probe in flight: the listener closes at once, pulse drains for the
# grace (1 s) and exits 0 when the probe is cancelled.
printf '%s every=10s timeout=8s name=hole\n' "$B" >"$E2E_TMP/hole.txt"
start_serve -t "$E2E_TMP/hole.txt" --grace 1s
wait_for 5 metric_is 1 pulse_probes_in_flight ||
    fail "the blackhole probe is not in flight"
port=$SERVE_PORT
t_sig=$(now_ms)
kill -TERM "$SERVE_PID"
closed() {
	! port_listening "$port"
}
wait_for 1 closed || fail "still listening 1 s after SIGTERM"
alive "$SERVE_PID" || fail "pulse did not drain: it is gone at once"
rc=0
lcurl -o /dev/null "$SERVE_URL/-/healthy" || rc=$?
assert_eq "$rc" 7 "curl to a draining pulse: cannot connect"
wait_serve
after=$(($(now_ms) - t_sig))
assert_rc 0 "SIGTERM with a probe in flight"
assert_le 900 "$after" "exit after the 1 s grace, not before (ms)"
assert_le "$after" 2000 "exit soon after the 1 s grace (ms)"

# A second SIGTERM ends a long grace at once.
start_serve -t "$E2E_TMP/hole.txt" --grace 30s
wait_for 5 metric_is 1 pulse_probes_in_flight ||
    fail "the blackhole probe is not in flight"
kill -TERM "$SERVE_PID"
sleep 0.3
t_sig=$(now_ms)
kill -TERM "$SERVE_PID"
wait_serve
assert_rc 0 "second SIGTERM"
assert_le $(($(now_ms) - t_sig)) 1000 "exit after the second SIGTERM (ms)"

# SIGINT is SIGTERM.
start_serve -t "$f"
stop_serve INT
assert_rc 0 "SIGINT"

# --- errors at start ----------------------------------------------------------------

# A bad targets file: FILE:LINE, exit 2, nothing served.
bad=$E2E_TMP/bad.txt
printf '%s\n127.0.0.1:0\n' "$A1" >"$bad"
free_port
PULSE_LIMIT=10 run_pulse serve --listen "127.0.0.1:$FREE_PORT" -t "$bad"
assert_rc 2 "a bad targets file"
assert_contains "$ERR" "$bad:2:" "the bad line is named"
assert_empty "$OUT" "a bad targets file: stdout"
! port_listening "$FREE_PORT" || fail "something listens on $FREE_PORT"

PULSE_LIMIT=10 run_pulse serve --listen "127.0.0.1:$FREE_PORT" \
    -t "$E2E_TMP/no-such-file.txt"
assert_usage_error "a missing targets file"
assert_contains "$ERR" "$E2E_TMP/no-such-file.txt" "the missing file is named"

for args in '--frobnicate' '--interval 0s' '--interval abc' \
    '--timeout 5' '--grace soon' '--log-level loud' '--log carrier-pigeon' \
    '-w 0' '--listen 127.0.0.1:99999' '--listen 127.0.0.1:' \
    '--listen nowhere' '--listen [::1'; do
	case $args in
	--listen*) set -- $args ;;
	*) set -- --listen "127.0.0.1:$FREE_PORT" $args ;;
	esac
	PULSE_LIMIT=10 run_pulse serve -t "$f" "$@"
	assert_usage_error "serve $args"
	assert_not_contains "$ERR" ': Success' "serve $args: a reason that says one"
done

# A port in use: exit 3, and the reason.
PULSE_LIMIT=10 run_pulse serve --listen "$A1" -t "$f"
assert_rc 3 "listen on a port in use"
assert_contains "$ERR" "cannot listen on $A1: Address already in use" \
    "the port in use is named"

log "ok"
