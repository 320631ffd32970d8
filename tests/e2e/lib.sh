# shellcheck shell=sh disable=SC2016,SC2034
# (Globals are read by the tests that source this; jq programs are quoted.)
# Helpers for the end-to-end tests of pulse, sourced by tests/e2e/*.sh.
#
# POSIX sh, safe under "set -eu".  The test harness exports PULSE (the
# binary), TCP_FIXTURE (tests/fixtures/tcp_fixture) and EXAMPLES.  Exit
# status follows automake: 0 pass, 1 fail, 77 skip, 99 hard error.
#
# Every process a test starts is remembered by PID and stopped on exit;
# nothing is ever killed by name.  Traffic goes to loopback only: the
# fixture refuses any other address.

set -eu

E2E_NAME=$(basename "$0" .sh)
E2E_PIDS=
E2E_WORKERS=
E2E_FIXTURES=0
E2E_TMP=

# Output of the last run_pulse or wait_pulse.
OUT=
ERR=
RC=
ELAPSED_MS=

log() {
	printf '%s: %s\n' "$E2E_NAME" "$*"
}

skip() {
	log "SKIP: $*" >&2
	exit 77
}

hard_error() {
	log "ERROR: $*" >&2
	exit 99
}

# Show what the last pulse run printed, to explain a failure.
e2e_dump() {
	if [ -n "$ERR" ] && [ -s "$ERR" ]; then
		echo "--- stderr of the last pulse run (head) ---" >&2
		head -c 4000 "$ERR" >&2
		echo >&2
	fi
	if [ -n "$OUT" ] && [ -s "$OUT" ]; then
		echo "--- stdout of the last pulse run (head) ---" >&2
		head -c 6000 "$OUT" >&2
		echo >&2
	fi
}

fail() {
	log "FAIL: $*" >&2
	e2e_dump
	exit 1
}

# --- processes --------------------------------------------------------------

track_pid() {
	E2E_PIDS="$E2E_PIDS $1"
}

# Forget a PID once it has been waited for: it may be reused.
untrack_pid() {
	_keep=
	for _p in $E2E_PIDS; do
		[ "$_p" = "$1" ] || _keep="$_keep $_p"
	done
	E2E_PIDS=$_keep
}

# A worker the test signalled (stopped, say): killed at exit if still one.
track_worker() {
	E2E_WORKERS="$E2E_WORKERS $1"
}

# True while the process exists and is not a zombie.
alive() {
	_st=
	[ -r "/proc/$1/stat" ] || return 1
	read -r _st <"/proc/$1/stat" 2>/dev/null || return 1
	_st=${_st##*) }
	case $_st in
	Z* | X*) return 1 ;;
	esac
	return 0
}

comm_of() {
	cat "/proc/$1/comm" 2>/dev/null || true
}

# Stop what this test started: politely, then by force after 2 s.
e2e_cleanup() {
	_rc=$?
	set +e
	trap - EXIT
	for _p in $E2E_WORKERS; do
		[ "$(comm_of "$_p")" = pulse-worker ] && kill -KILL "$_p" 2>/dev/null
	done
	for _p in $E2E_PIDS; do
		kill -CONT "$_p" 2>/dev/null
		kill -TERM "$_p" 2>/dev/null
	done
	_i=0
	while [ $_i -lt 40 ]; do
		_left=0
		for _p in $E2E_PIDS; do
			alive "$_p" && _left=1
		done
		[ $_left -eq 0 ] && break
		sleep 0.05
		_i=$((_i + 1))
	done
	for _p in $E2E_PIDS; do
		alive "$_p" && kill -KILL "$_p" 2>/dev/null
	done
	wait 2>/dev/null
	[ -n "$E2E_TMP" ] && rm -rf "$E2E_TMP"
	exit $_rc
}

# --- prerequisites ----------------------------------------------------------

