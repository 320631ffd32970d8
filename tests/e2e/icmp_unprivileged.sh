#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# Without root and with ping sockets closed, ICMP targets fail with the
# clear permission message while TCP targets in the same run succeed;
# with net.ipv4.ping_group_range opened, ICMP works unprivileged.  The
# sysctl is restored afterwards.
. "$E2E_LIB"

[ "$(id -u)" = 0 ] || skip "needs root to switch users and set sysctls"
command -v setpriv >/dev/null 2>&1 || skip "setpriv is not installed"
RANGE_FILE=/proc/sys/net/ipv4/ping_group_range
[ -w "$RANGE_FILE" ] || skip "cannot change ping_group_range"
SAVED_RANGE=$(cat "$RANGE_FILE")
restore_cleanup() {
	_nrc=$?
	printf '%s\n' "$SAVED_RANGE" >"$RANGE_FILE" 2>/dev/null || true
	(exit $_nrc)
	e2e_cleanup
}
trap restore_cleanup EXIT

NOBODY=$(id -u nobody 2>/dev/null) || skip "no user nobody"
chmod 755 "$E2E_TMP"
start_fixture --accept 1
A1=$(nth 1 $ACCEPT)

as_nobody() {
	run_pulse_cmd setpriv --reuid "$NOBODY" --regid "$NOBODY" \
	    --clear-groups --inh-caps=-all "$PULSE" "$@"
}
run_pulse_cmd() {
	OUT=$E2E_TMP/out
	ERR=$E2E_TMP/err
	RC=0
	timeout -k 5 60 "$@" >"$OUT" 2>"$ERR" || RC=$?
	check_sanitizers
}

printf '1\t0\n' >"$RANGE_FILE"
as_nobody scan --timeout 2s 127.0.0.1 ::1 "$A1"
assert_rc 1 "ICMP refused, TCP up"
assert_document "$OUT"
assert_eq "$(result "$OUT" "$(canon "$A1")" .success)" true "TCP target"
assert_jq "$OUT" '[.results[] | select(.kind == "icmp")] | length == 2 and
    all(.reason == "permission" and .error == "icmp: permission denied: run as root, grant CAP_NET_RAW, or allow ping sockets (sysctl net.ipv4.ping_group_range)")' \
    "ICMP targets carry the permission message"

printf '0\t2147483647\n' >"$RANGE_FILE"
as_nobody scan --timeout 2s 'icmp://127.0.0.1 count=2 interval=5ms' "$A1"
assert_rc 0 "ICMP through ping sockets"
assert_jq "$OUT" '.results[] | select(.kind == "icmp") |
    .success and .sent == 2 and .received == 2 and .reply_ttl == 64' \
    "unprivileged echo with the reply TTL"
