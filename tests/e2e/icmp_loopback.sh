#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# ICMP echo to loopback as root: 127.0.0.1, another 127/8 address, ::1,
# and a name; then 20 workers pinging 1,000 loopback addresses three times
# each at once: every reply is credited to its own probe (no cross-talk),
# no loss, no duplicates.
. "$E2E_LIB"

[ "$(id -u)" = 0 ] || skip "needs root for raw ICMP sockets"

run_pulse scan --workers 4 --timeout 2s 127.0.0.1 icmp://127.1.2.3 \
    'localhost count=2 interval=10ms'
assert_rc 0 "ICMP to loopback"
assert_document "$OUT"
for t in icmp://127.0.0.1 icmp://127.1.2.3 icmp://localhost; do
	assert_eq "$(result "$OUT" "$t" .success)" true "$t is up"
	assert_eq "$(result "$OUT" "$t" .kind)" icmp "$t: kind"
	assert_jq "$OUT" '.results[] | select(.target == $t) |
	    .received >= 1 and .received == .sent and .loss_ratio == 0 and
	    .duplicates == 0 and .rtt_seconds.min <= .rtt_seconds.avg and
	    .rtt_seconds.avg <= .rtt_seconds.max and .rtt_seconds.max < 1 and
	    .reply_ttl == 64 and .port == null' "$t: echo statistics" \
	    --arg t "$t"
done
assert_eq "$(result "$OUT" icmp://127.1.2.3 .address)" 127.1.2.3 \
    "address probed"
assert_eq "$(result "$OUT" icmp://localhost .sent)" 2 "count=2 sends two"

if have_ipv6; then
	run_pulse scan --timeout 2s ::1 'icmp://[::1] count=3 interval=1ms'
	assert_rc 0 "ICMPv6 to ::1"
	assert_document "$OUT"
	assert_jq "$OUT" '[.results[] | select(.target == "icmp://[::1]")] |
	    length == 2 and all(.success and .address == "::1" and
	    .received == .sent)' "::1 answers, both probes"
fi

# A payload as large as fits, and a TTL of our own.
run_pulse scan --timeout 2s '127.0.0.1 size=65507 ttl=7' '127.0.0.2 size=0'
assert_rc 0 "largest and empty payloads"
assert_jq "$OUT" 'all(.results[]; .success and .received == 1)' \
    "size=65507 and size=0 both answered"

# No cross-talk: 1,000 addresses, three echoes each, 20 workers at once.
i=0
: >"$E2E_TMP/many.txt"
while [ $i -lt 1000 ]; do
	echo "127.9.$((i / 250)).$((i % 250 + 1)) count=3 interval=1ms" \
	    >>"$E2E_TMP/many.txt"
	i=$((i + 1))
done
PULSE_LIMIT=120 run_pulse scan --workers 20 --timeout 3s -t "$E2E_TMP/many.txt"
assert_rc 0 "1,000 loopback addresses"
assert_document "$OUT"
assert_jq "$OUT" '.counts.total == 1000 and .counts.up == 1000' \
    "every address up"
assert_jq "$OUT" 'all(.results[]; .sent == 3 and .received == 3 and
    .duplicates == 0 and .loss_ratio == 0 and .address == .host)' \
    "every probe got exactly its own three replies"
