#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# Hostile targets files, in the line format and in YAML: lines of 1 MiB,
# files of one 5 MiB line, NUL bytes, CR line ends, invalid UTF-8 in a
# name and in a host, ports and address literals broken in every way, a
# host of 254 characters, files of a million lines.  A bad file exits 2
# with exactly "FILE:LINE: reason" ("FILE:LINE:COLUMN: reason" in YAML)
# and nothing is probed: its good targets are ports of a fixture that is
# stopped, whose accept queues would hold a connection for every probe
# and stay empty.  What pulse takes (CR LF, a CR at the end of the file
# or inside a name, a line of exactly 4096 bytes, CR line ends in YAML)
# is probed with the exact results, each target once.
#
# Elsewhere: line numbers after a bad line, every bad line of a file, -q,
# comments, duplicates and arguments in targets_errors.sh (with the place,
# not the words, of several errors checked here again); YAML syntax, keys,
# modules and alias bombs in config_yaml.sh.
. "$E2E_LIB"

start_fixture --accept 8
A1=$(nth 1 $ACCEPT)
A2=$(nth 2 $ACCEPT)
A3=$(nth 3 $ACCEPT)
A4=$(nth 4 $ACCEPT)
A5=$(nth 5 $ACCEPT)
A6=$(nth 6 $ACCEPT)
A7=$(nth 7 $ACCEPT)
A8=$(nth 8 $ACCEPT)

# Stopped, the fixture accepts nothing, yet the kernel still completes
# every handshake: a probe succeeds and leaves its connection queued.
kill -STOP "$FIXTURE_PID"

# queues ADDR:PORT...: the connections in the accept queue of each of the
# fixture's listeners on 127.0.0.1, from /proc/net/tcp, in one line.
queues() {
	awk -v eps="$*" 'function dec(h, i, v) {
		for (i = 1; i <= length(h); i++)
			v = v * 16 + index("0123456789ABCDEF", substr(h, i, 1)) - 1
		return v
	}
	BEGIN {
		n = split(eps, ep, " ")
		for (i = 1; i <= n; i++) {
			sub(/.*:/, "", ep[i])
			want[sprintf("0100007F:%04X", ep[i])] = i
		}
	}
	$4 == "0A" && ($2 in want) { sub(/.*:/, "", $5); q[want[$2]] = dec($5) }
	END {
		for (i = 1; i <= n; i++)
			printf "%s%s", (i > 1 ? " " : ""), (i in q ? q[i] : "none")
		print ""
	}' /proc/net/tcp
}

# assert_probed N WHAT ADDR:PORT...: each endpoint was probed N times in all.
assert_probed() {
	_n=$1
	_w=$2
	shift 2
	_want=
	for _a; do
		_want="$_want${_want:+ }$_n"
	done
	assert_eq "$(queues "$@")" "$_want" "$_w: connections to $*"
}

# assert_file_is FILE WANT WHAT: FILE holds exactly what file WANT holds.
assert_file_is() {
	cmp -s "$1" "$2" || fail "$3: got '$(head -c 2000 "$1" | od -c |
	    head -n 20)', expected '$(head -c 2000 "$2" | od -c | head -n 20)'"
}

# What validate prints for a file whose good targets are A1 and A2.
GOOD=$E2E_TMP/good.out
printf 'tcp   tcp://%s  name=%s  timeout=5s\n' "$A1" "$A1" "$A2" "$A2" >"$GOOD"
echo '2 targets' >>"$GOOD"
WANT=$E2E_TMP/want.err

# check_bad CASE FILE: scan and validate both refuse FILE with exactly the
# messages of WANT and probe nothing; validate lists A1 and A2 all the same
# (what file LISTED holds, if set).
check_bad() {
	run_pulse scan -t "$2"
	assert_usage_error "scan of $1"
	assert_file_is "$ERR" "$WANT" "scan of $1: stderr"
	run_pulse validate "$2"
	assert_rc 2 "validate $1"
	assert_file_is "$ERR" "$WANT" "validate $1: stderr"
	assert_file_is "$OUT" "${LISTED:-$GOOD}" "validate $1: stdout"
	assert_probed 0 "scan and validate of $1" "$A1" "$A2"
}

