#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# YAML targets files: pulse validate on good and bad files (exit 0 and 2,
# FILE:LINE:COL messages), and scan --targets F.yaml and --config F giving
# the same results as the same targets in the line format.
. "$E2E_LIB"

start_fixture --accept 3 --refuse 2
A1=$(nth 1 $ACCEPT)
A2=$(nth 2 $ACCEPT)
A3=$(nth 3 $ACCEPT)
R1=$(nth 1 $REFUSE)
R2=$(nth 2 $REFUSE)

# --- the same targets in both formats ---------------------------------------

txt=$E2E_TMP/same.txt
{
	printf '%s name=web timeout=2s label.env=prod label.role=api\n' "$A1"
	printf 'tcp://%s timeout=1500ms label.env=prod label.tier=db\n' "$A2"
	printf '%s name="refused one" timeout=3s label.env=staging\n' "$R1"
	printf '%s timeout=3s label.env=prod\n' "$R2"
	printf '%s timeout=3s label.env=prod every=1m\n' "$A3"
} >"$txt"
yaml=$E2E_TMP/same.yaml
cat >"$yaml" <<EOF
# The targets of same.txt, with defaults and a module.
defaults:
  timeout: 3s
  labels: {env: prod}
modules:
  db:
    kind: tcp
    timeout: 1500ms
    labels:
      tier: db
targets:
  - target: $A1
    name: web
    timeout: 2s
    labels: {role: api}
  - {target: "tcp://$A2", module: db}
  - target: '$R1'
    name: refused one
    labels: {env: staging}
  - $R2
  - {target: $A3, every: 1m}
EOF
summary='[.counts, (.results[] | [.target, .name, .kind, .success, .reason,
    .timeout_seconds, .labels])]'

run_pulse scan -t "$txt"
assert_rc 1 "scan of the line format file"
assert_document "$OUT"
cp "$OUT" "$E2E_TMP/txt.json"
assert_jq "$OUT" '.counts == {total: 5, up: 3, down: 2, cancelled: 0}' \
    "line format counts"

run_pulse scan -t "$yaml"
assert_rc 1 "scan --targets F.yaml"
assert_document "$OUT"
assert_eq "$(jqr "$OUT" "$summary" -c)" \
    "$(jqr "$E2E_TMP/txt.json" "$summary" -c)" \
    "--targets F.yaml gives the results of the line format"
assert_eq "$(result "$OUT" "$(canon "$A1")" '.labels | tojson')" \
    '{"env":"prod","role":"api"}' "labels of defaults and the entry merge"
assert_eq "$(result "$OUT" "$(canon "$A2")" .timeout_seconds)" 1.5 \
    "the module's timeout wins over defaults"
assert_eq "$(result "$OUT" "$(canon "$R1")" .labels.env)" staging \
    "the entry's label wins over defaults"

# --config takes a YAML file whatever its name; --format yaml reads back.
conf=$E2E_TMP/targets.conf
cp "$yaml" "$conf"
run_pulse scan --config "$conf"
assert_rc 1 "scan --config F"
assert_document "$OUT"
assert_eq "$(jqr "$OUT" "$summary" -c)" \
    "$(jqr "$E2E_TMP/txt.json" "$summary" -c)" \
    "--config F gives the results of the line format"

# Upper case suffixes are YAML too; .yml as well.
cp "$yaml" "$E2E_TMP/SAME.YML"
run_pulse scan -q -t "$E2E_TMP/SAME.YML"
assert_rc 1 "scan --targets F.YML"
assert_eq "$(jqr "$OUT" "$summary" -c)" \
    "$(jqr "$E2E_TMP/txt.json" "$summary" -c)" "--targets F.YML"

# --- pulse validate: a good file --------------------------------------------

run_pulse validate "$yaml"
assert_rc 0 "validate a good YAML file"
assert_empty "$ERR" "validate a good YAML file: stderr"
{
	printf 'tcp   tcp://%s  name=web  timeout=2s  {env=prod, role=api}\n' \
	    "$A1"
	printf 'tcp   tcp://%s  name=tcp://%s  timeout=1500ms  ' "$A2" "$A2"
	printf '{env=prod, tier=db}\n'
	printf 'tcp   tcp://%s  name="refused one"  timeout=3s  ' "$R1"
	printf '{env=staging}\n'
	printf 'tcp   tcp://%s  name=%s  timeout=3s  {env=prod}\n' "$R2" "$R2"
	printf 'tcp   tcp://%s  name=%s  timeout=3s  every=1m  {env=prod}\n' \
	    "$A3" "$A3"
	printf '5 targets\n'
} >"$E2E_TMP/want"
assert_eq "$(cat "$OUT")" "$(cat "$E2E_TMP/want")" "validate output"

# The line format file validates to the same lines.
run_pulse validate "$txt"
assert_rc 0 "validate a good line format file"
assert_eq "$(cat "$OUT")" "$(cat "$E2E_TMP/want")" \
    "validate output of the line format"

run_pulse validate -q "$yaml"
assert_rc 0 "validate -q"
assert_empty "$OUT" "validate -q: stdout"
assert_empty "$ERR" "validate -q: stderr"

# A duplicate is a warning, not an error; -q hides it.
printf 'targets:\n  - %s\n  - tcp://%s\n' "$A1" "$A1" >"$E2E_TMP/dup.yaml"
run_pulse validate "$E2E_TMP/dup.yaml"
assert_rc 0 "validate a file with a duplicate"
assert_eq "$(cat "$ERR")" \
    "pulse: $E2E_TMP/dup.yaml:3: duplicate of line 2, ignored" \
    "duplicate warned about"
