#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# pulse-targets.5 documents exactly the keys of every kind of target, the
# keys of the YAML format, and the members of the results pulse writes;
# it renders with man(1) and passes mandoc's lint.  The summary of the
# keys in TARGETS FILE of pulse.8 names them all too.  The check first
# proves on copies of the pages that it fails when a key goes missing.
# PULSE_MAN5 and PULSE_MAN8 name other pages to check.
#
# Where the truth comes from:
#   - the keys of a kind: pulse itself.  "pulse validate -" on a line
#     with an unknown key answers "unknown key 'K' (known for KIND
#     targets: a, b, ...)"; the keys listed there, for tcp, icmp and
#     http, are the keys of that kind.  As a cross-check, their union is
#     the set of keys of the option tables in src/target*.c, every line
#     of the form {"key", KIND...}.  label.NAME is a key of every kind
#     apart from those tables.
#   - the keys of the YAML format: the arrays cy_top_keys,
#     cy_defaults_keys, cy_module_keys and cy_entry_keys of
#     src/config_yaml.c; and every key of a kind must not be an "unknown
#     key" in a YAML file either.
#   - the members of a result: the JSON that "pulse scan -f json" writes
#     for a TCP, an ICMP, an HTTP and (with openssl) an HTTPS target.
# What the page documents is read from its mdoc source:
#   - under KEYS, each subsection "Keys of every target" or "Keys of
#     KIND targets" gives the keys of its .It Cm lines ("name=" is name,
#     "label.\&" is label.NAME);
#   - under THE YAML FORMAT, the top-level keys are its subsections
#     named in lower case (defaults, modules, targets), and their keys
#     the .It Cm lines of the first list of each;
#   - under RESULTS, a member is an .It Cm line, nested under the .It of
#     the member it belongs to (tls.version), or a .Cm line in the text
#     of that member (rtt_seconds.min, counts.total);
#   - in pulse.8, under TARGETS FILE, a key is a ".Cm key=" line, or a
#     ".Cm key" line naming a key written bare (insecure).
. "$E2E_LIB"
. "$E2E_HTTP_LIB"

LC_ALL=C
export LC_ALL
SRCDIR=${E2E_LIB%/tests/e2e/lib.sh}
PAGE=${PULSE_MAN5:-$SRCDIR/man/pulse-targets.5}
PAGE8=${PULSE_MAN8:-$SRCDIR/man/pulse.8}
[ -r "$PAGE" ] || hard_error "cannot read $PAGE"
[ -r "$PAGE8" ] || hard_error "cannot read $PAGE8"
KINDS="tcp icmp http"

# A target of each kind, for pulse validate.
target_of() {
	case $1 in
	tcp) echo 127.0.0.1:1 ;;
	icmp) echo 127.0.0.1 ;;
	http) echo http://127.0.0.1:1/ ;;
	esac
}

# --- the keys pulse takes ---------------------------------------------------

for k in $KINDS; do
	echo "$(target_of $k) zz_no_such_key=1" >"$E2E_TMP/unknown.txt"
	run_pulse validate "$E2E_TMP/unknown.txt"
	assert_rc 2 "an unknown key"
	sed -n "s/.*unknown key 'zz_no_such_key' (known for $k targets: \(.*\))\$/\1/p" \
	    "$ERR" | tr ',' '\n' | tr -d ' ' | grep . | sort -u \
	    >"$E2E_TMP/keys.$k"
	[ -s "$E2E_TMP/keys.$k" ] ||
	    fail "pulse validate does not list the keys of $k targets"
	# label.NAME is a key of every kind too.
	echo "$(target_of $k) label.zz=1" >"$E2E_TMP/label.txt"
	run_pulse validate -q "$E2E_TMP/label.txt"
	assert_rc 0 "label.NAME on a $k target"
done

sort -u "$E2E_TMP"/keys.* >"$E2E_TMP/keys.any"
grep -hoE '^[[:space:]]*\{"[a-z_]+", *KIND' "$SRCDIR"/src/target*.c |
    sed -E 's/^[[:space:]]*\{"([a-z_]+)".*/\1/' | sort -u \
    >"$E2E_TMP/keys.src"
[ -s "$E2E_TMP/keys.src" ] ||
    fail "no option table found in src/target*.c; update this test"
