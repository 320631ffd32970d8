#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# A scan of endpoints that accept and refuse, on 127.0.0.1 and ::1: one
# result per target in input order, the right reasons and counts, exit 1
# when something is down and 0 when all is up, --output, targets given as
# arguments or on stdin, and names.
. "$E2E_LIB"

start_fixture --accept 3 --refuse 2
A1=$(nth 1 $ACCEPT)
A2=$(nth 2 $ACCEPT)
A3=$(nth 3 $ACCEPT)
R1=$(nth 1 $REFUSE)
R2=$(nth 2 $REFUSE)
# Without an IPv6 loopback a second IPv4 loopback address stands in.
if have_ipv6; then
	start_fixture --host ::1 --accept 1 --refuse 1
else
	log "no IPv6 loopback: 127.0.0.2 instead of ::1"
	start_fixture --host 127.0.0.2 --accept 1 --refuse 1
fi
A6=$(nth 1 $ACCEPT)
R6=$(nth 1 $REFUSE)

# --- mixed up and down, file order kept ------------------------------------

f=$E2E_TMP/mixed.txt
{
	printf '%s name=web\n' "$A1"
	printf 'tcp://%s\n' "$R1"
	printf '%s name="over v6"\n' "$A6"
	printf '%s timeout=2s\n' "$A2"
	printf '%s\n' "$R6"
	printf '%s timeout=1500ms\n' "$R2"
	printf 'tcp://%s\n' "$A3"
} >"$f"
expect=
up=0
down=0
for t in $(awk '{ sub("^tcp://", "", $1); print $1 }' "$f"); do
	expect="$expect$(canon "$t") "
	case " $A1 $A2 $A3 $A6 " in
	*" $t "*) up=$((up + 1)) ;;
	*) down=$((down + 1)) ;;
	esac
done
run_pulse scan --workers 4 -t "$f"
assert_rc 1 "scan with refused targets"
assert_document "$OUT"
assert_eq "$(targets_of "$OUT" | tr '\n' ' ')" "$expect" "results in input order"
assert_jq "$OUT" ".counts == {total: $((up + down)), up: $up, down: $down,
    cancelled: 0}" "counts"
assert_jq "$OUT" '.interrupted == null' "not interrupted"
assert_jq "$OUT" '(.started | sub("\\.[0-9]+Z$"; "Z") | fromdate) - now |
    fabs < 300' "started is the time of the scan"
assert_jq "$OUT" '.workers == 4' "workers"

for t in $A1 $A2 $A3 $A6; do
	r=$(canon "$t")
	assert_eq "$(result "$OUT" "$r" .success)" true "$r is up"
	assert_eq "$(result "$OUT" "$r" .port)" "${t##*:}" "$r: port"
	assert_eq "$(result "$OUT" "$r" .connect_seconds)" \
	    "$(result "$OUT" "$r" '.connect_seconds | numbers')" \
	    "$r: connect_seconds is a number"
	assert_eq "$(result "$OUT" "$r" .dns_seconds)" null \
	    "$r: no resolution for an address literal"
done
for t in $R1 $R2 $R6; do
	r=$(canon "$t")
	assert_eq "$(result "$OUT" "$r" .success)" false "$r is down"
	assert_eq "$(result "$OUT" "$r" .reason)" refused "$r: reason"
	result "$OUT" "$r" .error | grep -qi 'connection refused' ||
	    fail "$r: error '$(result "$OUT" "$r" .error)' does not say refused"
	assert_eq "$(result "$OUT" "$r" .connect_seconds)" null \
	    "$r: no handshake completed"
done
assert_jq "$OUT" '[.results[] | select(.host == "127.0.0.1")] |
    all(.address == null or .address == "127.0.0.1")' "IPv4 address"
assert_jq "$OUT" '[.results[] | select(.success)] |
    all(.address == .host)' "successful probes name the address"
assert_eq "$(result "$OUT" "$(canon "$A1")" .name)" web "name="
assert_eq "$(result "$OUT" "$(canon "$A6")" .name)" "over v6" "quoted name="
assert_eq "$(result "$OUT" "$(canon "$R1")" .name)" "tcp://$R1" \
    "name is the target as written"
assert_eq "$(result "$OUT" "$(canon "$A2")" .timeout_seconds)" 2 "timeout=2s"
assert_eq "$(result "$OUT" "$(canon "$R2")" .timeout_seconds)" 1.5 \
    "timeout=1500ms"
assert_eq "$(result "$OUT" "$(canon "$A1")" .timeout_seconds)" 5 \
    "default timeout is 5s"
assert_eq "$(result "$OUT" "$(canon "$A1")" .kind)" tcp "kind"
if have_ipv6; then
	assert_eq "$(result "$OUT" "$(canon "$A6")" .host)" "::1" \
	    "IPv6 host without brackets"
	assert_eq "$(result "$OUT" "$(canon "$A6")" .address)" "::1" \
	    "IPv6 address"
fi
cp "$OUT" "$E2E_TMP/mixed.json"

# --- all up: exit 0 ---------------------------------------------------------

run_pulse scan "$A1" "$A2" "$A3" "$A6"
assert_rc 0 "scan with every target up"
assert_document "$OUT"
assert_jq "$OUT" '.counts.up == .counts.total and .counts.down == 0' \
    "all up"
