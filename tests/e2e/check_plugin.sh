#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# pulse check --plugin: one status line with performance data as the
# Monitoring Plugins guidelines define them, then long text, in under
# 4 KiB; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.  A bad command
# line is UNKNOWN, said on stdout, with nothing on stderr.  --warning and
# --critical without --plugin: a warning is noted, a critical threshold
# crossed makes the target down.  TCP, HTTP, then ICMP (skipped when
# ICMP is not permitted).
. "$E2E_LIB"
. "$E2E_HTTP_LIB"

start_fixture --accept 1 --refuse 1
A=$(nth 1 $ACCEPT)
R=$(nth 1 $REFUSE)
start_http_fixture
H=$HF_OK

# The grammar of the guidelines: 'label'=value[UOM];[warn];[crit];[min];[max]
# with value, min and max in [-0-9.], warn and crit ranges [@][start:][end]
# (start may be ~), and a label quoted when it holds a space, = or '.
Q="'"
NUM='-?[0-9]+(\.[0-9]+)?'
RANGE="@?((~|$NUM)?:)?($NUM)?"
UOM='(s|ms|us|%|B|KB|MB|GB|TB|c)?'
LABEL="($Q([^$Q]|$Q$Q)+$Q|[^ $Q=|]+)"
DATUM="$LABEL=$NUM$UOM(;$RANGE(;$RANGE(;($NUM)?(;($NUM)?)?)?)?)?"
STATUS_LINE="^PULSE (OK|WARNING|CRITICAL|UNKNOWN) - [^|]+( \| $DATUM( $DATUM)*)?\$"

# The output of --plugin follows the guidelines: a status line for state
# $1 in the grammar, no "|" after it, nothing on stderr, under 4 KiB, and
# no control byte but the line ends.
assert_plugin() {
	assert_rc "$1" "$2: exit status"
	head -n 1 "$OUT" | grep -Eq "$STATUS_LINE" ||
	    fail "$2: status line out of the grammar: $(head -n 1 "$OUT")"
	_state=$(head -n 1 "$OUT" | cut -d' ' -f2)
	case $1 in
	0) assert_eq "$_state" OK "$2: state" ;;
	1) assert_eq "$_state" WARNING "$2: state" ;;
	2) assert_eq "$_state" CRITICAL "$2: state" ;;
	3) assert_eq "$_state" UNKNOWN "$2: state" ;;
	esac
	assert_eq "$(sed 1d "$OUT" | grep -c '|' || true)" 0 \
	    "$2: no '|' in the long text"
	assert_empty "$ERR" "$2: stderr"
	assert_le "$(wc -c <"$OUT")" 4095 "$2: bytes of output"
	assert_eq "$(tr -d '\n' <"$OUT" | tr -d '[:print:]' | wc -c)" 0 \
	    "$2: control bytes"
}

# The status text, before " | ".
status_text() {
	head -n 1 "$OUT" | sed 's/ | .*//'
}

# perf LABEL: the datum LABEL=... of the status line.
perf() {
	head -n 1 "$OUT" | sed -n 's/^[^|]* | //p' | tr ' ' '\n' |
	    grep "^$1=" || true
}

# The labels of the data, in order, on one line.
labels() {
	head -n 1 "$OUT" | sed -n 's/^[^|]* | //p' | tr ' ' '\n' |
	    sed 's/=.*//' | tr '\n' ' '
}

# --- TCP -----------------------------------------------------------------------

run_pulse check --plugin --warning 1s --critical 2s "tcp://$A"
assert_plugin 0 "OK"
status_text | grep -Eq "^PULSE OK - tcp://$A up in [0-9]+\.[0-9]{2} ms\$" ||
    fail "OK status text: $(status_text)"
perf time | grep -Eq '^time=[0-9]+\.[0-9]{6}s;1\.000000;2\.000000;0;5\.000000$' ||
    fail "OK: time datum: $(perf time)"
