#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# Targets files: every bad line is reported as FILE:LINE: reason, exit 2,
# nothing probed; CRLF, comments and blank lines are accepted; duplicates
# are warned about once each and probed once.
. "$E2E_LIB"

start_fixture --accept 3
A1=$(nth 1 $ACCEPT)
A2=$(nth 2 $ACCEPT)
A3=$(nth 3 $ACCEPT)

# bad_line CASE LINE: a file whose third line is LINE (printf format, so
# that it may hold any byte), between two good targets, must be rejected
# with its line number and nothing else.
bad_line() {
	f=$E2E_TMP/bad-$1.txt
	{
		printf '# %s\n' "$1"
		printf '%s\n' "$A1"
		# shellcheck disable=SC2059
		printf "$2"
		printf '\n%s\n' "$A2"
	} >"$f"
	run_pulse scan -t "$f"
	assert_usage_error "targets file with $1"
	assert_contains "$ERR" "$f:3:" "$1 reported at line 3"
	assert_not_contains "$ERR" "$f:1:" "$1: line 1 is fine"
	assert_not_contains "$ERR" "$f:2:" "$1: line 2 is fine"
	assert_not_contains "$ERR" "$f:4:" "$1: line 4 is fine"
	# The message says more than the location.
	grep -F "$f:3:" "$ERR" | grep -qE ":3: *[^ ]" ||
	    fail "$1: no reason after the location"
}

bad_line port-0 '127.0.0.1:0'
bad_line port-65536 '127.0.0.1:65536'
bad_line port-huge '127.0.0.1:99999999999999999999'
bad_line port-not-a-number '127.0.0.1:http'
bad_line missing-port 'tcp://127.0.0.1'
bad_line missing-port-colon '127.0.0.1:'
bad_line unclosed-bracket '[::1'
bad_line unclosed-bracket-port '[::1:80'
bad_line v6-unbracketed 'tcp://::1:80'
bad_line icmp-with-port 'icmp://127.0.0.1:7'
bad_line icmp-count-zero '127.0.0.1 count=0'
bad_line icmp-size-huge '127.0.0.1 size=65508'
bad_line icmp-ttl-zero '127.0.0.1 ttl=0'
bad_line icmp-key-on-tcp "$A3 count=3"
bad_line ipv-five '127.0.0.1 ipv=5'
bad_line unknown-key "$A3 colour=red"
bad_line key-without-value "$A3 name"
bad_line timeout-no-unit "$A3 timeout=5"
bad_line timeout-garbage "$A3 timeout=abc"
bad_line timeout-negative "$A3 timeout=-1s"
bad_line unterminated-quote "$A3 name=\"abc"
bad_line nul-byte "$A3 name=a\\000b"
bad_line nul-byte-start '\000'
bad_line invalid-utf8 "$A3 name=caf\\351"
bad_line invalid-utf8-overlong "$A3 name=\\300\\257"
bad_line unknown-scheme 'gopher://127.0.0.1:70'
bad_line udp-scheme 'udp://127.0.0.1:53'
bad_line bad-host 'bad_host!:80'

# A 1 MiB line is rejected as one bad line, and counting goes on after it.
f=$E2E_TMP/long.txt
{
	printf '%s\n' "$A1"
	printf '127.0.0.1:80 name='
	head -c 1048576 /dev/zero | tr '\0' a
	printf '\n%s\n127.0.0.1:0\n' "$A2"
} >"$f"
run_pulse scan -t "$f"
assert_usage_error "1 MiB line"
assert_contains "$ERR" "$f:2:" "1 MiB line reported at line 2"
assert_contains "$ERR" "$f:4:" "port 0 after the long line at line 4"
assert_not_contains "$ERR" "$f:3:" "line 3 after the long line is fine"
[ "$(wc -c <"$ERR")" -lt 20000 ] || fail "the 1 MiB line is echoed back"

# Every bad line of a file is reported, not only the first.
f=$E2E_TMP/many.txt
printf '%s\n' "# many" "127.0.0.1:0" "$A1" "" "$A2 bogus=1" "# x" \
    "tcp://127.0.0.1" "$A3" "[::1" >"$f"
run_pulse scan -t "$f"
assert_usage_error "several bad lines"
for n in 2 5 7 9; do
	assert_contains "$ERR" "$f:$n:" "bad line $n reported"
done
for n in 1 3 4 6 8; do
	assert_not_contains "$ERR" "$f:$n:" "good line $n not reported"
done

# CRLF line ends do not shift line numbers.
f=$E2E_TMP/crlf-bad.txt
printf '%s\r\n' "$A1" "127.0.0.1:0" "$A2" >"$f"
run_pulse scan -t "$f"
assert_usage_error "bad line in a CRLF file"
assert_contains "$ERR" "$f:2:" "CRLF file: bad line 2"

# -q keeps errors: a bad line is still reported.
f=$E2E_TMP/quiet.txt
printf '%s\n127.0.0.1:0\n' "$A1" >"$f"
run_pulse scan -q -t "$f"
assert_usage_error "bad line with -q"
assert_contains "$ERR" "$f:2:" "-q: bad line 2 still reported"