[ -n "${PULSE:-}" ] || hard_error "PULSE is not set (run through make check)"
[ -x "$PULSE" ] || hard_error "$PULSE is not an executable"
[ -n "${TCP_FIXTURE:-}" ] || hard_error "TCP_FIXTURE is not set"
[ -x "$TCP_FIXTURE" ] || hard_error "$TCP_FIXTURE is not an executable"
for _cmd in jq timeout pgrep mktemp; do
	command -v "$_cmd" >/dev/null 2>&1 || skip "$_cmd is not installed"
done
case $(date +%N) in
*[!0-9]* | '') skip "date +%N does not give nanoseconds" ;;
esac
[ -d /proc/self ] || skip "/proc is not mounted"

# Wall-time limits that a test scales by this: above 1 where every pulse
# process runs far slower on purpose (tests/valgrind/run.sh).
E2E_SLOW=${E2E_SLOW:-1}
E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pulse-e2e.XXXXXX")
# Started as root, pulse runs as an unprivileged user once it has set up,
# and renames --output into place as that user: like /tmp, anyone may
# write here.
chmod 1777 "$E2E_TMP"
trap e2e_cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

have_ipv6() {
	grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 \
	    2>/dev/null
}

# --- time -------------------------------------------------------------------

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# --- fixture ----------------------------------------------------------------

# Start tcp_fixture with ARGS and wait (10 s at most) for its "ready".
# Sets FIXTURE_PID and the space-separated endpoint lists ACCEPT, REFUSE
# and BLACKHOLE ("127.0.0.1:PORT" or "[::1]:PORT"), in the order printed.
start_fixture() {
	E2E_FIXTURES=$((E2E_FIXTURES + 1))
	_fo=$E2E_TMP/fixture.$E2E_FIXTURES.out
	_fe=$E2E_TMP/fixture.$E2E_FIXTURES.err
	"$TCP_FIXTURE" --lifetime "${FIXTURE_LIFETIME:-120}" "$@" \
	    >"$_fo" 2>"$_fe" </dev/null &
	FIXTURE_PID=$!
	track_pid "$FIXTURE_PID"
	_i=0
	while ! grep -qx ready "$_fo" 2>/dev/null; do
		alive "$FIXTURE_PID" ||
		    fail "tcp_fixture $* exited early: $(cat "$_fe")"
		_i=$((_i + 1))
		[ $_i -le 200 ] || fail "tcp_fixture $* not ready within 10 s"
		sleep 0.05
	done
	ACCEPT=$(awk '$1 == "accept" { printf "%s ", $2 }' "$_fo")
	REFUSE=$(awk '$1 == "refuse" { printf "%s ", $2 }' "$_fo")
	BLACKHOLE=$(awk '$1 == "blackhole" { printf "%s ", $2 }' "$_fo")
}

stop_fixture() {
	kill -TERM "$1" 2>/dev/null || true
}

# nth N WORD...: print the Nth word (1-based).
nth() {
	shift "$1"
	printf '%s\n' "$1"
}

# "127.0.0.1:80" -> "tcp://127.0.0.1:80"
canon() {
	printf 'tcp://%s\n' "$1"
}

# --- running pulse ----------------------------------------------------------

# A sanitizer report anywhere in pulse's stderr is a failure of its own.
check_sanitizers() {
	if grep -q -e 'ERROR: AddressSanitizer' -e 'ERROR: LeakSanitizer' \
	    -e 'runtime error:' "$ERR"; then
		fail "sanitizer report on stderr"
	fi
}

# run_pulse ARGS: run pulse in the foreground, bounded by PULSE_LIMIT
# seconds (default 60).  Sets OUT, ERR (files), RC and ELAPSED_MS.
run_pulse() {
	OUT=$E2E_TMP/out
	ERR=$E2E_TMP/err
	_t0=$(now_ms)
	RC=0
	timeout -k 5 "${PULSE_LIMIT:-60}" "$PULSE" "$@" >"$OUT" 2>"$ERR" ||
	    RC=$?
	ELAPSED_MS=$(($(now_ms) - _t0))
	case $RC in
	124 | 137) fail "pulse $* did not finish within ${PULSE_LIMIT:-60} s" ;;
	esac
	check_sanitizers
}

