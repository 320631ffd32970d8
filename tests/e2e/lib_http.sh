# shellcheck shell=sh disable=SC2016,SC2034
# (Globals are read by the tests that source this; jq programs are quoted.)
# Helpers for the end-to-end tests of the HTTP probe, sourced after
# "$E2E_LIB" by tests/e2e/http_*.sh and check_cli.sh.
#
# The harness exports HTTP_FIXTURE (tests/fixtures/http_fixture).  nginx
# and openssl are only needed by the tests that call http_certs or
# start_nginx; those skip (exit 77) when either is missing.  Everything
# listens on 127.0.0.1, and every process is tracked by PID.

[ -n "${HTTP_FIXTURE:-}" ] || hard_error "HTTP_FIXTURE is not set"
[ -x "$HTTP_FIXTURE" ] || hard_error "$HTTP_FIXTURE is not an executable"

E2E_HTTP_FIXTURES=0

# --- http_fixture -----------------------------------------------------------

# Start http_fixture with ARGS and wait (10 s at most) for its "ready".
# Sets HTTP_FIXTURE_PID and, for every mode, HF_MODE to its "ADDR:PORT"
# (the mode in capitals, "-" as "_": HF_OK, HF_CHUNKED_ENDLESS, ...).
start_http_fixture() {
	E2E_HTTP_FIXTURES=$((E2E_HTTP_FIXTURES + 1))
	_fo=$E2E_TMP/http_fixture.$E2E_HTTP_FIXTURES.out
	_fe=$E2E_TMP/http_fixture.$E2E_HTTP_FIXTURES.err
	"$HTTP_FIXTURE" --lifetime "${FIXTURE_LIFETIME:-120}" "$@" \
	    >"$_fo" 2>"$_fe" </dev/null &
	HTTP_FIXTURE_PID=$!
	track_pid "$HTTP_FIXTURE_PID"
	_i=0
	while ! grep -qx ready "$_fo" 2>/dev/null; do
		alive "$HTTP_FIXTURE_PID" ||
		    fail "http_fixture $* exited early: $(cat "$_fe")"
		_i=$((_i + 1))
		[ $_i -le 200 ] || fail "http_fixture $* not ready within 10 s"
		sleep 0.05
	done
	while read -r _mode _ep; do
		[ "$_mode" = ready ] && break
		_var=HF_$(printf '%s' "$_mode" | tr 'a-z-' 'A-Z_')
		case $_var in
		*[!A-Z_]*) hard_error "http_fixture printed '$_mode'" ;;
		esac
		eval "$_var=\$_ep"
	done <"$_fo"
}

# --- certificates -----------------------------------------------------------

need_openssl() {
	command -v openssl >/dev/null 2>&1 || skip "openssl is not installed"
}

# openssl quietly, its messages shown only when it fails.
_ossl() {
	openssl "$@" >"$CERT_DIR/openssl.log" 2>&1 ||
	    hard_error "openssl $1 failed: $(cat "$CERT_DIR/openssl.log")"
}

# _leaf NAME SAN: a fresh P-256 key and a request for it.
_leaf_request() {
	_ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$CERT_DIR/$1.key" -out "$CERT_DIR/$1.csr" \
	    -subj "/CN=pulse test $1"
	printf '%s\n' "basicConstraints = critical, CA:FALSE" \
	    "keyUsage = critical, digitalSignature" \
	    "extendedKeyUsage = serverAuth" \
	    "subjectAltName = $2" >"$CERT_DIR/$1.ext"
}

# utc_stamp DAYS: the time DAYS days from now (negative: ago), in the
# YYYYMMDDHHMMSSZ form of openssl ca.
utc_stamp() {
	date -u -d "@$(($(date +%s) + $1 * 86400))" +%Y%m%d%H%M%SZ
}