# bad_txt CASE REASON LINE: a file of the line format whose line 2 is LINE,
# between A1 and A2, is refused with "FILE:2: REASON".  REASON and LINE are
# printf formats, so that they may hold any byte.
bad_txt() {
	_f=$E2E_TMP/$1.txt
	{
		printf '%s\n' "$A1"
		# shellcheck disable=SC2059
		printf "$3"
		printf '\n%s\n' "$A2"
	} >"$_f"
	# shellcheck disable=SC2059
	printf "pulse: %s:2: $2\n" "$_f" >"$WANT"
	check_bad "$1" "$_f"
}

# bad_yaml CASE COLUMN REASON ENTRY: the same in YAML, with ENTRY (printf
# format) the second item of targets:, at line 3.
bad_yaml() {
	_f=$E2E_TMP/$1.yaml
	{
		printf 'targets:\n  - %s\n  - ' "$A1"
		# shellcheck disable=SC2059
		printf "$4"
		printf '\n  - %s\n' "$A2"
	} >"$_f"
	# shellcheck disable=SC2059
	printf "pulse: %s:3:$2: $3\n" "$_f" >"$WANT"
	check_bad "$1" "$_f"
}

# bad_both CASE REASON TARGET: TARGET (printf format) is refused alike as a
# line and as a quoted YAML scalar, where the quote is column 5.
bad_both() {
	bad_txt "$1" "$2" "$3"
	bad_yaml "$1" 5 "$2" "'$3'"
}

# --- ports --------------------------------------------------------------------

bad_both port-0 "invalid port '0': 1..65535" '127.0.0.1:0'
bad_both port-65536 "invalid port '65536': 1..65535" '127.0.0.1:65536'
bad_both port-minus-1 "invalid port '-1': 1..65535" '127.0.0.1:-1'
bad_both port-huge "invalid port '99999999999999999999': 1..65535" \
    '127.0.0.1:99999999999999999999'
bad_both port-0-v6 "invalid port '0': 1..65535" '[::1]:0'
bad_both url-port-0 'invalid port in URL' 'http://127.0.0.1:0/'
bad_both url-port-huge \
    'invalid URL: Port number was not a decimal number between 0 and 65535' \
    'http://127.0.0.1:99999999999999999999/'

# --- broken literals ----------------------------------------------------------

bad_both v6-unclosed "missing ']' after IPv6 address in '[::1'" '[::1'
bad_both v6-two-closing "missing ':port' after '[::1]'" '[::1]]:80'
bad_both v6-unopened "invalid IPv6 address '::1]:80'" '::1]:80'
bad_both v6-empty "invalid IPv6 address '[]'" '[]:80'
bad_both v4-five-parts "invalid host name '1.2.3.4.5'" '1.2.3.4.5:80'
bad_both v4-256 "invalid host name '256.0.0.1'" '256.0.0.1:80'
bad_both tcp-no-host 'empty host' 'tcp://:80'
bad_both icmp-no-host 'empty host' 'icmp://'
bad_both tcp-nothing "missing port in '' (write host:port)" 'tcp://'
bad_both url-v6-unclosed 'invalid URL: Bad IPv6 address' 'http://[::1/'
bad_both url-no-host 'invalid URL: No host part in the URL' 'http://:80/'
bad_both url-https-only 'invalid URL: No host part in the URL' 'https://'
bad_both zone-empty "invalid IPv6 address 'fe80::1%%'" 'fe80::1%%'
bad_both zone-empty-bracketed "invalid IPv6 address 'fe80::1%%'" \
    '[fe80::1%%]:80'
bad_both url-zone 'IPv6 zones are not supported in URLs' \
    'http://[fe80::1%%25lo]/'
bad_both empty-label "invalid host name 'a..b'" 'a..b:80'
bad_both tcp-path 'tcp:// targets take no path' 'tcp://127.0.0.1:80/'

# A host of 254 characters in labels of 63 at most: too long, and only that.
L63=$(printf '%063d' 0 | tr 0 a)
HOST253=$L63.$L63.$L63.$(printf '%061d' 0 | tr 0 b)
bad_both host-254 'host name longer than 253 characters' "${HOST253}c:80"
bad_both url-host-254 'host name longer than 253 characters' \
    "http://${HOST253}c/"

# --- bytes: NUL, invalid UTF-8, control characters ----------------------------

