# shellcheck shell=sh disable=SC2016,SC2034,SC2119,SC2120
# (Globals are read by the tests that source this; jq programs are quoted.)
# Helpers for the end-to-end tests of pulse serve, sourced after "$E2E_LIB"
# by tests/e2e/serve_*.sh.
#
# pulse serve runs in the background on 127.0.0.1 and a port no one
# listens on; the tests talk to it with curl (they skip, 77, without it),
# never through a proxy.  Its stderr (the log) and stdout go to files of
# their own, so that run_pulse may run beside it.  One server at a time:
# SERVE_* describe the last one started.

command -v curl >/dev/null 2>&1 || skip "curl is not installed"

E2E_SERVES=0
E2E_PORTS=
SERVE_PID=
SERVE_WRAPPER=
SERVE_PORT=
SERVE_URL=
SERVE_LOG=
SERVE_OUT=
SERVE_T0=
SCRAPE=
HTTP_CODE=
HTTP_BODY=
HTTP_HEADERS=
HTTP_TYPE=

# curl to loopback only: no proxy from the environment, bounded in time.
lcurl() {
	curl -s --noproxy '*' --max-time "${CURL_MAX_TIME:-2}" "$@"
}

# --- ports ------------------------------------------------------------------

# True while something listens on TCP port PORT (any address, v4 or v6).
port_listening() {
	_hex=$(printf '%04X' "$1")
	for _t in /proc/net/tcp /proc/net/tcp6; do
		[ -r "$_t" ] || continue
		awk -v p="$_hex" '$4 == "0A" && substr($2, length($2) - 3) == p {
		    found = 1 } END { exit !found }' "$_t" && return 0
	done
	return 1
}

# Set FREE_PORT to a port no one listens on, outside the ephemeral range
# (where the fixtures' listeners and every client socket get theirs), and
# not handed out before in this test.
free_port() {
	# dash's read gets one byte of a sysctl file: cat reads it whole.
	_range=$(cat /proc/sys/net/ipv4/ip_local_port_range)
	_lo=$(echo "$_range" | awk '{ print $1 }')
	_hi=$(echo "$_range" | awk '{ print $2 }')
	if [ "$_lo" -gt 21024 ]; then
		_base=20000
		_span=$((_lo - 20000))
	elif [ "$_hi" -lt 64511 ]; then
		_base=$((_hi + 1))
		_span=$((65535 - _hi))
	else
		_base=20000
		_span=40000
	fi
	_try=0
	while [ $_try -lt 100 ]; do
		_try=$((_try + 1))
		_r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		FREE_PORT=$((_base + _r % _span))
		case " $E2E_PORTS " in
		*" $FREE_PORT "*) continue ;;
		esac
		port_listening "$FREE_PORT" && continue
		E2E_PORTS="$E2E_PORTS $FREE_PORT"
		return 0
	done
	hard_error "no free port found in 100 tries"
}

# --- the server -------------------------------------------------------------

# Run pulse serve ARGS in the background on 127.0.0.1:SERVE_PORT.
_serve_spawn() {
	E2E_SERVES=$((E2E_SERVES + 1))
	SERVE_LOG=$E2E_TMP/serve.$E2E_SERVES.log
	SERVE_OUT=$E2E_TMP/serve.$E2E_SERVES.out
	SERVE_URL=http://127.0.0.1:$SERVE_PORT
	SERVE_T0=$(now_ms)
	# SERVE_PREFIX: a command that execs pulse, such as prlimit.
	timeout -k 5 "${PULSE_LIMIT:-60}" ${SERVE_PREFIX:-} "$PULSE" serve \
	    --listen "127.0.0.1:$SERVE_PORT" "$@" \
	    >"$SERVE_OUT" 2>"$SERVE_LOG" </dev/null &
	SERVE_WRAPPER=$!
	track_pid "$SERVE_WRAPPER"
	# A failure shows the server's log.
	OUT=$SERVE_OUT
	ERR=$SERVE_LOG
	SERVE_PID=
	_i=0
	while [ -z "$SERVE_PID" ]; do
		for _c in $(pgrep -P "$SERVE_WRAPPER" 2>/dev/null || true); do
			case $(comm_of "$_c") in
			timeout | '') ;;
			*) SERVE_PID=$_c ;;
			esac
		done
		[ -n "$SERVE_PID" ] && break
		alive "$SERVE_WRAPPER" || return 0
		_i=$((_i + 1))
		[ $_i -le 200 ] || fail "pulse serve $* did not start within 10 s"
		sleep 0.05
	done
	track_pid "$SERVE_PID"
}