cmp -s "$E2E_TMP/keys.any" "$E2E_TMP/keys.src" ||
    fail "the keys pulse validate lists ($(tr '\n' ' ' \
	<"$E2E_TMP/keys.any")) are not those of the tables in" \
	"src/target*.c ($(tr '\n' ' ' <"$E2E_TMP/keys.src"))"

# yaml_keys ARRAY: the strings of a key array of src/config_yaml.c.
yaml_keys() {
	awk -v a="$1" '
		index($0, "const " a "[] =") { on = 1 }
		on {
			s = $0
			while (match(s, /"[a-z_]+"/)) {
				print substr(s, RSTART + 1, RLENGTH - 2)
				s = substr(s, RSTART + RLENGTH)
			}
			if (index($0, "};"))
				exit
		}' "$SRCDIR/src/config_yaml.c" | sort -u
}

for a in top defaults module entry; do
	yaml_keys "cy_${a}_keys" >"$E2E_TMP/yaml.$a"
	[ -s "$E2E_TMP/yaml.$a" ] ||
	    fail "no cy_${a}_keys in src/config_yaml.c; update this test"
done

# Every key of a kind is a key in YAML too: a bad value may be an error,
# but never an unknown key.  The last entry proves unknown keys are seen.
y=$E2E_TMP/keys.yaml
echo "targets:" >"$y"
for k in $KINDS; do
	while read -r key; do
		printf '  - {target: "%s", %s: "@@"}\n' "$(target_of $k)" \
		    "$key" >>"$y"
	done <"$E2E_TMP/keys.$k"
done
printf '  - {target: "127.0.0.1:1", zz_no_such_key: "@@"}\n' >>"$y"
run_pulse validate "$y"
assert_rc 2 "keys with bad values in YAML"
assert_count "$ERR" "unknown key" 1 "keys of the line format in YAML"
assert_contains "$ERR" "unknown key 'zz_no_such_key'" "an unknown YAML key"

# --- what the page documents ------------------------------------------------

# parse_page PAGE: one line per thing the page documents, with tabs
# between its part and its name: "key" and the kind ("all" for every
# target) and the key; "yaml" and the section and the key; "member" and
# its path; "mention" and a path named in the text of a member.
parse_page() {
	awk '
	function unesc(w) {
		gsub(/\\&/, "", w)
		gsub(/\\-/, "-", w)
		return w
	}
	function path(d,   i, p) {
		p = ""
		for (i = 1; i <= d; i++) {
			if (item[i] == "")
				return ""
			p = p (i > 1 ? "." : "") item[i]
		}
		return p
	}
	/^\.Sh / {
		sec = substr($0, 5)
		ss = ""
		depth = 0
		next
	}
	/^\.Ss / {
		ss = substr($0, 5)
		lists = 0
		if (sec == "THE YAML FORMAT" && ss ~ /^[a-z_]+$/)
			print "yaml\ttop\t" ss
		next
	}
	/^\.Bl/ {
		depth++
		if (depth == 1)
			lists++
		item[depth] = ""
		next
	}
	/^\.El/ {
		depth--
		next
	}
	sec == "KEYS" && depth == 1 && /^\.It Cm / {
		if (ss ~ /every target/)
			k = "all"
		else if (ss ~ /^Keys of [A-Za-z]+ targets$/) {
			split(ss, T, " ")
			k = tolower(T[3])
		} else
			k = "?"
		key = unesc($3)
		sub(/=.*/, "", key)
		if (key == "label.")
			key = "label.*"
		print "key\t" k "\t" key
		next
	}
	sec == "THE YAML FORMAT" && ss ~ /^[a-z_]+$/ && depth == 1 &&
	    lists == 1 && /^\.It Cm / {
		print "yaml\t" ss "\t" unesc($3)
		next
	}
	sec == "RESULTS" && /^\.It / {
		item[depth] = $2 == "Cm" ? unesc($3) : ""
		p = path(depth)
		if (p != "")
			print "member\t" p
		next
	}
	sec == "RESULTS" && depth > 0 && /^\.Cm / {
		p = path(depth)
		if (p != "")
			print "mention\t" p "." unesc($2)
	}
	' "$1"
}