assert_eq "$(labels)" "time " "OK: data of a TCP probe"
assert_eq "$(sed -n 2p "$OUT")" "  address   127.0.0.1" "OK: long text"
assert_eq "$(wc -l <"$OUT")" 3 "OK: lines"

# The threshold in the data follows the target's own timeout as maximum.
run_pulse check --plugin --critical 1500ms --timeout 2s "tcp://$A"
assert_plugin 0 "--timeout 2s"
perf time | grep -Eq '^time=[0-9]+\.[0-9]{6}s;;1\.500000;0;2\.000000$' ||
    fail "--timeout 2s: time datum: $(perf time)"

run_pulse check --plugin --warning 1s --critical 2s "tcp://$R"
assert_plugin 2 "refused"
status_text | grep -Eq "^PULSE CRITICAL - tcp://$R down: refused: connection refused \(after [0-9]+\.[0-9]{2} ms\)\$" ||
    fail "refused: status text: $(status_text)"
perf time | grep -Eq '^time=[0-9]+\.[0-9]{6}s;1\.000000;2\.000000;0;5\.000000$' ||
    fail "refused: time datum: $(perf time)"

run_pulse check --plugin --warning 0ms --critical 2s "tcp://$A"
assert_plugin 1 "--warning 0ms"
status_text | grep -Eq "^PULSE WARNING - tcp://$A up in [0-9.]+ ms, latency over 0s\$" ||
    fail "--warning 0ms: status text: $(status_text)"
perf time | grep -Eq '^time=[0-9.]+s;0\.000000;2\.000000;0;5\.000000$' ||
    fail "--warning 0ms: time datum: $(perf time)"

run_pulse check --plugin --warning 0ms --critical 0ms "tcp://$A"
assert_plugin 2 "--critical 0ms"
status_text | grep -Eq "^PULSE CRITICAL - tcp://$A up in [0-9.]+ ms, latency over 0s\$" ||
    fail "--critical 0ms: status text: $(status_text)"

# --- bad command lines: UNKNOWN on stdout, nothing on stderr ---------------------

# unknown TEXT ARGS: pulse check --plugin ARGS says "PULSE UNKNOWN - TEXT".
unknown() {
	_want=$1
	shift
	run_pulse check "$@"
	assert_plugin 3 "$*"
	assert_eq "$(cat "$OUT")" "PULSE UNKNOWN - $_want" "$*: output"
}

unknown "--warning 5x: unknown unit (use us, ms, s, m or h)" \
    --plugin --warning 5x "tcp://$A"
unknown "--warning 5: missing unit (e.g. 5s or 500ms)" \
    "tcp://$A" --warning 5 --plugin
unknown "--critical 200ms,: empty part (as in 200ms,5%)" \
    --plugin --critical 200ms, icmp://127.0.0.1
unknown "--critical 101%: loss above 100%" \
    --plugin --critical 101% icmp://127.0.0.1
unknown "--warning 1s,2s: latency given twice" \
    --plugin --warning 1s,2s "tcp://$A"
unknown "a loss threshold applies to icmp:// targets only" \
    --plugin --warning 5% "tcp://$A"
unknown "the warning latency 1s is above the critical 500ms" \
    --plugin --warning 1s --critical 500ms "tcp://$A"
unknown "the warning loss 30% is above the critical 20%" \
    --plugin --warning 30% --critical 20% icmp://127.0.0.1
unknown "no target given" --plugin
unknown "one target only (pulse scan takes many)" --plugin "tcp://$A" "tcp://$R"
unknown "unknown option --bogus" --bogus --plugin "tcp://$A"
unknown "unknown option -z" --plugin -z "tcp://$A"
unknown "option --timeout needs a value" "tcp://$A" --plugin --timeout
unknown "option --plugin takes no value" --plugin=yes "tcp://$A"
unknown "--timeout 9h: must be between 1ms and 1h" \
    --plugin --timeout 9h "tcp://$A"
unknown "--plugin prints its own output: leave out --format and --quiet" \
    --plugin --format json "tcp://$A"