# Wait (10 s at most) until the server answers /-/healthy; false if it
# exited first.
_serve_wait_healthy() {
	_i=0
	while [ -n "$SERVE_PID" ] && alive "$SERVE_PID"; do
		_b=$(lcurl "$SERVE_URL/-/healthy" 2>/dev/null) || _b=
		# Still alive once it answered: the answer was its own.
		[ "$_b" = Healthy ] && alive "$SERVE_PID" && return 0
		_i=$((_i + 1))
		[ $_i -le 100 ] || fail "pulse serve not healthy within 10 s"
		sleep 0.1
	done
	return 1
}

# start_serve ARGS: pulse serve --listen 127.0.0.1:PORT ARGS in the
# background, bounded by PULSE_LIMIT seconds (default 60), and wait until
# /-/healthy answers.  Sets SERVE_PID (pulse itself), SERVE_PORT,
# SERVE_URL, SERVE_LOG (its stderr) and SERVE_T0 (ms).  A port taken in
# between (exit 3, "cannot listen") is replaced, five times at most.
start_serve() {
	_attempt=0
	while :; do
		_attempt=$((_attempt + 1))
		free_port
		SERVE_PORT=$FREE_PORT
		_serve_spawn "$@"
		_serve_wait_healthy && return 0
		wait_serve
		if [ "$RC" = 3 ] && grep -q 'cannot listen' "$SERVE_LOG" &&
		    [ $_attempt -lt 5 ]; then
			log "port $SERVE_PORT was taken, trying another"
			continue
		fi
		fail "pulse serve $* exited with status $RC before it answered"
	done
}

# Wait for the server to exit; sets RC and ELAPSED_MS (since its start).
wait_serve() {
	RC=0
	wait "$SERVE_WRAPPER" || RC=$?
	ELAPSED_MS=$(($(now_ms) - SERVE_T0))
	untrack_pid "$SERVE_WRAPPER"
	[ -z "$SERVE_PID" ] || untrack_pid "$SERVE_PID"
	OUT=$SERVE_OUT
	ERR=$SERVE_LOG
	case $RC in
	124 | 137) fail "pulse serve did not finish within ${PULSE_LIMIT:-60} s" ;;
	esac
	check_sanitizers
}

# stop_serve [SIGNAL]: signal the server (TERM) and wait for it.
stop_serve() {
	kill -"${1:-TERM}" "$SERVE_PID" 2>/dev/null || true
	wait_serve
}

# --- HTTP -------------------------------------------------------------------

# http METHOD PATH: one request to the server.  Sets HTTP_CODE ("000"
# when there was no answer), HTTP_BODY and HTTP_HEADERS (files) and
# HTTP_TYPE (the Content-Type).
http() {
	HTTP_BODY=$E2E_TMP/http.body
	HTTP_HEADERS=$E2E_TMP/http.headers
	: >"$HTTP_BODY"
	: >"$HTTP_HEADERS"
	HTTP_CODE=$(lcurl -X "$1" -o "$HTTP_BODY" -D "$HTTP_HEADERS" \
	    -w '%{http_code}' "$SERVE_URL$2") || HTTP_CODE=000
	HTTP_TYPE=$(tr -d '\r' <"$HTTP_HEADERS" |
	    sed -n 's/^[Cc][Oo][Nn][Tt][Ee][Nn][Tt]-[Tt][Yy][Pp][Ee]: *//p' |
	    tail -n 1)
}

# assert_http METHOD PATH CODE: the request is answered with CODE.
assert_http() {
	http "$1" "$2"
	[ "$HTTP_CODE" = "$3" ] ||
	    fail "$1 $2: expected status $3, got $HTTP_CODE: $(head -c 500 \
		"$HTTP_BODY")"
}

# assert_body TEXT WHAT: the body of the last answer is exactly TEXT
# (printf format).
assert_body() {
	# shellcheck disable=SC2059
	printf "$1" >"$E2E_TMP/expected.body"
	cmp -s "$E2E_TMP/expected.body" "$HTTP_BODY" ||
	    fail "$2: body '$(head -c 500 "$HTTP_BODY")', expected '$1'"
}

# --- metrics ----------------------------------------------------------------

# scrape [FILE]: GET /metrics into FILE (default metrics.prom in the
# test's directory), which becomes SCRAPE.  Anything but 200 fails.
scrape() {
	SCRAPE=${1:-$E2E_TMP/metrics.prom}
	_code=$(lcurl -o "$SCRAPE" -w '%{http_code}' "$SERVE_URL/metrics") ||
	    _code=000
	[ "$_code" = 200 ] || fail "GET /metrics: status $_code"
}

