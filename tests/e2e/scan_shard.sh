#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# --shard K/N: over one file of about 300 targets (TCP that accepts and
# refuses, a TCP range, ICMP to 127.x, HTTP, duplicates), the shards of
# N = 1, 3 and 7 together probe every target of the unsharded scan exactly
# once, with the same results; the split does not depend on the order of
# the file, where targets come from or the number of workers; validate
# counts each shard; a bad line fails every shard; bad specs are usage
# errors; auto/N reads the ordinal of the host name; serve keeps its
# shard across a reload and exposes pulse_shard.
. "$E2E_LIB"

start_fixture --accept 20 --refuse 63
f=$E2E_TMP/targets.txt
i=0
for a in $ACCEPT; do
	i=$((i + 1))
	printf 'tcp://%s name=acc%s\n' "$a" "$i"
done >"$f"
R1=$(nth 1 $REFUSE)
R2=$(nth 2 $REFUSE)
R3=$(nth 3 $REFUSE)
for r in $REFUSE; do
	case $r in
	"$R1" | "$R2" | "$R3") ;;
	*) printf '%s timeout=1s\n' "$r" ;;
	esac
done >>"$f"
{
	# 62 hosts: a /26 without its network and broadcast addresses.
	printf '127.0.3.0/26:%s timeout=1s\n' "${R1##*:}"
	printf 'icmp://127.0.4.1-150 count=1 timeout=1s\n'
	printf 'icmp://127.0.0.1\n'
	printf 'icmp://127.0.0.2 count=2 interval=10ms\n'
	printf 'http://127.0.0.1:%s/\n' "${R2##*:}"
	printf 'http://127.0.0.1:%s/health name=h2\n' "${R2##*:}"
	printf 'http://%s/ expect=200-399\n' "$R3"
	# Duplicates are dropped before the split: still one result each.
	printf 'tcp://%s name=again\n' "$(nth 1 $ACCEPT)"
	printf '127.0.3.7:%s\n' "${R1##*:}"
} >>"$f"
TOTAL=$((20 + 60 + 62 + 150 + 2 + 3))

# summary FILE: one sorted line per result: target, name, outcome.
summary() {
	jq -r '.results[] | [.target, .name, (.success | tostring),
	    (.reason // "-")] | @tsv' "$1" | sort
}

# listed: the canonical targets validate printed, sorted.
listed() {
	sed '$d' "$OUT" | awk '{ print $2 }' | sort
}

# --- the whole file ---------------------------------------------------------

run_pulse validate "$f"
assert_rc 0 "validate, no shard"
assert_eq "$(tail -n 1 "$OUT")" "$TOTAL targets" "validate without --shard"
run_pulse scan -q -f json -t "$f"
assert_rc 1 "unsharded scan"
assert_document "$OUT"
assert_jq "$OUT" ".counts.total == $TOTAL" "unsharded total"
summary "$OUT" >"$E2E_TMP/all.tsv"
cut -f 1 "$E2E_TMP/all.tsv" | sort -u >"$E2E_TMP/all.targets"
assert_eq "$(wc -l <"$E2E_TMP/all.targets" | tr -d ' ')" "$TOTAL" \
    "distinct targets of the unsharded scan"

# --- N = 1, 3, 7: a partition of the same results ---------------------------

for n in 1 3 7; do
	: >"$E2E_TMP/union.tsv"
	k=1
	sum=0
	while [ $k -le $n ]; do
		run_pulse scan -q -f json --shard "$k/$n" -t "$f"
		assert_document "$OUT"
		down=$(jqr "$OUT" .counts.down)
		kept=$(jqr "$OUT" .counts.total)
		[ "$kept" -gt 0 ] || fail "shard $k/$n kept nothing of $TOTAL"
		if [ "$down" -gt 0 ]; then
			assert_rc 1 "shard $k/$n, $down down"
		else
			assert_rc 0 "shard $k/$n, all up"
		fi
		summary "$OUT" >"$E2E_TMP/shard.tsv"
		cat "$E2E_TMP/shard.tsv" >>"$E2E_TMP/union.tsv"
		cut -f 1 "$E2E_TMP/shard.tsv" >"$E2E_TMP/shard.targets"
		run_pulse validate --shard "$k/$n" "$f"
		assert_rc 0 "validate --shard $k/$n"
		assert_eq "$(tail -n 1 "$OUT")" \
		    "$kept of $TOTAL targets in shard $k/$n" \
		    "validate counts shard $k/$n"
		listed >"$E2E_TMP/validate.targets"
		cmp -s "$E2E_TMP/validate.targets" "$E2E_TMP/shard.targets" ||
		    fail "shard $k/$n: validate and scan differ: $(diff \
			"$E2E_TMP/validate.targets" "$E2E_TMP/shard.targets" |
			head -n 5)"
		sum=$((sum + kept))
		k=$((k + 1))
	done
	assert_eq "$sum" "$TOTAL" "targets over the $n shards"
	sort "$E2E_TMP/union.tsv" >"$E2E_TMP/union.sorted"
	cmp -s "$E2E_TMP/union.sorted" "$E2E_TMP/all.tsv" ||
	    fail "the $n shards differ from the unsharded scan: $(diff \
		"$E2E_TMP/all.tsv" "$E2E_TMP/union.sorted" | head -n 5)"
	log "N=$n: $TOTAL targets, each in exactly one shard"