unknown "--plugin prints its own output: leave out --format and --quiet" \
    -q --plugin "tcp://$A"
run_pulse check --plugin tcp://127.0.0.1
assert_plugin 3 "a target without a port"
status_text | grep -q '^PULSE UNKNOWN - tcp://127.0.0.1: ' ||
    fail "a target without a port: $(status_text)"
# --help is UNKNOWN too, as the guidelines ask.
run_pulse check --plugin --help
assert_rc 3 "--plugin --help"
assert_contains "$OUT" "--plugin" "--plugin --help: the usage"

# Without --plugin the same mistakes are usage errors, exit 2, on stderr.
run_pulse check --warning 5x "tcp://$A"
assert_usage_error "--warning 5x without --plugin"
assert_contains "$ERR" "--warning 5x: unknown unit" "--warning 5x: message"
run_pulse check --warning 1s --critical 500ms "tcp://$A"
assert_usage_error "warning above critical without --plugin"
run_pulse check --critical 5% "tcp://$A"
assert_usage_error "loss for TCP without --plugin"

# --- thresholds without --plugin ---------------------------------------------------

run_pulse check --warning 0ms "tcp://$A"
assert_rc 0 "--warning 0ms: a warning is still up"
head -n 1 "$OUT" | grep -q "^UP    tcp://$A in " ||
    fail "--warning 0ms: verdict $(head -n 1 "$OUT")"
assert_eq "$(tail -n 1 "$OUT")" "  warning   latency over 0s" \
    "--warning 0ms: the warning line"
run_pulse check --critical 0ms "tcp://$A"
assert_rc 1 "--critical 0ms: down"
head -n 1 "$OUT" | grep -Eq "^DOWN  tcp://$A: critical threshold: latency over 0s \(after [0-9.]+ ms\)\$" ||
    fail "--critical 0ms: verdict $(head -n 1 "$OUT")"
run_pulse check --critical 0ms -q "tcp://$A"
assert_rc 1 "--critical 0ms -q"
assert_empty "$OUT" "--critical 0ms -q: stdout"
run_pulse check --warning 1s --critical 2s "tcp://$A"
assert_rc 0 "thresholds met"
head -n 1 "$OUT" | grep -q "^UP    tcp://$A in " || fail "thresholds met: verdict"
assert_not_contains "$OUT" "warning" "thresholds met"
run_pulse check --format json --warning 0ms --critical 2s "tcp://$A"
assert_rc 0 "--format json --warning 0ms"
assert_jq "$OUT" '.success == true and .threshold == {state: "warning",
    message: "latency over 0s"}' "JSON threshold member"
run_pulse check --format json --critical 0ms "tcp://$A"
assert_rc 1 "--format json --critical 0ms"
assert_jq "$OUT" '.success == true and .threshold.state == "critical"' \
    "JSON critical threshold"
run_pulse check --format json "tcp://$A"
assert_rc 0 "no thresholds"
assert_jq "$OUT" 'has("threshold") | not' "no threshold member without one"

# --- HTTP ---------------------------------------------------------------------------

run_pulse check --plugin --warning 1s --critical 2s "http://$H/"
assert_plugin 0 "HTTP OK"
status_text | grep -Eq "^PULSE OK - http://$H/ up in [0-9.]+ ms, status 200, 14 bytes\$" ||
    fail "HTTP OK: status text: $(status_text)"
assert_eq "$(labels)" "time size connect ttfb " "HTTP OK: data"
perf time | grep -Eq '^time=[0-9.]+s;1\.000000;2\.000000;0;5\.000000$' ||
    fail "HTTP OK: time datum: $(perf time)"
assert_eq "$(perf size)" "size=14B;;;0" "HTTP OK: size datum"
perf connect | grep -Eq '^connect=[0-9]+\.[0-9]{6}s;;;0$' ||
    fail "HTTP OK: connect datum: $(perf connect)"
perf ttfb | grep -Eq '^ttfb=[0-9]+\.[0-9]{6}s;;;0$' ||
    fail "HTTP OK: ttfb datum: $(perf ttfb)"
