#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# pulse.8 documents exactly the options pulse takes: for pulse itself and
# for each command, every option its --help lists is in the page, both in
# the command's list of options and in its synopsis, and every option the
# page gives is one --help lists and pulse accepts.  The page renders
# with man(1) and passes mandoc's lint.  The check first proves on copies
# of the page that it fails when an option goes missing or a wrong one is
# added.  PULSE_MAN8 names another page to check.
#
# What the page documents is read from its mdoc source:
#   - under OPTIONS, each list (.Bl) belongs to the command that the text
#     just before it names with ".Cm COMMAND", or to pulse itself when
#     that text says "before the command"; the options of a list are the
#     .Fl arguments of its own .It lines, nested lists left out;
#   - in the SYNOPSIS, the options of a command are the .Fl arguments
#     between the ".Cm COMMAND" after .Nm and the next .Nm, and those of
#     the first .Nm, which names no command, are pulse's own;
#   - ".Fl \-name" is --name, ".Fl x" is -x, ".Fl hqv" is -h, -q and -v.
# What --help lists is every -x or --name on its "usage:" line and on
# its lines that start with white space and a "-" (the option lines).
. "$E2E_LIB"

LC_ALL=C
export LC_ALL
SRCDIR=${E2E_LIB%/tests/e2e/lib.sh}
PAGE=${PULSE_MAN8:-$SRCDIR/man/pulse.8}
[ -r "$PAGE" ] || hard_error "cannot read $PAGE"
COMMANDS="scan serve check validate"
# "global" stands for pulse itself, the options before a command.
SCOPES="global $COMMANDS"

# --- what --help lists ------------------------------------------------------

# opts_of_help FILE: the options in a --help text, one a line, sorted.
opts_of_help() {
	awk '
	/^usage:/ || /^[ \t]+-/ {
		s = " " $0
		while (match(s, /[^A-Za-z0-9_\/-]--?[A-Za-z0-9][A-Za-z0-9-]*/)) {
			o = substr(s, RSTART + 1, RLENGTH - 1)
			s = substr(s, RSTART + RLENGTH)
			if (o ~ /^--/ || length(o) == 2) {
				print o
				continue
			}
			for (i = 2; i <= length(o); i++)
				print "-" substr(o, i, 1)
		}
	}' "$1" | sort -u
}

for s in $SCOPES; do
	if [ "$s" = global ]; then
		run_pulse --help
	else
		run_pulse "$s" --help
	fi
	assert_rc 0 "pulse $s --help"
	opts_of_help "$OUT" >"$E2E_TMP/help.$s"
	[ -s "$E2E_TMP/help.$s" ] || fail "no option found in pulse $s --help"
done

# --- what the page documents ------------------------------------------------

# parse_page PAGE: one line per option the page gives, with tabs between
# the scope, "list" or "synopsis", the line it is on and the option.  A
# list of options that belongs to no command gives "?" as its scope.
parse_page() {
	awk -v commands=" $COMMANDS " '
	function unesc(w) {
		gsub(/\\&/, "", w)
		gsub(/\\-/, "-", w)
		return w
	}
	# The options that the .Fl macros of the line give.
	function flags(where, scope,   n, i, j, w, fl) {
		n = split($0, W, /[ \t]+/)
		fl = 0
		for (i = 1; i <= n; i++) {
			w = W[i]
			if (i == 1)
				sub(/^\./, "", w)
			if (w == "Fl") {
				fl = 1
				continue
			}
			if (w ~ /^[A-Z][a-z][a-z]?$/) {
				fl = 0
				continue
			}
			if (!fl || w ~ /^[,|;:.()\[\]]+$/)
				continue
			w = unesc(w)
			if (w ~ /^-[A-Za-z0-9]/)
				print scope "\t" where "\t" NR "\t-" w
			else if (w !~ /^-/)
				for (j = 1; j <= length(w); j++)
					print scope "\t" where "\t" NR "\t-" \
					    substr(w, j, 1)
		}
	}
	/^\.Sh / {
		sec = $2
		depth = 0
		cur = ""
		next
	}
	sec == "SYNOPSIS" && /^\.Nm/ {
		syn = "global"
		next
	}
	sec == "SYNOPSIS" && /^\.Cm / && index(commands, " " $2 " ") {
		syn = $2
		next
	}
	sec == "SYNOPSIS" && syn != "" && /(^\.| )Fl / {
		flags("synopsis", syn)
		next
	}
	sec != "OPTIONS" {
		next
	}
	/^\.Bl/ {
		if (depth == 0)
			list = cur == "" ? "?" : cur
		depth++
		next
	}
	/^\.El/ {
		depth--
		if (depth == 0)
			cur = ""
		next
	}
	depth == 0 && /before the command/ {
		cur = "global"
	}
	depth == 0 && /^\.Cm / && index(commands, " " $2 " ") {
		cur = $2
	}
	depth == 1 && /^\.It / {
		flags("list", list)
	}
	' "$1"
}