# _select NAME MATCH...: the samples of NAME in SCRAPE whose labels hold
# every MATCH (label="value", as exposed), into $E2E_TMP/selected.
_select() {
	_sel=$E2E_TMP/selected
	grep -E "^$1[{ ]" "$SCRAPE" >"$_sel" || true
	shift
	for _m; do
		grep -F -e "{$_m" -e ",$_m" "$_sel" >"$_sel.next" || true
		mv "$_sel.next" "$_sel"
	done
}

# metric NAME [MATCH...]: the value of the one sample of NAME in SCRAPE
# whose labels hold every MATCH (label="value", exactly as exposed);
# nothing when there is none, and a failure when there are more.
metric() {
	_mn=$1
	_select "$@"
	_c=$(wc -l <"$_sel" | tr -d ' ')
	[ "$_c" -le 1 ] || fail "$* matches $_c samples: $(head -n 3 "$_sel")"
	[ "$_c" -eq 0 ] || sed 's/.* //' "$_sel"
}

# samples NAME [MATCH...]: how many samples match.
samples() {
	_select "$@"
	wc -l <"$_sel" | tr -d ' '
}

# metric_sum NAME [MATCH...]: the sum of every matching sample (0 if none).
metric_sum() {
	_select "$@"
	awk '{ s += $NF } END { printf "%.17g\n", s + 0 }' "$_sel"
}

# metric_is VALUE NAME [MATCH...]: scrape, and the sample is VALUE (a
# condition for wait_for).
metric_is() {
	_want=$1
	shift
	scrape
	[ "$(metric "$@")" = "$_want" ]
}

# metric_at_least MIN NAME [MATCH...]: scrape, and the sample is there and
# not below MIN.
metric_at_least() {
	_want=$1
	shift
	scrape
	_got=$(metric "$@")
	[ -n "$_got" ] && awk -v a="$_got" -v b="$_want" \
	    'BEGIN { exit !(a + 0 >= b + 0) }'
}

# assert_metric VALUE NAME [MATCH...]: in SCRAPE, the sample is VALUE.
assert_metric() {
	_want=$1
	shift
	_got=$(metric "$@")
	[ "$_got" = "$_want" ] || fail "$*: got '$_got', expected '$_want'"
}

# The "le" bounds of histogram NAME with MATCH, in order, on one line.
buckets_of() {
	_select "$@"
	sed -n 's/.*[{,]le="\([^"]*\)".*/\1/p' "$_sel" | tr '\n' ' '
}

# assert_histogram NAME LES [MATCH...]: NAME_bucket has exactly the bounds
# LES (compared as numbers, "+Inf" last), the counts never go down, and
# the +Inf bucket equals NAME_count; NAME_sum is there and not negative.
assert_histogram() {
	_h=$1
	_les=$2
	shift 2
	_got=$(buckets_of "${_h}_bucket" "$@")
	_bad=$(awk -v got="$_got" -v want="$_les" 'BEGIN {
		ng = split(got, g, " "); nw = split(want, w, " ")
		if (ng != nw) { print "bounds " got; exit }
		for (i = 1; i <= nw; i++) {
			if (w[i] == "+Inf" || g[i] == "+Inf") {
				if (g[i] != w[i]) print "bounds " got
			} else if (g[i] + 0 != w[i] + 0 || g[i] !~ /^[0-9.e+-]+$/)
				print "bounds " got
		}
	}')
	[ -z "$_bad" ] || fail "$_h $*: $_bad, expected $_les"
	_select "${_h}_bucket" "$@"
	awk '{ v = $NF + 0; if (NR > 1 && v < prev) { print; exit }
	    prev = v }' "$_sel" >"$_sel.down"
	[ ! -s "$_sel.down" ] ||
	    fail "$_h $*: a bucket count goes down: $(cat "$_sel.down")"
	_inf=$(metric "${_h}_bucket" "$@" 'le="+Inf"')
	_cnt=$(metric "${_h}_count" "$@")
	_sum=$(metric "${_h}_sum" "$@")
	[ -n "$_cnt" ] || fail "$_h $*: no ${_h}_count"
	[ -n "$_sum" ] || fail "$_h $*: no ${_h}_sum"
	assert_eq "$_inf" "$_cnt" "$_h $*: the +Inf bucket is the count"
	awk -v s="$_sum" 'BEGIN { exit !(s + 0 >= 0) }' ||
	    fail "$_h $*: negative sum $_sum"
}

