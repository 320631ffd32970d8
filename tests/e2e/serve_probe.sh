#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086,SC2153
# The /probe endpoint of pulse serve, as blackbox_exporter's: off unless
# --enable-probe-endpoint, which needs a network in --probe-allow (bad
# entries exit 2); a YAML file of modules alone serves it; http, tcp and
# icmp modules answer 200 with the probe's families and no target label;
# the default module, unknown modules, missing and malformed targets; the
# allowlist before the probe (403), after resolution and at each redirect
# (probe_failure_reason "denied", the server outside never reached); the
# scrape timeout header; the cap on probes waiting (503); a client gone
# mid-probe; the counters on /metrics; and, when blackbox_exporter is
# installed, the metric names of both for the same probes.
. "$E2E_LIB"
. "$E2E_HTTP_LIB"
. "${E2E_SERVE_LIB:-${E2E_LIB%/*}/lib_serve.sh}"

PROM_TYPE='text/plain; version=0.0.4; charset=utf-8'
OFF='the probe endpoint is off (see --enable-probe-endpoint)'
NONET='--enable-probe-endpoint: --probe-allow lists no network, so no probe could connect anywhere'
OUTSIDE='is outside the allowlist (--probe-allow)'
HAVE_PROMTOOL=0
command -v promtool >/dev/null 2>&1 && HAVE_PROMTOOL=1

# --- fixtures -------------------------------------------------------------------

start_fixture --accept 1 --blackhole 1
A1=$(nth 1 $ACCEPT)
B1=$(nth 1 $BLACKHOLE)

# Every connection to these is logged: a probe that must not reach one
# leaves its log as it was.
NEAR_LOG=$E2E_TMP/near.log
start_http_fixture --log "$NEAR_LOG"
H_OK=$HF_OK
H_STALL=$HF_STALL
H_REL=$HF_REDIRECT_TO
: >"$NEAR_LOG"

# On 127.0.0.2, outside the networks of the main server: the target of a
# redirect that must not be followed, and nothing else.
FAR_LOG=$E2E_TMP/far.log
start_http_fixture --host 127.0.0.2 --log "$FAR_LOG"
FAR_OK=$HF_OK
: >"$FAR_LOG"
start_http_fixture --location "http://$FAR_OK/"
H_TO_FAR=$HF_REDIRECT_TO
start_http_fixture --location "http://nowhere.invalid:${H_OK##*:}/"
H_TO_NAME=$HF_REDIRECT_TO

# On 127.0.0.2 too, for the server that allows only that address.
start_http_fixture --host 127.0.0.2
FAR2_OK=$HF_OK
FAR2_STALL=$HF_STALL

y=$E2E_TMP/modules.yaml
cat >"$y" <<EOF
modules:
  http_2xx: {kind: http}
  http_follow: {kind: http, follow: 3}
  http_slow: {kind: http, timeout: 10s}
  tcp_connect: {kind: tcp}
  tcp_slow: {kind: tcp, timeout: 10s}
  icmp: {kind: icmp}
EOF
txt=$E2E_TMP/targets.txt
printf '%s name=accept\n' "$A1" >"$txt"

# --- helpers --------------------------------------------------------------------

N200=0
N400=0
N403=0
N503=0
NPROBES=0

# get CODE QUERY [CURL ARGS]: GET /probe?QUERY is answered with CODE, counted.
get() {
	_want=$1
	_q=$2
	shift 2
	HTTP_BODY=$E2E_TMP/http.body
	HTTP_HEADERS=$E2E_TMP/http.headers
	: >"$HTTP_BODY"
	: >"$HTTP_HEADERS"
	HTTP_CODE=$(lcurl -o "$HTTP_BODY" -D "$HTTP_HEADERS" \
	    -w '%{http_code}' "$@" "$SERVE_URL/probe?$_q") || HTTP_CODE=000
	HTTP_TYPE=$(tr -d '\r' <"$HTTP_HEADERS" |
	    sed -n 's/^[Cc][Oo][Nn][Tt][Ee][Nn][Tt]-[Tt][Yy][Pp][Ee]: *//p' |
	    tail -n 1)
	[ "$HTTP_CODE" = "$_want" ] ||
	    fail "/probe?$_q: expected status $_want, got $HTTP_CODE:" \
		"$(head -c 500 "$HTTP_BODY")"
	case $HTTP_CODE in
	200) N200=$((N200 + 1)) ;;
	400) N400=$((N400 + 1)) ;;
	403) N403=$((N403 + 1)) ;;
	503) N503=$((N503 + 1)) ;;
	esac
}