# Make a test CA and leaves in $E2E_TMP/certs:
#   CA_PEM                            the CA (trusted only with ca=)
#   GOOD_PEM/GOOD_KEY                 127.0.0.1 and localhost, CA-signed,
#                                     valid for 90 days
#   EXPIRED_PEM/EXPIRED_KEY           the same names, CA-signed, expired
#                                     2 days ago
#   SELF_PEM/SELF_KEY                 the same names, self-signed
#   WRONG_PEM/WRONG_KEY               wrong.example only, CA-signed
http_certs() {
	need_openssl
	CERT_DIR=$E2E_TMP/certs
	# Readable by all: pulse's workers may run as another user.
	chmod 755 "$E2E_TMP"
	mkdir -p "$CERT_DIR/newcerts"
	: >"$CERT_DIR/index.txt"
	echo 1000 >"$CERT_DIR/serial"
	_san='IP:127.0.0.1, DNS:localhost'

	CA_PEM=$CERT_DIR/ca.pem
	_ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$CERT_DIR/ca.key" -out "$CA_PEM" -days 3650 \
	    -subj "/CN=pulse test CA" \
	    -addext "basicConstraints = critical, CA:TRUE" \
	    -addext "keyUsage = critical, keyCertSign, cRLSign"
	cat >"$CERT_DIR/ca.cnf" <<EOF
[ca]
default_ca = test_ca
[test_ca]
dir = $CERT_DIR
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
certificate = \$dir/ca.pem
private_key = \$dir/ca.key
default_md = sha256
policy = policy_any
unique_subject = no
[policy_any]
commonName = supplied
EOF
	# openssl ca: the only way OpenSSL 3.0 sets both validity dates.
	for _c in good:90 expired:-2 wrong:90; do
		_n=${_c%%:*}
		_days=${_c#*:}
		if [ "$_n" = wrong ]; then
			_leaf_request "$_n" "DNS:wrong.example"
		else
			_leaf_request "$_n" "$_san"
		fi
		if [ "$_days" -lt 0 ]; then
			_start=$(utc_stamp -30)
		else
			_start=$(utc_stamp -1)
		fi
		_ossl ca -batch -notext -config "$CERT_DIR/ca.cnf" \
		    -startdate "$_start" -enddate "$(utc_stamp "$_days")" \
		    -extfile "$CERT_DIR/$_n.ext" -in "$CERT_DIR/$_n.csr" \
		    -out "$CERT_DIR/$_n.pem"
	done
	_ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$CERT_DIR/self.key" -out "$CERT_DIR/self.pem" -days 90 \
	    -subj "/CN=pulse test self-signed" \
	    -addext "subjectAltName = $_san" \
	    -addext "basicConstraints = critical, CA:FALSE"
	GOOD_PEM=$CERT_DIR/good.pem
	GOOD_KEY=$CERT_DIR/good.key
	EXPIRED_PEM=$CERT_DIR/expired.pem
	EXPIRED_KEY=$CERT_DIR/expired.key
	SELF_PEM=$CERT_DIR/self.pem
	SELF_KEY=$CERT_DIR/self.key
	WRONG_PEM=$CERT_DIR/wrong.pem
	WRONG_KEY=$CERT_DIR/wrong.key
	chmod -R a+rX "$CERT_DIR"
}

# not_after_epoch CERT: the notAfter of a PEM certificate, in Unix time.
not_after_epoch() {
	_na=$(openssl x509 -noout -enddate -in "$1") ||
	    hard_error "cannot read the notAfter of $1"
	date -u -d "${_na#notAfter=}" +%s
}

# --- nginx ------------------------------------------------------------------

find_nginx() {
	NGINX=${NGINX:-}
	if [ -z "$NGINX" ]; then
		NGINX=$(command -v nginx 2>/dev/null || true)
		[ -n "$NGINX" ] || [ ! -x /usr/sbin/nginx ] ||
		    NGINX=/usr/sbin/nginx
	fi
	if [ -z "$NGINX" ] || [ ! -x "$NGINX" ]; then
		skip "nginx is not installed"
	fi
}

# The TCP ports something listens on, in upper-case hex, one a line: one
# pass over /proc, which is long on a busy machine.
listening_ports() {
	for _t in /proc/net/tcp /proc/net/tcp6; do
		[ ! -r "$_t" ] ||
		    awk '$4 == "0A" { print substr($2, length($2) - 3) }' "$_t"
	done
}

# all_free LISTENING PORT...: none of the PORTs is in LISTENING.
all_free() {
	_l=$1
	shift
	for _p; do
		case $_l in
		*"$(printf '%04X' "$_p")"*) return 1 ;;
		esac
	done
	return 0
}

