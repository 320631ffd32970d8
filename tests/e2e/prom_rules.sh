#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# The Prometheus and Grafana files of contrib/: promtool takes
# prometheus.yml and pulse-rules.yml, and the unit tests of
# pulse-rules.test.yml, which make every alert fire and stay quiet, pass.
# Then a real pulse serve on loopback, with TCP, ICMP, HTTP and HTTPS
# targets up and down and /probe on: every metric that the rules and the
# dashboard name is on its /metrics page, with the labels and values they
# match on; promtool finds nothing to lint on the page or on an answer of
# /probe; and, where prometheus is installed, a real Prometheus that
# scrapes it evaluates every rule without error and has exactly the
# alerts the targets call for pending.  Skips (77) without promtool or
# openssl.
. "$E2E_LIB"
. "$E2E_SERVE_LIB"
. "$E2E_HTTP_LIB"

CONTRIB=$(cd "$(dirname "$E2E_LIB")/../../contrib" && pwd)
RULES=$CONTRIB/prometheus/pulse-rules.yml
DASHBOARD=$CONTRIB/grafana/pulse-dashboard.json

PROMTOOL=${PROMTOOL:-$(command -v promtool 2>/dev/null || true)}
if [ -z "$PROMTOOL" ] || [ ! -x "$PROMTOOL" ]; then
	skip "promtool is not installed"
fi
need_openssl

# promtool_ok WHAT ARGS...: promtool ARGS exits 0.
promtool_ok() {
	_what=$1
	shift
	"$PROMTOOL" "$@" >"$E2E_TMP/promtool.out" 2>&1 ||
	    fail "$_what: $(head -c 3000 "$E2E_TMP/promtool.out")"
}

# --- the files as promtool sees them ----------------------------------------

promtool_ok "promtool check rules" check rules "$RULES"
promtool_ok "promtool check config" check config \
    "$CONTRIB/prometheus/prometheus.yml"
assert_contains "$E2E_TMP/promtool.out" "SUCCESS: 1 rule files found" \
    "prometheus.yml loads pulse-rules.yml"
promtool_ok "promtool test rules" test rules \
    "$CONTRIB/prometheus/pulse-rules.test.yml"

# Every alert has a test in which it fires and one in which it does not.
alerts=$(sed -n 's/^ *- alert: *//p' "$RULES")
[ -n "$alerts" ] || fail "no alert in pulse-rules.yml"
untested=$(awk -v alerts="$alerts" '
	/alertname:/ { a = $2 }
	/exp_alerts: *\[\]/ { quiet[a] = 1; next }
	/exp_alerts:/ { fires[a] = 1 }
	END {
		n = split(alerts, l, "\n")
		for (i = 1; i <= n; i++) {
			if (!fires[l[i]]) print l[i] " never fires"
			if (!quiet[l[i]]) print l[i] " is never quiet"
		}
	}' "$CONTRIB/prometheus/pulse-rules.test.yml")
[ -z "$untested" ] || fail "pulse-rules.test.yml: $untested"

# --- the dashboard as Grafana reads it --------------------------------------

jq -e . "$DASHBOARD" >/dev/null 2>&1 || fail "pulse-dashboard.json is not JSON"
assert_jq "$DASHBOARD" '.schemaVersion == 39 and .uid == "pulse-overview"' \
    "dashboard schema version and uid"
assert_jq "$DASHBOARD" '[.templating.list[] | select(.type == "datasource" and
    .name == "DS_PROMETHEUS" and .query == "prometheus")] | length == 1' \
    "the DS_PROMETHEUS data source variable"
assert_jq "$DASHBOARD" '[.templating.list[] | select(.type == "query") |
    .name] == ["job", "instance", "kind", "name"]' "template variables"
assert_jq "$DASHBOARD" '[.panels[].id] | length == (unique | length)' \
    "panel ids are unique"
assert_jq "$DASHBOARD" '[.panels[] | select(.type != "row") |
    select((.targets | length) == 0 or
    ([.datasource, .targets[].datasource][] |
    .uid != "${DS_PROMETHEUS}") or any(.targets[]; (.expr | length) == 0))] |
    length == 0' "every panel queries \${DS_PROMETHEUS}"

# --- PromQL: the metrics, labels and values it names ------------------------

