#!/bin/sh
# shellcheck disable=SC2086
# make check-valgrind: the unit tests and a set of end-to-end tests with
# every pulse process under valgrind's memcheck, workers included.  Fails
# when a test fails or when any process's log holds a report: an invalid
# read or write, a use of uninitialised memory, a definite or indirect
# leak.  Memory still reachable at exit (libcurl's, OpenSSL's and glibc's
# one-time allocations) is not a failure.
#
# The environment: BUILDDIR (the build tree, default .) and SRCDIR (the
# source tree, default two levels above this script).  VG_UNIT_TESTS and
# VG_E2E_TESTS replace the lists below (names without directory or .sh;
# empty runs none).  Each pulse a test runs is bounded by PULSE_LIMIT=600
# s (VG_PULSE_LIMIT), each test by VG_TEST_LIMIT=1200 s.
# VG_TRACK_ORIGINS=yes says where uninitialised values come from, at
# twice the cost, which more of the tests' timings do not survive.
#
# Each process writes its own log, vg.PID.log, in a fresh directory; the
# logs are read once every test is over, as the exit status of a process
# with errors may be one its test expected of pulse anyway.  The directory
# is removed when all is well and kept, its path printed, when not.
#
# Under memcheck pulse is 10 to 50 times slower, and a worker is killed
# when it overruns a probe's timeout by the supervisor's slack.  Tests
# left out, as what they assert cannot hold under valgrind:
#   check_cli      a 1 s check within 1.5 s (it takes 2.5 to 3 s);
#   http_hostile   each hostile server a "timeout" within its 2 s timeout
#                  plus 0.5 s (the worker overruns it: "deadline"), a
#                  check within 2.5 s;
#   worker_faults  a stopped worker's scan over within 4 s, a crash seen
#                  within 2.9 s;
#   scan_timeout   scans with 1 s timeouts within 1.5 s;
#   scan_signal    exit within 2.5 s of a signal;
#   icmp_netns     a scan with a 1 s timeout within 1.5 s;
#   http_nginx     https:// probes within the 5 s default timeout plus
#                  slack, which TLS under valgrind outlasts;
#   serve_basic    no probe of a 1 s schedule skipped (under valgrind a
#                  slot is at times still busy: two runs in three failed);
#   priv_sandbox   checks the workers' seccomp filter, which the wrapper
#                  turns off.
# Unit tests left out:
#   test_config_yaml  10,000 YAML targets loaded within 5 s;
#   test_regex        a runaway pattern given up within 1 s;
#   test_sandbox      loads the workers' seccomp filter: valgrind does
#                     not implement seccomp(2).
# Even so, a run on a busy machine may see a late probe: the serve_*
# tests left in assert schedules and timeouts of a few seconds.
set -eu

SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILDDIR=${BUILDDIR:-$(pwd)}

UNIT_TESTS=${VG_UNIT_TESTS-"test_allowlist test_atomic_file test_check_text
    test_http_error test_icmp_parse test_msg test_output_json
    test_output_formats test_probe_http test_probe_tcp test_proc
    test_result test_supervisor test_target test_target_http test_util"}
E2E_TESTS=${VG_E2E_TESTS-"cli scan_basic scan_scale targets_errors
    config_yaml output_formats http_workers icmp_loopback icmp_unprivileged
    serve_faults serve_reload serve_probe serve_prometheus hostile_targets
    hostile_scrape hostile_icmp"}

say() {
	printf 'check-valgrind: %s\n' "$*"
}

die() {
	say "$*" >&2
	exit 1
}

command -v valgrind >/dev/null 2>&1 || die "valgrind is not installed"
[ -x "$BUILDDIR/src/pulse" ] || die "no $BUILDDIR/src/pulse: build first"

VG_LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/pulse-valgrind.XXXXXX")
# Workers are forked by a supervisor that may have dropped root: each
# process, whoever it runs as, creates its own log here.
chmod 1777 "$VG_LOGDIR"
WORK=$VG_LOGDIR/work
mkdir "$WORK"
# A copy, so that the wrapper is executable whatever the source tree.
cp "$SRCDIR/tests/valgrind/pulse" "$WORK/pulse"
chmod 755 "$WORK/pulse"

VG_PULSE=$BUILDDIR/src/pulse
VG_SUPP=
[ ! -f "$SRCDIR/tests/valgrind/pulse.supp" ] ||
    VG_SUPP=$SRCDIR/tests/valgrind/pulse.supp
PULSE=$WORK/pulse
TCP_FIXTURE=$BUILDDIR/tests/fixtures/tcp_fixture
HTTP_FIXTURE=$BUILDDIR/tests/fixtures/http_fixture
E2E_LIB=$SRCDIR/tests/e2e/lib.sh
E2E_HTTP_LIB=$SRCDIR/tests/e2e/lib_http.sh
E2E_SERVE_LIB=$SRCDIR/tests/e2e/lib_serve.sh
EXAMPLES=$SRCDIR/examples
PULSE_LIMIT=${VG_PULSE_LIMIT:-600}
# The tests that scale their wall-time limits (E2E_SLOW) get ten times.
E2E_SLOW=${E2E_SLOW:-10}
srcdir=$SRCDIR
export VG_PULSE VG_LOGDIR VG_SUPP PULSE TCP_FIXTURE HTTP_FIXTURE E2E_LIB \
    E2E_HTTP_LIB E2E_SERVE_LIB EXAMPLES PULSE_LIMIT E2E_SLOW srcdir

FAILED=
NPASS=0
NSKIP=0

# record NAME RC: count a test's outcome; show the end of what it said
# when it failed.
record() {
	_s=$(($(date +%s) - TSTART))
	case $2 in
	0)
		NPASS=$((NPASS + 1))
		say "PASS $1 ($_s s)"
		;;
	77)
		NSKIP=$((NSKIP + 1))
		say "SKIP $1 ($_s s)"
		;;
	*)
		FAILED="$FAILED $1"
		say "FAIL $1 (exit status $2, $_s s)"
		tail -n 40 "$WORK/$1.out" >&2
		;;
	esac
}