# field SCOPE WHERE FILE: the options of SCOPE in a parse, sorted.
field() {
	awk -F '\t' -v s="$1" -v w="$2" '$1 == s && $2 == w { print $4 }' \
	    "$3" | sort -u
}

# --- does pulse take it -----------------------------------------------------

# rejected SCOPE OPTION: true when pulse turns OPTION down as unknown.
# The option is given alone, without its value and without targets, so
# that nothing is probed or served: pulse stops at a usage error or at
# the help.  Answers are kept, so each option runs once.
rejected() {
	_k="$1 $2"
	grep -qxF -- "$_k" "$E2E_TMP/known" 2>/dev/null && return 1
	grep -qxF -- "$_k" "$E2E_TMP/unknown" 2>/dev/null && return 0
	if [ "$1" = global ]; then
		PULSE_LIMIT=10 run_pulse "$2"
	else
		PULSE_LIMIT=10 run_pulse "$1" "$2"
	fi </dev/null
	if head -n 1 "$ERR" | grep -qiE \
	    'unrecognized option|invalid option|unknown option|unknown command|ambiguous'; then
		echo "$_k" >>"$E2E_TMP/unknown"
		return 0
	fi
	echo "$_k" >>"$E2E_TMP/known"
	return 1
}

# --- the comparison ---------------------------------------------------------

# compare PAGE: print every way PAGE differs from pulse, one a line.
compare() {
	_p=$E2E_TMP/parse
	parse_page "$1" >"$_p"
	awk -F '\t' '$1 == "?" { printf "a list of options at line %d " \
	    "belongs to no command\n", $3 }' "$_p"
	for _s in $SCOPES; do
		_h=$E2E_TMP/help.$_s
		field "$_s" list "$_p" >"$E2E_TMP/list"
		field "$_s" synopsis "$_p" >"$E2E_TMP/syn"
		comm -23 "$_h" "$E2E_TMP/list" | while read -r _o; do
			echo "$_s: $_o is in --help but not in the options" \
			    "of $_s in the page"
		done
		comm -13 "$_h" "$E2E_TMP/list" | while read -r _o; do
			echo "$_s: $_o is in the options of $_s in the" \
			    "page but not in --help"
		done
		comm -13 "$_h" "$E2E_TMP/syn" | while read -r _o; do
			echo "$_s: $_o is in the synopsis of $_s but not" \
			    "in --help"
		done
		# An option and its other names (-t, --targets) are one .It
		# line; the synopsis may give any of them.
		awk -F '\t' -v s="$_s" '
			FNR == NR { syn[$0] = 1; next }
			$1 == s && $2 == "list" {
				if ($3 in names)
					names[$3] = names[$3] ", " $4
				else
					names[$3] = $4
				if ($4 in syn)
					shown[$3] = 1
			}
			END {
				for (l in names)
					if (!(l in shown))
						print s ": " names[l] " is not in " \
						    "the synopsis of " s
			}' "$E2E_TMP/syn" "$_p"
		sort -u "$_h" "$E2E_TMP/list" "$E2E_TMP/syn" >"$E2E_TMP/all"
		while read -r _o; do
			if rejected "$_s" "$_o"; then
				echo "$_s: pulse rejects $_o as an unknown option"
			fi
		done <"$E2E_TMP/all"
	done
	return 0
}