assert_jq "$OUT" '.workers == 4' "one worker per target below the default 16"
assert_eq "$(targets_of "$OUT" | tr '\n' ' ')" \
    "$(canon "$A1") $(canon "$A2") $(canon "$A3") $(canon "$A6") " \
    "argument targets in order"
assert_eq "$(result "$OUT" "$(canon "$A2")" .name)" "$A2" \
    "argument target named as written"

# -q: a clean run says nothing on stderr.
run_pulse scan -q "$A1"
assert_rc 0 "scan -q"
assert_empty "$ERR" "stderr of a clean scan -q"

# --- one target down: exit 1 ------------------------------------------------

run_pulse scan "$A1" "$R1"
assert_rc 1 "scan with one target refused"
assert_document "$OUT"

# --- stdin, and a file combined with arguments ------------------------------

printf '%s\n%s name=second\n' "$A1" "$A2" >"$E2E_TMP/stdin.txt"
run_pulse scan -t - <"$E2E_TMP/stdin.txt"
assert_rc 0 "targets from stdin"
assert_document "$OUT"
assert_eq "$(targets_of "$OUT" | tr '\n' ' ')" \
    "$(canon "$A1") $(canon "$A2") " "targets from stdin"
assert_eq "$(result "$OUT" "$(canon "$A2")" .name)" second "stdin name="

printf '%s\n' "$A1" >"$E2E_TMP/one.txt"
run_pulse scan -t "$E2E_TMP/one.txt" "$R1" "$A2"
assert_rc 1 "targets file combined with arguments"
assert_document "$OUT"
assert_eq "$(targets_of "$OUT" | sort | tr '\n' ' ')" \
    "$(printf '%s\n' "$(canon "$A1")" "$(canon "$R1")" "$(canon "$A2")" |
    sort | tr '\n' ' ')" "file and argument targets all probed"

# --- quoting in names ------------------------------------------------------

f=$E2E_TMP/quotes.txt
{
	printf '%s name="a \\"quoted\\" \\\\ name"\n' "$A1"
	printf "%s name='single quoted # not a comment'\n" "$A2"
} >"$f"
run_pulse scan -t "$f"
assert_rc 0 "quoted names"
assert_eq "$(result "$OUT" "$(canon "$A1")" .name)" 'a "quoted" \ name' \
    "double quotes with escapes"
assert_eq "$(result "$OUT" "$(canon "$A2")" .name)" \
    'single quoted # not a comment' "single quotes"

# --- a host name -----------------------------------------------------------

# "localhost" from /etc/hosts (never a DNS server): resolved, timed, and
# connected to on a loopback address.
if grep -qE '^[[:space:]]*(127\.0\.0\.1|::1)[[:space:]].*\<localhost\>' \
    /etc/hosts 2>/dev/null &&
    ! getent ahosts localhost | awk '{ print $1 }' |
    grep -qvE '^(127\.|::1$)'; then
	r="tcp://localhost:${A1##*:}"
	run_pulse scan "localhost:${A1##*:}"
	assert_rc 0 "scan of localhost"
	assert_document "$OUT"
	assert_eq "$(result "$OUT" "$r" .host)" localhost "host name kept"
	assert_eq "$(result "$OUT" "$r" .address)" 127.0.0.1 \
	    "address connected to"
	assert_eq "$(result "$OUT" "$r" '.dns_seconds | numbers | . >= 0')" \
	    true "dns_seconds measured for a name"
else
	log "localhost is not only in /etc/hosts: host names not tested"
fi

# --- --output ----------------------------------------------------------------

d=$E2E_TMP/outdir
mkdir -m 777 "$d" # the user pulse drops to replaces files here
echo stale >"$d/report.json"
run_pulse scan --workers 4 -t "$E2E_TMP/mixed.txt" --output "$d/report.json"
assert_rc 1 "scan --output"
assert_empty "$OUT" "stdout with --output"
assert_document "$d/report.json"
summary='[.counts, (.results[] | [.target, .name, .success, .reason,
    .error, .timeout_seconds])]'
assert_eq "$(jqr "$d/report.json" "$summary" -c)" \
    "$(jqr "$E2E_TMP/mixed.json" "$summary" -c)" \
    "--output writes the same document as stdout"
assert_eq "$(ls -A "$d")" report.json "only the report is left in its directory"

run_pulse scan -o "$d/second.json" "$A1"
assert_rc 0 "scan -o"
assert_document "$d/second.json"
assert_eq "$(ls -A "$d" | tr '\n' ' ')" "report.json second.json " \
    "no temp file left behind"

# --- the shipped example file ---------------------------------------------

if [ -n "${EXAMPLES:-}" ] && [ -r "$EXAMPLES/targets.txt" ]; then
	run_pulse scan -q --timeout 2s -t "$EXAMPLES/targets.txt"
	case $RC in
	0 | 1) ;;
	*) fail "examples/targets.txt: exit status $RC" ;;
	esac
	assert_document "$OUT"
	assert_jq "$OUT" '.counts.total ==
	    ([.results[] | select(.host == "127.0.0.1" or .host == "::1" or
	      .host == "localhost")] | length)' "example targets stay local"
fi

log "ok"