# refused CODE QUERY TEXT: the answer is CODE, its body TEXT and a newline.
refused() {
	get "$1" "$2"
	printf '%s\n' "$3" >"$E2E_TMP/expected.body"
	cmp -s "$E2E_TMP/expected.body" "$HTTP_BODY" ||
	    fail "/probe?$2: body '$(head -c 500 "$HTTP_BODY")', expected '$3'"
	case $HTTP_TYPE in
	text/plain*) ;;
	*) fail "/probe?$2: Content-Type '$HTTP_TYPE'" ;;
	esac
}

# probe SUCCESS QUERY [CURL ARGS]: a 200 with the exposition of a probe
# whose probe_success is SUCCESS, no target label in it, and nothing
# promtool objects to.  PROBE is the body's file.
probe() {
	_ok=$1
	_pq=$2
	shift 2
	get 200 "$_pq" "$@"
	NPROBES=$((NPROBES + 1))
	PROBE=$E2E_TMP/probe.$NPROBES.prom
	cp "$HTTP_BODY" "$PROBE"
	assert_eq "$HTTP_TYPE" "$PROM_TYPE" "/probe?$_pq: Content-Type"
	has "probe_success $_ok"
	assert_not_contains "$PROBE" 'target=' "/probe?$_pq: a target label"
	assert_families "$PROBE"
	if [ "$_ok" = 1 ]; then
		assert_not_contains "$PROBE" probe_failure_reason \
		    "/probe?$_pq: a reason for a success"
	fi
	[ $HAVE_PROMTOOL = 1 ] || return 0
	promtool check metrics <"$PROBE" >"$E2E_TMP/promtool.out" 2>&1 ||
	    fail "/probe?$_pq: promtool: $(cat "$E2E_TMP/promtool.out")"
	assert_empty "$E2E_TMP/promtool.out" "/probe?$_pq: promtool"
}

# has LINE: the last probe's body has LINE, whole.
has() {
	grep -qxF -- "$1" "$PROBE" ||
	    fail "no line '$1' in $(grep -v '^#' "$PROBE" | tr '\n' ' ')"
}

# reason R: the last probe failed for R, and for nothing else.
reason() {
	has "probe_failure_reason{reason=\"$1\"} 1"
	assert_count "$PROBE" 'probe_failure_reason{' 1 "reasons of a failure"
}

# value NAME: the value of the unlabelled sample NAME of the last probe.
value() {
	sed -n "s/^$1 //p" "$PROBE"
}

# in_range X LO HI WHAT: LO <= X < HI, as numbers.
in_range() {
	awk -v x="$1" -v lo="$2" -v hi="$3" \
	    'BEGIN { exit !(x != "" && x + 0 >= lo && x + 0 < hi) }' ||
	    fail "$4: '$1' is not in [$2, $3)"
}

# The port of ADDR:PORT.
port_of() {
	printf '%s\n' "${1##*:}"
}

# Run pulse serve in the foreground: it must refuse to start.
serve_fails() {
	free_port
	PULSE_LIMIT=10 run_pulse serve --listen "127.0.0.1:$FREE_PORT" "$@"
	assert_usage_error "serve $*"
}

# --- off by default, and the errors at start ---------------------------------------

start_serve -t "$txt" --probe-allow 127.0.0.1/32
refused 403 "target=$A1&module=tcp_connect" "$OFF"
refused 403 "target=$A1" "$OFF"
assert_contains "$SERVE_LOG" \
    '--probe-allow has no effect without --enable-probe-endpoint' \
    "--probe-allow alone is warned about"
scrape
assert_not_contains "$SCRAPE" pulse_probe_endpoint_ "/metrics with /probe off"
stop_serve TERM
assert_rc 0 "SIGTERM, /probe off"

