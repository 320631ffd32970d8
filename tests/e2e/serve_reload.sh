#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# Reloading the targets of pulse serve: SIGHUP with a broken file keeps
# the old targets (still probed, the error logged with FILE:LINE, the
# failure counted); with a good file a target is added and one removed
# while an unchanged target keeps its counters and state; POST /-/reload
# (with --enable-reload) does the same and answers with the error; a YAML
# file reloads too.
. "$E2E_LIB"
. "$E2E_SERVE_LIB"

start_fixture --accept 4 --refuse 1
A1=$(nth 1 $ACCEPT)
A2=$(nth 2 $ACCEPT)
A3=$(nth 3 $ACCEPT)
A4=$(nth 4 $ACCEPT)
R=$(nth 1 $REFUSE)
T1="target=\"tcp://$A1\""
T2="target=\"tcp://$A2\""
T3="target=\"tcp://$A3\""
T4="target=\"tcp://$A4\""
TR="target=\"tcp://$R\""

# The unchanged target's successes so far.
ok_of() {
	metric pulse_probes_total "$1" 'result="success"'
}

# replace FILE: the new content (on stdin) in place of FILE, at once.
replace() {
	cat >"$1.new"
	mv "$1.new" "$1"
}

# reloaded RESULT N: scrape, and N reloads ended in RESULT.
reloaded() {
	metric_is "$2" pulse_config_reloads_total "result=\"$1\""
}

# --- SIGHUP -------------------------------------------------------------------

f=$E2E_TMP/targets.txt
printf '%s name=stays\n%s name=goes\n' "$A1" "$A2" | replace "$f"
start_serve -t "$f" --interval 1s
T_START=$SERVE_T0
# Some history first: the unchanged target counts five successes.
wait_for 10 metric_at_least 5 pulse_probes_total "$T1" 'result="success"' ||
    fail "stays: not five successes in 10 s"
assert_metric 1 probe_success "$T2"
assert_metric 2 pulse_targets

# A broken file (line 3): kept the old targets, logged, counted.
printf '%s name=stays\n%s name=new\n127.0.0.1:0\n' "$A1" "$A3" | replace "$f"
kill -HUP "$SERVE_PID"
wait_for 5 reloaded failure 1 || fail "the failed reload is not counted"
assert_metric 0 pulse_config_reloads_total 'result="success"'
assert_metric 0 pulse_config_last_reload_successful
assert_metric 2 pulse_targets
assert_metric 1 probe_success "$T2"
assert_eq "$(samples probe_success "$T3")" 0 "the broken file added nothing"
errline=$(grep -F "$f:3:" "$SERVE_LOG" || true)
[ -n "$errline" ] || fail "the log does not name $f:3"
assert_eq "$(printf '%s\n' "$errline" | wc -l | tr -d ' ')" 1 \
    "one line names $f:3"
case $errline in
*' level=error '*) ;;
*) fail "the error of the reload is not level=error: $errline" ;;
esac
assert_logfmt
# Both old targets are still probed, not just shown.
ok=$(ok_of "$T1")
ok2=$(ok_of "$T2")
wait_for 5 metric_at_least $((ok2 + 2)) pulse_probes_total "$T2" \
    'result="success"' || fail "goes: no longer probed after a bad reload"
[ "$(ok_of "$T1")" -ge $((ok + 1)) ] ||
    fail "stays: no longer probed after a bad reload"

# A good file: "new" added, "goes" removed, "stays" unchanged, "closed"
# added (refused).
printf '%s name=stays\n%s name=new\n%s name=closed\n' "$A1" "$A3" "$R" |
    replace "$f"
scrape
before=$(ok_of "$T1")
t_hup=$(date +%s)
kill -HUP "$SERVE_PID"
wait_for 5 reloaded success 1 || fail "the reload is not counted"
assert_metric 1 pulse_config_reloads_total 'result="failure"'
assert_metric 1 pulse_config_last_reload_successful
ts=$(metric pulse_config_last_reload_success_timestamp_seconds)
awk -v ts="$ts" -v lo=$((t_hup - 1)) -v hi=$(($(date +%s) + 1)) \
    'BEGIN { exit !(ts + 0 >= lo && ts + 0 <= hi) }' ||
    fail "last reload success timestamp $ts is not the reload ($t_hup)"
assert_metric 3 pulse_targets
# The removed target's series are gone at once.
for fam in probe_success probe_duration_seconds pulse_probes_total; do
	assert_eq "$(samples $fam "$T2")" 0 "$fam of the removed target"
done
# Not reset: counted on from where it was.
after=$(ok_of "$T1")
assert_le "$before" "$after" "stays: successes across the reload"
new_up() {
	metric_is 1 probe_success "$T3"
}
wait_for 3 new_up || fail "the new target is not up within 3 s"
wait_for 3 metric_is 0 probe_success "$TR" ||
    fail "the refused target is not down within 3 s"