done

# --- the split depends on the targets alone ---------------------------------

# The file backwards: the duplicates now come first, under other names.
awk '{ l[NR] = $0 } END { for (i = NR; i > 0; i--) print l[i] }' "$f" \
    >"$E2E_TMP/reversed.txt"
for k in 1 2 3 4 5 6 7; do
	run_pulse validate --shard "$k/7" "$f"
	listed >"$E2E_TMP/a.targets"
	run_pulse validate --shard "$k/7" "$E2E_TMP/reversed.txt"
	assert_rc 0 "validate --shard $k/7 of the reversed file"
	listed >"$E2E_TMP/b.targets"
	cmp -s "$E2E_TMP/a.targets" "$E2E_TMP/b.targets" ||
	    fail "shard $k/7 changed with the order of the file"
done

# Half the file as arguments instead, one worker: the same shard.
run_pulse scan -q -f json --shard 2/3 -t "$f"
targets_of "$OUT" | sort >"$E2E_TMP/a.targets"
head -n 40 "$f" >"$E2E_TMP/head.txt"
set --
while IFS= read -r line; do
	set -- "$@" "$line"
done <<EOF
$(sed '1,40d' "$f")
EOF
run_pulse scan -q -f json --shard 2/3 --workers 1 -t "$E2E_TMP/head.txt" "$@"
assert_document "$OUT"
targets_of "$OUT" | sort >"$E2E_TMP/b.targets"
cmp -s "$E2E_TMP/a.targets" "$E2E_TMP/b.targets" ||
    fail "shard 2/3 changed with arguments and --workers 1: $(diff \
	"$E2E_TMP/a.targets" "$E2E_TMP/b.targets" | head -n 5)"
set --

# --- a shard that keeps nothing ---------------------------------------------

one=tcp://$(nth 1 $ACCEPT)
empty=0
for k in 1 2 3; do
	run_pulse scan -f json --shard "$k/3" "$one"
	if [ "$(jqr "$OUT" .counts.total)" = 1 ]; then
		assert_rc 0 "shard $k/3 with the one target"
		assert_eq "$(targets_of "$OUT")" "$one" "the one target"
		continue
	fi
	empty=$((empty + 1))
	assert_rc 0 "shard $k/3 that keeps no target"
	assert_jq "$OUT" '.results == [] and .counts == {total: 0, up: 0,
	    down: 0, cancelled: 0}' "empty report of shard $k/3"
	assert_contains "$ERR" "shard $k/3 keeps none of the 1 target" \
	    "warning of an empty shard"