# run_timed LIMIT_MS ARGS: run_pulse, and fail if the wall time is over
# LIMIT_MS.  A slow run is tried again (three runs in all) so that a
# machine busy with other tests does not fail the test; a pulse that is
# always late still does.
run_timed() {
	_limit=$1
	shift
	for _try in 1 2 3; do
		run_pulse "$@"
		[ "$ELAPSED_MS" -le "$_limit" ] && return 0
		log "pulse $* took $ELAPSED_MS ms (limit $_limit ms)," \
		    "run $_try of 3"
	done
	fail "pulse $*: wall time over $_limit ms three times"
}

# start_pulse ARGS: run pulse in the background (bounded like run_pulse).
# Sets PULSE_PID to pulse itself, so signals reach it and nothing else.
# With PULSE_SETSID=1 pulse leads a process group of its own.
start_pulse() {
	OUT=$E2E_TMP/out
	ERR=$E2E_TMP/err
	_setsid=
	[ "${PULSE_SETSID:-0}" = 1 ] && _setsid=setsid
	PULSE_T0=$(now_ms)
	timeout -k 5 "${PULSE_LIMIT:-60}" $_setsid "$PULSE" "$@" \
	    >"$OUT" 2>"$ERR" </dev/null &
	PULSE_WRAPPER=$!
	track_pid "$PULSE_WRAPPER"
	PULSE_PID=
	_i=0
	while [ -z "$PULSE_PID" ]; do
		for _c in $(pgrep -P "$PULSE_WRAPPER" 2>/dev/null || true); do
			case $(comm_of "$_c") in
			timeout | setsid | '') ;;
			*) PULSE_PID=$_c ;;
			esac
		done
		[ -n "$PULSE_PID" ] && break
		alive "$PULSE_WRAPPER" || fail "pulse $* ended at once"
		_i=$((_i + 1))
		[ $_i -le 200 ] || fail "pulse $* did not start within 10 s"
		sleep 0.05
	done
	track_pid "$PULSE_PID"
}

# Wait for the background pulse; sets RC and ELAPSED_MS (since its start).
wait_pulse() {
	RC=0
	wait "$PULSE_WRAPPER" || RC=$?
	ELAPSED_MS=$(($(now_ms) - PULSE_T0))
	untrack_pid "$PULSE_WRAPPER"
	untrack_pid "$PULSE_PID"
	case $RC in
	124 | 137) fail "pulse did not finish within ${PULSE_LIMIT:-60} s" ;;
	esac
	check_sanitizers
}

# The worker processes of pulse: its direct children.
workers_of() {
	pgrep -P "$1" 2>/dev/null || true
}

# wait_workers PID N: wait (10 s at most) until PID has N children named
# pulse-worker; sets WORKERS to their PIDs.
wait_workers() {
	_i=0
	while :; do
		WORKERS=
		_n=0
		for _w in $(workers_of "$1"); do
			[ "$(comm_of "$_w")" = pulse-worker ] || continue
			WORKERS="$WORKERS $_w"
			_n=$((_n + 1))
		done
		[ $_n -ge "$2" ] && return 0
		alive "$1" || fail "pulse ended before $2 workers were seen"
		_i=$((_i + 1))
		if [ $_i -gt 200 ]; then
			_names=
			for _w in $(workers_of "$1"); do
				_names="$_names $_w:$(comm_of "$_w")"
			done
			fail "expected $2 children named pulse-worker," \
			    "saw:${_names:- none}"
		fi
		sleep 0.05
	done
}

# --- assertions -------------------------------------------------------------

assert_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}

assert_rc() {
	[ "$RC" = "$1" ] || fail "${2:-pulse}: expected exit status $1, got $RC"
}

# assert_le A B WHAT: integers, A <= B.
assert_le() {
	[ "$1" -le "$2" ] || fail "$3: $1 is more than $2"
}

assert_empty() {
	[ ! -s "$1" ] || fail "$2: expected nothing, got: $(head -c 2000 "$1")"
}

