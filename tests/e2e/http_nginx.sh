#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# The HTTP probe against nginx, over http:// and https://: status codes
# and expect=, match= and not_match=, redirects followed and counted,
# methods, bodies and headers sent, HTTP/2; certificates expired,
# self-signed, of an unknown issuer or for another name, each with its
# own message, accepted by insecure, trusted through ca=; the expiry of
# the certificate; host= and sni=; and passwords in URLs never shown.
. "$E2E_LIB"
. "$E2E_HTTP_LIB"

http_certs
start_nginx
H=http://127.0.0.1:$NGX_HTTP
G=https://127.0.0.1:$NGX_GOOD
E=https://127.0.0.1:$NGX_EXPIRED
S=https://127.0.0.1:$NGX_SELF
W=https://127.0.0.1:$NGX_WRONG
H2=https://127.0.0.1:$NGX_H2
CA="ca=\"$CA_PEM\""

# logged PORT METHOD URI: nginx logged that request.
logged() {
	grep -q "^$1 $2 $3 " "$NGINX_LOG" ||
	    fail "nginx never saw '$2 $3' on port $1: $(cat "$NGINX_LOG")"
}

# --- http:// ----------------------------------------------------------------

printf 'file body\n' >"$E2E_TMP/body.txt"
f=$E2E_TMP/http.txt
cat >"$f" <<EOF
$H/ name=root match='pulse index'
$H/json name=json match='"status":"ok"'
$H/nope name=missing
$H/nope expect=404 name=missing-expected
$H/nope expect=200,3xx,400-403 name=missing-list
$H/nope expect=400-499 name=missing-range
$H/ expect=4xx name=ok-unexpected
$H/ not_match=index name=not-match
$H/ not_match='no such text' name=not-match-ok
$H/ match='no such text' name=no-match
$H/redir3 name=redir3
$H/redir3 follow=3 name=redir3-exact
$H/redir3 follow=2 name=redir3-short
$H/redir follow=0 name=no-follow
$H/redir follow=0 expect=301 name=no-follow-301
$H/redir follow=0 expect=3xx name=no-follow-3xx
$H/echo method=HEAD name=head
$H/echo body=hello-pulse name=post match='^method:POST x-test: length:11 '
$H/echo method=PUT body='two words' name=put match='^method:PUT x-test: length:9 '
$H/echo body_file="$E2E_TMP/body.txt" name=post-file match='^method:POST x-test: length:10 '
$H/echo header='X-Test: pulse-42' name=header match='^method:GET x-test:pulse-42 length: '
EOF
run_pulse scan --workers 4 -t "$f"
assert_rc 1 "http:// scan with failures"
assert_http_document "$OUT"
assert_jq "$OUT" '.counts.total == 21 and .counts.down == 7' \
    "7 of the 21 http:// targets are down"

assert_up "$OUT" root
assert_res "$OUT" root '.kind == "http" and .status_code == 200 and
    .http_version == "1.1" and .body_matched == true and
    .content_length == 17 and .redirects == 0 and
    .final_url == "'"$H/"'" and .host == "127.0.0.1" and
    .port == '"$NGX_HTTP"' and .address == "127.0.0.1" and .tls == null' \
    "a plain 200"
assert_res "$OUT" root '.phases_seconds | (.resolve == null or
    .resolve >= 0) and .tls == null and
    all(.connect, .processing, .transfer; type == "number" and . >= 0)' \
    "phases of an http:// probe"
assert_res "$OUT" root '([.phases_seconds[] | numbers] | add) <=
    .duration_seconds + 0.005' "the phases fit in the duration"
assert_up "$OUT" json
assert_res "$OUT" json '.status_code == 200 and .body_matched == true and
    .content_length == 16' "/json"

assert_down "$OUT" missing status "status 404, expected 2xx"
assert_res "$OUT" missing '.status_code == 404 and .body_matched == null' \
    "404"
for n in missing-expected missing-range; do
	assert_up "$OUT" $n
	assert_res "$OUT" $n '.status_code == 404' "$n"
done
assert_down "$OUT" missing-list status "status 404"
assert_down "$OUT" ok-unexpected status "status 200"

assert_down "$OUT" not-match match "matches not_match"
assert_res "$OUT" not-match '.status_code == 200 and
    (.body_matched | type) == "boolean"' "not_match matched"
assert_up "$OUT" not-match-ok
assert_res "$OUT" not-match-ok '.body_matched | type == "boolean"' \
    "not_match did not match"
