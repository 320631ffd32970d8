#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# pulse-targets.5 documents every Prometheus metric pulse writes, and no
# other: each family the code names, and each family that "pulse scan -f
# prometheus", the /metrics of pulse serve and its /probe actually write,
# has an entry in the page, and each entry is a family the code names.
# No page names a metric, in its text or examples, that pulse does not
# have.  The check first proves on a copy of the page that it fails when
# an entry goes missing.  PULSE_MAN5 and PULSE_MAN8 name other pages.
#
# Where the truth comes from:
#   - the code: every string literal of src/*.c that is a whole metric
#     name, "probe_..." or "pulse_...", and "process_..." in the file
#     that writes /metrics;
#   - pulse: the "# TYPE" lines of what it writes, for TCP targets up and
#     down, ICMP, HTTP with a failed match, HTTPS (with openssl), and of
#     serve's /metrics and /probe with the probe endpoint on (with curl).
#     These must all be names the grep found, or the grep is stale.
# What the page documents: the .It Cm NAME lines of the METRICS section of
# pulse-targets.5, subsections included.  A name in the text of either
# page is a family, or a sample of one (NAME_bucket, _sum, _count).
. "$E2E_LIB"
. "$E2E_HTTP_LIB"

LC_ALL=C
export LC_ALL
SRCDIR=${E2E_LIB%/tests/e2e/lib.sh}
PAGE=${PULSE_MAN5:-$SRCDIR/man/pulse-targets.5}
PAGE8=${PULSE_MAN8:-$SRCDIR/man/pulse.8}
[ -r "$PAGE" ] || hard_error "cannot read $PAGE"
[ -r "$PAGE8" ] || hard_error "cannot read $PAGE8"

# --- the names in the code --------------------------------------------------