wait_for 5 metric_at_least $((after + 2)) pulse_probes_total "$T1" \
    'result="success"' || fail "stays: not probed after the reload"
assert_metric 0 pulse_schedule_skipped_total
# Its state was kept: up once, never again.
assert_eq "$(log_count 'target up' "target=tcp://$A1")" 1 \
    "stays: 'target up' once, not again after the reloads"
assert_eq "$(log_count 'target up' "target=tcp://$A3")" 1 \
    "new: 'target up' once"
assert_eq "$(log_count 'target down' "target=tcp://$R")" 1 \
    "closed: 'target down' once"
assert_logfmt

# The file gone: a failure, and nothing changes.
mv "$f" "$f.away"
kill -HUP "$SERVE_PID"
wait_for 5 reloaded failure 2 || fail "reload of a missing file not counted"
assert_metric 0 pulse_config_last_reload_successful
assert_metric 3 pulse_targets
assert_metric 1 probe_success "$T3"
grep -qF "$f" "$SERVE_LOG" || fail "the missing file is not named in the log"
stop_serve TERM
assert_rc 0 "SIGTERM after reloads"

# --- POST /-/reload -------------------------------------------------------------

printf '%s name=stays\n' "$A1" | replace "$f"
start_serve -t "$f" --interval 1s --enable-reload
wait_for 5 metric_at_least 2 pulse_probes_total "$T1" 'result="success"' ||
    fail "reload endpoint: stays not probed"
printf '%s name=stays\n%s name=added\n' "$A1" "$A4" | replace "$f"
assert_http POST /-/reload 200
assert_body 'Reloaded\n' "POST /-/reload"
# /metrics may be a page rendered up to a moment before.
wait_for 1 reloaded success 1 || fail "reload endpoint: not counted"
assert_metric 2 pulse_targets
wait_for 3 metric_is 1 probe_success "$T4" ||
    fail "reload endpoint: the added target is not up within 3 s"

printf '%s name=stays\n%s bogus=1\n' "$A1" "$A4" | replace "$f"
assert_http POST /-/reload 500
assert_contains "$HTTP_BODY" "$f:2:" "the 500 names the bad line"
wait_for 1 reloaded failure 1 || fail "reload endpoint: failure not counted"
assert_metric 0 pulse_config_last_reload_successful
assert_metric 2 pulse_targets
assert_metric 1 probe_success "$T4"
# SIGHUP still works beside it.
printf '%s name=stays\n' "$A1" | replace "$f"
kill -HUP "$SERVE_PID"
wait_for 5 reloaded success 2 || fail "SIGHUP with --enable-reload"
assert_metric 1 pulse_targets
stop_serve TERM
assert_rc 0 "SIGTERM after POST /-/reload"

# --- YAML -----------------------------------------------------------------------

y=$E2E_TMP/targets.yaml
cat <<EOF | replace "$y"
defaults:
  interval: 1s
  labels: {env: test}
targets:
  - {target: "$A1", name: stays}
  - {target: "$A2", name: goes}
EOF
start_serve -t "$y"
wait_for 10 metric_at_least 3 pulse_probes_total "$T1" 'result="success"' ||
    fail "yaml: stays not probed every second"
assert_contains "$SCRAPE" \
    "probe_success{target=\"tcp://$A1\",kind=\"tcp\",name=\"stays\",env=\"test\"} 1" \
    "yaml: the label of defaults"
# Broken: an unclosed flow mapping on line 6.
cat <<EOF | replace "$y"
defaults:
  interval: 1s
  labels: {env: test}
targets:
  - {target: "$A1", name: stays}
  - {target: "$A3", name: new
EOF
kill -HUP "$SERVE_PID"
wait_for 5 reloaded failure 1 || fail "yaml: the failed reload not counted"
grep -F "$y:" "$SERVE_LOG" | grep -qE ':[0-9]+:' ||
    fail "yaml: the log does not name $y:LINE"
assert_metric 2 pulse_targets
assert_metric 1 probe_success "$T2"
cat <<EOF | replace "$y"
defaults:
  interval: 1s
  labels: {env: test}
targets:
  - {target: "$A1", name: stays}
  - {target: "$A3", name: new, labels: {tier: db}}
EOF
before=$(ok_of "$T1")
kill -HUP "$SERVE_PID"
wait_for 5 reloaded success 1 || fail "yaml: the reload not counted"
assert_metric 2 pulse_targets
assert_eq "$(samples probe_success "$T2")" 0 "yaml: goes is gone"
assert_le "$before" "$(ok_of "$T1")" "yaml: stays not reset"
wait_for 3 metric_is 1 probe_success "$T3" 'tier="db"' 'env="test"' ||
    fail "yaml: the new target is not up with its labels within 3 s"
stop_serve TERM
assert_rc 0 "SIGTERM after YAML reloads"

log "ok"
