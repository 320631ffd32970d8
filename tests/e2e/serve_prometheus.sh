#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# A real Prometheus server scrapes pulse serve every second: its query API
# has probe_success for every target with the right value, availability
# ratios from pulse_probes_total work with rate(), and when a target's
# listener is stopped its probe_success flips to 0 within two intervals
# (and a scrape).  Prometheus runs on 127.0.0.1 with its configuration and
# storage in the test's directory.  Skips (77) without prometheus.
. "$E2E_LIB"
. "$E2E_SERVE_LIB"

PROMETHEUS=${PROMETHEUS:-}
if [ -z "$PROMETHEUS" ]; then
	PROMETHEUS=$(command -v prometheus 2>/dev/null || true)
	[ -n "$PROMETHEUS" ] || [ ! -x /usr/bin/prometheus ] ||
	    PROMETHEUS=/usr/bin/prometheus
fi
if [ -z "$PROMETHEUS" ] || [ ! -x "$PROMETHEUS" ]; then
	skip "prometheus is not installed"
fi

start_fixture --accept 2 --refuse 1
A1=$(nth 1 $ACCEPT)
A2=$(nth 2 $ACCEPT)
R=$(nth 1 $REFUSE)
# The target that goes down has a fixture of its own, stopped by its PID.
start_fixture --accept 1
S=$(nth 1 $ACCEPT)
S_PID=$FIXTURE_PID

f=$E2E_TMP/targets.txt
{
	printf '%s name=web label.team=ops\n' "$A1"
	printf 'tcp://%s name=db\n' "$A2"
	printf '%s name=closed\n' "$R"
	printf '%s name=going\n' "$S"
} >"$f"
# target value, one a line: what Prometheus must end up with.
expect=$E2E_TMP/expect.txt
printf '%s 1\n' "tcp://$A1" "tcp://$A2" "tcp://$S" >"$expect"
printf '%s 0\n' "tcp://$R" >>"$expect"
if [ "$(id -u)" = 0 ]; then
	echo 'icmp://127.0.0.1 name=loopback' >>"$f"
	echo 'icmp://127.0.0.1 1' >>"$expect"
else
	log "not root: no ICMP target"
fi
sort -o "$expect" "$expect"
NTARGETS=$(wc -l <"$expect" | tr -d ' ')

start_serve -t "$f" --interval 1s

# --- Prometheus ---------------------------------------------------------------

start_prometheus

# query PROMQL: an instant query; "target value" lines, sorted, into
# $E2E_TMP/query.txt.  False when the API did not answer success.
query() {
	_q=$E2E_TMP/query.json
	lcurl -G -o "$_q" --data-urlencode "query=$1" \
	    "$PROM_URL/api/v1/query" || return 1
	jq -e '.status == "success"' "$_q" >/dev/null 2>&1 || return 1
	jq -r '.data.result[] | "\(.metric.target) \(.value[1])"' "$_q" |
	    sort >"$E2E_TMP/query.txt"
}

# Prometheus has PROMQL's result for every target as in FILE.
query_gives() {
	query "$1" && cmp -s "$2" "$E2E_TMP/query.txt"
}

# Scraped, and every target with its value, within 15 s.
wait_for 15 query_gives probe_success "$expect" ||
    fail "probe_success in Prometheus: '$(cat "$E2E_TMP/query.txt" \
	2>/dev/null)', expected '$(cat "$expect")'; scrape errors:" \
	"$(lcurl "$PROM_URL/api/v1/targets" | jq -c \
	    '[.data.activeTargets[] | {health, lastError}]' 2>&1)"

# The scrape itself is healthy, and carries the labels of the targets.
query 'up{job="pulse"}' || fail "query up failed"
assert_eq "$(jqr "$E2E_TMP/query.json" '[.data.result[].value[1]] | join(" ")')" \
    1 "up of the pulse job"
query "probe_success{name=\"web\",team=\"ops\",kind=\"tcp\"}" ||
    fail "query of web's labels failed"
assert_eq "$(cat "$E2E_TMP/query.txt")" "tcp://$A1 1" \
    "web's probe_success, found by its labels"
query 'pulse_build_info' || fail "query pulse_build_info failed"
assert_eq "$(jqr "$E2E_TMP/query.json" '.data.result | length')" 1 \
    "one pulse_build_info"
query "pulse_targets" || fail "query pulse_targets failed"
assert_eq "$(jqr "$E2E_TMP/query.json" '.data.result[0].value[1]')" \
    "$NTARGETS" "pulse_targets"

# Availability from the per-target counters, without recording rules:
# 1 for the targets that are up, 0 for the refused one.
ratio='sum by (target) (rate(pulse_probes_total{result="success"}[5s]))
    / sum by (target) (rate(pulse_probes_total[5s]))'
wait_for 10 query_gives "$ratio" "$expect" ||
    fail "availability ratios: '$(cat "$E2E_TMP/query.txt")'," \
	"expected '$(cat "$expect")'"

# --- a target goes down -------------------------------------------------------

stop_fixture "$S_PID"
wait "$S_PID" 2>/dev/null || true
untrack_pid "$S_PID"
t_stop=$(now_ms)
port_listening "${S##*:}" && fail "the stopped fixture still listens"
sed "s|^tcp://$S 1\$|tcp://$S 0|" "$expect" >"$E2E_TMP/expect-down.txt"
# Two intervals of pulse (2 s), a scrape interval and some slack: 5 s.
wait_for 5 query_gives probe_success "$E2E_TMP/expect-down.txt" ||
    fail "5 s after its listener stopped, Prometheus has '$(cat \
	"$E2E_TMP/query.txt")', expected '$(cat "$E2E_TMP/expect-down.txt")'"
log "probe_success of the stopped target was 0 in Prometheus after" \
    "$(($(now_ms) - t_stop)) ms"
query "probe_failure_reason{target=\"tcp://$S\"}" ||
    fail "query of the failure reason failed"
assert_eq "$(jqr "$E2E_TMP/query.json" \
    '[.data.result[] | select(.value[1] == "1") | .metric.reason] |
    join(" ")')" refused "why the stopped target is down"

# pulse logged it once.
assert_eq "$(log_count 'target down' "target=tcp://$S")" 1 \
    "'target down' of the stopped target"
alive "$PROM_PID" || fail "prometheus died: $(tail -n 5 "$PROM_DIR/log")"
stop_serve TERM
assert_rc 0 "pulse serve after SIGTERM"

log "ok"