done
assert_eq "$empty" 2 "shards of 3 without the one target"

# --- errors ------------------------------------------------------------------

cp "$f" "$E2E_TMP/bad.txt"
printf '127.0.0.1:99999\n' >>"$E2E_TMP/bad.txt"
bad_line=$(wc -l <"$E2E_TMP/bad.txt" | tr -d ' ')
for k in 1 2 3; do
	run_pulse scan -q -f json --shard "$k/3" -t "$E2E_TMP/bad.txt"
	assert_usage_error "scan --shard $k/3 of a file with a bad line"
	assert_contains "$ERR" "bad.txt:$bad_line:" "bad line in shard $k/3"
	run_pulse validate -q --shard "$k/3" "$E2E_TMP/bad.txt"
	assert_rc 2 "validate --shard $k/3 of a file with a bad line"
	assert_contains "$ERR" "bad.txt:$bad_line:" "validate, shard $k/3"
done

for spec in 0/3 4/3 1/0 1/4097 3 /3 1/ +1/3 1/3x abc/2 auto/0 ''; do
	run_pulse scan --shard "$spec" "$one"
	assert_usage_error "scan --shard '$spec'"
	assert_contains "$ERR" "--shard: " "scan --shard '$spec' message"
	run_pulse validate --shard "$spec" "$f"
	assert_usage_error "validate --shard '$spec'"
	assert_contains "$ERR" "--shard: " "validate --shard '$spec' message"
	run_pulse serve --shard "$spec" -t "$f" --listen 127.0.0.1:1
	assert_usage_error "serve --shard '$spec'"
	assert_contains "$ERR" "--shard: " "serve --shard '$spec' message"
done
run_pulse validate --shard 4/3 "$f"
assert_contains "$ERR" "the shard K must be a number 1..3" "K out of range"
run_pulse validate --shard 1/4097 "$f"
assert_contains "$ERR" "the count N must be a number 1..4096" \
    "N out of range"

# --- auto/N: the ordinal of the host name -----------------------------------

# run_host NAME ARGS: pulse ARGS with the host name NAME, in a UTS
# namespace of its own (the machine's name is untouched).
run_host() {
	_h=$1
	shift
	RC=0
	timeout -k 5 30 unshare -u sh -c 'hostname "$1" && shift && exec "$@"' \
	    sh "$_h" "$PULSE" "$@" >"$OUT" 2>"$ERR" || RC=$?
	check_sanitizers
}

if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
    unshare -u true 2>/dev/null; then
	for ord in 0 1 2; do
		run_pulse validate --shard "$((ord + 1))/3" "$f"
		cp "$OUT" "$E2E_TMP/want.out"
		run_host "pulse-$ord" validate --shard auto/3 "$f"
		assert_rc 0 "auto/3 as pulse-$ord"
		cmp -s "$OUT" "$E2E_TMP/want.out" ||
		    fail "auto/3 as pulse-$ord is not shard $((ord + 1))/3"
	done
	run_host pulse-1.pulse.monitoring.svc.cluster.local validate \
	    --shard auto/3 "$f"
	assert_rc 0 "auto/3 with a full name"
	assert_contains "$OUT" "in shard 2/3" "a full name's ordinal"
	run_host pulse-3 validate --shard auto/3 "$f"
	assert_usage_error "auto/3 as pulse-3"
	assert_contains "$ERR" "host name 'pulse-3' has ordinal 3" \
	    "ordinal past the shards"
	run_host prober validate --shard auto/3 "$f"
	assert_usage_error "auto/3 as prober"
	assert_contains "$ERR" "host name 'prober' does not end in -ORDINAL" \
	    "no ordinal"
	run_host pulse-2 scan -q -f json --shard auto/3 -t "$f"
	targets_of "$OUT" | sort >"$E2E_TMP/b.targets"
	run_pulse scan -q -f json --shard 3/3 -t "$f"
	targets_of "$OUT" | sort >"$E2E_TMP/a.targets"
	cmp -s "$E2E_TMP/a.targets" "$E2E_TMP/b.targets" ||
	    fail "scan --shard auto/3 as pulse-2 is not shard 3/3"