# Each expression of the rules, then of the dashboard, ends with a line
# holding the record separator.
RS=$(printf '\036')
exprs=$E2E_TMP/exprs
awk -v rs="$RS" '
	function close_block() { if (block) print rs; block = 0 }
	/^[ \t]*expr:/ {
		close_block()
		ind = match($0, /[^ ]/)
		sub(/^[ \t]*expr:[ \t]*/, "")
		if ($0 ~ /^[|>][-+]?$/) { block = 1; bind = ind; next }
		print; print rs; next
	}
	block {
		m = match($0, /[^ ]/)
		if (m == 0 || m > bind) { print; next }
		close_block()
	}
	END { close_block() }' "$RULES" >"$exprs"
rule_exprs=$(grep -c "$RS" "$exprs")
jq -r '(.panels[].targets[]?.expr), (.templating.list[] |
    select(.type == "query") | .query.query) | ., "\u001e"' "$DASHBOARD" \
    >>"$exprs"
log "$rule_exprs expressions in the rules," \
    "$(($(grep -c "$RS" "$exprs") - rule_exprs)) in the dashboard"

# One line per use: "M name", "L name label op value" (a matcher) or
# "G label" (a label grouped on or asked for).  The names of recording
# rules and Prometheus' own series are left out.
records=$(sed -n 's/^ *- record: *//p' "$RULES" | tr '\n' ' ')
uses=$E2E_TMP/uses
jq -Rrs --arg records "$records" '
	def str: "\"(?:\\\\.|[^\"\\\\])*\"";
	def ident: "[a-zA-Z_][a-zA-Z0-9_]*";
	def metric: "[a-zA-Z_:][a-zA-Z0-9_:]*";
	def grouping: "\\b(?:by|without|on|ignoring|group_left|group_right)" +
	    "\\s*\\(([^)]*)\\)";
	def own($n): ($records | split(" ") | index([$n]) | not) and
	    ($n | IN("up", "scrape_duration_seconds") | not);
	def matchers($m): scan("(" + ident + ")\\s*(=~|!~|!=|=)\\s*(" +
	    str + ")") | "L \($m) \(.[0]) \(.[1]) \(.[2] | fromjson)";
	def keyword: IN("and", "or", "unless", "bool", "offset", "inf", "nan",
	    "Inf", "NaN");
	split("\u001e")[] | select(test("\\S")) |
	# label_values(SELECTOR, LABEL): the label is asked for.
	(capture("label_values\\(.*,\\s*(?<l>" + ident + ")\\s*\\)") |
	    "G " + .l),
	(sub("label_values\\((?<s>.*),\\s*" + ident + "\\s*\\)"; "\(.s)") |
	 (scan("(?<![a-zA-Z0-9_:])(" + metric + ")\\s*\\{([^}]*)\\}") |
	    .[0] as $m | select(own($m)) | .[1] | matchers($m)),
	 (scan(grouping) | .[0] | split(",")[] | gsub("\\s"; "") |
	    select(length > 0) | "G " + .),
	 (gsub(str; "") | gsub("\\{[^}]*\\}"; " ") |
	    gsub("\\[[^\\]]*\\]"; " ") |
	    gsub("\\$\\{[^}]*\\}|\\$" + ident; " ") | gsub(grouping; " ") |
	    scan("\\b" + metric + "\\b(?!\\s*\\()") |
	    select(keyword | not) | select(own(.)) | "M " + .))
' "$exprs" >"$uses.all" || fail "cannot parse PromQL: $(head -c 2000 "$exprs")"
sort -u -o "$uses" "$uses.all"
# The parse found what is surely there, or it checks nothing.
for m in probe_success pulse_probes_total probe_ssl_earliest_cert_expiry \
    probe_icmp_loss_ratio pulse_worker_crashes_total \
    pulse_schedule_delay_seconds_bucket pulse_build_info; do
	assert_contains "$uses" "M $m" "the metrics named in PromQL"
done
assert_contains "$uses" "L probe_failure_reason reason = tls" \
    "the matchers of PromQL"
assert_contains "$uses" "G le" "the labels grouped on in PromQL"
log "$(grep -c '^M ' "$uses") metrics, $(grep -c '^L ' "$uses") matchers," \
    "$(grep -c '^G ' "$uses") grouping labels to find"

# --- a pulse with a target of every kind ------------------------------------

run_pulse check -q --timeout 2s icmp://127.0.0.1
[ "$RC" = 0 ] || skip "ICMP echo to 127.0.0.1 fails here (exit $RC)"