# A base port in 20000..59990 with the next NGINX_NPORTS ones free.
_pick_ports() {
	_l=$(listening_ports | tr '\n' ' ')
	_try=0
	while [ $_try -lt 50 ]; do
		_try=$((_try + 1))
		_r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		NGINX_BASE=$((20000 + _r % 39990))
		# shellcheck disable=SC2046
		all_free "$_l" $(seq "$NGINX_BASE" \
		    $((NGINX_BASE + NGINX_NPORTS - 1))) && return 0
	done
	hard_error "no free range of $NGINX_NPORTS ports found"
}

# The locations every server has.  /echo answers with what it was sent.
_nginx_locations() {
	cat <<'EOF'
location = / {
	return 200 "pulse index page\n";
}
location = /json {
	default_type application/json;
	return 200 '{"status":"ok"}\n';
}
location = /redir {
	return 301 /;
}
location = /redir3 {
	return 302 /redir2;
}
location = /redir2 {
	return 302 /redir1;
}
location = /redir1 {
	return 302 /;
}
location = /echo {
	return 200 "method:$request_method x-test:$http_x_test length:$content_length host:$http_host sni:$ssl_server_name\n";
}
location / {
	return 404 "not found\n";
}
EOF
}

# _nginx_server PORT [CERT KEY [http2]]: a server block.
_nginx_server() {
	if [ $# -eq 1 ]; then
		printf '\tserver {\n\t\tlisten 127.0.0.1:%s;\n' "$1"
	else
		printf '\tserver {\n\t\tlisten 127.0.0.1:%s ssl%s;\n' "$1" \
		    "${4:+ $4}"
		printf '\t\tssl_certificate %s;\n' "$2"
		printf '\t\tssl_certificate_key %s;\n' "$3"
	fi
	printf '\t\tinclude %s/locations.conf;\n\t}\n' "$NGINX_DIR"
}

_nginx_conf() {
	_d=$NGINX_DIR
	cat <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $_d/nginx.pid;
error_log $_d/error.log warn;
events {
	worker_connections 256;
}
http {
	log_format pulse '\$server_port \$request_method \$request_uri host:\$http_host sni:\$ssl_server_name x-test:\$http_x_test length:\$content_length';
	access_log $_d/access.log pulse;
	client_body_temp_path $_d/body;
	proxy_temp_path $_d/proxy;
	fastcgi_temp_path $_d/fastcgi;
	uwsgi_temp_path $_d/uwsgi;
	scgi_temp_path $_d/scgi;
	default_type text/plain;
	absolute_redirect off;
	ssl_protocols TLSv1.2 TLSv1.3;
EOF
	_nginx_server "$NGX_HTTP"
	_nginx_server "$NGX_GOOD" "$GOOD_PEM" "$GOOD_KEY"
	_nginx_server "$NGX_EXPIRED" "$EXPIRED_PEM" "$EXPIRED_KEY"
	_nginx_server "$NGX_SELF" "$SELF_PEM" "$SELF_KEY"
	_nginx_server "$NGX_WRONG" "$WRONG_PEM" "$WRONG_KEY"
	_nginx_server "$NGX_H2" "$GOOD_PEM" "$GOOD_KEY" http2
	echo '}'
}

# Start nginx on 127.0.0.1 (after http_certs) and wait until it listens.
# Ports, in order: NGX_HTTP (http), NGX_GOOD, NGX_EXPIRED, NGX_SELF,
# NGX_WRONG (https with each certificate, HTTP/1.1 only) and NGX_H2
# (the good certificate, HTTP/2 offered too).  Requests are logged to
# NGINX_LOG as "PORT METHOD URI host:H sni:S x-test:X length:L".
start_nginx() {
	find_nginx
	[ -n "${GOOD_PEM:-}" ] || hard_error "start_nginx before http_certs"
	NGINX_DIR=$E2E_TMP/nginx
	NGINX_LOG=$NGINX_DIR/access.log
	NGINX_NPORTS=6
	mkdir -p "$NGINX_DIR"
	_nginx_locations >"$NGINX_DIR/locations.conf"
	_attempt=0
	while :; do
		_attempt=$((_attempt + 1))
		_pick_ports
		NGX_HTTP=$NGINX_BASE
		NGX_GOOD=$((NGINX_BASE + 1))
		NGX_EXPIRED=$((NGINX_BASE + 2))
		NGX_SELF=$((NGINX_BASE + 3))
		NGX_WRONG=$((NGINX_BASE + 4))
		NGX_H2=$((NGINX_BASE + 5))
		_nginx_conf >"$NGINX_DIR/nginx.conf"
		: >"$NGINX_DIR/error.log"
		"$NGINX" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" \
		    -e "$NGINX_DIR/error.log" >"$NGINX_DIR/stdout" 2>&1 \
		    </dev/null &
		NGINX_PID=$!
		track_pid "$NGINX_PID"
		_i=0
		while alive "$NGINX_PID"; do
			_l=$(listening_ports | tr '\n' ' ')
			# Listening on all ports: none of them is free.
			_up=1
			for _p in $NGX_HTTP $NGX_GOOD $NGX_EXPIRED $NGX_SELF \
			    $NGX_WRONG $NGX_H2; do
				all_free "$_l" "$_p" && _up=0
			done
			[ $_up -eq 1 ] && return 0
			_i=$((_i + 1))
			[ $_i -le 200 ] ||
			    hard_error "nginx not listening within 10 s"
			sleep 0.05
		done
		wait "$NGINX_PID" 2>/dev/null || true
		untrack_pid "$NGINX_PID"
		# Another process took a port in between: try other ports.
		if grep -q 'Address already in use' "$NGINX_DIR/error.log" \
		    "$NGINX_DIR/stdout" && [ $_attempt -lt 5 ]; then
			continue
		fi
		hard_error "nginx did not start: $(cat "$NGINX_DIR/stdout" \
		    "$NGINX_DIR/error.log")"
	done
}

# --- results ----------------------------------------------------------------

# res FILE NAME FILTER [jq options]: FILTER applied to the result named
# NAME in a scan document (or to the one result of pulse check).
res() {
	_rf=$1
	_rn=$2
	_rq=$3
	shift 3
	jq -r "$@" --arg n "$_rn" \
	    "(if has(\"results\") then .results[] else . end) |
	    select(.name == \$n) | $_rq" "$_rf"
}

# assert_res FILE NAME TEST WHAT: TEST is true of the result named NAME.
assert_res() {
	_af=$1
	_an=$2
	_at=$3
	_aw=$4
	[ -n "$(res "$_af" "$_an" 'length')" ] ||
	    fail "$_aw: no result named '$_an'"
	[ "$(res "$_af" "$_an" "$_at")" = true ] ||
	    fail "$_aw: [$_an] $_at is not true; result: $(res "$_af" "$_an" \
		'{success, reason, error, status_code, http_version,
		redirects, final_url, content_length, body_matched,
		duration_seconds, tls}' -c 2>&1 | head -c 2000)"
}

# assert_up FILE NAME: the result named NAME succeeded.
assert_up() {
	assert_res "$1" "$2" '.success == true and .reason == null and
	    .error == null' "$2 is up"
}

# assert_down FILE NAME REASON WORDS: the result named NAME failed with
# REASON, and its error message contains WORDS (case-insensitively).
assert_down() {
	assert_res "$1" "$2" '.success == false' "$2 is down"
	assert_eq "$(res "$1" "$2" .reason)" "$3" "$2: reason"
	res "$1" "$2" .error | grep -qiF -- "$4" ||
	    fail "$2: error '$(res "$1" "$2" .error)' does not say '$4'"
}

# The checks every HTTP result passes, as [what, test] pairs for jq, on
# one result object.
E2E_HTTP_RESULT='
	def check(what; f): [what, (try f catch false)];
	def optnum: type == "number" or . == null;
	def member($set): . as $x | $set | index([$x]) != null;
	def reasons: ["timeout", "refused", "unreachable", "dns", "crash",
	    "deadline", "cancelled", "permission", "config", "internal",
	    "status", "match", "tls", "protocol"];
	def phases: ["connect", "processing", "resolve", "tls", "transfer"];
	check("kind is http"; .kind == "http"),
	check("target is an http or https URL"; .target |
	    test("^https?://[^ ]+$")),
	check("name, host are strings"; (.name | type) == "string" and
	    (.host | type) == "string" and (.host | length) > 0),
	check("port in 1..65535"; .port | type == "number" and . >= 1 and
	    . <= 65535),
	check("success is a boolean"; .success | type == "boolean"),
	check("reason and error null exactly when successful";
	    if .success then .reason == null and .error == null
	    else (.reason | member(reasons)) and (.error | type) == "string"
	    and (.error | length) > 0 end),
	check("address"; .address == null or (.address | type) == "string"),
	check("timeout_seconds"; .timeout_seconds | type == "number" and
	    . > 0),
	check("duration_seconds"; .duration_seconds | type == "number" and
	    . >= 0),
	check("dns_seconds, connect_seconds"; (.dns_seconds | optnum) and
	    (.connect_seconds | optnum)),
	check("status_code is null or an integer in 100..599";
	    .status_code == null or (.status_code | type == "number" and
	    . >= 100 and . <= 599 and . == floor)),
	check("http_version"; .http_version == null or
	    (.http_version | member(["1.0", "1.1", "2"]))),
	check("final_url is a string"; .final_url | type == "string"),
	check("redirects in 0..20"; .redirects | type == "number" and
	    . >= 0 and . <= 20),
	check("content_length"; .content_length | type == "number" and
	    . >= 0),
	check("body_matched"; .body_matched == null or
	    (.body_matched | type) == "boolean"),
	check("phases_seconds has the five phases"; .phases_seconds |
	    type == "object" and (keys == phases) and
	    all(.[]; optnum and (. == null or . >= 0))),
	check("no TLS for http://"; if (.target | startswith("http://"))
	    then .tls == null and .phases_seconds.tls == null else true end),
	check("tls is null or complete"; .tls == null or (.tls |
	    (.version | type) == "string" and (.cipher | type) == "string" and
	    (.cert_not_after | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")) and
	    (.cert_expiry_timestamp | type) == "number" and
	    (.cert_days_left | type) == "number" and
	    (.cert_not_after | fromdate) == .cert_expiry_timestamp)),
	check("a success has a status and a version"; if .success then
	    (.status_code | type) == "number" and .http_version != null
	    else true end),
	check("an https success has TLS details"; if .success and
	    (.target | startswith("https://")) then .tls != null and
	    (.phases_seconds.tls | type) == "number" else true end)
'

# assert_http_result FILE: FILE holds one HTTP result object (pulse
# check --format json) that passes the checks above.
assert_http_result() {
	_bad=$(jq -rs "if length != 1 then
	    \"exactly one JSON object, not \\(length)\" else .[0] |
	    $E2E_HTTP_RESULT | select(.[1] != true) | .[0] end" "$1" 2>&1) ||
	    fail "$(basename "$1") is not valid JSON: $_bad"
	[ -z "$_bad" ] || fail "result $(basename "$1") is not right: $_bad"
}

# assert_http_document FILE: a scan document whose counts add up and
# whose HTTP results all pass the checks above (named in the message).
assert_http_document() {
	_bad=$(jq -rs "if length != 1 then
	    \"exactly one JSON document, not \\(length)\" else .[0] |
	    (if (.results | type) != \"array\" then \"no results\" else
	    empty end),
	    (if .counts.total != (.results | length) or
	    .counts.up != ([.results[] | select(.success)] | length) or
	    .counts.up + .counts.down + .counts.cancelled != .counts.total
	    then \"counts do not add up\" else empty end),
	    (.results[] | select(.kind == \"http\") | .name as \$n |
	    $E2E_HTTP_RESULT | select(.[1] != true) |
	    \"\\(\$n): \\(.[0])\") end" "$1" 2>&1) ||
	    fail "$(basename "$1") is not valid JSON: $_bad"
	[ -z "$_bad" ] || fail "document $(basename "$1"): $_bad"
}

# start_tls_server: openssl s_server on 127.0.0.1 with a fresh
# self-signed certificate for localhost, answering any request with a
# page (-www); sets TLS_ADDR to its ADDR:PORT.  Needs openssl.
start_tls_server() {
	_d=$E2E_TMP/tls
	mkdir -p "$_d"
	chmod 755 "$E2E_TMP"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$_d/key.pem" -out "$_d/cert.pem" -days 2 \
	    -subj /CN=localhost >"$_d/req.log" 2>&1 ||
	    hard_error "openssl req: $(cat "$_d/req.log")"
	timeout 60 openssl s_server -www -accept 127.0.0.1:0 \
	    -cert "$_d/cert.pem" -key "$_d/key.pem" >"$_d/out" 2>"$_d/err" \
	    </dev/null &
	track_pid $!
	_i=0
	until grep -q '^ACCEPT ' "$_d/out" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -le 200 ] || fail "openssl s_server not ready within" \
		    "10 s: $(cat "$_d/err")"
		sleep 0.05
	done
	TLS_ADDR=$(sed -n 's/^ACCEPT //p' "$_d/out")
}