assert_down "$OUT" no-match match "does not match"
assert_res "$OUT" no-match '.status_code == 200 and .body_matched == false' \
    "match failed"

for n in redir3 redir3-exact; do
	assert_up "$OUT" $n
	assert_res "$OUT" $n '.status_code == 200 and .redirects == 3 and
	    .final_url == "'"$H/"'" and .content_length == 17' \
	    "$n: three redirects followed"
done
assert_down "$OUT" redir3-short protocol "redirects"
assert_down "$OUT" no-follow status "status 301, expected 2xx"
assert_res "$OUT" no-follow '.status_code == 301 and .redirects == 0 and
    .final_url == "'"$H/redir"'"' "follow=0 keeps the 301"
for n in no-follow-301 no-follow-3xx; do
	assert_up "$OUT" $n
	assert_res "$OUT" $n '.status_code == 301 and .redirects == 0' "$n"
done

assert_up "$OUT" head
assert_res "$OUT" head '.status_code == 200 and .content_length == 0' \
    "HEAD has no body"
logged "$NGX_HTTP" HEAD /echo
for n in post put post-file header; do
	assert_up "$OUT" $n
	assert_res "$OUT" $n '.body_matched == true' "$n: what nginx saw"
done
logged "$NGX_HTTP" POST /echo
logged "$NGX_HTTP" PUT /echo

# --- https:// ----------------------------------------------------------------

f=$E2E_TMP/https.txt
cat >"$f" <<EOF
$G/ $CA name=good match='pulse index'
$G/ name=untrusted
$G/json insecure=no name=untrusted-no
$G/ insecure name=untrusted-insecure
$G/json insecure=yes name=untrusted-yes
$E/ $CA name=expired
$E/ $CA insecure name=expired-insecure
$S/ $CA name=self
$S/ name=self-no-ca
$S/ insecure name=self-insecure
$W/ $CA name=wrong
$W/ insecure name=wrong-insecure
$W/echo $CA host=wrong.example name=wrong-host match='host:wrong\.example(:$NGX_WRONG)? sni:wrong\.example'
$W/echo $CA sni=wrong.example name=wrong-sni match='host:127\.0\.0\.1:$NGX_WRONG sni:wrong\.example'
$G/echo $CA host=localhost name=host match='host:localhost(:$NGX_GOOD)? sni:localhost'
$G/echo $CA sni=localhost name=sni match='host:127\.0\.0\.1:$NGX_GOOD sni:localhost'
$G/ $CA host=wrong.example name=host-mismatch
$G/ $CA sni=wrong.example name=sni-mismatch
$G/redir3 $CA name=tls-redir3
$G/nope $CA name=tls-missing
$G/ $CA http_version=2 name=h2-refused
$H2/ $CA http_version=2 name=h2
$H2/ $CA http_version=1.1 name=h2-as-1.1
EOF
run_pulse scan --workers 4 -t "$f"
assert_rc 1 "https:// scan with failures"
assert_http_document "$OUT"
assert_jq "$OUT" '.counts.total == 23 and .counts.down == 10' \
    "10 of the 23 https:// targets are down"

now=$(date +%s)
good_end=$(not_after_epoch "$GOOD_PEM")
expired_end=$(not_after_epoch "$EXPIRED_PEM")
assert_up "$OUT" good
assert_res "$OUT" good '.kind == "http" and .status_code == 200 and
    .http_version == "1.1" and .body_matched == true and
    .final_url == "'"$G/"'" and .port == '"$NGX_GOOD"'' "https 200"
assert_res "$OUT" good '.tls.version | test("^TLSv1\\.[23]$")' "TLS version"
assert_res "$OUT" good '.tls.cipher | type == "string" and length > 0' \
    "TLS cipher"
assert_res "$OUT" good '.phases_seconds | all(.connect, .tls, .processing,
    .transfer; type == "number" and . >= 0)' "phases of an https:// probe"
assert_res "$OUT" good '([.phases_seconds[] | numbers] | add) <=
    .duration_seconds + 0.005' "the phases fit in the duration"
assert_res "$OUT" good '(.tls.cert_expiry_timestamp - '"$good_end"') |
    fabs <= 86400' "cert_expiry_timestamp within a day of the notAfter"
assert_res "$OUT" good '(.tls.cert_days_left - ('"$good_end - $now"') / 86400)
    | fabs <= 1' "cert_days_left within a day"

for n in untrusted untrusted-no; do
	assert_down "$OUT" $n tls "not trusted"