assert_contains "$OUT" "  response  HTTP/1.1 200, 14 bytes" \
    "HTTP OK: long text"

run_pulse check --plugin "http://$H/status/503"
assert_plugin 2 "HTTP 503"
status_text | grep -Eq "^PULSE CRITICAL - http://$H/status/503 down: status: status 503, expected 2xx \(after [0-9.]+ ms\)\$" ||
    fail "HTTP 503: status text: $(status_text)"

run_pulse check --plugin --expect 503 --critical 0ms "http://$H/status/503"
assert_plugin 2 "HTTP --critical 0ms"
status_text | grep -q ", status 503, 11 bytes, latency over 0s\$" ||
    fail "HTTP --critical 0ms: status text: $(status_text)"

# A URL of near 4 KiB: the status line is cut short, the output stays
# under 4 KiB, the data stay whole.
long=$(printf '%03900d' 0 | tr 0 a)
run_pulse check --plugin "http://$H/$long"
assert_plugin 0 "a URL of near 4 KiB"
status_text | grep -q "^PULSE OK - http://$H/aaaa*\.\.\. up in " ||
    fail "a URL of near 4 KiB: status text: $(status_text | head -c 300)"
assert_eq "$(perf size)" "size=14B;;;0" "a URL of near 4 KiB: size datum"

# --- ICMP ---------------------------------------------------------------------------

run_pulse check --plugin --count 3 --interval 10ms --warning 1s,50% \
    --critical 2s,100% icmp://127.0.0.1
if [ "$RC" = 3 ] && grep -q ': permission: ' "$OUT"; then
	skip "ICMP is not permitted here: $(head -n 1 "$OUT")"
fi
assert_plugin 0 "ICMP OK"
status_text | grep -Eq '^PULSE OK - icmp://127\.0\.0\.1 up: rta [0-9]+\.[0-9]{3} ms, lost 0%$' ||
    fail "ICMP OK: status text: $(status_text)"
assert_eq "$(labels)" "time rta pl rtmax rtmin " "ICMP OK: data"
perf time | grep -Eq '^time=[0-9.]+s;;;0;5\.000000$' ||
    fail "ICMP OK: time datum: $(perf time)"
perf rta | grep -Eq '^rta=[0-9]+\.[0-9]{3}ms;1000\.000;2000\.000;0$' ||
    fail "ICMP OK: rta datum: $(perf rta)"
assert_eq "$(perf pl)" "pl=0%;50;100;0;100" "ICMP OK: pl datum"
perf rtmax | grep -Eq '^rtmax=[0-9]+\.[0-9]{3}ms;;;0$' ||
    fail "ICMP OK: rtmax datum: $(perf rtmax)"
perf rtmin | grep -Eq '^rtmin=[0-9]+\.[0-9]{3}ms;;;0$' ||
    fail "ICMP OK: rtmin datum: $(perf rtmin)"
assert_contains "$OUT" "  echo      3 sent, 3 received" "ICMP OK: long text"

run_pulse check --plugin --count 2 --interval 10ms --warning 0ms,0% \
    icmp://127.0.0.1
assert_plugin 1 "ICMP --warning 0ms,0%"
status_text | grep -Eq '^PULSE WARNING - icmp://127\.0\.0\.1 up: rta [0-9.]+ ms, lost 0%, rta over 0s$' ||
    fail "ICMP --warning 0ms,0%: status text: $(status_text)"
assert_eq "$(perf pl)" "pl=0%;0;;0;100" "ICMP --warning 0ms,0%: pl datum"

run_pulse check --count 2 --interval 10ms --critical 0ms icmp://127.0.0.1
assert_rc 1 "ICMP --critical 0ms without --plugin"
head -n 1 "$OUT" | grep -q '^DOWN  icmp://127.0.0.1: critical threshold: rta over 0s' ||
    fail "ICMP --critical 0ms: verdict $(head -n 1 "$OUT")"

log "ok"