# --- the check fails where it should ----------------------------------------

parse_page "$PAGE" >"$E2E_TMP/page.parse"

# Without the first option of scan's list, the check names that option.
n=$(awk -F '\t' '$1 == "scan" && $2 == "list" { print $3; exit }' \
    "$E2E_TMP/page.parse")
[ -n "$n" ] || fail "no list of the options of scan found in $PAGE"
gone=$(awk -F '\t' -v n="$n" '$3 == n { print $4 }' "$E2E_TMP/page.parse")
sed "${n}d" "$PAGE" >"$E2E_TMP/dropped.8"
compare "$E2E_TMP/dropped.8" >"$E2E_TMP/dropped.out"
for o in $gone; do
	grep -qxF -- "scan: $o is in --help but not in the options of scan in the page" \
	    "$E2E_TMP/dropped.out" ||
	    fail "self-check: line $n ($o) taken out of the page, but the" \
		"check says: $(cat "$E2E_TMP/dropped.out")"
done

# An option pulse does not have, added to the list of validate, is found
# both missing from --help and rejected by pulse.
n=$(awk -F '\t' '$1 == "validate" && $2 == "list" { print $3; exit }' \
    "$E2E_TMP/page.parse")
[ -n "$n" ] || fail "no list of the options of validate found in $PAGE"
awk -v n="$n" 'NR == n { print ".It Fl \\-no\\-such\\-option"
    print "Not an option." } { print }' "$PAGE" >"$E2E_TMP/added.8"
compare "$E2E_TMP/added.8" >"$E2E_TMP/added.out"
for m in "validate: --no-such-option is in the options of validate in the page but not in --help" \
    "validate: pulse rejects --no-such-option as an unknown option"; do
	grep -qxF -- "$m" "$E2E_TMP/added.out" ||
	    fail "self-check: --no-such-option added to the page, but the" \
		"check says: $(cat "$E2E_TMP/added.out")"
done

# Without a synopsis line that holds the only name of an option, the
# check finds the option missing from the synopsis.
n=$(awk -F '\t' '
	$1 == "scan" && $2 == "list" { names[$3]++; line[$4] = $3 }
	$1 == "scan" && $2 == "synopsis" { syn[$3]++; opt[$3] = $4 }
	END {
		for (l in syn)
			if (syn[l] == 1 && names[line[opt[l]]] == 1)
				print l, opt[l]
	}' "$E2E_TMP/page.parse" | sort -n | head -n 1)
[ -n "$n" ] || fail "no synopsis line of scan with a single option found"
o=${n#* }
n=${n% *}
sed "${n}d" "$PAGE" >"$E2E_TMP/nosyn.8"
compare "$E2E_TMP/nosyn.8" >"$E2E_TMP/nosyn.out"
grep -qxF -- "scan: $o is not in the synopsis of scan" "$E2E_TMP/nosyn.out" ||
    fail "self-check: $o taken out of the synopsis, but the check says:" \
	"$(cat "$E2E_TMP/nosyn.out")"

# --- the page itself --------------------------------------------------------

compare "$PAGE" >"$E2E_TMP/problems"
if [ -s "$E2E_TMP/problems" ]; then
	log "$(basename "$PAGE") and pulse disagree:" >&2
	sed 's/^/  /' "$E2E_TMP/problems" >&2
	OUT=
	ERR=
	fail "$(wc -l <"$E2E_TMP/problems" | tr -d ' ') problems with the" \
	    "options in $(basename "$PAGE")"
fi

check_manual "$PAGE"

log "ok"