# Bad targets on the command line are reported as "argument N".
run_pulse scan "$A1" 127.0.0.1:0
assert_usage_error "bad target argument"
assert_contains "$ERR" "argument 2" "bad argument named by position"
assert_not_contains "$ERR" "argument 1" "good argument not reported"

# A file that cannot be read is a targets-file error.
run_pulse scan -t "$E2E_TMP/no-such-file"
assert_usage_error "missing targets file"
assert_contains "$ERR" "$E2E_TMP/no-such-file" "missing file is named"
run_pulse scan -t "$E2E_TMP"
assert_usage_error "directory as targets file"

# --- files that are fine --------------------------------------------------

# CRLF line ends are accepted and never end up in a name or a value.
f=$E2E_TMP/crlf.txt
printf '# crlf\r\n%s name=one\r\n\r\n%s timeout=1s\r\n' "$A1" "$A2" >"$f"
run_pulse scan -t "$f"
assert_rc 0 "CRLF targets file"
assert_document "$OUT"
assert_eq "$(targets_of "$OUT" | tr '\n' ' ')" \
    "$(canon "$A1") $(canon "$A2") " "targets of the CRLF file"
assert_eq "$(result "$OUT" "$(canon "$A1")" .name)" one "CRLF: name"
assert_eq "$(result "$OUT" "$(canon "$A2")" .name)" "$A2" \
    "CRLF: name defaults to the target as written"
assert_eq "$(result "$OUT" "$(canon "$A2")" .timeout_seconds)" 1 \
    "CRLF: timeout"

# Comments (at line start or after whitespace) and blank lines.
f=$E2E_TMP/comments.txt
{
	printf '# a comment\n'
	printf '   # an indented comment\n'
	printf '\n'
	printf '  \t \n'
	printf '%s   # a trailing comment\n' "$A1"
	printf '%s name=x#y\n' "$A2"
	printf '%s\tname=tab\t# tab then comment\n' "$A3"
	printf '#%s\n' "127.0.0.1:0"
} >"$f"
run_pulse scan -t "$f"
assert_rc 0 "targets file with comments"
assert_document "$OUT"
assert_eq "$(targets_of "$OUT" | tr '\n' ' ')" \
    "$(canon "$A1") $(canon "$A2") $(canon "$A3") " "targets with comments"
assert_eq "$(result "$OUT" "$(canon "$A1")" .name)" "$A1" \
    "trailing comment is not part of the target"
assert_eq "$(result "$OUT" "$(canon "$A2")" .name)" 'x#y' \
    "'#' inside a word is not a comment"
assert_eq "$(result "$OUT" "$(canon "$A3")" .name)" tab "tab separated"

# Duplicates: warned about once each, naming the first line; probed once.
f=$E2E_TMP/dups.txt
{
	printf '%s\n' "$A1"
	printf 'tcp://%s\n' "$A1"
	printf '%s name=two\n' "$A2"
	printf '%s name=again timeout=1s\n' "$A1"
	printf '%s\n' "$A2"
} >"$f"
ndup=3
if have_ipv6; then
	start_fixture --host ::1 --accept 1
	V6=$(nth 1 $ACCEPT)
	printf '%s\ntcp://%s\n' "$V6" "$V6" >>"$f"
	ndup=4
fi
run_pulse scan -t "$f"
assert_rc 0 "targets file with duplicates"
assert_document "$OUT"
assert_contains "$ERR" "$f:2: duplicate of line 1" "tcp:// spelling is a duplicate"
assert_contains "$ERR" "$f:4: duplicate of line 1" "other keys: still a duplicate"
assert_contains "$ERR" "$f:5: duplicate of line 3" "duplicate of line 3"
assert_count "$ERR" "duplicate of" "$ndup" "one warning per duplicate"
expect="$(canon "$A1") $(canon "$A2") "
if have_ipv6; then
	assert_contains "$ERR" "$f:7: duplicate of line 6" "IPv6 duplicate"
	expect="$expect$(canon "$V6") "
fi
assert_eq "$(targets_of "$OUT" | tr '\n' ' ')" "$expect" "deduplicated targets"
assert_eq "$(result "$OUT" "$(canon "$A1")" .name)" "$A1" \
    "the first of duplicates is kept"
assert_eq "$(result "$OUT" "$(canon "$A1")" .timeout_seconds)" 5 \
    "the first of duplicates keeps its own timeout"
assert_eq "$(result "$OUT" "$(canon "$A2")" .name)" two \
    "name of the first of duplicates"

# Duplicates among command-line targets.
run_pulse scan "$A1" "tcp://$A1"
assert_rc 0 "duplicate arguments"
assert_contains "$ERR" "argument 2: duplicate of argument 1" \
    "duplicate argument warned"
assert_jq "$OUT" '.counts.total == 1' "duplicate argument probed once"

log "ok"