assert_eq "$(tail -n 1 "$OUT")" "1 target" "one target"
run_pulse validate -q "$E2E_TMP/dup.yaml"
assert_rc 0 "validate -q a file with a duplicate"
assert_empty "$ERR" "validate -q: no warning"

# --- pulse validate: bad files ----------------------------------------------

bad=$E2E_TMP/bad.yaml
cat >"$bad" <<EOF
defaults:
  timout: 5s
modules:
  web: {kind: http, count: 3}
targets:
  - $A1
  - {target: $A2, module: wbe}
  - {name: nothing}
  - "$A3 timeout=1s"
  - {target: $A3, timeout: 5}
EOF
run_pulse validate "$bad"
assert_rc 2 "validate a bad YAML file"
{
	echo "pulse: $bad:2:3: unknown key 'timout' (did you mean 'timeout'?)"
	echo "pulse: $bad:4:28: count= does not apply to http targets"
	echo "pulse: $bad:7:$((24 + ${#A2})): unknown module 'wbe'" \
	    "(did you mean 'web'?)"
	echo "pulse: $bad:8:5: missing 'target:'"
	echo "pulse: $bad:9:5: target '$A3 timeout=1s' holds a space:" \
	    "options are keys of the entry, not part of target:"
	echo "pulse: $bad:10:$((25 + ${#A3})): timeout=5: missing unit" \
	    "(e.g. 5s or 500ms)"
} >"$E2E_TMP/want"
assert_eq "$(cat "$ERR")" "$(cat "$E2E_TMP/want")" "errors of bad.yaml"
assert_eq "$(cat "$OUT")" \
    "$(printf 'tcp   tcp://%s  name=%s  timeout=5s\n1 target' "$A1" "$A1")" \
    "validate still shows the good targets"

run_pulse validate -q "$bad"
assert_rc 2 "validate -q a bad file"
assert_empty "$OUT" "validate -q a bad file: stdout"
assert_count "$ERR" "pulse: $bad:" 6 "validate -q: every error"

# scan refuses the same file without probing.
run_pulse scan -t "$bad"
assert_usage_error "scan --targets bad.yaml"
assert_contains "$ERR" "$bad:8:5: missing 'target:'" "scan reports errors"

# YAML syntax errors carry libyaml's words and place.
printf 'targets:\n  - [%s\n' "$A1" >"$E2E_TMP/syntax.yaml"
run_pulse validate "$E2E_TMP/syntax.yaml"
assert_rc 2 "validate a file that does not parse"
assert_contains "$ERR" "pulse: $E2E_TMP/syntax.yaml:3:1: did not find expected" \
    "syntax error with its place"

# An alias bomb is refused at its first anchor, quickly.
{
	echo 'a: &a ["x","x","x","x","x","x","x","x","x"]'
	i=1
	while [ $i -le 9 ]; do
		echo "b$i: &b$i [*a,*a,*a,*a,*a,*a,*a,*a,*a]"
		i=$((i + 1))
	done
	echo "targets: [*b9]"
} >"$E2E_TMP/bomb.yaml"
run_timed 5000 validate -q "$E2E_TMP/bomb.yaml"
assert_rc 2 "validate an alias bomb"
assert_contains "$ERR" \
    "bomb.yaml:1:4: anchors and aliases are not supported; use modules" \
    "alias bomb refused"

# A bad line format file: FILE:LINE, exit 2.
printf '%s\n127.0.0.1:0\n' "$A1" >"$E2E_TMP/bad.txt"
run_pulse validate "$E2E_TMP/bad.txt"
assert_rc 2 "validate a bad line format file"
assert_eq "$(cat "$ERR")" \
    "pulse: $E2E_TMP/bad.txt:2: invalid port '0': 1..65535" \
    "line format error"

# No target at all is an error too.
printf '# nothing\ntargets: []\n' >"$E2E_TMP/empty.yaml"
run_pulse validate "$E2E_TMP/empty.yaml"
assert_rc 2 "validate a file without targets"
assert_eq "$(cat "$ERR")" "pulse: $E2E_TMP/empty.yaml: no targets" \
    "no targets"
assert_eq "$(cat "$OUT")" "0 targets" "validate counts none"

run_pulse validate "$E2E_TMP/missing.yaml"
assert_rc 2 "validate a missing file"
assert_eq "$(cat "$ERR")" \
    "pulse: $E2E_TMP/missing.yaml: No such file or directory" "missing file"

# --- usage --------------------------------------------------------------------

run_pulse validate
assert_usage_error "validate without a file"
run_pulse validate "$yaml" "$txt"
assert_usage_error "validate with two files"
run_pulse validate --bogus "$yaml"
assert_usage_error "validate --bogus"
run_pulse validate -h
assert_rc 0 "validate -h"
assert_contains "$OUT" "usage: pulse validate" "validate -h prints usage"
assert_empty "$ERR" "validate -h: stderr"

# --- the shipped examples ---------------------------------------------------

if [ -n "${EXAMPLES:-}" ] && [ -r "$EXAMPLES/targets.yaml" ]; then
	run_pulse validate "$EXAMPLES/targets.yaml"
	assert_rc 0 "validate examples/targets.yaml"
	assert_empty "$ERR" "examples/targets.yaml: stderr"
	run_pulse validate "$EXAMPLES/targets.txt"
	assert_rc 0 "validate examples/targets.txt"
	run_pulse scan -q --timeout 2s -t "$EXAMPLES/targets.yaml"
	case $RC in
	0 | 1) ;;
	*) fail "examples/targets.yaml: exit status $RC" ;;
	esac
	assert_document "$OUT"
	assert_jq "$OUT" '.counts.total > 0 and ([.results[] |
	    select(.host == "127.0.0.1" or .host == "::1" or
	    .host == "localhost")] | length) == .counts.total' \
	    "example targets stay local"
fi

log "ok"
