#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# Every output format on a real scan of the same targets (a TCP port that
# accepts and one that refuses, ICMP to 127.0.0.1, an HTTP server; names
# and labels that need escaping): Prometheus text that promtool finds
# nothing wrong with, YAML that reads back as the JSON's data, JSON lines
# of one result each, and a table without colour when not on a terminal.
# Skips (77) at the end, after every other check, when promtool or
# python3's yaml module is missing.
. "$E2E_LIB"
. "$E2E_HTTP_LIB"

start_fixture --accept 1 --refuse 1
A=$(nth 1 $ACCEPT)
R=$(nth 1 $REFUSE)
start_http_fixture

f=$E2E_TMP/targets.txt
cat >"$f" <<EOF
$A name=accept label.team=ops label.note='say "hi" \\ café'
tcp://$R name=refuse
icmp://127.0.0.1 count=2 interval=10ms name=loopback
http://$HF_OK/ name="web \"front\" \\\\ end" label.team=web match='hello pulse ok'
EOF
NTARGETS=4
missing=

# --- JSON, the reference ------------------------------------------------------

run_pulse scan --workers 2 --timeout 2s -f json -t "$f"
assert_rc 1 "a scan with a refused port"
assert_document "$OUT"
cp "$OUT" "$E2E_TMP/scan.json"
UP=$(jqr "$OUT" .counts.up)
DOWN=$(jqr "$OUT" .counts.down)
assert_eq "$(jqr "$OUT" '[.results[].name] | join("|")')" \
    'accept|refuse|loopback|web "front" \ end' "names, in input order"
assert_eq "$(jqr "$OUT" '.results[0].labels | tojson')" \
    '{"note":"say \"hi\" \\ café","team":"ops"}' "labels of accept"
assert_eq "$(jqr "$OUT" '.results[1].reason')" refused "refuse: reason"
assert_eq "$(jqr "$OUT" '.results[3].success')" true "web is up"

# --- Prometheus ---------------------------------------------------------------

run_pulse scan --workers 2 --timeout 2s -f prometheus -t "$f"
assert_rc 1 "prometheus: a scan with a refused port"
prom=$E2E_TMP/scan.prom
cp "$OUT" "$prom"
assert_contains "$prom" \
    "probe_success{target=\"tcp://$A\",kind=\"tcp\",name=\"accept\",note=\"say \\\"hi\\\" \\\\ café\",team=\"ops\"} 1" \
    "probe_success of accept, its labels escaped"
assert_contains "$prom" \
    "probe_failure_reason{target=\"tcp://$R\",kind=\"tcp\",name=\"refuse\",reason=\"refused\"} 1" \
    "the reason refuse failed"
assert_contains "$prom" \
    "probe_http_status_code{target=\"http://$HF_OK/\",kind=\"http\",name=\"web \\\"front\\\" \\\\ end\",team=\"web\"} 200" \
    "the status code of web, its name escaped"
assert_contains "$prom" \
    "probe_failed_due_to_regex{target=\"http://$HF_OK/\",kind=\"http\",name=\"web \\\"front\\\" \\\\ end\",team=\"web\"} 0" \
    "web's body matched"
assert_contains "$prom" 'probe_success{target="icmp://127.0.0.1",kind="icmp",name="loopback"} ' \
    "loopback has a probe_success"
assert_contains "$prom" "pulse_scan_targets{state=\"up\"} $UP" "scan: up"
assert_contains "$prom" "pulse_scan_targets{state=\"down\"} $DOWN" \
    "scan: down"