done
assert_down "$OUT" expired tls "certificate has expired"
assert_down "$OUT" self tls "self-signed certificate"
assert_down "$OUT" self-no-ca tls "self-signed certificate"
for n in wrong host-mismatch sni-mismatch; do
	assert_down "$OUT" $n tls "does not match host name"
done
for n in untrusted-insecure untrusted-yes expired-insecure self-insecure \
    wrong-insecure; do
	assert_up "$OUT" $n
	assert_res "$OUT" $n '.status_code == 200 and .tls != null' \
	    "$n: insecure accepts the certificate"
done
assert_res "$OUT" expired-insecure '.tls.cert_days_left < 0 and
    (.tls.cert_expiry_timestamp - '"$expired_end"' | fabs) <= 86400' \
    "an expired certificate has days left below 0"
for n in wrong-host wrong-sni host sni; do
	assert_up "$OUT" $n
	assert_res "$OUT" $n '.body_matched == true' \
	    "$n: Host and SNI as nginx saw them"
done
assert_up "$OUT" tls-redir3
assert_res "$OUT" tls-redir3 '.redirects == 3 and .final_url == "'"$G/"'"' \
    "redirects over https"
assert_down "$OUT" tls-missing status "status 404, expected 2xx"
assert_res "$OUT" tls-missing '.tls != null and .status_code == 404' \
    "TLS details of a failed status"
assert_down "$OUT" h2-refused protocol "HTTP/2"
assert_up "$OUT" h2
assert_res "$OUT" h2 '.http_version == "2" and .status_code == 200' \
    "http_version=2"
assert_up "$OUT" h2-as-1.1
assert_res "$OUT" h2-as-1.1 '.http_version == "1.1"' "http_version=1.1"

# --- passwords in URLs --------------------------------------------------------

PW=s3cr3t-pw-42
f=$E2E_TMP/creds.txt
cat >"$f" <<EOF
http://user:$PW@127.0.0.1:$NGX_HTTP/
https://user:$PW@127.0.0.1:$NGX_GOOD/nope $CA
http://user:$PW@127.0.0.1:$NGX_HTTP/redir
https://user:$PW@127.0.0.1:$NGX_SELF/
EOF
run_pulse scan --workers 2 -t "$f"
assert_rc 1 "scan with passwords in URLs"
assert_http_document "$OUT"
assert_not_contains "$OUT" "$PW" "the password on stdout"
assert_not_contains "$ERR" "$PW" "the password on stderr"
assert_jq "$OUT" '.results | length == 4 and
    all(.target | startswith("http") and contains("user:xxxxx@127.0.0.1:"))' \
    "targets show the password as xxxxx"
assert_jq "$OUT" '[.results[] | select(.success)] | length == 2' \
    "two of the four are up"
assert_jq "$OUT" '.results[] | select(.target | endswith("/redir")) |
    .redirects == 1 and .status_code == 200' "a redirect with a password"

# The same through pulse check, in both formats, up and down.
for url in "http://user:$PW@127.0.0.1:$NGX_HTTP/" \
    "https://user:$PW@127.0.0.1:$NGX_SELF/"; do
	for fmt in text json; do
		run_pulse check --format $fmt "$url"
		case $RC in
		0 | 1) ;;
		*) fail "pulse check $url: exit status $RC" ;;
		esac
		assert_not_contains "$OUT" "$PW" "check --format $fmt: stdout"
		assert_not_contains "$ERR" "$PW" "check --format $fmt: stderr"
		assert_contains "$OUT" "user:xxxxx@" "check --format $fmt"
	done
done

# --- a CA file only root can read ------------------------------------------------

# Run as root, pulse reads what root can read: a ca= file in a private
# directory works like any other.
if [ "$(id -u)" = 0 ]; then
	mkdir -m 700 "$E2E_TMP/private"
	cp "$CA_PEM" "$E2E_TMP/private/ca.pem"
	chmod 600 "$E2E_TMP/private/ca.pem"
	run_pulse check --format json --ca "$E2E_TMP/private/ca.pem" "$G/"
	assert_rc 0 "check --ca with a file only root can read"
	printf '%s ca="%s" name=private-ca\n' "$G/" \
	    "$E2E_TMP/private/ca.pem" >"$E2E_TMP/private.txt"
	run_pulse scan -t "$E2E_TMP/private.txt"
	assert_rc 0 "ca= with a file only root can read"
	assert_up "$OUT" private-ca
fi

log "ok"