start_fixture --accept 1 --refuse 1
A=$(nth 1 $ACCEPT)
R=$(nth 1 $REFUSE)
start_http_fixture
# A self-signed certificate that expires in 10 days: the insecure target
# takes it and reports its expiry, the other one fails at TLS.
CERT_DIR=$E2E_TMP/certs
mkdir -p "$CERT_DIR"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$CERT_DIR/key.pem" -out "$CERT_DIR/cert.pem" -days 10 \
    -subj "/CN=pulse test" -addext "subjectAltName = IP:127.0.0.1" \
    >"$CERT_DIR/openssl.log" 2>&1 ||
    hard_error "openssl req failed: $(cat "$CERT_DIR/openssl.log")"
free_port
TLS=127.0.0.1:$FREE_PORT
timeout -k 5 "${PULSE_LIMIT:-60}" openssl s_server -quiet -www \
    -accept "$TLS" -cert "$CERT_DIR/cert.pem" -key "$CERT_DIR/key.pem" \
    </dev/null >"$CERT_DIR/s_server.log" 2>&1 &
track_pid $!
wait_for 10 port_listening "$FREE_PORT" ||
    hard_error "openssl s_server is not listening: $(cat \
	"$CERT_DIR/s_server.log")"

cat >"$E2E_TMP/targets.yaml" <<EOF
modules:
  tcp_connect:
    kind: tcp
    timeout: 2s
targets:
  - {target: "tcp://$A", name: up, labels: {team: ops}}
  - {target: "tcp://$R", name: refused}
  - {target: icmp://127.0.0.1, name: loopback, count: 3, interval: 10ms}
  - {target: "http://$HF_OK/", name: web}
  - {target: "https://$TLS/", name: tls, insecure: true}
  - {target: "https://$TLS/untrusted", name: untrusted}
EOF
start_serve -c "$E2E_TMP/targets.yaml" --interval 1s --workers 4 \
    --enable-probe-endpoint --probe-allow 127.0.0.0/8

# Every target has a result, and the HTTPS ones have the results of TLS.
page_complete() {
	scrape
	[ "$(samples probe_success)" = 6 ] &&
	    [ -n "$(metric probe_ssl_earliest_cert_expiry 'name="tls"')" ] &&
	    [ -n "$(metric probe_icmp_loss_ratio)" ]
}
wait_for 15 page_complete || fail "no result of every target within 15 s"
http GET "/probe?target=$A&module=tcp_connect"
[ "$HTTP_CODE" = 200 ] || fail "GET /probe: status $HTTP_CODE"
cp "$HTTP_BODY" "$E2E_TMP/probe.prom"
scrape "$E2E_TMP/page.prom"

for t in up:1 refused:0 loopback:1 web:1 tls:1 untrusted:0; do
	assert_metric "${t#*:}" probe_success "name=\"${t%:*}\""
done
assert_metric 1 probe_failure_reason 'name="untrusted"' 'reason="tls"'
# The rules count on it: no expiry from a certificate that failed.
assert_eq "$(samples probe_ssl_earliest_cert_expiry 'name="untrusted"')" 0 \
    "samples of probe_ssl_earliest_cert_expiry of the untrusted target"
assert_metric "$(not_after_epoch "$CERT_DIR/cert.pem")" \
    probe_ssl_earliest_cert_expiry 'name="tls"'

# --- promtool's lint --------------------------------------------------------

for f in page.prom probe.prom; do
	"$PROMTOOL" check metrics <"$E2E_TMP/$f" >"$E2E_TMP/lint.out" 2>&1 ||
	    fail "promtool check metrics of $f: $(head -c 3000 \
		"$E2E_TMP/lint.out")"
	assert_empty "$E2E_TMP/lint.out" "promtool check metrics of $f"
done

# --- every use in PromQL is on the page -------------------------------------

missing=$(while read -r kind m l op v; do
	case $kind in
	M)
		grep -qE "^${m}[{ ]" "$SCRAPE" || echo "metric $m"
		;;
	L)
		case $l in job | instance) continue ;; esac
		grep -E "^$m\{" "$SCRAPE" >"$E2E_TMP/fam" || true
		if ! grep -qE "[{,]$l=\"" "$E2E_TMP/fam"; then
			echo "label $l of $m"
		elif [ "$op" = "=" ] && [ -n "$v" ]; then
			case $v in
			*'$'*) ;;
			*) grep -qF -e "{$l=\"$v\"" -e ",$l=\"$v\"" \
			    "$E2E_TMP/fam" || echo "$m{$l=\"$v\"}" ;;
			esac
		fi
		;;
	G)
		case $m in job | instance) continue ;; esac
		grep -qE "[{,]$m=\"" "$SCRAPE" || echo "label $m"
		;;
	esac