assert_count "$prom" "probe_success{" $NTARGETS "one probe_success a target"
# Each family once, its samples right under its HELP and TYPE.
bad=$(awk '
	/^# HELP / { fam = $3; if (seen[fam]++) print "twice: " fam; next }
	/^# TYPE / { if ($3 != fam || $4 != "gauge") print "TYPE: " $0; next }
	{ n = $0; sub(/[{ ].*/, "", n); if (n != fam) print "stray: " $0 }
' "$prom")
[ -z "$bad" ] || fail "families interleave: $bad"

# --- YAML ---------------------------------------------------------------------

run_pulse scan --workers 2 --timeout 2s -f yaml -t "$f"
assert_rc 1 "yaml: a scan with a refused port"
cp "$OUT" "$E2E_TMP/scan.yaml"
assert_contains "$OUT" '  name: "web \"front\" \\ end"' \
    "a name in double quotes, escaped"

# --- JSON lines ---------------------------------------------------------------

run_pulse scan --workers 2 --timeout 2s -f jsonl -t "$f"
assert_rc 1 "jsonl: a scan with a refused port"
assert_eq "$(wc -l <"$OUT" | tr -d ' ')" $NTARGETS "jsonl: one line a target"
n=0
while IFS= read -r line; do
	n=$((n + 1))
	printf '%s\n' "$line" | jq -e 'type == "object" and has("target") and
	    has("success")' >/dev/null 2>&1 ||
	    fail "jsonl line $n is not one result object: $line"
done <"$OUT"
# Streamed as results arrive: any order, each target once.
assert_eq "$(jq -r .name "$OUT" | sort | tr '\n' '|')" \
    "$(jqr "$E2E_TMP/scan.json" '.results[].name' | sort | tr '\n' '|')" \
    "jsonl: every target once"
assert_eq "$(jq -c 'select(.name == "refuse") | {reason, success}' "$OUT")" \
    '{"reason":"refused","success":false}' "jsonl: refuse"

# --- table --------------------------------------------------------------------

run_pulse scan --workers 2 --timeout 2s -f table -t "$f"
assert_rc 1 "table: a scan with a refused port"
assert_eq "$(wc -l <"$OUT" | tr -d ' ')" $((NTARGETS + 2)) \
    "table: a header, a row a target, a summary"
head -n 1 "$OUT" | grep -Eq '^STATE +NAME +KIND +TIME +DETAIL$' ||
    fail "table: header is '$(head -n 1 "$OUT")'"
tail -n 1 "$OUT" | grep -Eq "^$NTARGETS targets: $UP up, $DOWN down, 0 cancelled in [0-9]+\.[0-9]{2} s$" ||
    fail "table: summary is '$(tail -n 1 "$OUT")'"
grep -Eq '^DOWN +refuse +tcp +[0-9]+\.[0-9] ms +refused: ' "$OUT" ||
    fail "table: no row for refuse"
grep -Eq '^UP +web "front" \\ end +http +[0-9]+\.[0-9] ms +200 HTTP/1\.1, 14 B$' \
    "$OUT" || fail "table: no row for web"
! grep -q "$(printf '\033')" "$OUT" || fail "table: ANSI escapes in a pipe"

# --- YAML against JSON --------------------------------------------------------

if command -v python3 >/dev/null 2>&1 &&
    python3 -c 'import yaml' >/dev/null 2>&1; then
	# Timings differ from one scan to the next: every *_seconds and the
	# start time are left out, and so is everything else that moves.
	python3 - "$E2E_TMP/scan.json" "$E2E_TMP/scan.yaml" \
	    >"$E2E_TMP/compare.out" 2>&1 <<'EOF' ||
import json
import sys

import yaml


def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items()
                if not k.endswith("_seconds") and k != "started"}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


def keys(v, path=""):
    """Every key path, in document order."""
    if isinstance(v, dict):
        for k, x in v.items():
            yield path + "/" + k
            yield from keys(x, path + "/" + k)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from keys(x, "%s[%d]" % (path, i))


with open(sys.argv[1], encoding="utf-8") as f:
    j = json.load(f)
with open(sys.argv[2], encoding="utf-8") as f:
    y = yaml.safe_load(f)
if list(keys(j)) != list(keys(y)):
    sys.exit("keys differ:\n json %s\n yaml %s" % (list(keys(j)),
                                                    list(keys(y))))
sj, sy = strip(j), strip(y)
if sj != sy:
    sys.exit("values differ:\n json %r\n yaml %r" % (sj, sy))
# The same types too: 1 and 1.0 and True compare equal in Python.
tj = json.dumps(sj, sort_keys=False)
ty = json.dumps(sy, sort_keys=False)
if tj != ty:
    sys.exit("types differ:\n json %s\n yaml %s" % (tj, ty))
EOF
	    fail "YAML is not the JSON's data: $(cat "$E2E_TMP/compare.out")"
else
	missing="$missing python3-yaml"
fi

# --- promtool -----------------------------------------------------------------

if command -v promtool >/dev/null 2>&1; then
	promtool check metrics <"$prom" >"$E2E_TMP/promtool.out" 2>&1 ||
	    fail "promtool check metrics failed: $(cat "$E2E_TMP/promtool.out")"
	assert_empty "$E2E_TMP/promtool.out" "promtool check metrics"
else
	missing="$missing promtool"
fi

[ -z "$missing" ] || skip "not installed:$missing (every other check passed)"
exit 0