serve_fails -c "$y"
assert_contains "$ERR" "$y: no targets" "modules alone, /probe off"
serve_fails -c "$y" --enable-probe-endpoint
assert_contains "$ERR" "$NONET" "no --probe-allow"
serve_fails -c "$y" --enable-probe-endpoint --probe-allow localhost \
    --probe-allow '*.example.com'
assert_contains "$ERR" "$NONET" "only patterns"
for bad in 'ex%mple.com' '*.example.com/24' 'host name'; do
	serve_fails -c "$y" --enable-probe-endpoint \
	    --probe-allow "127.0.0.1/32,$bad"
	assert_contains "$ERR" "--probe-allow: '$bad' is neither a network (10.0.0.0/8) nor a host pattern (*.example.com)" \
	    "--probe-allow $bad"
done
serve_fails -c "$y" --enable-probe-endpoint --probe-allow 10.0.0.0/33
assert_contains "$ERR" "--probe-allow: '10.0.0.0/33': the prefix must be 0..32" \
    "an IPv4 prefix too long"
serve_fails -c "$y" --enable-probe-endpoint --probe-allow ::1/129
assert_contains "$ERR" "--probe-allow: '::1/129': the prefix must be 0..128" \
    "an IPv6 prefix too long"
serve_fails -c "$y" --enable-probe-endpoint --probe-allow '127.0.0.1,,localhost'
assert_contains "$ERR" "--probe-allow: an empty entry in '127.0.0.1,,localhost'" \
    "an empty entry"
many=$(awk 'BEGIN { for (i = 1; i <= 1024; i++) printf "%sh%d", \
    (i > 1 ? "," : ""), i }')
serve_fails -c "$y" --enable-probe-endpoint --probe-allow 127.0.0.1 \
    --probe-allow "$many"
assert_contains "$ERR" "more than 1024 entries" "1025 entries"

# 1024 entries are allowed; a file with no modules refuses every module.
start_serve -t "$txt" --enable-probe-endpoint --probe-allow 127.0.0.1 \
    --probe-allow "${many%,h1024}"
assert_contains "$SERVE_LOG" "$txt: no modules, so /probe refuses every request" \
    "the warning of a file without modules"
refused 400 "target=$H_OK" 'Unknown module "http_2xx"'
stop_serve TERM
assert_rc 0 "SIGTERM, no modules"

# --- the allowlist after resolution, the cap, a client gone ---------------------------

# localhost matches, but none of its addresses (127.0.0.1, maybe ::1) is
# in a network: each probe is stopped before it connects.
start_serve -c "$y" -w 2 --enable-probe-endpoint \
    --probe-allow localhost,127.0.0.2/32
probe 0 "target=localhost:$(port_of "$A1")&module=tcp_connect"
reason denied
probe 0 "target=localhost:$(port_of "$H_OK")/"
reason denied
probe 0 "target=http://localhost:$(port_of "$H_OK")/&module=http_follow"
reason denied
assert_empty "$NEAR_LOG" "connections to 127.0.0.1 the allowlist denied"
# ICMP needs root, CAP_NET_RAW or ping sockets.
ICMP=1
get 200 "target=127.0.0.2&module=icmp"
if grep -qF 'reason="permission"' "$HTTP_BODY"; then
	ICMP=0
	log "ICMP is not permitted here: its probes are not tested"
else
	probe 1 "target=127.0.0.2&module=icmp"
	has 'probe_icmp_packets_received 1'
	probe 0 "target=localhost&module=icmp"
	reason denied
	has 'probe_icmp_packets_sent 0'
fi

# -w 2: one probe may wait, the next is turned away until it is answered.
SLOW_CODE=$E2E_TMP/slow.code
lcurl --max-time 6 -H 'X-Prometheus-Scrape-Timeout-Seconds: 3' \
    -o "$E2E_TMP/slow.body" -w '%{http_code}' \
    "$SERVE_URL/probe?target=$FAR2_STALL&module=http_slow" >"$SLOW_CODE" &
