#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# Hostile HTTP servers: a body that trickles, a chunked body without end,
# a gzip bomb, a header of 1 MiB and a million bytes of headers, a
# redirect loop, a redirect to file://, a TLS handshake and a request
# never answered, a broken chunk.  Each is a failed result with its own
# reason, within its timeout plus 0.5 s, while the scan goes on and the
# healthy targets in it succeed; a worker's memory stays bounded.
. "$E2E_LIB"
. "$E2E_HTTP_LIB"

# The bomb inflates to 256 MiB: more than max_body=100MiB below.
start_http_fixture --bomb-mib 256

# The name, the target line, and the reason and words of the failure
# ("up" for a target that must succeed), one a line.
cases=$E2E_TMP/cases.txt
cat >"$cases" <<EOF
ok1|http://$HF_OK/ match='hello pulse ok'|up|
trickle|http://$HF_TRICKLE/|timeout|timed out
chunked-endless|http://$HF_CHUNKED_ENDLESS/|protocol|max_body
gzip-bomb|http://$HF_GZIP_BOMB/|protocol|max_body
big-header|http://$HF_BIG_HEADER/|protocol|header
many-headers|http://$HF_MANY_HEADERS/|protocol|header
redirect-loop|http://$HF_REDIRECT_LOOP/loop|protocol|redirects
redirect-file|http://$HF_REDIRECT_FILE/|protocol|scheme
tls-stall|https://$HF_STALL/ insecure|timeout|TLS handshake
http-stall|http://$HF_STALL/|timeout|timed out
bad-chunk|http://$HF_BAD_CHUNK/|protocol|
status-503|http://$HF_OK/status/503|status|status 503, expected 2xx
chain|http://$HF_REDIRECT_CHAIN/r/3|up|
ok2|http://$HF_OK/echo|up|
EOF
f=$E2E_TMP/hostile.txt
while IFS='|' read -r name line reason words; do
	printf '%s timeout=2s name=%s\n' "$line" "$name"
done <"$cases" >"$f"

# check_case NAME REASON WORDS: the result is what the case says, and
# came within the timeout plus 0.5 s.
check_case() {
	if [ "$2" = up ]; then
		assert_up "$OUT" "$1"
	elif [ -n "$3" ]; then
		assert_down "$OUT" "$1" "$2" "$3"
	else
		assert_res "$OUT" "$1" '.success == false' "$1 is down"
		assert_eq "$(res "$OUT" "$1" .reason)" "$2" "$1: reason"
	fi
	assert_res "$OUT" "$1" '.timeout_seconds == 2 and
	    .duration_seconds < 2.5' "$1: within the timeout plus 0.5 s"
	[ "$2" != timeout ] ||
	    assert_res "$OUT" "$1" '.duration_seconds >= 1.95' \
		"$1: not given up before the timeout"
}

# --- one scan with every hostile server ---------------------------------------

# Three timeouts of 2 s among 14 targets on 4 workers.  A worker holds
# its next probe while it runs one, so a timeout may wait behind another
# one: two in a row, 4 s, and a second of slack; never all three.
run_timed 5000 scan --workers 4 -t "$f"
assert_rc 1 "scan of hostile servers"
assert_http_document "$OUT"
assert_jq "$OUT" '.counts == {total: 14, up: 3, down: 11, cancelled: 0}' \
    "counts"
assert_jq "$OUT" '.interrupted == null' "not interrupted"
while IFS='|' read -r name line reason words; do
	check_case "$name" "$reason" "$words"
done <"$cases"
assert_res "$OUT" ok1 '.status_code == 200 and .body_matched == true and
    .content_length == 14' "the healthy target"
assert_res "$OUT" chain '.status_code == 200 and .redirects == 3' \
    "a chain of three redirects"
assert_res "$OUT" status-503 '.status_code == 503' "503"
for n in trickle big-header many-headers tls-stall http-stall; do
	assert_res "$OUT" $n '.content_length < 1048576' \
	    "$n: content_length"
done
# Read up to max_body (1 MiB), give or take a buffer, and no further.
assert_res "$OUT" chunked-endless '.status_code == 200 and
    .content_length <= 2097152' "chunked-endless: read up to max_body"
assert_res "$OUT" gzip-bomb '.status_code == 200 and
    .content_length <= 2097152' "gzip-bomb: inflated up to max_body"
assert_res "$OUT" redirect-loop '.status_code == 302 and .redirects == 5' \
    "redirect loop: the default follow=5 counted"
assert_res "$OUT" tls-stall '.status_code == null and .tls == null' \
    "a stalled handshake has no answer"
assert_res "$OUT" http-stall '.status_code == null' "no answer at all"

# --- each on its own, timed from outside ----------------------------------------

# pulse check takes the same probe: the wall time of the whole command
# is the timeout plus 0.5 s at most.
while IFS='|' read -r name line reason words; do
	url=${line%% *}
	opts=
	[ "$url" = "$line" ] || opts=${line#* }
	case $opts in
	insecure) set -- --insecure ;;
	match=*) set -- --match 'hello pulse ok' ;;
	*) set -- ;;
	esac
	run_timed 2500 check --timeout 2s --format json "$@" "$url"
	if [ "$reason" = up ]; then
		assert_rc 0 "check $name"
	else
		assert_rc 1 "check $name"
	fi
	assert_http_result "$OUT"
	assert_eq "$(jqr "$OUT" .reason)" \
	    "$([ "$reason" = up ] && echo null || echo "$reason")" \
	    "check $name: reason"
done <"$cases"

# --- memory ---------------------------------------------------------------------

# max_body=100MiB lets the bomb inflate far, but the worker's memory is
# capped: the probe ends, failed, and the scan completes around it.
f=$E2E_TMP/bomb.txt
cat >"$f" <<EOF
http://$HF_GZIP_BOMB/ max_body=100MiB timeout=10s name=big-bomb
http://$HF_CHUNKED_ENDLESS/ max_body=100MiB timeout=10s name=big-chunked
http://$HF_OK/ name=ok
EOF
run_pulse scan --workers 3 -t "$f"
assert_rc 1 "scan with max_body=100MiB"
assert_http_document "$OUT"
assert_up "$OUT" ok
for n in big-bomb big-chunked; do
	assert_res "$OUT" $n '.success == false and .duration_seconds < 10.5' \
	    "$n: failed, not hung"
	r=$(res "$OUT" $n .reason)
	log "$n: reason $r: $(res "$OUT" $n .error)"
	case $r in
	protocol) res "$OUT" $n .error | grep -qF max_body ||
	    fail "$n: protocol error without max_body" ;;
	internal | crash) ;;
	*) fail "$n: reason $r" ;;
	esac
done
alive "$HTTP_FIXTURE_PID" || fail "the fixture died"

log "ok"