# The exposition is well formed as far as promtool does not look: each
# family's HELP and TYPE once, before its samples, and its samples
# together (a histogram's _bucket, _sum and _count are its own).
assert_families() {
	_bad=$(awk '
		/^# HELP / { fam = $3; if (seen[fam]++) print "twice: " fam
		    help = 1; next }
		/^# TYPE / { if ($3 != fam || !help) print "TYPE: " $0
		    type[fam] = $4; help = 0; next }
		/^#/ { next }
		/^$/ { print "empty line"; next }
		{ n = $0; sub(/[{ ].*/, "", n)
		  if (type[fam] == "histogram") sub(/_(bucket|sum|count)$/, "", n)
		  if (n != fam) print "stray: " $0 }
	' "$1")
	[ -z "$_bad" ] || fail "$(basename "$1"): $_bad"
}

# --- the log ----------------------------------------------------------------

# log_lines MSG [KEY=VALUE...]: the lines of the server's log with
# msg="MSG" and every KEY=VALUE (as written, a whole field).
log_lines() {
	_lm=$1
	shift
	sed 's/$/ /' "$SERVE_LOG" | grep -F -e "msg=\"$_lm\" " -e "msg=$_lm " \
	    >"$E2E_TMP/log.sel" || true
	for _m; do
		grep -F -- " $_m " "$E2E_TMP/log.sel" >"$E2E_TMP/log.next" ||
		    true
		mv "$E2E_TMP/log.next" "$E2E_TMP/log.sel"
	done
	cat "$E2E_TMP/log.sel"
}

# log_count MSG [KEY=VALUE...]: how many such lines.
log_count() {
	log_lines "$@" | wc -l | tr -d ' '
}

# Every line of the log is one logfmt event: ts, level and msg first.
assert_logfmt() {
	_bad=$(grep -Evn '^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z level=(debug|info|warn|error) msg=("[^"]*"|[^" ]+)( |$)' \
	    "$SERVE_LOG" | head -n 3) || true
	[ -z "$_bad" ] || fail "not a logfmt event: $_bad"
}

# --- time -------------------------------------------------------------------

# wait_for SECONDS COMMAND...: run COMMAND every 0.1 s until it succeeds
# (true) or SECONDS have passed (false).
wait_for() {
	_wf_end=$(($(now_ms) + $1 * 1000))
	shift
	while :; do
		"$@" && return 0
		[ "$(now_ms)" -lt "$_wf_end" ] || return 1
		sleep 0.1
	done
}

# start_prometheus [RULES]: $PROMETHEUS on a free loopback port, scraping
# the pulse serve on $SERVE_PORT every second and, with RULES, evaluating
# that rules file every second; waits until it is ready.  Sets PROM_DIR,
# PROM_URL and PROM_PID.  A port taken between its choice and its use is
# tried again, up to five times.
start_prometheus() {
	PROM_DIR=$E2E_TMP/prometheus
	mkdir -p "$PROM_DIR/data"
	_attempt=0
	while :; do
		_attempt=$((_attempt + 1))
		free_port
		PROM_URL=http://127.0.0.1:$FREE_PORT
		{
			printf 'global:\n  scrape_interval: 1s\n'
			printf '  scrape_timeout: 1s\n  evaluation_interval: 1s\n'
			[ -z "${1:-}" ] || printf 'rule_files:\n  - %s\n' "$1"
			printf 'scrape_configs:\n  - job_name: pulse\n'
			printf '    static_configs:\n'
			printf "      - targets: ['127.0.0.1:%s']\n" "$SERVE_PORT"
		} >"$PROM_DIR/prometheus.yml"
		"$PROMETHEUS" --config.file="$PROM_DIR/prometheus.yml" \
		    --storage.tsdb.path="$PROM_DIR/data" \
		    --web.listen-address="127.0.0.1:$FREE_PORT" \
		    --log.level=warn >"$PROM_DIR/log" 2>&1 </dev/null &
		PROM_PID=$!
		track_pid "$PROM_PID"
		wait_for 20 _prom_ready && return 0
		alive "$PROM_PID" && hard_error "prometheus not ready within" \
		    "20 s: $(tail -n 5 "$PROM_DIR/log")"
		wait "$PROM_PID" 2>/dev/null || true
		untrack_pid "$PROM_PID"
		if ! grep -q 'address already in use' "$PROM_DIR/log" ||
		    [ $_attempt -ge 5 ]; then
			hard_error "prometheus did not start:" \
			    "$(tail -n 5 "$PROM_DIR/log")"
		fi
	done
}

_prom_ready() {
	alive "$PROM_PID" &&
	    [ "$(lcurl -o /dev/null -w '%{http_code}' "$PROM_URL/-/ready")" = \
	    200 ] && alive "$PROM_PID"
}