# The unit tests, run from the build tree as make check would, through
# the same wrapper: not a pulse command, so it only adds valgrind.
run_unit() {
	TSTART=$(date +%s)
	_rc=0
	# Not built without cmocka.
	if [ ! -x "$BUILDDIR/tests/unit/$1" ]; then
		record "$1" 77
		return 0
	fi
	(cd "$BUILDDIR" && VG_PULSE=$BUILDDIR/tests/unit/$1 &&
	    timeout -k 10 "${VG_TEST_LIMIT:-1200}" "$WORK/pulse") \
	    >"$WORK/$1.out" 2>&1 || _rc=$?
	record "$1" "$_rc"
}

run_e2e() {
	TSTART=$(date +%s)
	_rc=0
	(cd "$BUILDDIR" && timeout -k 10 "${VG_TEST_LIMIT:-1200}" \
	    sh "$SRCDIR/tests/e2e/$1.sh") \
	    >"$WORK/$1.out" 2>&1 || _rc=$?
	record "$1" "$_rc"
}

T0=$(date +%s)
for t in $UNIT_TESTS; do
	run_unit "$t"
done
for t in $E2E_TESTS; do
	run_e2e "$t"
done

# --- the logs ---------------------------------------------------------------

# What starts a memcheck report, or says valgrind itself gave up.
REPORT='Invalid (read|write|free)|Mismatched free|uninitialised'
REPORT="$REPORT|unaddressable|Source and destination overlap|fishy"
REPORT="$REPORT|Jump to the invalid address|are (definitely|indirectly) lost"
REPORT="$REPORT|FATAL|impossible.* happened|out of memory"
NLOGS=0
NBAD=0
NCUT=0
for f in "$VG_LOGDIR"/vg.*.log; do
	[ -f "$f" ] || continue
	NLOGS=$((NLOGS + 1))
	bad=0
	if grep -Eq '== ERROR SUMMARY: [1-9]' "$f" ||
	    grep -E "^==[0-9]+== [^ ].*($REPORT)" "$f" |
	    grep -vq '^==[0-9]*== Command: '; then
		bad=1
	elif ! grep -q '== ERROR SUMMARY:' "$f"; then
		# Killed before valgrind could sum up: by a test, or by the
		# supervisor, for overrunning a probe or for being slow to
		# exit.  What it found until then is above: nothing.
		NCUT=$((NCUT + 1))
	fi
	if [ $bad -eq 1 ]; then
		NBAD=$((NBAD + 1))
		echo "=== $f" >&2
		cat "$f" >&2
	fi
done

T1=$(date +%s)
say "$NPASS passed, $NSKIP skipped, failed:${FAILED:- none}"
say "$NLOGS valgrind logs, $NBAD with reports, $NCUT cut short by a kill"
say "$((T1 - T0)) s"
if [ $NLOGS -eq 0 ]; then
	say "no valgrind log at all: pulse did not run under valgrind" >&2
	say "logs kept in $VG_LOGDIR" >&2
	exit 1
fi
if [ -n "$FAILED" ] || [ $NBAD -gt 0 ]; then
	say "logs kept in $VG_LOGDIR" >&2
	exit 1
fi
rm -rf "$VG_LOGDIR"
