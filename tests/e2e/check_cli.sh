#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# pulse check: one target probed once; exit 0 when up, 1 when down, 2 on
# a usage error.  A readable block by default, one JSON result with
# --format json, nothing with -q.  The per-probe flags reach the probe;
# a flag of another kind of target is a usage error.  tcp:// and icmp://
# targets work too.
. "$E2E_LIB"
. "$E2E_HTTP_LIB"

start_fixture --accept 1 --refuse 1
A=$(nth 1 $ACCEPT)
R=$(nth 1 $REFUSE)
start_http_fixture
OK=http://$HF_OK/
ECHO=http://$HF_OK/echo

# assert_json_result: stdout is one HTTP result, probed as given.
assert_json_result() {
	assert_http_result "$OUT"
	assert_jq "$OUT" '.success == $s' "$1: success" --argjson s "$2"
}

# --- up and down --------------------------------------------------------------

run_pulse check "$OK"
assert_rc 0 "check of a healthy URL"
assert_contains "$OUT" "$HF_OK" "the block names the target"
[ "$(head -c 1 "$OUT")" != "{" ] || fail "text output looks like JSON"
assert_le "$(wc -l <"$OUT")" 40 "a block, not a flood: lines"

run_pulse check "http://$HF_OK/status/404"
assert_rc 1 "check of a 404"
assert_contains "$OUT" "$HF_OK" "the block names the target that is down"
assert_contains "$OUT" "status 404, expected 2xx" "the block says why"

run_pulse check "http://$R/"
assert_rc 1 "check of a refused port"

# --format json: one result object with the fields of a scan result.
run_pulse check --format json "$OK"
assert_rc 0 "check --format json"
assert_json_result "--format json" true
assert_jq "$OUT" '.kind == "http" and .status_code == 200 and
    .http_version == "1.1" and .content_length == 14 and
    .redirects == 0 and .body_matched == null and .tls == null and
    .host == "127.0.0.1" and .port == '"${HF_OK##*:}"' and
    .final_url == "'"$OK"'" and .timeout_seconds == 5 and
    .name == "'"$OK"'" and (.phases_seconds | type) == "object"' \
    "the fields of a healthy check; the default timeout is 5s"
run_pulse check --format=json "http://$HF_OK/status/503"
assert_rc 1 "check --format=json of a 503"
assert_json_result "--format json of a 503" false
assert_jq "$OUT" '.reason == "status" and .status_code == 503 and
    (.error | contains("status 503, expected 2xx"))' "a failed check"
run_pulse check --format text "$OK"
assert_rc 0 "check --format text"
assert_contains "$OUT" "$HF_OK" "--format text"

# -q: nothing at all, whether up or down.
run_pulse check -q "$OK"
assert_rc 0 "check -q, up"
assert_empty "$OUT" "check -q, up: stdout"
assert_empty "$ERR" "check -q, up: stderr"
run_pulse check -q "http://$HF_OK/status/500"
assert_rc 1 "check -q, down"
assert_empty "$OUT" "check -q, down: stdout"
assert_empty "$ERR" "check -q, down: stderr"

# --- the per-probe flags --------------------------------------------------------

# check_json RC WHAT ARGS: pulse check --format json ARGS exits RC.
check_json() {
	_want=$1
	_what=$2
	shift 2
	run_pulse check --format json "$@"
	assert_rc "$_want" "$_what"
	assert_http_result "$OUT"
}

check_json 0 "--expect 404" --expect 404 "http://$HF_OK/status/404"
check_json 0 "--expect list" --expect '200,4xx,500-503' \
    "http://$HF_OK/status/503"
check_json 1 "--expect 2xx on a 404" --expect 2xx "http://$HF_OK/status/404"
check_json 0 "--match" --match '^hello pulse' "$OK"
assert_jq "$OUT" '.body_matched == true' "--match: body_matched"
check_json 1 "--match that fails" --match 'no such text' "$OK"
assert_jq "$OUT" '.reason == "match" and .body_matched == false' \
    "--match that fails"
check_json 1 "--not-match" --not-match 'pulse' "$OK"
assert_jq "$OUT" '.reason == "match"' "--not-match: reason"
check_json 0 "--method HEAD" --method HEAD "$OK"
assert_jq "$OUT" '.status_code == 200 and .content_length == 0' \
    "--method HEAD: no body"
check_json 0 "--header" --header 'X-Test: check-1' --header 'X-Other: two' \
    --match 'X-Test: check-1\r\nX-Other: two' "$ECHO"
check_json 0 "--body" --body 'hello' --match '^POST /echo HTTP/1\.1' "$ECHO"
assert_jq "$OUT" '.body_matched == true' "--body makes a POST"
printf 'from a file' >"$E2E_TMP/body"
check_json 0 "--body-file with --method PUT" --method PUT \
    --body-file "$E2E_TMP/body" --match '(?s)^PUT /echo.*Content-Length: 11' \
    "$ECHO"