else
	log "no UTS namespace to name the host in: auto/N not tested"
fi

# --- serve --------------------------------------------------------------------

if ! command -v curl >/dev/null 2>&1; then
	log "curl is not installed: serve --shard not tested"
	log "ok"
	exit 0
fi
. "$E2E_SERVE_LIB"

# scraped_targets: the targets of pulse_probes_total in SCRAPE, sorted.
scraped_targets() {
	sed -n 's/^pulse_probes_total{target="\([^"]*\)".*result="success".*/\1/p' \
	    "$SCRAPE" | sort
}

s=$E2E_TMP/serve.txt
cp "$f" "$s"
run_pulse validate --shard 2/3 "$s"
listed >"$E2E_TMP/want.targets"
want=$(wc -l <"$E2E_TMP/want.targets" | tr -d ' ')
start_serve -t "$s" --shard 2/3 --interval 1m
scrape
assert_families "$SCRAPE"
assert_metric 1 pulse_shard 'index="2"' 'count="3"'
assert_eq "$(samples pulse_shard)" 1 "one pulse_shard sample"
assert_metric "$want" pulse_targets
scraped_targets >"$E2E_TMP/got.targets"
cmp -s "$E2E_TMP/want.targets" "$E2E_TMP/got.targets" ||
    fail "serve --shard 2/3 serves other targets: $(diff \
	"$E2E_TMP/want.targets" "$E2E_TMP/got.targets" | head -n 5)"

# A reload re-applies the shard to the new file.
sed '1,30d' "$f" >"$s.new"
mv "$s.new" "$s"
run_pulse validate --shard 2/3 "$s"
listed >"$E2E_TMP/want.targets"
want2=$(wc -l <"$E2E_TMP/want.targets" | tr -d ' ')
[ "$want2" -lt "$want" ] || fail "the new file drops none of shard 2/3"
kill -HUP "$SERVE_PID"
wait_for 10 metric_is 1 pulse_config_reloads_total 'result="success"' ||
    fail "the reload did not succeed"
assert_metric "$want2" pulse_targets
assert_metric 1 pulse_shard 'index="2"' 'count="3"'
scraped_targets >"$E2E_TMP/got.targets"
cmp -s "$E2E_TMP/want.targets" "$E2E_TMP/got.targets" ||
    fail "after the reload, serve --shard 2/3 serves other targets: $(diff \
	"$E2E_TMP/want.targets" "$E2E_TMP/got.targets" | head -n 5)"
stop_serve
assert_rc 0 "serve --shard 2/3 stopped"
assert_contains "$SERVE_LOG" "shard 2/3 keeps $want of $TOTAL targets" \
    "the log says what the shard keeps"

# A shard with nothing to probe serves; without --shard, no pulse_shard.
printf '%s\n' "$one" >"$s"
for k in 1 2 3; do
	run_pulse validate --shard "$k/3" "$s"
	[ "$(tail -n 1 "$OUT")" = "0 of 1 target in shard $k/3" ] && break
done
start_serve -t "$s" --shard "$k/3"
scrape
assert_metric 0 pulse_targets
assert_metric 1 pulse_shard "index=\"$k\"" 'count="3"'
assert_http GET /-/ready 200
stop_serve
assert_rc 0 "serve of an empty shard stopped"
start_serve -t "$s"
scrape
assert_eq "$(samples pulse_shard)" 0 "pulse_shard without --shard"
assert_metric 1 pulse_targets
stop_serve

log "ok"