SLOW=$!
track_pid $SLOW
wait_for 3 metric_is 1 pulse_probe_endpoint_in_flight ||
    fail "the slow probe is not in flight"
refused 503 "target=$FAR2_OK" \
    'too many probes in flight (1); more --workers allow more'
wait $SLOW || fail "curl of the slow probe failed"
untrack_pid $SLOW
assert_eq "$(cat "$SLOW_CODE")" 200 "the slow probe"
PROBE=$E2E_TMP/slow.body
has 'probe_success 0'
reason timeout
in_range "$(value probe_duration_seconds)" 2.4 2.9 \
    "the slow probe: 3 s scrape timeout less 0.5 s"
probe 1 "target=$FAR2_OK"

# A client that goes away: the probe runs on, its answer is dropped, and
# the server answers the next one.
rc=0
lcurl --max-time 0.3 -H 'X-Prometheus-Scrape-Timeout-Seconds: 2' \
    -o /dev/null "$SERVE_URL/probe?target=$FAR2_STALL&module=http_slow" ||
    rc=$?
assert_eq $rc 28 "curl gives up after 0.3 s"
wait_for 1 metric_is 1 pulse_probe_endpoint_in_flight ||
    fail "the abandoned probe is not in flight"
assert_http GET /-/healthy 200
assert_body 'Healthy\n' "/-/healthy with an abandoned probe"
wait_for 4 metric_is 0 pulse_probe_endpoint_in_flight ||
    fail "the abandoned probe never ended"
probe 1 "target=$FAR2_OK"
has 'probe_http_status_code 200'
alive "$SERVE_PID" || fail "pulse serve is gone"
stop_serve TERM
assert_rc 0 "SIGTERM after an abandoned probe"

# The networks hold ::1 only, and nothing listens there.
start_serve -c "$y" --enable-probe-endpoint --probe-allow localhost \
    --probe-allow ::1/128
probe 0 "target=localhost:$(port_of "$A1")&module=tcp_connect"
if getent ahosts localhost 2>/dev/null | grep -q '^::1 '; then
	log "localhost is ::1 too: its refusal may be the reason"
else
	reason denied
fi
probe 0 "target=localhost:$(port_of "$H_OK")/"
log "http to localhost, ::1/128 only: $(grep '^probe_failure_reason' \
    "$PROBE")"
assert_empty "$NEAR_LOG" "connections to 127.0.0.1 outside ::1/128"
stop_serve TERM
assert_rc 0 "SIGTERM, ::1/128"

# --- a file of modules alone ----------------------------------------------------------

N200=0
N400=0
N403=0
N503=0
start_serve -c "$y" -w 4 --enable-probe-endpoint --probe-allow 127.0.0.1/32 \
    --probe-allow localhost
scrape
assert_eq "$(samples probe_success)" 0 "probe_success of no target"
assert_metric 0 pulse_probe_endpoint_in_flight

probe 1 "target=$A1&module=tcp_connect"
TCP_PROBE=$PROBE
has 'probe_ip_protocol 4'
[ -n "$(value probe_tcp_connect_duration_seconds)" ] ||
    fail "tcp: no probe_tcp_connect_duration_seconds"
probe 1 "target=$H_OK&module=http_2xx"
HTTP_PROBE=$PROBE
has 'probe_http_status_code 200'
has 'probe_http_content_length 14'
has 'probe_http_redirects 0'
has 'probe_http_ssl 0'
probe 1 "target=http://$H_OK/status/204&module=http_2xx"
has 'probe_http_status_code 204'
probe 0 "target=http://$H_OK/status/503&module=http_2xx"
has 'probe_http_status_code 503'
reason status
if [ $ICMP = 1 ]; then
	probe 1 "target=127.0.0.1&module=icmp"
	has 'probe_icmp_packets_received 1'
	has 'probe_ip_protocol 4'
fi

# The default module, and requests that are not probes.
probe 1 "target=$H_OK"
has 'probe_http_status_code 200'
refused 400 "target=$H_OK&module=nope" 'Unknown module "nope"'
refused 400 "target=$H_OK&module=" 'Unknown module ""'
refused 400 "module=tcp_connect" 'Target parameter is missing'
refused 400 "target=&module=tcp_connect" 'Target parameter is missing'
refused 400 "target=127.0.0.1&module=tcp_connect" \
    "target 127.0.0.1: missing port in '127.0.0.1' (write host:port)"