done <"$uses")
[ -z "$missing" ] ||
    fail "named in the rules or the dashboard, not on /metrics:" $missing

# --- the rules in a real Prometheus -----------------------------------------

PROMETHEUS=${PROMETHEUS:-$(command -v prometheus 2>/dev/null || true)}
if [ -z "$PROMETHEUS" ] || [ ! -x "$PROMETHEUS" ]; then
	log "prometheus is not installed: rules not evaluated live"
	stop_serve TERM
	assert_rc 0 "pulse serve after SIGTERM"
	log "ok"
	exit 0
fi

start_prometheus "$RULES"

# api PATH [curl args]: GET the API into $E2E_TMP/api.json; false unless
# it answered success.
api() {
	_p=$1
	shift
	lcurl -G -o "$E2E_TMP/api.json" "$@" "$PROM_URL/api/v1/$_p" &&
	    jq -e '.status == "success"' "$E2E_TMP/api.json" >/dev/null 2>&1
}

# Every rule evaluated, and none failed.
rules_healthy() {
	api rules && jq -e '[.data.groups[].rules[]] | length > 0 and
	    all(.health == "ok" and .lastEvaluation != null and
	    (.lastEvaluation | startswith("0001") | not))' \
	    "$E2E_TMP/api.json" >/dev/null
}
wait_for 15 rules_healthy ||
    fail "rules not all evaluated without error: $(jq -c \
	'[.data.groups[].rules[] | select(.health != "ok") |
	{name, health, lastError}]' "$E2E_TMP/api.json" 2>&1 |
	head -c 2000)"
assert_eq "$(jqr "$E2E_TMP/api.json" '[.data.groups[].rules[]] | length')" \
    "$(grep -cE '^ *- (alert|record):' "$RULES")" "rules loaded"

# The availability ratio of each target: 1 up, 0 down.
ratio_expected() {
	api query --data-urlencode \
	    'query=target:pulse_probes_success:ratio_rate5m' &&
	    [ "$(jqr "$E2E_TMP/api.json" '[.data.result[] |
		"\(.metric.name)=\(.value[1])"] | sort | join(" ")')" = \
		"loopback=1 refused=0 tls=1 untrusted=0 up=1 web=1" ]
}
wait_for 15 ratio_expected ||
    fail "target:pulse_probes_success:ratio_rate5m: $(jq -c .data.result \
	"$E2E_TMP/api.json" | head -c 2000)"

# Exactly the alerts these targets call for are pending or firing: the
# two targets down, and unreliable as none of their probes succeeds, the
# one failing at TLS, the certificate expiring in 10 days.  Others may
# come and go in the first seconds, as rates need two scrapes.
expect_alerts=$(printf '%s\n' PulseTargetDown:refused \
    PulseTargetDown:untrusted PulseTargetUnreliable:refused \
    PulseTargetUnreliable:untrusted PulseTLSCertificateExpiringSoon:tls \
    PulseTLSHandshakeFailing:untrusted | LC_ALL=C sort | tr '\n' ' ')
expect_alerts=${expect_alerts% }
# A machine so busy that a probe outlasts its 1s interval skips a slot,
# and PulseProbesSkipped rightly goes pending: expected then too.
alerts_expected() {
	_want=$expect_alerts
	scrape "$E2E_TMP/now.prom"
	[ "$(metric pulse_schedule_skipped_total)" = 0 ] ||
	    _want=$(printf '%s\n' $expect_alerts \
		"PulseProbesSkipped:127.0.0.1:$SERVE_PORT" | LC_ALL=C sort |
		tr '\n' ' ')
	api alerts && [ "$(jqr "$E2E_TMP/api.json" '[.data.alerts[] |
	    "\(.labels.alertname):\(.labels.name // .labels.instance)"] |
	    sort | join(" ")')" = "${_want% }" ]
}
wait_for 15 alerts_expected ||
    fail "alerts: $(jqr "$E2E_TMP/api.json" '[.data.alerts[] |
	"\(.labels.alertname):\(.labels.name // .labels.instance)"] |
	sort | join(" ")'), expected $expect_alerts"
alive "$PROM_PID" || fail "prometheus died: $(tail -n 5 "$PROM_DIR/log")"
stop_serve TERM
assert_rc 0 "pulse serve after SIGTERM"

log "ok"
