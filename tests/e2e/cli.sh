#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# The command line: help and version succeed, every misuse exits 2 with a
# message on stderr and probes nothing.
. "$E2E_LIB"

start_fixture --refuse 1
TARGET=$(nth 1 $REFUSE)

# --version and -V print "pulse VERSION" on one line and exit 0.
for opt in --version -V; do
	run_pulse $opt
	assert_rc 0 "pulse $opt"
	assert_eq "$(wc -l <"$OUT" | tr -d ' ')" 1 "lines printed by $opt"
	grep -qE '^pulse [0-9][^ ]*$' "$OUT" ||
	    fail "pulse $opt: expected 'pulse VERSION', got '$(cat "$OUT")'"
done

# --help and -h describe the commands and exit 0.
for opt in --help -h; do
	run_pulse $opt
	assert_rc 0 "pulse $opt"
	assert_contains "$OUT" scan "pulse $opt names the scan command"
done

# scan --help lists the options of scan and exits 0 without probing.
for opt in --help -h; do
	run_pulse scan $opt
	assert_rc 0 "pulse scan $opt"
	for o in --targets --workers --timeout --grace --format --output; do
		assert_contains "$OUT" "$o" "pulse scan $opt mentions $o"
	done
done

# No command, an unknown command, an unknown option.
run_pulse
assert_usage_error "pulse without a command"
run_pulse frobnicate
assert_usage_error "unknown command"
assert_contains "$ERR" frobnicate "unknown command is named"
run_pulse --frobnicate
assert_usage_error "unknown global option"
run_pulse scan --frobnicate "$TARGET"
assert_usage_error "unknown scan option"
run_pulse scan "$TARGET" --workers
assert_usage_error "--workers without a value"

# --workers must be a number in 1..4096.
for bad in 0 4097 abc -1 '' 1x 99999999999999999999; do
	run_pulse scan --workers "$bad" "$TARGET"
	assert_usage_error "--workers '$bad'"
done
run_pulse scan --workers=0 "$TARGET"
assert_usage_error "--workers=0"

# Durations need a unit and a value in range (timeout: 1ms..1h).
for bad in 5 abc 0 -1s 2h 999us 5x '' 1m30; do
	run_pulse scan --timeout "$bad" "$TARGET"
	assert_usage_error "--timeout '$bad'"
done
for bad in 5 abc -1s 5x; do
	run_pulse scan --grace "$bad" "$TARGET"
	assert_usage_error "--grace '$bad'"
done

# The formats are table, json, jsonl, yaml and prometheus, spelt so.
for bad in xml JSONX Table prom ''; do
	run_pulse scan --format "$bad" "$TARGET"
	assert_usage_error "--format '$bad'"
done

# At least one target is required.
run_pulse scan
assert_usage_error "scan without targets"
run_pulse scan -q -w 2
assert_usage_error "scan with options but no targets"

# The valid spellings of the same options are accepted: the scan runs and
# reports the refused target down (exit 1).
for args in "-w 1" "--workers=4096 --workers 2" "--timeout 500ms" \
    "--timeout 1m30s" "--timeout 1.5s" "--timeout 1h" "--timeout 1ms" \
    "--grace 250ms" "-f json" "--format=json" "-q" "-v"; do
	# shellcheck disable=SC2086
	run_pulse scan $args "$TARGET"
	assert_rc 1 "pulse scan $args"
	assert_document "$OUT"
	# A 1 ms budget may run out first; the parse is what counts there.
	[ "$args" = "--timeout 1ms" ] ||
	    assert_jq "$OUT" '.results[0].reason == "refused"' "scan $args"
done
# The pool is never larger than the work: one target, one worker.
run_pulse scan -w 3 --timeout 1.5s "$TARGET"
assert_jq "$OUT" '.workers == 1' "workers used, at most one per target"
assert_jq "$OUT" '.results[0].timeout_seconds == 1.5' "--timeout reported"

log "ok"