refused 400 "target=tcp://127.0.0.1:80&module=http_2xx" \
    "target tcp://127.0.0.1:80: module 'http_2xx' is for http targets, not tcp"
refused 400 "target=127.0.0.1%20$(port_of "$A1")&module=tcp_connect" \
    'target: spaces, control characters or over 4096 bytes'
refused 400 "target=$A1%0a&module=tcp_connect" \
    'target: spaces, control characters or over 4096 bytes'
long=$(awk 'BEGIN { for (i = 0; i < 5000; i++) printf "a" }')
refused 400 "target=$long" \
    'target: spaces, control characters or over 4096 bytes'

# Before the probe: a literal outside every network, a name matching no
# pattern.  An IPv4-mapped address is judged as IPv4.
refused 403 "target=127.0.0.2:$(port_of "$A1")&module=tcp_connect" \
    "target 127.0.0.2 $OUTSIDE"
refused 403 "target=%5B::ffff:127.0.0.2%5D:$(port_of "$FAR_OK")/" \
    "target ::ffff:127.0.0.2 $OUTSIDE"
refused 403 "target=::ffff:127.0.0.2&module=icmp" \
    "target ::ffff:127.0.0.2 $OUTSIDE"
refused 403 "target=::1&module=icmp" "target ::1 $OUTSIDE"
refused 403 "target=http://2130706434:$(port_of "$FAR_OK")/" \
    "target 127.0.0.2 $OUTSIDE"
refused 403 "target=nowhere.invalid:80&module=tcp_connect" \
    "target nowhere.invalid $OUTSIDE"
refused 403 "target=localhost.invalid/&module=http_2xx" \
    "target localhost.invalid $OUTSIDE"
# localhost matches: what it resolves to outside 127.0.0.1/32 (::1, if
# anything) is skipped, and 127.0.0.1 connects.
probe 1 "target=localhost:$(port_of "$A1")&module=tcp_connect"
probe 1 "target=LocalHost:$(port_of "$A1")&module=tcp_connect"

# Redirects: each Location is judged before it is followed.
probe 0 "target=$H_TO_FAR/&module=http_follow"
reason denied
has 'probe_http_redirects 0'
probe 0 "target=$H_TO_NAME/&module=http_follow"
reason denied
probe 1 "target=$H_REL/&module=http_follow"
has 'probe_http_redirects 1'
has 'probe_http_status_code 200'
assert_count "$NEAR_LOG" 'redirect-to GET /landed' 1 \
    "the relative redirect was followed"
assert_empty "$FAR_LOG" "connections to 127.0.0.2 after a denied redirect"

# The scrape timeout: 1.5 s leaves the probe 1 s; 0.8 s leaves it half.
t0=$(now_ms)
probe 0 "target=$B1&module=tcp_slow" \
    -H 'X-Prometheus-Scrape-Timeout-Seconds: 1.5'
assert_le $(($(now_ms) - t0)) 1999 "the answer with 1.5 s to scrape (ms)"
reason timeout
in_range "$(value probe_duration_seconds)" 0.95 1.4 "the probe of 1 s"
t0=$(now_ms)
probe 0 "target=$H_STALL&module=http_slow" \
    -H 'X-Prometheus-Scrape-Timeout-Seconds: 0.8'
assert_le $(($(now_ms) - t0)) 999 "the answer with 0.8 s to scrape (ms)"
reason timeout
in_range "$(value probe_duration_seconds)" 0.38 0.7 "the probe of 0.4 s"

# The counters count every answer above, by its code.
scrape
assert_families "$SCRAPE"
assert_metric "$N200" pulse_probe_endpoint_requests_total 'code="200"'
assert_metric "$N400" pulse_probe_endpoint_requests_total 'code="400"'
assert_metric "$N403" pulse_probe_endpoint_requests_total 'code="403"'
assert_metric "$N503" pulse_probe_endpoint_requests_total 'code="503"'
assert_metric 0 pulse_probe_endpoint_in_flight
assert_eq "$(samples probe_success)" 0 "probe_success after /probe"
log "answers counted: $N200 200, $N400 400, $N403 403, $N503 503"