check_json 0 "--host" --host example.test --match 'Host: example\.test' \
    "$ECHO"
check_json 1 "--follow 2 on three redirects" --follow 2 \
    "http://$HF_REDIRECT_CHAIN/r/3"
assert_jq "$OUT" '.reason == "protocol"' "--follow 2: reason"
check_json 0 "--follow 3" --follow 3 "http://$HF_REDIRECT_CHAIN/r/3"
assert_jq "$OUT" '.redirects == 3' "--follow 3: redirects"
check_json 1 "--follow 0" --follow 0 "http://$HF_REDIRECT_CHAIN/r/1"
assert_jq "$OUT" '.status_code == 302 and .redirects == 0' "--follow 0"
check_json 1 "--max-body 10" --max-body 10 "$OK"
assert_jq "$OUT" '.reason == "protocol" and (.error | contains("max_body"))' \
    "--max-body below the body"
check_json 0 "--max-body 1K" --max-body 1K "$OK"
check_json 0 "--name" --name 'my check' "$OK"
assert_jq "$OUT" '.name == "my check"' "--name"
check_json 0 "-4" -4 "$OK"
assert_jq "$OUT" '.address == "127.0.0.1"' "-4: address"

# --timeout bounds the whole command.
run_timed 1500 check --timeout 1s --format json "http://$HF_STALL/"
assert_rc 1 "check --timeout 1s of a server that never answers"
assert_jq "$OUT" '.reason == "timeout" and .timeout_seconds == 1' \
    "--timeout 1s"

# --- tcp:// and icmp:// ----------------------------------------------------------

run_pulse check "tcp://$A"
assert_rc 0 "check tcp:// up"
assert_contains "$OUT" "$A" "the tcp block names the target"
run_pulse check "tcp://$R"
assert_rc 1 "check tcp:// refused"
run_pulse check --format json "$A"
assert_rc 0 "check --format json of host:port"
assert_jq "$OUT" '.kind == "tcp" and .success and .target == "tcp://'"$A"'"' \
    "tcp result"
run_pulse check -q --timeout 1s "tcp://$R"
assert_rc 1 "check -q tcp:// refused"
assert_empty "$OUT" "check -q tcp://: stdout"
assert_empty "$ERR" "check -q tcp://: stderr"

icmp_ok=0
if [ "$(id -u)" = 0 ]; then
	icmp_ok=1
else
	# shellcheck disable=SC2046
	set -- $(cat /proc/sys/net/ipv4/ping_group_range 2>/dev/null)
	g=$(id -g)
	[ $# -eq 2 ] && [ "$1" -le "$g" ] && [ "$g" -le "$2" ] && icmp_ok=1
fi
if [ $icmp_ok = 1 ]; then
	run_pulse check --timeout 2s icmp://127.0.0.1
	assert_rc 0 "check icmp://127.0.0.1"
	assert_contains "$OUT" 127.0.0.1 "the icmp block names the target"
	run_pulse check --format json --count 2 --interval 10ms --ttl 9 \
	    icmp://127.0.0.1
	assert_rc 0 "check icmp:// with ICMP flags"
	assert_jq "$OUT" '.kind == "icmp" and .success and .sent == 2 and
	    .received == 2' "icmp result"
else
	log "no ICMP for this user: icmp:// not checked"
fi

# --- usage errors ------------------------------------------------------------------

run_pulse check
assert_usage_error "check without a target"
run_pulse check "$OK" "tcp://$A"
assert_usage_error "check with two targets"
run_pulse check --frobnicate "$OK"
assert_usage_error "check with an unknown flag"
run_pulse check "$OK" --timeout
assert_usage_error "--timeout without a value"
for args in "--timeout abc" "--timeout 0" "--timeout 5" "--format yaml" \
    "--follow 21" "--follow -1" "--follow x" "--expect bogus" \
    "--http-version 3" "--max-body abc" "--max-body 10Q" "--match (" \
    "--count 2" "--interval 10ms" "--ttl 5" "--size 10"; do
	run_pulse check $args "$OK"
	assert_usage_error "check $args on an http:// target"
done
for args in "--insecure" "--count 2" "--match x" "--header X-A:b" \
    "--follow 1" "--ca /dev/null" "--http-version 2"; do
	run_pulse check $args "tcp://$A"
	assert_usage_error "check $args on a tcp:// target"
done
run_pulse check --insecure icmp://127.0.0.1
assert_usage_error "check --insecure on an icmp:// target"
run_pulse check 'http://'
assert_usage_error "check of a URL without a host"

# --help describes check and exits 0 without probing.
run_pulse check --help
assert_rc 0 "check --help"
for o in --timeout --format --expect --match --insecure --count; do
	assert_contains "$OUT" "$o" "check --help mentions $o"
done

log "ok"