# keys_of_page8 PAGE8: the keys the summary in TARGETS FILE names.
keys_of_page8() {
	awk '
		FNR == NR { key[$0] = 1; next }
		/^\.Sh / { on = substr($0, 5) == "TARGETS FILE" }
		on && /^\.Cm / {
			w = $2
			gsub(/\\&/, "", w)
			if (w == "label.")
				print "label.*"
			else if (w ~ /^[a-z_]+=$/)
				print substr(w, 1, length(w) - 1)
			else if (w in key)
				print w
		}' "$E2E_TMP/keys.any" "$1" | sort -u
}

# compare PAGE PAGE8: print every way the pages differ from pulse, one a
# line.
compare() {
	keys_of_page8 "$2" >"$E2E_TMP/doc.page8"
	comm -23 "$E2E_TMP/keys.any" "$E2E_TMP/doc.page8" |
	    while read -r _o; do
		echo "$_o= is not in TARGETS FILE of $(basename "$2")"
	done
	grep -vxF 'label.*' "$E2E_TMP/doc.page8" |
	    comm -13 "$E2E_TMP/keys.any" - | while read -r _o; do
		echo "TARGETS FILE of $(basename "$2") gives $_o=, which" \
		    "pulse does not take"
	done
	grep -qxF 'label.*' "$E2E_TMP/doc.page8" ||
	    echo "label.NAME= is not in TARGETS FILE of $(basename "$2")"
	_p=$E2E_TMP/parse
	parse_page "$1" >"$_p"
	awk -F '\t' '$1 == "key" && $2 == "?" { print "a list of keys " \
	    "in KEYS names no kind of target: " $3 }' "$_p"
	for _k in $KINDS; do
		awk -F '\t' -v k="$_k" '$1 == "key" && ($2 == k ||
		    $2 == "all") { print $3 }' "$_p" | sort -u \
		    >"$E2E_TMP/doc.$_k"
		comm -23 "$E2E_TMP/keys.$_k" "$E2E_TMP/doc.$_k" |
		    while read -r _o; do
			echo "$_o= of $_k targets is not in KEYS"
		done
		grep -vxF 'label.*' "$E2E_TMP/doc.$_k" |
		    comm -13 "$E2E_TMP/keys.$_k" - | while read -r _o; do
			echo "KEYS gives $_o= for $_k targets, which pulse" \
			    "does not take"
		done
		grep -qxF 'label.*' "$E2E_TMP/doc.$_k" ||
		    echo "label.NAME= of $_k targets is not in KEYS"
	done
	for _a in top defaults module entry; do
		case $_a in
		top) _s=top ;;
		module) _s=modules ;;
		entry) _s=targets ;;
		*) _s=$_a ;;
		esac
		awk -F '\t' -v s="$_s" '$1 == "yaml" && $2 == s { print $3 }' \
		    "$_p" | sort -u >"$E2E_TMP/doc.yaml"
		comm -23 "$E2E_TMP/yaml.$_a" "$E2E_TMP/doc.yaml" |
		    while read -r _o; do
			echo "YAML key $_o ($_s) is not in THE YAML FORMAT"
		done
		comm -13 "$E2E_TMP/yaml.$_a" "$E2E_TMP/doc.yaml" |
		    while read -r _o; do
			echo "THE YAML FORMAT gives $_o ($_s), which pulse" \
			    "does not take"
		done
	done
	awk -F '\t' '$1 == "member" || $1 == "mention" { print $2 }' "$_p" |
	    sort -u >"$E2E_TMP/doc.members"
	comm -23 "$E2E_TMP/members" "$E2E_TMP/doc.members" |
	    while read -r _o; do
		echo "member $_o of the JSON report is not in RESULTS"
	done
	# A documented member is in the report, unless its parent is not an
	# object there: the members of tls need an HTTPS result.
	awk -F '\t' '
		FNR == NR {
			json[$0] = 1
			p = $0
			sub(/\.[^.]*$/, "", p)
			if (p != $0)
				object[p] = 1
			next
		}
		$1 == "member" {
			p = $2
			sub(/\.[^.]*$/, "", p)
			if ((p == $2 || p in object) && !($2 in json))
				print "RESULTS gives member " $2 ", which " \
				    "the JSON report does not have"
		}' "$E2E_TMP/members" "$_p"
	return 0
}