# --- blackbox_exporter ------------------------------------------------------------------

BLACKBOX=/usr/bin/prometheus-blackbox-exporter
bb_healthy() {
	_b=$(lcurl "http://127.0.0.1:$BB_PORT/-/healthy" 2>/dev/null) || _b=
	[ -n "$_b" ]
}

# names FILE: the metric names of an exposition, one a line, sorted.
names() {
	grep -v '^#' "$1" | sed 's/[{ ].*//' | sort -u
}

# phases FILE: the phase labels of probe_http_duration_seconds.
phases() {
	sed -n 's/^probe_http_duration_seconds{phase="\([a-z]*\)"}.*/\1/p' \
	    "$1" | sort -u
}

# compare KIND TARGET MODULE PULSE_FILE: probe TARGET with blackbox's
# MODULE; add to "missing" what it reports of WANT and PHASES that pulse's
# answer for the same target lacks, and log every other name it lacks.
compare() {
	_bb=$E2E_TMP/blackbox.$1.prom
	_code=$(lcurl -o "$_bb" -w '%{http_code}' \
	    "http://127.0.0.1:$BB_PORT/probe?target=$2&module=$3") || _code=000
	assert_eq "$_code" 200 "blackbox_exporter, $1 probe"
	grep -qx 'probe_success 1' "$_bb" ||
	    fail "blackbox_exporter: the $1 probe of $2 failed"
	names "$_bb" >"$_bb.names"
	names "$4" >"$4.names"
	_only=$(comm -23 "$_bb.names" "$4.names" | tr '\n' ' ')
	log "$1: blackbox_exporter has, pulse has not: ${_only:-nothing}"
	for _n in $WANT; do
		grep -qx "$_n" "$_bb.names" || continue
		grep -qx "$_n" "$4.names" || missing="$missing $1:$_n"
	done
	phases "$_bb" >"$_bb.phases"
	phases "$4" >"$4.phases"
	for _p in $PHASES; do
		grep -qx "$_p" "$_bb.phases" || continue
		grep -qx "$_p" "$4.phases" ||
		    missing="$missing $1:probe_http_duration_seconds{phase=\"$_p\"}"
	done
}

WANT='probe_success probe_duration_seconds probe_dns_lookup_time_seconds
probe_ip_protocol probe_http_status_code probe_http_duration_seconds
probe_http_redirects probe_http_content_length
probe_http_uncompressed_body_length probe_http_version probe_http_ssl'
PHASES='resolve connect tls processing transfer'

if [ ! -x "$BLACKBOX" ]; then
	log "$BLACKBOX is not installed: no comparison with it"
else
	cat >"$E2E_TMP/blackbox.yml" <<EOF
modules:
  http_2xx:
    prober: http
    timeout: 5s
  tcp_connect:
    prober: tcp
    timeout: 5s
EOF
	free_port
	BB_PORT=$FREE_PORT
	"$BLACKBOX" --web.listen-address="127.0.0.1:$BB_PORT" \
	    --config.file="$E2E_TMP/blackbox.yml" \
	    >"$E2E_TMP/blackbox.log" 2>&1 </dev/null &
	BB_PID=$!
	track_pid $BB_PID
	wait_for 10 bb_healthy ||
	    fail "blackbox_exporter not healthy: $(tail -n 5 \
		"$E2E_TMP/blackbox.log")"
	missing=
	compare http "$H_OK" http_2xx "$HTTP_PROBE"
	compare tcp "$A1" tcp_connect "$TCP_PROBE"
	kill -TERM $BB_PID 2>/dev/null || true
	wait $BB_PID 2>/dev/null || true
	untrack_pid $BB_PID
	[ -z "$missing" ] ||
	    fail "blackbox_exporter has, for the same probe, what pulse lacks:$missing"
fi

stop_serve TERM
assert_rc 0 "SIGTERM after /probe"
log "ok"
