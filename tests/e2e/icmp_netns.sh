#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# ICMP failures, in two network namespaces this test makes and removes,
# joined by a veth pair and linked to nothing else (nothing leaves them):
# a host that ignores echo requests times out within the timeout + 0.5 s;
# a destination under an "unreachable" route fails as unreachable at once;
# a router that answers with ICMP host unreachable is named in the error.
. "$E2E_LIB"

[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
command -v ip >/dev/null 2>&1 || skip "ip (iproute2) is not installed"

NS_A=pulse-e2e-a-$$
NS_B=pulse-e2e-b-$$
ns_cleanup() {
	_nrc=$?
	ip netns del "$NS_A" 2>/dev/null || true
	ip netns del "$NS_B" 2>/dev/null || true
	(exit $_nrc)
	e2e_cleanup
}
trap ns_cleanup EXIT

ip netns add "$NS_A" 2>/dev/null || skip "cannot create network namespaces"
ip netns add "$NS_B"
ip link add veth-a$$ netns "$NS_A" type veth peer name veth-b$$ netns "$NS_B"
ip -n "$NS_A" addr add 192.0.2.1/24 dev veth-a$$
ip -n "$NS_B" addr add 192.0.2.2/24 dev veth-b$$
ip -n "$NS_A" link set lo up
ip -n "$NS_B" link set lo up
ip -n "$NS_A" link set veth-a$$ up
ip -n "$NS_B" link set veth-b$$ up
ip netns exec "$NS_B" sysctl -qw net.ipv4.icmp_echo_ignore_all=1
ip netns exec "$NS_B" sysctl -qw net.ipv4.ip_forward=1
# 198.51.100.0/24: no route at all in A.  203.0.113.0/24: routed via B,
# which has an unreachable route for it and says so with ICMP.
ip -n "$NS_A" route add unreachable 198.51.100.0/24
ip -n "$NS_A" route add 203.0.113.0/24 via 192.0.2.2
ip -n "$NS_B" route add unreachable 203.0.113.0/24

# Runs pulse inside namespace A.
in_a() {
	run_pulse_cmd ip netns exec "$NS_A" "$PULSE" "$@"
}
run_pulse_cmd() {
	OUT=$E2E_TMP/out
	ERR=$E2E_TMP/err
	_t0=$(now_ms)
	RC=0
	timeout -k 5 60 "$@" >"$OUT" 2>"$ERR" || RC=$?
	ELAPSED_MS=$(($(now_ms) - _t0))
	check_sanitizers
}

in_a scan --timeout 1s 192.0.2.2 icmp://198.51.100.7 203.0.113.9 192.0.2.1
assert_rc 1 "namespace scan"
assert_document "$OUT"
assert_le "$ELAPSED_MS" 1500 "wall time of a 1s-timeout scan (ms)"
assert_eq "$(result "$OUT" icmp://192.0.2.1 .success)" true "own address"
assert_eq "$(result "$OUT" icmp://192.0.2.2 .reason)" timeout \
    "host ignoring echo requests"
assert_jq "$OUT" '.results[] | select(.target == "icmp://192.0.2.2") |
    .sent == 1 and .received == 0 and .loss_ratio == 1 and
    .duration_seconds >= 0.95 and .duration_seconds < 1.5' \
    "timeout took the timeout, no more"
assert_eq "$(result "$OUT" icmp://198.51.100.7 .reason)" unreachable \
    "unreachable route"
assert_eq "$(result "$OUT" icmp://203.0.113.9 .reason)" unreachable \
    "router says host unreachable"
assert_jq "$OUT" '.results[] | select(.target == "icmp://203.0.113.9") |
    .error | test("unreachable \\(from 192\\.0\\.2\\.2\\)$")' \
    "the error names the router"

# A probe that reaches a worker while its sweep runs waits for that sweep
# and then has its own timeout: it is not killed at a deadline counted
# from when it was sent.  (One worker, starts 100 ms apart.)
ip -n "$NS_B" addr add 192.0.2.3/24 dev veth-b$$
in_a scan --workers 1 --rate 10 --timeout 1s 192.0.2.2 192.0.2.3
assert_rc 1 "two silent hosts, one worker"
assert_jq "$OUT" '[.results[].reason] == ["timeout", "timeout"] and
    ([.results[].sent] == [1, 1])' "the second waits for the first sweep"

# The same through unprivileged ping sockets, which get errors from the
# kernel's error queue instead of raw packets.
ip netns exec "$NS_A" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
in_a scan --timeout 1s --user nobody 203.0.113.9 192.0.2.1
assert_eq "$(result "$OUT" icmp://192.0.2.1 .success)" true \
    "ping socket: own address"
assert_jq "$OUT" '.results[] | select(.target == "icmp://203.0.113.9") |
    .reason == "unreachable" and
    (.error | test("unreachable \\(from 192\\.0\\.2\\.2\\)$"))' \
    "ping socket: router error"

# A worker runs the ICMP probes waiting in its socket together, as one
# sweep (up to 64), and answers each as soon as it ends.  Killed
# mid-sweep, every probe it still held is reported as crashed, and the
# rest run on its replacement.  One worker; 10 probes of an address that
# answers, then 70 of the silent host (size= makes them distinct).  How
# the probes fall into sweeps depends on timing; what must hold does not.
f=$E2E_TMP/group.txt
: >"$f"
i=1
while [ $i -le 80 ]; do
	if [ $i -le 10 ]; then
		echo "192.0.2.1 size=$i timeout=2s name=g$i" >>"$f"
	else
		echo "192.0.2.2 size=$i timeout=2s name=g$i" >>"$f"
	fi
	i=$((i + 1))
done
OUT=$E2E_TMP/out
ERR=$E2E_TMP/err
ip netns exec "$NS_A" timeout -k 5 60 "$PULSE" scan --workers 1 -t "$f" \
    >"$OUT" 2>"$ERR" &
WRAP=$!
track_pid "$WRAP"
i=0
W=
while [ -z "$W" ] && [ $i -lt 100 ]; do
	sleep 0.05
	for p in $(pgrep -f "$PULSE scan --workers 1 -t $f" 2>/dev/null); do
		[ "$(comm_of "$p")" = pulse-worker ] && W=$p
	done
	i=$((i + 1))
done
[ -n "$W" ] || fail "no worker found for the group test"
sleep 0.5
kill -SEGV "$W"
RC=0
wait "$WRAP" || RC=$?
untrack_pid "$WRAP"
check_sanitizers
assert_rc 1 "group test"
assert_document "$OUT"
assert_jq "$OUT" '.counts.total == 80' "every probe has a result"
assert_jq "$OUT" '[.results[] | select(.success)] | length == 10' \
    "the probes answered before the crash keep their results"
assert_jq "$OUT" '[.results[] | select(.reason == "crash")] |
    length >= 1 and length <= 64 and
    all(.error == "worker crashed: SIGSEGV" and .host == "192.0.2.2")' \
    "the silent probes still in the sweep are reported crashed"
assert_jq "$OUT" '[.results[] | select(.reason == "crash" or
    .reason == "timeout")] | length == 70' \
    "every silent probe either crashed with the worker or timed out after"