# --- the members of a result ------------------------------------------------

start_fixture --accept 1
A1=$(nth 1 $ACCEPT)
start_http_fixture
set -- "$A1" 127.0.0.1 "http://$HF_OK/"
if command -v openssl >/dev/null 2>&1; then
	start_tls_server
	set -- "$@" "https://$TLS_ADDR/ insecure"
else
	log "openssl is not installed: no HTTPS result, tls.* not compared"
fi
run_pulse scan -f json --timeout 5s "$@"
case $RC in
0 | 1) ;;
*) fail "pulse scan $*: exit status $RC" ;;
esac
assert_document "$OUT"
[ "$(id -u)" = 0 ] || log "not root: the ICMP probe may fail"
jq -r '
	def members: [paths | map(select(type == "string")) |
	    select(length > 0 and (.[0] != "labels" or length == 1)) |
	    join(".")];
	(del(.results) | members) + ["results"] +
	    ([.results[] | members] | add) | unique[]' "$OUT" \
    >"$E2E_TMP/members"
for m in target kind status_code; do
	grep -qxF "$m" "$E2E_TMP/members" ||
	    fail "no member '$m' found in the report"
done
if [ -n "${TLS_ADDR:-}" ]; then
	assert_eq "$(result "$OUT" "https://$TLS_ADDR/" .success)" true \
	    "the HTTPS probe"
fi

# --- the check fails where it should ----------------------------------------

# Without the line of count= in KEYS, the check names it.
n=$(grep -n '^\.It Cm count=' "$PAGE" | head -n 1 | cut -d: -f1)
[ -n "$n" ] || fail "no .It Cm count= line in $PAGE"
sed "${n}d" "$PAGE" >"$E2E_TMP/dropped.5"
compare "$E2E_TMP/dropped.5" "$PAGE8" >"$E2E_TMP/dropped.out"
grep -qxF "count= of icmp targets is not in KEYS" "$E2E_TMP/dropped.out" ||
    fail "self-check: count= taken out of the page, but the check says:" \
	"$(cat "$E2E_TMP/dropped.out")"

# A member the report does not have is found.
n=$(grep -n '^\.It Cm reply_ttl' "$PAGE" | head -n 1 | cut -d: -f1)
[ -n "$n" ] || fail "no .It Cm reply_ttl line in $PAGE"
awk -v n="$n" 'NR == n { print ".It Cm zz_member"; print "Not a member." }
    { print }' "$PAGE" >"$E2E_TMP/added.5"
compare "$E2E_TMP/added.5" "$PAGE8" >"$E2E_TMP/added.out"
grep -qxF "RESULTS gives member zz_member, which the JSON report does not have" \
    "$E2E_TMP/added.out" ||
    fail "self-check: zz_member added to the page, but the check says:" \
	"$(cat "$E2E_TMP/added.out")"

# Without sni= in the summary of pulse.8, the check names it.
n=$(awk '/^\.Sh / { on = substr($0, 5) == "TARGETS FILE" }
    on && /^\.Cm sni=/ { print NR; exit }' "$PAGE8")
[ -n "$n" ] || fail "no .Cm sni= line in TARGETS FILE of $PAGE8"
sed "${n}d" "$PAGE8" >"$E2E_TMP/nosni.8"
compare "$PAGE" "$E2E_TMP/nosni.8" >"$E2E_TMP/nosni.out"
grep -qxF "sni= is not in TARGETS FILE of nosni.8" "$E2E_TMP/nosni.out" ||
    fail "self-check: sni= taken out of pulse.8, but the check says:" \
	"$(cat "$E2E_TMP/nosni.out")"

# --- the page itself --------------------------------------------------------

compare "$PAGE" "$PAGE8" >"$E2E_TMP/problems"
if [ -s "$E2E_TMP/problems" ]; then
	log "$(basename "$PAGE") and pulse disagree:" >&2
	sed 's/^/  /' "$E2E_TMP/problems" >&2
	OUT=
	ERR=
	fail "$(wc -l <"$E2E_TMP/problems" | tr -d ' ') problems in" \
	    "$(basename "$PAGE")"
fi

check_manual "$PAGE"

log "ok"