bad_txt nul-in-target 'NUL byte in line' '127.0.0\0001:80'
bad_txt nul-after-target 'NUL byte in line' "$A3\\000"
bad_txt utf8-in-name 'invalid UTF-8' "$A3 name=caf\\351"
bad_txt utf8-in-host 'invalid UTF-8' 'caf\351.example:80'
bad_txt utf8-surrogate 'invalid UTF-8' "$A3 name=\\355\\240\\200"
bad_txt utf8-truncated 'invalid UTF-8' "$A3 name=\\342\\202"
# Control characters in a bad word are written back as '?': no escape
# sequence reaches the terminal.
bad_txt escape-in-port "invalid port '8?[2J0': 1..65535" \
    '127.0.0.1:8\033[2J0'

# In YAML the column is that of the offending byte, or of the scalar that
# holds an escaped NUL.  Bytes that are not text stop the reading of the
# file, good targets and all; an escaped NUL does not.
echo '0 targets' >"$E2E_TMP/none.out"
LISTED=$E2E_TMP/none.out
bad_yaml utf8-in-host 9 'invalid UTF-8' "'caf\\351.example:80'"
bad_yaml utf8-in-name "$((27 + ${#A3}))" 'invalid UTF-8' \
    "{target: '$A3', name: caf\\351}"
bad_yaml nul-raw "$((25 + ${#A3}))" 'control characters are not allowed' \
    "{target: '$A3', name: a\\000b}"
LISTED=
bad_yaml nul-escaped "$((24 + ${#A3}))" 'a NUL character in a scalar' \
    "{target: '$A3', name: \"a\\\\0b\"}"

# --- long lines ---------------------------------------------------------------