assert_nonempty() {
	[ -s "$1" ] || fail "$2: expected output, got none"
}

# assert_contains FILE TEXT WHAT: TEXT appears literally in FILE.
assert_contains() {
	grep -qF -- "$2" "$1" || fail "$3: '$2' not found in $(basename "$1")"
}

assert_not_contains() {
	! grep -qF -- "$2" "$1" || fail "$3: '$2' unexpectedly found"
}

# assert_count FILE TEXT N WHAT: TEXT appears on exactly N lines of FILE.
assert_count() {
	_c=$(grep -cF -- "$2" "$1" || true)
	[ "$_c" -eq "$3" ] ||
	    fail "$4: '$2' on $_c lines of $(basename "$1"), expected $3"
}

# A usage-style error: the given exit status, a message, no document.
assert_usage_error() {
	assert_rc "${2:-2}" "$1"
	assert_nonempty "$ERR" "$1: message on stderr"
	assert_empty "$OUT" "$1: stdout"
}

# --- JSON -------------------------------------------------------------------

# jqr FILE FILTER [jq options]: raw output of a jq filter.
jqr() {
	_f=$1
	_q=$2
	shift 2
	jq -r "$@" "$_q" "$_f"
}

# assert_jq FILE FILTER WHAT [jq options]: the filter yields true.
assert_jq() {
	_f=$1
	_q=$2
	_w=$3
	shift 3
	jq -e "$@" "$_q" "$_f" >/dev/null 2>&1 ||
	    fail "$_w: $_q is not true, it gives: $(jq -c "$@" "$_q" "$_f" \
		2>&1 | head -c 2000)"
}

