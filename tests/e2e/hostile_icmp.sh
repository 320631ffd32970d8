#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# An ICMP responder that lies, in two network namespaces this test makes
# and removes, joined by a veth pair and linked to nothing else (nothing
# leaves them).  The responder's kernel ignores echo requests; a python3
# raw-socket responder answers them instead, on one address per kind of
# lie: replies cut short, sent twice or three times, longer than the
# request (up to 65,000 bytes of payload, in fragments), with the wrong
# identifier, sequence number or cookie, from another address, or with a
# bad checksum; and a correct reply as the control.  Every IPv4 and IPv6
# target sends 3 requests 50 ms apart with a 1 s timeout, first over raw
# sockets (as root), then over ping sockets (as nobody).
#
# Exactly what must come out: a lie pulse can tell from a reply (no
# cookie, not ours, not from the target, not a valid ICMP message) is
# ignored, neither received nor a duplicate, and the target times out; a
# reply that carries our identifier, sequence number and cookie from the
# target counts, however long it is and whatever follows the cookie; a
# second reply to a request is a duplicate, never another reply.
. "$E2E_LIB"

[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
command -v ip >/dev/null 2>&1 || skip "ip (iproute2) is not installed"
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"

NS_A=pulse-e2e-ha-$$
NS_B=pulse-e2e-hb-$$
ns_cleanup() {
	_nrc=$?
	ip netns del "$NS_A" 2>/dev/null || true
	ip netns del "$NS_B" 2>/dev/null || true
	(exit $_nrc)
	e2e_cleanup
}
trap ns_cleanup EXIT

ip netns add "$NS_A" 2>/dev/null || skip "cannot create network namespaces"
ip netns add "$NS_B"
VA=veth-ha$$
VB=veth-hb$$
ip link add "$VA" netns "$NS_A" type veth peer name "$VB" netns "$NS_B"
ip -n "$NS_A" addr add 192.0.2.1/24 dev "$VA"
ip -n "$NS_A" link set lo up
ip -n "$NS_B" link set lo up
ip -n "$NS_A" link set "$VA" up
ip -n "$NS_B" link set "$VB" up
ip netns exec "$NS_B" sysctl -qw net.ipv4.icmp_echo_ignore_all=1

# IPv6 too, where the responder's kernel can be told to keep quiet: its
# own replies would answer every request correctly.
V6=1
if ! ip netns exec "$NS_B" sysctl -qw net.ipv6.icmp.echo_ignore_all=1 \
    2>/dev/null ||
    ! ip -n "$NS_A" addr add 2001:db8::1/64 dev "$VA" nodad 2>/dev/null; then
	log "no IPv6 echo_ignore_all or no IPv6: IPv4 only"
	V6=0
fi

# The lies, one address each (.10, .11, ...).  rawok (IPv6 only) is a
# correct reply sent the way badsum is, with its own IPv6 header.
MODES="ok hdronly cutcookie short cuttail burst dup big huge badid badseq
badcookie badtail othersrc badsum"
FAMS=4
if [ $V6 = 1 ]; then
	FAMS="4 6"
fi

addr_of() { # FAMILY INDEX
	if [ "$1" = 4 ]; then
		echo "192.0.2.$2"
	else
		echo "2001:db8::$2"
	fi
}

TARGETS=$E2E_TMP/targets.txt
: >"$TARGETS"
RARGS=
NTARGETS=0
i=10
for m in $MODES rawok; do
	for f in $FAMS; do
		[ $m = rawok ] && [ $f = 4 ] && continue
		a=$(addr_of $f $i)
		if [ $f = 4 ]; then
			ip -n "$NS_B" addr add "$a/24" dev "$VB"
		else
			ip -n "$NS_B" addr add "$a/64" dev "$VB" nodad
		fi
		RARGS="$RARGS $m=$a"
		echo "$a count=3 interval=50ms timeout=1s name=v$f-$m" \
		    >>"$TARGETS"
		NTARGETS=$((NTARGETS + 1))
	done
	i=$((i + 1))
done
# The address othersrc answers from: the responder's, never probed.
OTHER4=192.0.2.99
OTHER6=-
ip -n "$NS_B" addr add "$OTHER4/24" dev "$VB"
if [ $V6 = 1 ]; then
	OTHER6=2001:db8::99
	ip -n "$NS_B" addr add "$OTHER6/64" dev "$VB" nodad
fi

# --- the responder ----------------------------------------------------------

cat >"$E2E_TMP/responder.py" <<'EOF'
import select, socket, struct, sys, time

# argv: LIFETIME OTHER4 OTHER6|- MODE=ADDR...  One raw socket per address,
# bound to it: it reads the echo requests sent there and sends the
# answers from there, as the address's mode says.  Prints "ready", then
# "answered ADDR" for every request answered.

V4, V6 = socket.AF_INET, socket.AF_INET6
PROTO = {V4: socket.IPPROTO_ICMP, V6: socket.IPPROTO_ICMPV6}
REQUEST = {V4: 8, V6: 128}
REPLY = {V4: 0, V6: 129}


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def with_csum(m, c):
    return m[:2] + struct.pack("!H", c) + m[4:]


def echo(fam, ident, seq, payload, cut=None):
    """An echo reply cut to `cut` bytes; IPv6's checksum is the kernel's."""
    m = struct.pack("!BBHHH", REPLY[fam], 0, 0, ident, seq) + payload
    m = m[:cut]
    return with_csum(m, csum(m)) if fam == V4 else m


def ip6(src, dst, icmp, bad):
    """A whole IPv6 packet; its ICMPv6 checksum is off by one if bad."""
    s = socket.inet_pton(V6, src)
    d = socket.inet_pton(V6, dst)
    c = csum(s + d + struct.pack("!I3xB", len(icmp), 58) + icmp)
    if bad:
        c = (c + 1) & 0xFFFF or 1
    icmp = with_csum(icmp, c)
    return struct.pack("!IHBB", 6 << 28, len(icmp), 58, 64) + s + d + icmp


def raw(fam, addr):
    s = socket.socket(fam, socket.SOCK_RAW, PROTO[fam])
    s.bind((addr, 0))
    return s


class Target:
    def __init__(self, mode, addr):
        self.fam = V6 if ":" in addr else V4
        self.mode, self.addr = mode, addr
        self.sock = raw(self.fam, addr)
        self.replies = []


def answer(t, peer, ident, seq, payload, other, hdrincl):
    fam, mode = t.fam, t.mode
    ok = echo(fam, ident, seq, payload)
    out = [(t.sock, ok)]
    if mode == "hdronly":
        out = [(t.sock, echo(fam, ident, seq, b""))]
    elif mode == "cutcookie":
        out = [(t.sock, echo(fam, ident, seq, payload[:4]))]
    elif mode == "short":
        out = [(t.sock, echo(fam, ident, seq, payload, cut=4))]
    elif mode == "cuttail":
        out = [(t.sock, echo(fam, ident, seq, payload[:12]))]
    elif mode == "burst":
        out = [(t.sock, ok)] * 3
    elif mode == "dup":
        # The earlier replies again, then this one: request k of 3 is
        # answered 3 - k times, each copy before the last reply.
        out = [(t.sock, m) for m in t.replies]
        t.replies.append(ok)
        for s, m in out:
            s.sendto(m, (peer, 0))
        time.sleep(0.002)
        out = [(t.sock, ok)]
    elif mode == "big":
        out = [(t.sock, echo(fam, ident, seq, payload + bytes(range(100))))]
    elif mode == "huge":
        pad = bytes(65000 - len(payload))
        out = [(t.sock, echo(fam, ident, seq, payload + pad))]
    elif mode == "badid":
        out = [(t.sock, echo(fam, ident ^ 0x5A5A, seq, payload))]
    elif mode == "badseq":
        # Past the probe's 3: the numbers of the worker's next probe.
        out = [(t.sock, echo(fam, ident, (seq + 3) & 0xFFFF, payload))]
    elif mode == "badcookie":
        bad = bytes([payload[0] ^ 0xFF]) + payload[1:]
        out = [(t.sock, echo(fam, ident, seq, bad))]
    elif mode == "badtail":
        bad = payload[:-1] + bytes([payload[-1] ^ 0xFF])
        out = [(t.sock, echo(fam, ident, seq, bad))]
    elif mode == "othersrc":
        out = [(other[fam], ok)]
    elif mode == "badsum" and fam == V4:
        bad = (struct.unpack("!H", ok[2:4])[0] + 1) & 0xFFFF or 1
        out = [(t.sock, with_csum(ok, bad))]
    elif mode in ("badsum", "rawok"):
        # A raw ICMPv6 socket always checksums what it sends: this one
        # takes the IPv6 header from us and leaves the checksum alone.
        pkt = ip6(t.addr, peer, ok, mode == "badsum")
        out = [(hdrincl, pkt)]
    for s, m in out:
        s.sendto(m, (peer, 0))
    print("answered", t.addr, flush=True)


def main():
    deadline = time.monotonic() + float(sys.argv[1])
    other = {V4: raw(V4, sys.argv[2])}
    hdrincl = None
    if sys.argv[3] != "-":
        other[V6] = raw(V6, sys.argv[3])
        hdrincl = socket.socket(V6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    targets = {}
    for arg in sys.argv[4:]:
        t = Target(*arg.split("=", 1))
        targets[t.sock.fileno()] = t
    print("ready", flush=True)
    while time.monotonic() < deadline:
        left = deadline - time.monotonic()
        ready, _, _ = select.select(list(targets), [], [], min(left, 1.0))
        for fd in ready:
            t = targets[fd]
            pkt, peer = t.sock.recvfrom(65535)
            if t.fam == V4:
                pkt = pkt[(pkt[0] & 15) * 4:]
            if len(pkt) < 8 or pkt[0] != REQUEST[t.fam] or pkt[1] != 0:
                continue
            ident, seq = struct.unpack("!HH", pkt[4:8])
            answer(t, peer[0], ident, seq, pkt[8:], other, hdrincl)


main()
EOF

RESP_OUT=$E2E_TMP/responder.out
RESP_ERR=$E2E_TMP/responder.err
ip netns exec "$NS_B" timeout -k 2 100 python3 "$E2E_TMP/responder.py" 90 \
    "$OTHER4" "$OTHER6" $RARGS >"$RESP_OUT" 2>"$RESP_ERR" </dev/null &
RESP_PID=$!
track_pid "$RESP_PID"
i=0
while ! grep -qx ready "$RESP_OUT" 2>/dev/null; do
	alive "$RESP_PID" || fail "responder exited early: $(cat "$RESP_ERR")"
	i=$((i + 1))
	[ $i -le 200 ] || fail "responder not ready within 10 s"
	sleep 0.05
done

# --- checks -------------------------------------------------------------------

# An ICMP counter of the pulse namespace's kernel: snmp FILE and NAME.
counter() {
	ip netns exec "$NS_A" cat "/proc/net/$1" | awk -v n="$2" '
	    $1 == n { print $2; exit }
	    $1 == "Icmp:" && !h { for (i = 2; i <= NF; i++) c[$i] = i; h = 1;
		next }
	    $1 == "Icmp:" && h { print $c[n]; exit }'
}

# assert_named NAME FILTER WHAT: FILTER is true of the result NAME.
assert_named() {
	assert_jq "$OUT" ".results[] | select(.name == \$n) | $2" "$3" \
	    --arg n "$1"
}

# assert_down NAME: a lie pulse must see through: not received, not a
# duplicate, and the probe waits out its timeout.
assert_down() {
	assert_named "$1" '.success == false and .reason == "timeout" and
	    .error == "no echo reply (3 sent)" and .sent == 3 and
	    .received == 0 and .duplicates == 0 and .loss_ratio == 1 and
	    .rtt_seconds == null and .reply_ttl == null and
	    .duration_seconds >= 0.95 and .duration_seconds < 1.5' \
	    "$1: ignored, a timeout"
}

# assert_up NAME DUPS: every request answered by a reply pulse counts;
# DUPS, a jq test, holds for the duplicates.
assert_up() {
	assert_named "$1" '.success and .reason == null and .error == null and
	    .sent == 3 and .received == 3 and .loss_ratio == 0 and
	    .reply_ttl == 64 and .rtt_seconds.max < 0.5 and
	    .duration_seconds < 0.9' "$1: up, 3 of 3 received"
	assert_named "$1" ".duplicates | $2" "$1: duplicates $2"
}

# check_pass N WHAT: check the Nth pass over the targets, just run over
# WHAT sockets.
check_pass() {
	assert_jq "$OUT" ".results | length == $NTARGETS" \
	    "$2: one result a target"
	for f in $FAMS; do
		assert_up v$f-ok '. == 0'
		# Whatever follows the cookie, and however long: the target
		# read the request it answers.
		for m in cuttail badtail big huge; do
			assert_up v$f-$m '. == 0'
		done
		assert_up v$f-dup '. == 3'
		# Three copies of each reply at once: those to the first two
		# requests come in before the reply to the third, on which the
		# probe ends; its own two copies may or may not have been read
		# by then.
		assert_up v$f-burst '. >= 4 and . <= 6'
		for m in hdronly cutcookie short badid badseq badcookie \
		    othersrc badsum; do
			assert_down v$f-$m
		done
	done
	if [ $V6 = 1 ]; then
		assert_up v6-rawok '. == 0'
	fi
	# Each target's 3 requests reached the responder and were answered
	# with its lie: a silent responder would fail nothing above.
	while read -r a _; do
		assert_eq "$(grep -cx "answered $a" "$RESP_OUT")" $((3 * $1)) \
		    "requests to $a answered by the responder"
	done <"$TARGETS"
	# The kernel saw the bad checksums and dropped them itself; IPv4 raw
	# sockets get a copy anyway (pulse checks it), IPv6 ones do not.
	assert_eq "$(($(counter snmp InCsumErrors) - CSUM4))" 3 \
	    "$2: IPv4 bad checksums counted by the kernel"
	if [ $V6 = 1 ]; then
		assert_eq "$(($(counter snmp6 Icmp6InCsumErrors) - CSUM6))" 3 \
		    "$2: IPv6 bad checksums counted by the kernel"
	fi
}

# in_a COMMAND...: run pulse (COMMAND) inside namespace A over every
# target, 8 to a scan: one per ICMP worker, so that none waits behind
# another's probes.  OUT is all their results together.
in_a() {
	CSUM4=$(counter snmp InCsumErrors)
	CSUM6=0
	if [ $V6 = 1 ]; then
		CSUM6=$(counter snmp6 Icmp6InCsumErrors)
	fi
	rm -f "$E2E_TMP"/chunk.* "$E2E_TMP"/part.*
	split -l 8 "$TARGETS" "$E2E_TMP/chunk."
	for c in "$E2E_TMP"/chunk.*; do
		OUT=$E2E_TMP/part.${c##*.}
		ERR=$E2E_TMP/err
		_t0=$(now_ms)
		RC=0
		ip netns exec "$NS_A" timeout -k 5 60 "$@" -f json -t "$c" \
		    >"$OUT" 2>"$ERR" || RC=$?
		ELAPSED_MS=$(($(now_ms) - _t0))
		check_sanitizers
		assert_document "$OUT"
		assert_rc "$(jqr "$OUT" 'if .counts.down > 0 then 1 else 0 end')" \
		    "scan of $(basename "$c"), 1 when a target is down"
		assert_empty "$ERR" "stderr of scan -q"
		assert_le "$ELAPSED_MS" $((2500 * E2E_SLOW)) "wall time of a 1s-timeout scan (ms)"
	done
	OUT=$E2E_TMP/out
	jq -s '{results: [.[].results[]]}' "$E2E_TMP"/part.* >"$OUT"
}

# --- raw sockets (root) -----------------------------------------------------

in_a "$PULSE" scan -q --user nobody
check_pass 1 "raw sockets"

# --- ping sockets (nobody, no capability: raw sockets out of reach) --------

if command -v setpriv >/dev/null 2>&1 && NOBODY=$(id -u nobody 2>/dev/null)
then
	ip netns exec "$NS_A" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
	in_a setpriv --reuid "$NOBODY" --regid "$NOBODY" --clear-groups \
	    --inh-caps=-all "$PULSE" scan -q
	check_pass 2 "ping sockets"
else
	log "no setpriv or no user nobody: ping sockets not tested"
fi

[ -s "$RESP_ERR" ] && fail "responder: $(head -c 2000 "$RESP_ERR")"
log "ok"
