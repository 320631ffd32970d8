#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# Privileges of a root-started pulse, read from /proc: once it has set
# up, neither the supervisor nor a worker has uid 0, a group 0 or any
# capability, each has no_new_privs, and workers run under seccomp
# (mode 2, a filter).  The sandbox does not stop probes of any kind; a
# worker killed by SIGSYS (what the filter does) is a reported crash and
# the pool recovers; --no-sandbox says so loudly and leaves the filter
# off; --output in a directory the dropped user may not write is refused
# before any probe.
. "$E2E_LIB"
. "$E2E_HTTP_LIB"
. "$E2E_SERVE_LIB"

[ "$(id -u)" = 0 ] || skip "needs root: this is about giving root up"

# check_status PID WHAT SECCOMP: PID's uids, gids and capabilities are
# those of an unprivileged process, with no_new_privs and seccomp mode
# SECCOMP (2: a filter, 0: none).
check_status() {
	_s=/proc/$1/status
	[ -r "$_s" ] || fail "$2 $1 is gone"
	_uids=$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "$_s")
	_gids=$(awk '$1 == "Gid:" { print $2, $3, $4, $5 }' "$_s")
	for _id in $_uids; do
		[ "$_id" != 0 ] || fail "$2 $1 has uid 0 ($_uids)"
	done
	for _id in $_gids; do
		[ "$_id" != 0 ] || fail "$2 $1 has gid 0 ($_gids)"
	done
	_groups=$(awk '$1 == "Groups:" { $1 = ""; print }' "$_s")
	for _id in $_groups; do
		[ "$_id" != 0 ] || fail "$2 $1 is in group 0"
	done
	for _c in CapInh CapPrm CapEff CapAmb; do
		_v=$(awk -v c="$_c:" '$1 == c { print $2 }' "$_s")
		assert_eq "$_v" 0000000000000000 "$2 $1 $_c"
	done
	assert_eq "$(awk '$1 == "NoNewPrivs:" { print $2 }' "$_s")" 1 \
	    "$2 $1 NoNewPrivs"
	assert_eq "$(awk '$1 == "Seccomp:" { print $2 }' "$_s")" "$3" \
	    "$2 $1 Seccomp"
}

# check_tree PID SECCOMP: the supervisor PID and every worker of it.
check_tree() {
	check_status "$1" supervisor 0
	_n=0
	for _w in $(workers_of "$1"); do
		[ "$(comm_of "$_w")" = pulse-worker ] || continue
		check_status "$_w" worker "$2"
		_n=$((_n + 1))
	done
	[ $_n -gt 0 ] || fail "no worker of $1 to look at"
}

start_fixture --accept 2 --blackhole 2
A1=$(nth 1 $ACCEPT)
A2=$(nth 2 $ACCEPT)
B1=$(nth 1 $BLACKHOLE)
B2=$(nth 2 $BLACKHOLE)
start_http_fixture
HTTP_PORT=${HF_OK##*:}

# --- scan: every kind of probe, the tree looked at mid-scan ----------------
f=$E2E_TMP/scan.txt
{
	printf 'tcp://%s\ntcp://localhost:%s\n' "$A1" "${A2##*:}"
	printf 'icmp://127.0.0.1 count=2\nicmp://localhost\n'
	printf 'http://127.0.0.1:%s/ match=.\n' "$HTTP_PORT"
	printf 'http://localhost:%s/\n' "$HTTP_PORT"
	printf 'tcp://%s timeout=3s\ntcp://%s timeout=3s\n' "$B1" "$B2"
} >"$f"
start_pulse scan -t "$f" -w 3 -f json -o "$E2E_TMP/scan.json"
wait_workers "$PULSE_PID" 3
sleep 1
check_tree "$PULSE_PID" 2
wait_pulse
assert_rc 1 "scan with two blackholes"
assert_jq "$E2E_TMP/scan.json" \
    '[.results[] | select(.success)] | length == 6' "probes up in the sandbox"
assert_jq "$E2E_TMP/scan.json" \
    '[.results[] | select(.success | not) | .reason] | unique == ["timeout"]' \
    "only the blackholes fail"

# --- serve: the tree while it serves; SIGSYS to a worker ------------------
f=$E2E_TMP/serve.txt
{
	printf 'tcp://%s every=500ms\n' "$A1"
	printf 'icmp://127.0.0.1 every=500ms\n'
	printf 'http://127.0.0.1:%s/ every=500ms\n' "$HTTP_PORT"
	printf 'tcp://%s every=4s timeout=3s name=hole\n' "$B1"
} >"$f"
start_serve -t "$f" -w 4
wait_workers "$SERVE_PID" 4
wait_for 10 metric_is 1 probe_success "target=\"tcp://$A1\"" ||
    fail "tcp://$A1 never up"
check_tree "$SERVE_PID" 2
for w in $WORKERS; do
	kill -SYS "$w"
	break
done
wait_for 10 metric_at_least 1 pulse_worker_restarts_total ||
    fail "no worker restarted after SIGSYS"
assert_contains "$SERVE_LOG" "killed by SIGSYS" "the log"
wait_workers "$SERVE_PID" 4
check_tree "$SERVE_PID" 2
wait_for 10 metric_is 1 probe_success \
    "target=\"http://127.0.0.1:$HTTP_PORT/\"" || fail "http never up"
stop_serve
assert_rc 0 "serve after SIGTERM"

# --- started as a user with CAP_NET_RAW, as the systemd unit does ---------
if command -v setpriv >/dev/null 2>&1; then
	nobody=$(id -u nobody)
	SERVE_PREFIX="setpriv --reuid=$nobody --regid=$(id -g nobody)
	    --clear-groups --inh-caps=+net_raw --ambient-caps=+net_raw" \
	    start_serve -t "$f" -w 4
	wait_workers "$SERVE_PID" 4
	wait_for 10 metric_is 1 probe_success 'target="icmp://127.0.0.1"' ||
	    fail "icmp never up with an ambient CAP_NET_RAW"
	check_tree "$SERVE_PID" 2
	stop_serve
else
	log "setpriv is not installed: an ambient CAP_NET_RAW not tested"
fi

# --- --no-sandbox ----------------------------------------------------------
start_serve -t "$f" -w 2 --no-sandbox
wait_workers "$SERVE_PID" 2
check_tree "$SERVE_PID" 0
assert_contains "$SERVE_LOG" "--no-sandbox: workers run without" \
    "the warning"
stop_serve

# --- --output where the dropped user may not write -------------------------
d=$E2E_TMP/rootonly
mkdir -m 700 "$d"
run_pulse scan -o "$d/out.json" "tcp://$A1"
assert_rc 2 "output in a root-only directory"
assert_contains "$ERR" "may not write it in $d" "the reason"
[ ! -e "$d/out.json" ] || fail "an output was written"
[ -z "$(ls -A "$d")" ] || fail "a temp file was left: $(ls -A "$d")"

# In a sticky directory (as /tmp, and E2E_TMP) a file of root's cannot be
# replaced by another user: refused as well, the file left as it was.
echo old >"$E2E_TMP/old.json"
run_pulse scan -o "$E2E_TMP/old.json" "tcp://$A1"
assert_rc 2 "output over a file of root's in a sticky directory"
assert_eq "$(cat "$E2E_TMP/old.json")" old "the old output"
log "ok"