# The schema of the document, as jq checks: [what, test] pairs.
E2E_SCHEMA='
	def check(what; f): [what, (try f catch false)];
	def optnum: type == "number" or . == null;
	def reasons: ["timeout", "refused", "unreachable", "dns", "tls",
	    "status", "match", "crash", "deadline", "cancelled", "permission",
	    "config", "internal", "protocol"];
	check("document is an object"; type == "object"),
	check("version is a string"; .version | type == "string" and
	    length > 0),
	check("started is RFC 3339 UTC with milliseconds"; .started |
	    test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$")),
	check("duration_seconds"; .duration_seconds | type == "number" and
	    . >= 0),
	check("workers in 1..4096"; .workers | type == "number" and . >= 1 and
	    . <= 4096),
	check("interrupted is null, SIGTERM or SIGINT"; .interrupted == null or
	    .interrupted == "SIGTERM" or .interrupted == "SIGINT"),
	check("results is an array"; .results | type == "array"),
	check("counts has numbers total, up, down, cancelled"; .counts |
	    all(.total, .up, .down, .cancelled; type == "number" and . >= 0)),
	check("up + down + cancelled == total"; .counts.up + .counts.down +
	    .counts.cancelled == .counts.total),
	check("counts.total == number of results"; .counts.total ==
	    (.results | length)),
	check("counts.up == successful results"; .counts.up ==
	    ([.results[] | select(.success)] | length)),
	check("counts.cancelled == cancelled results"; .counts.cancelled ==
	    ([.results[] | select(.reason == "cancelled")] | length)),
	check("no target and name appear twice"; [.results[] |
	    [.target, .name]] | length == (unique | length)),
	check("every result has well-typed fields"; .results | all(
	    (.target | type) == "string" and (.name | type) == "string" and
	    (.kind == "tcp" or .kind == "icmp" or .kind == "http") and
	    (.host | type) == "string" and
	    (.success | type) == "boolean" and
	    ((.address | type) == "string" or .address == null) and
	    (.timeout_seconds | type) == "number" and .timeout_seconds > 0 and
	    (.duration_seconds | type) == "number" and
	    .duration_seconds >= 0 and (.dns_seconds | optnum))),
	check("tcp results have a port and connect_seconds"; [.results[] |
	    select(.kind == "tcp")] | all((.port | type) == "number" and
	    .port >= 1 and .port <= 65535 and (.connect_seconds | optnum))),
	check("icmp results have echo counts and statistics"; [.results[] |
	    select(.kind == "icmp")] | all(.port == null and
	    (.sent | type) == "number" and (.received | type) == "number" and
	    .received <= .sent and (.duplicates | type) == "number" and
	    (.loss_ratio | type) == "number" and .loss_ratio >= 0 and
	    .loss_ratio <= 1 and
	    (if .received > 0 then (.rtt_seconds | all(.min, .avg, .max,
	    .stddev; type == "number" and . >= 0)) and .success
	    else .rtt_seconds == null and (.success | not) end) and
	    ((.reply_ttl | type) == "number" or .reply_ttl == null))),
	check("http results have a status, phases and body fields";
	    [.results[] | select(.kind == "http")] | all((.port | type) ==
	    "number" and (.status_code | optnum) and
	    (.redirects | type) == "number" and
	    (.content_length | type) == "number" and
	    (.body_matched == null or (.body_matched | type) == "boolean") and
	    (.phases_seconds | all(.resolve, .connect, .tls, .processing,
	    .transfer; optnum)) and (.final_url | type) == "string" and
	    (.tls == null or (.tls | type) == "object"))),
	check("successful results have reason and error null"; [.results[] |
	    select(.success and (.reason != null or .error != null))] |
	    length == 0),
	check("failed results have a known reason and an error message";
	    [.results[] | select((.success | not) and
	    ((.reason as $r | reasons | index([$r]) | not) or
	     (.error | type) != "string" or (.error | length) == 0))] |
	    length == 0),
	check("target is the canonical form of kind, host and port";
	    [.results[] | select(.kind != "http")] | all(.target == .kind +
	    "://" +
	    (if (.host | contains(":")) then "[" + .host + "]" else .host end) +
	    (if .kind == "tcp" then ":" + (.port | tostring) else "" end)))
'

# The document in FILE matches the schema of the spec: one JSON object,
# every field of the right type, counts that add up, one result per
# target, reasons from the fixed set, error exactly when failed.
assert_document() {
	_bad=$(jq -rs "if length != 1 then
	    \"exactly one JSON document, not \\(length)\" else .[0] |
	    $E2E_SCHEMA | select(.[1] != true) | .[0] end" "$1" 2>&1) ||
	    fail "$(basename "$1") is not valid JSON: $_bad"
	[ -z "$_bad" ] ||
	    fail "document $(basename "$1") breaks the schema: $_bad"
}

# The "target" of every result, one per line, in document order.
targets_of() {
	jq -r '.results[].target' "$1"
}

# result FILE TARGET FILTER: apply FILTER to the result for TARGET.
result() {
	jq -r --arg t "$2" ".results[] | select(.target == \$t) | $3" "$1"
}

# check_manual PAGE: mandoc -Tlint reports no warning or error (STYLE
# notes, such as a manual not installed here, are not the page's fault)
# and man -l renders it without complaint; each part is skipped, with a
# log line, where its tool is not installed.
check_manual() {
	if command -v mandoc >/dev/null 2>&1; then
		mandoc -Tlint -W warning "$1" >"$E2E_TMP/lint" 2>&1 ||
		    fail "mandoc -Tlint: $(cat "$E2E_TMP/lint")"
		assert_empty "$E2E_TMP/lint" "mandoc -Tlint -W warning"
	else
		log "mandoc is not installed: no lint"
	fi
	if command -v man >/dev/null 2>&1; then
		MANWIDTH=80 timeout 60 man -l "$1" >"$E2E_TMP/man.out" \
		    2>"$E2E_TMP/man.err" ||
		    fail "man -l: $(cat "$E2E_TMP/man.err")"
		assert_nonempty "$E2E_TMP/man.out" "man -l $(basename "$1")"
		! grep -qiE 'warning|error' "$E2E_TMP/man.err" ||
		    fail "man -l: $(cat "$E2E_TMP/man.err")"
	else
		log "man is not installed: rendering not checked"
	fi
}