# 1 MiB and 5 MiB in one line: refused by their length, never echoed.
MIB=$E2E_TMP/mib
head -c 1048576 /dev/zero | tr '\0' x >"$MIB"
f=$E2E_TMP/line-1mib.txt
{
	printf '%s\n%s name=' "$A1" "$A3"
	cat "$MIB"
	printf '\n%s\n' "$A2"
} >"$f"
printf 'pulse: %s:2: line too long (%s bytes, at most 4096)\n' "$f" \
    $((${#A3} + 6 + 1048576)) >"$WANT"
check_bad line-1mib "$f"

# A file that is one 5 MiB line without a line end: that line and
# nothing else.
f=$E2E_TMP/line-5mib.txt
for _ in 1 2 3 4 5; do
	cat "$MIB"
done >"$f"
printf 'pulse: %s:1: line too long (5242880 bytes, at most 4096)\n' "$f" \
    >"$WANT"
run_pulse scan -t "$f"
assert_usage_error "scan of a 5 MiB line"
assert_file_is "$ERR" "$WANT" "scan of a 5 MiB line: stderr"
run_pulse validate "$f"
assert_rc 2 "validate a 5 MiB line"
assert_file_is "$ERR" "$WANT" "validate a 5 MiB line: stderr"
assert_eq "$(cat "$OUT")" '0 targets' "validate a 5 MiB line: stdout"

# A line of 4097 bytes before its CR LF is too long.
f=$E2E_TMP/line-4097.txt
{
	printf '%s\n%s name=' "$A1" "$A3"
	head -c $((4097 - ${#A3} - 6)) "$MIB"
	printf '\r\n%s\n' "$A2"
} >"$f"
printf 'pulse: %s:2: line too long (4097 bytes, at most 4096)\n' "$f" >"$WANT"
check_bad line-4097 "$f"

# YAML: a scalar of 1 MiB, then a file of one 5 MiB line.
f=$E2E_TMP/scalar-1mib.yaml
{
	printf 'targets:\n  - %s\n  - {target: %s, name: ' "$A1" "$A3"
	cat "$MIB"
	printf '}\n  - %s\n' "$A2"
} >"$f"
printf 'pulse: %s:3:%s: a scalar longer than 65536 bytes\n' "$f" \
    $((${#A3} + 22)) >"$WANT"
check_bad scalar-1mib "$f"

f=$E2E_TMP/line-5mib.yaml
{
	printf 'targets: ['
	for _ in 1 2 3 4 5; do
		cat "$MIB"
	done
	printf ']'
} >"$f"
printf 'pulse: %s:1:11: a scalar longer than 65536 bytes\n' "$f" >"$WANT"
run_pulse validate "$f"
assert_rc 2 "validate a 5 MiB YAML line"
assert_file_is "$ERR" "$WANT" "validate a 5 MiB YAML line: stderr"
assert_eq "$(cat "$OUT")" '0 targets' "validate a 5 MiB YAML line: stdout"

# --- what pulse takes ---------------------------------------------------------

# CR LF; a CR alone, which ends a line too (old Mac files), after a
# comment that must not hide what follows; a line of exactly 4096 bytes
# before its CR LF; a last line ended by a lone CR.  Each target is probed
# once.
f=$E2E_TMP/taken.txt
N4096=$(head -c $((4096 - ${#A5} - 6)) "$MIB")
printf '%s\r\n%s name=ab # a comment\r\r\n%s name=%s\r\n%s\r' "$A3" "$A4" \
    "$A5" "$N4096" "$A6" >"$f"
run_pulse scan -t "$f"
assert_rc 0 "scan of CR LF, CR and a line of 4096 bytes"
assert_document "$OUT"
assert_eq "$(jqr "$OUT" '[.results[] | [.target, .name, .success]]' -c)" \
    "$(printf '[["tcp://%s","%s",true],["tcp://%s","ab",true],' \
    "$A3" "$A3" "$A4"
    printf '["tcp://%s","%s",true],["tcp://%s","%s",true]]' \
    "$A5" "$N4096" "$A6" "$A6")" "results of CR LF, CR and 4096 bytes"
assert_probed 1 "CR LF, CR and 4096 bytes" "$A3" "$A4" "$A5" "$A6"

# YAML with CR LF, and with CR alone, which YAML takes as a line end.
printf 'targets:\r\n  - {target: %s, name: crlf}\r\n' "$A7" \
    >"$E2E_TMP/crlf.yaml"
printf 'targets:\r  - {target: %s, name: cr}\r' "$A8" >"$E2E_TMP/cr.yaml"
for f in crlf cr; do
	run_pulse scan -t "$E2E_TMP/$f.yaml"
	assert_rc 0 "scan of YAML with $f line ends"
	assert_document "$OUT"
	assert_eq "$(jqr "$OUT" '[.results[] | [.name, .success]]' -c)" \
	    "[[\"$f\",true]]" "result of YAML with $f line ends"
done
assert_probed 1 "YAML with CR LF and CR" "$A7" "$A8"

# An error after CR LF or CR line ends is at its own line.
printf 'targets:\r\n  - %s\r\n  - 127.0.0.1:0\r\n' "$A1" \
    >"$E2E_TMP/crlf-bad.yaml"
printf 'targets:\r  - %s\r  - 127.0.0.1:0\r' "$A1" >"$E2E_TMP/cr-bad.yaml"
for f in crlf-bad cr-bad; do
	run_pulse scan -t "$E2E_TMP/$f.yaml"
	assert_usage_error "scan of $f.yaml"
	assert_eq "$(cat "$ERR")" \
	    "pulse: $E2E_TMP/$f.yaml:3:5: invalid port '0': 1..65535" \
	    "$f.yaml: the error's place"
done
assert_probed 0 "YAML with bad CR LF and CR" "$A1"

# A host of 253 characters is the longest (validate only: never resolved).
printf '%s:80\n' "$HOST253" >"$E2E_TMP/host-253.txt"
run_pulse validate "$E2E_TMP/host-253.txt"
assert_rc 0 "validate a host of 253 characters"
assert_empty "$ERR" "validate a host of 253 characters: stderr"
assert_eq "$(cat "$OUT")" \
    "$(printf 'tcp   tcp://%s:80  name=%s:80  timeout=5s\n1 target' \
    "$HOST253" "$HOST253")" "validate a host of 253 characters: stdout"

# --- a million lines ----------------------------------------------------------

# million N FILE: N lines of distinct loopback targets on the port of A1,
# the first of them A1 itself; with BAD=1 every even line is bad instead.
million() {
	awk -v n="$1" -v port="${A1##*:}" -v bad="${BAD:-0}" 'BEGIN {
		for (i = 1; i <= n; i++)
			if (bad && i % 2 == 0)
				print "127.0.0.1:0"
			else
				printf "127.%d.%d.%d:%d\n", int(i / 65536),
				    int(i / 256) % 256, i % 256, port
	}' >"$2"
}

# A million lines take minutes where pulse runs under valgrind: those
# cases run at full speed only.
if [ "$E2E_SLOW" = 1 ]; then
	# validate of a million good lines: every one listed, and counted, within
	# 20 s and 1 GiB.
	f=$E2E_TMP/million.txt
	million 1000000 "$f"
	TIME=
	if /usr/bin/time -f %M -o "$E2E_TMP/rss" true 2>/dev/null &&
	    [ -s "$E2E_TMP/rss" ]; then
		TIME="/usr/bin/time -f %M -o $E2E_TMP/rss"
	else
		log "no GNU time: the memory of a million lines not measured"
	fi
	ERR=$E2E_TMP/err
	t0=$(now_ms)
	{
		timeout -k 5 60 $TIME "$PULSE" validate "$f" 2>"$ERR" ||
		    echo $? >"$E2E_TMP/rc"
	} | awk 'END { print NR; print }' >"$E2E_TMP/tail"
	ms=$(($(now_ms) - t0))
	RC=0
	[ ! -s "$E2E_TMP/rc" ] || RC=$(cat "$E2E_TMP/rc")
	check_sanitizers
	assert_rc 0 "validate a million lines"
	assert_empty "$ERR" "validate a million lines: stderr"
	assert_eq "$(tr '\n' ' ' <"$E2E_TMP/tail")" "1000001 1000000 targets " \
	    "validate a million lines: lines of stdout and the last"
	assert_le "$ms" 20000 "validate a million lines: wall time (ms)"
	if [ -n "$TIME" ]; then
		kib=$(tail -n 1 "$E2E_TMP/rss")
		log "a million lines validated in $ms ms, peak RSS $kib KiB"
		assert_le "$kib" 1048576 "validate a million lines: peak RSS (KiB)"
	fi

	# Half of them bad: 100 messages, then a count of the rest; scan probes
	# nothing.
	f=$E2E_TMP/million-bad.txt
	BAD=1 million 1000000 "$f"
	awk -v f="$f" 'BEGIN {
		for (i = 2; i <= 200; i += 2)
			printf "pulse: %s:%d: invalid port '\''0'\'': 1..65535\n", f, i
		printf "pulse: %s: 499900 more bad lines not shown\n", f
	}' >"$WANT"
	PULSE_LIMIT=30 run_pulse scan -t "$f"
	assert_usage_error "scan of a million lines, half bad"
	assert_file_is "$ERR" "$WANT" "scan of half bad: stderr"
	assert_probed 0 "a million lines, half bad" "$A1"

	# YAML counts targets up to a million: one more is an error at its entry.
	f=$E2E_TMP/million.yaml
	{
		echo 'targets:'
		sed 's/^/- /' "$E2E_TMP/million.txt"
		echo "- 127.255.255.255:${A1##*:}"
	} >"$f"
	PULSE_LIMIT=30 run_pulse validate -q "$f"
	assert_rc 2 "validate a YAML file of a million and one targets"
	assert_eq "$(cat "$ERR")" "pulse: $f:1000002:3: more than 1000000 targets" \
	    "a million and one YAML targets"
	assert_probed 0 "a million lines" "$A1"
else
	log "slowed down ($E2E_SLOW): the million-line cases not run"
fi

# The same target 200 times: 100 warnings, then a count of the rest.
f=$E2E_TMP/dups.txt
awk -v t="$A1" 'BEGIN { for (i = 0; i < 200; i++) print t }' >"$f"
run_pulse validate "$f"
assert_rc 0 "200 copies of a target"
assert_eq "$(grep -c 'duplicate of line 1, ignored' "$ERR")" 100 \
    "duplicate warnings shown"
assert_contains "$ERR" "$f: 99 more duplicates not shown" "the rest counted"

# Sixteen /16 ranges, 1,048,576 targets: refused at the line that passes
# a million, as YAML refuses them (a million targets again: full speed
# only).
[ "$E2E_SLOW" = 1 ] || { log "ok"; exit 0; }
f=$E2E_TMP/ranges.txt
awk 'BEGIN { for (i = 1; i <= 16; i++) printf "127.%d.0.0/16:9\n", i }' >"$f"
run_pulse validate -q "$f"
assert_rc 2 "more than a million targets from ranges"
assert_eq "$(cat "$ERR")" "pulse: $f:16: more than 1000000 targets" \
    "the line that passes the cap"

log "ok"