# process_* only where /metrics is written: other files name system
# calls such as process_vm_readv.
{
	grep -ohE '"(probe|pulse)_[a-z0-9_]+"' "$SRCDIR"/src/*.c
	grep -ohE '"process_[a-z0-9_]+"' "$SRCDIR"/src/serve_metrics.c
} | tr -d '"' | sort -u >"$E2E_TMP/code"
for m in probe_success pulse_scan_targets pulse_probes_total \
    process_cpu_seconds_total; do
	grep -qxF "$m" "$E2E_TMP/code" ||
	    fail "$m not found in src/*.c; update this test"
done

# --- the names pulse writes -------------------------------------------------

# types FILE: the families of an exposition.
types() {
	awk '$1 == "#" && $2 == "TYPE" { print $3 }' "$1"
}

: >"$E2E_TMP/written"
start_fixture --accept 1 --refuse 1
A1=$(nth 1 $ACCEPT)
R1=$(nth 1 $REFUSE)
start_http_fixture
set -- "$A1" "$R1" 127.0.0.1 "http://$HF_OK/" \
    "http://$HF_OK/ name=nomatch match=zz_not_in_the_body"
if command -v openssl >/dev/null 2>&1; then
	start_tls_server
	set -- "$@" "https://$TLS_ADDR/ insecure"
else
	log "openssl is not installed: no HTTPS probe"
fi
run_pulse scan -f prometheus --timeout 5s "$@"
assert_rc 1 "scan with a target down"
types "$OUT" >>"$E2E_TMP/written"
for m in probe_failure_reason probe_tcp_connect_duration_seconds \
    probe_http_status_code probe_failed_due_to_regex pulse_scan_targets; do
	grep -qxF "$m" "$E2E_TMP/written" ||
	    fail "pulse scan -f prometheus wrote no $m"
done

if command -v curl >/dev/null 2>&1; then
	. "${E2E_SERVE_LIB:-${E2E_LIB%/*}/lib_serve.sh}"
	y=$E2E_TMP/serve.yaml
	printf '%s\n' 'modules:' '  tcp_connect: {kind: tcp}' 'targets:' \
	    "  - \"$A1\"" >"$y"
	start_serve -c "$y" --interval 1s --enable-probe-endpoint \
	    --probe-allow 127.0.0.0/8
	wait_for 10 metric_at_least 1 pulse_probes_total 'result="success"' ||
	    fail "serve did not probe its target within 10 s"
	types "$SCRAPE" >>"$E2E_TMP/written"
	grep -qxF pulse_build_info "$E2E_TMP/written" ||
	    fail "/metrics has no pulse_build_info"
	assert_http GET "/probe?target=$A1&module=tcp_connect" 200
	types "$HTTP_BODY" >>"$E2E_TMP/written"
	stop_serve
	assert_rc 0 "serve stopped by SIGTERM"
else
	log "curl is not installed: serve's metrics taken from the code only"
fi
sort -u -o "$E2E_TMP/written" "$E2E_TMP/written"
stale=$(comm -23 "$E2E_TMP/written" "$E2E_TMP/code" | tr '\n' ' ')
[ -z "$stale" ] ||
    fail "pulse writes $stale but src/*.c has no such string; update the" \
	"grep of this test"

# --- the comparison ---------------------------------------------------------

# compare PAGE5 PAGE8: print every way the pages differ from pulse.
compare() {
	awk '
		/^\.Sh / { on = $2 == "METRICS" }
		on && /^\.It Cm / { print $3 }' "$1" | sort -u \
	    >"$E2E_TMP/doc"
	sort -u "$E2E_TMP/code" "$E2E_TMP/written" |
	    comm -23 - "$E2E_TMP/doc" | while read -r _m; do
		echo "$_m is not in METRICS of $(basename "$1")"
	done
	grep -E '^(probe|pulse|process)_' "$E2E_TMP/doc" |
	    comm -23 - "$E2E_TMP/code" | while read -r _m; do
		echo "METRICS of $(basename "$1") gives $_m, which pulse" \
		    "does not write"
	done
	for _f in "$1" "$2"; do
		grep -v '^\.\\"' "$_f" | grep -oE '(probe|pulse|process)_[a-z0-9_]+' |
		    sed -E 's/_(bucket|sum|count)$//' | sort -u |
		    comm -23 - "$E2E_TMP/code" | while read -r _m; do
			echo "$(basename "$_f") names $_m, which pulse does" \
			    "not write"
		done
	done
	return 0
}

# --- the check fails where it should ----------------------------------------

n=$(grep -n '^\.It Cm probe_icmp_loss_ratio' "$PAGE" | head -n 1 |
    cut -d: -f1)
[ -n "$n" ] || fail "no .It Cm probe_icmp_loss_ratio line in $PAGE"
sed "${n}d" "$PAGE" >"$E2E_TMP/dropped.5"
compare "$E2E_TMP/dropped.5" "$PAGE8" >"$E2E_TMP/dropped.out"
grep -qxF "probe_icmp_loss_ratio is not in METRICS of dropped.5" \
    "$E2E_TMP/dropped.out" ||
    fail "self-check: probe_icmp_loss_ratio taken out of the page, but" \
	"the check says: $(cat "$E2E_TMP/dropped.out")"

sed 's/^probe_success == 0$/probe_zz_no_such == 0/' "$PAGE8" \
    >"$E2E_TMP/renamed.8"
compare "$PAGE" "$E2E_TMP/renamed.8" >"$E2E_TMP/renamed.out"
grep -qxF "renamed.8 names probe_zz_no_such, which pulse does not write" \
    "$E2E_TMP/renamed.out" ||
    fail "self-check: probe_zz_no_such put in the page, but the check" \
	"says: $(cat "$E2E_TMP/renamed.out")"

# --- the pages themselves ---------------------------------------------------

compare "$PAGE" "$PAGE8" >"$E2E_TMP/problems"
if [ -s "$E2E_TMP/problems" ]; then
	log "the pages and the metrics of pulse disagree:" >&2
	sed 's/^/  /' "$E2E_TMP/problems" >&2
	OUT=
	ERR=
	fail "$(wc -l <"$E2E_TMP/problems" | tr -d ' ') problems with metrics"
fi

log "ok"
