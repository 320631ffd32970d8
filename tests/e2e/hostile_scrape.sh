#!/bin/sh
# shellcheck disable=SC1090,SC2016,SC2034,SC2086
# Hostile scrapers of pulse serve.  While 50 targets are probed every
# second, waves of 1,000 clients ask for /metrics at once for a few
# seconds: each client gets the whole page or 503 "too many connections",
# at least 64 of each wave get the page, pulse stays healthy and its
# schedule does not slip (no slot skipped, every target probed about once a
# second all along).  Then a client asks for a big page (2,000 targets)
# and never reads it: it is dropped after 10 s, while probing goes on and
# other clients get the page at once.  Both need python3: without it the
# test is skipped.
#
# Elsewhere: clients that stall in the middle of a request, a flood of
# connections at a low descriptor limit and workers killed mid-probe in
# serve_faults.sh; the page itself in serve_basic.sh.
. "$E2E_LIB"
. "$E2E_SERVE_LIB"

command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"

# The last line of every page: the sample of the last family.
LAST=pulse_config_last_reload_success_timestamp_seconds

# probes_by_target FILE: "TARGET COUNT" for every target in a scrape, its
# probes of any result added up, sorted by target.
probes_by_target() {
	sed -n 's/^pulse_probes_total{target="\([^"]*\)".* \([0-9]*\)$/\1 \2/p' \
	    "$1" | awk '{ n[$1] += $2 } END { for (t in n) print t, n[t] }' |
	    sort
}

# assert_page FILE WHAT: a whole page, its last line the sample of LAST.
assert_page() {
	tail -n 1 "$1" | grep -Eq "^$LAST [0-9]+\$" ||
	    fail "$2: the page ends with '$(tail -n 1 "$1" | head -c 200)'"
}

# --- a thousand scrapers at once ----------------------------------------------

# scrapers.py PORT N HOLD LIMIT LAST: waves of N clients, each opening its
# connection, sending GET /metrics and reading the answer to its end, all
# at once, until HOLD seconds have passed (one wave at least).  Each wave
# prints: clients, whole pages, 503 "too many connections", other answers,
# clients with no end to their answer within LIMIT s of the start, and the
# seconds it took.
cat >"$E2E_TMP/scrapers.py" <<'EOF'
import errno, resource, selectors, socket, sys, time
port, want, hold, limit = (int(sys.argv[1]), int(sys.argv[2]),
                           float(sys.argv[3]), float(sys.argv[4]))
last = sys.argv[5].encode()
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if hard != resource.RLIM_INFINITY:
    want = min(want, hard - 32)
if soft != resource.RLIM_INFINITY and soft < want + 32:
    resource.setrlimit(resource.RLIMIT_NOFILE, (want + 32, hard))
request = (b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Connection: close\r\n\r\n")


def judge(c):
    if not c["done"]:
        return "unfinished"
    head, sep, body = bytes(c["data"]).partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    words = lines[0].split(b" ")
    if not sep or len(words) < 3 or words[0] != b"HTTP/1.1":
        return "bad"
    length = None
    for h in lines[1:]:
        name, _, value = h.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length != len(body):
        return "bad"
    if words[1] == b"503" and body == b"too many connections\n":
        return "busy"
    if words[1] != b"200" or not body.endswith(b"\n"):
        return "bad"
    final = body[:-1].rsplit(b"\n", 1)[-1]
    if final.startswith(last + b" ") and final[len(last) + 1:].isdigit():
        return "ok"
    return "bad"


def wave(end):
    t0 = time.monotonic()
    sel = selectors.DefaultSelector()
    clients = []
    for _ in range(want):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex(("127.0.0.1", port))
        if err not in (0, errno.EINPROGRESS):
            sys.exit("connect: " + errno.errorcode.get(err, str(err)))
        c = {"sock": s, "sent": 0, "data": bytearray(), "done": False}
        clients.append(c)
        sel.register(s, selectors.EVENT_WRITE, c)
    left = want
    while left and time.monotonic() < end:
        for key, ev in sel.select(0.1):
            c = key.data
            s = c["sock"]
            try:
                if ev & selectors.EVENT_WRITE:
                    c["sent"] += s.send(request[c["sent"]:])
                    if c["sent"] == len(request):
                        sel.modify(s, selectors.EVENT_READ, c)
                    continue
                chunk = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                c["error"] = e.strerror
                chunk = b""
            if chunk:
                c["data"] += chunk
                continue
            sel.unregister(s)
            s.close()
            c["done"] = True
            left -= 1
    for c in clients:
        if not c["done"]:
            c["sock"].close()
    verdicts = [judge(c) for c in clients]
    for c, v in zip(clients, verdicts):
        if v == "bad":
            print("a bad answer:", c.get("error", ""), bytes(c["data"][:300]),
                  bytes(c["data"][-300:]), file=sys.stderr)
            break
    print(want, *(verdicts.count(v) for v in
                  ("ok", "busy", "bad", "unfinished")),
          "%.2f" % (time.monotonic() - t0), flush=True)


start = time.monotonic()
while True:
    wave(start + limit)
    if time.monotonic() - start >= hold:
        break
EOF

start_fixture --accept 50 --refuse 1
R=$(nth 1 $REFUSE)
f=$E2E_TMP/targets.txt
for a in $ACCEPT; do
	echo "$a"
done >"$f"
start_serve -t "$f" --interval 1s

# Every target probed once, and the page as it should be.
all_probed() {
	scrape
	[ "$(probes_by_target "$SCRAPE" | wc -l)" -eq 50 ]
}
wait_for 10 all_probed || fail "50 targets not all probed within 10 s"
assert_page "$SCRAPE" "a page before the flood"
assert_metric 0 pulse_schedule_skipped_total
probes_by_target "$SCRAPE" >"$E2E_TMP/before"
t_flood=$(now_ms)
timeout -k 2 30 python3 "$E2E_TMP/scrapers.py" "$SERVE_PORT" 1000 4 20 \
    "$LAST" >"$E2E_TMP/waves" 2>"$E2E_TMP/waves.err" ||
    fail "scrapers.py: $(cat "$E2E_TMP/waves.err")"
scrape "$E2E_TMP/after.prom"
secs=$((($(now_ms) - t_flood) / 1000))
log "waves of scrapers (clients, pages, 503, bad, unfinished, seconds):" \
    "$(tr '\n' ';' <"$E2E_TMP/waves")"
[ ! -s "$E2E_TMP/waves.err" ] ||
    fail "scrapers.py: $(head -c 1000 "$E2E_TMP/waves.err")"
while read -r n ok busy bad unfinished took; do
	[ "$n" -ge 1000 ] || log "only $n clients a wave: few descriptors"
	assert_eq "$bad $unfinished" "0 0" \
	    "other answers, and clients unanswered, in a wave of $n"
	assert_eq $((ok + busy)) "$n" "pages and 503s in a wave of $n"
	assert_le 64 "$ok" "whole pages in a wave of $n"
done <"$E2E_TMP/waves"

# The schedule held: nothing skipped, and every target probed all along.
assert_page "$SCRAPE" "a page after the flood"
assert_metric 0 pulse_schedule_skipped_total
probes_by_target "$SCRAPE" >"$E2E_TMP/after"
slow=$(join "$E2E_TMP/before" "$E2E_TMP/after" |
    awk -v s="$secs" '$3 - $2 < s - 2 || $3 <= $2 { print $1, $2, $3 }')
[ -z "$slow" ] ||
    fail "targets probed too little in $secs s of scrapers: $slow"
assert_eq "$(join "$E2E_TMP/before" "$E2E_TMP/after" | wc -l | tr -d ' ')" \
    50 "targets counted before and after the flood"
alive "$SERVE_PID" || fail "pulse serve died in the flood"
assert_http GET /-/healthy 200
assert_eq "$(grep -c 'level=error' "$SERVE_LOG" || true)" 0 "errors logged"
stop_serve TERM
assert_rc 0 "SIGTERM after the flood"

# --- a client that never reads ------------------------------------------------

# slow.py PORT LIMIT: ask for /metrics with a tiny receive buffer and read
# nothing; print the seconds until pulse let go of the connection (its end
# of it left ESTABLISHED in /proc/net/tcp), or -1 after LIMIT seconds.
cat >"$E2E_TMP/slow.py" <<'EOF'
import socket, sys, time
port, limit = int(sys.argv[1]), float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
s.connect(("127.0.0.1", port))
s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
t0 = time.monotonic()
server = "0100007F:%04X" % port
client = "0100007F:%04X" % s.getsockname()[1]


def held():
    with open("/proc/net/tcp") as f:
        for line in f:
            w = line.split()
            if w[1] == server and w[2] == client:
                return w[3] == "01"
    return False


while held() and time.monotonic() - t0 < limit:
    time.sleep(0.1)
print("%.2f" % (time.monotonic() - t0) if not held() else -1)
EOF

# 2,000 refused targets every 5 s make the page big; two accepting ones
# are probed every second.
A1=$(nth 1 $ACCEPT)
A2=$(nth 2 $ACCEPT)
TA1="target=\"tcp://$A1\""
TA2="target=\"tcp://$A2\""
f=$E2E_TMP/big.txt
{
	printf '%s name=web\n%s name=db\n' "$A1" "$A2"
	printf '127.0.0.1-127.0.7.208:%s every=5s\n' "${R##*:}"
} >"$f"
start_serve -t "$f" --interval 1s
big_probed() {
	metric_is 2002 pulse_targets && [ "$(samples probe_success)" -eq 2002 ]
}
wait_for 15 big_probed || fail "2002 targets not all probed within 15 s"
size=$(wc -c <"$SCRAPE")
log "a page of 2002 targets: $size bytes"
assert_le 1000000 "$size" "bytes of the page of 2002 targets"
ok1=$(metric pulse_probes_total "$TA1" 'result="success"')
ok2=$(metric pulse_probes_total "$TA2" 'result="success"')

t_slow=$(now_ms)
timeout -k 2 20 python3 "$E2E_TMP/slow.py" "$SERVE_PORT" 14 \
    >"$E2E_TMP/slow.out" 2>&1 &
SLOW=$!
track_pid "$SLOW"
# Meanwhile other clients get the page at once.
i=0
while [ $i -lt 3 ]; do
	i=$((i + 1))
	sleep 2
	t=$(now_ms)
	scrape "$E2E_TMP/meanwhile.prom"
	ms=$(($(now_ms) - t))
	log "a scrape beside the client that does not read: $ms ms"
	assert_le "$ms" $((999 * E2E_SLOW)) "a scrape beside the client that does not read (ms)"
	assert_page "$SCRAPE" "a page beside the client that does not read"
done
RC=0
wait "$SLOW" || RC=$?
untrack_pid "$SLOW"
assert_rc 0 "slow.py: $(cat "$E2E_TMP/slow.out")"
secs=$((($(now_ms) - t_slow) / 1000))
dropped=$(cat "$E2E_TMP/slow.out")
log "the client that does not read was dropped after $dropped s"
awk -v t="$dropped" 'BEGIN { exit !(t >= 9.5 && t <= 12) }' ||
    fail "the client that does not read was dropped after $dropped s," \
    "not 10 s"

# Probing went on all along.
scrape
assert_page "$SCRAPE" "the page after the client that does not read"
assert_le $((ok1 + secs - 2)) \
    "$(metric pulse_probes_total "$TA1" 'result="success"')" \
    "web's successes in $secs s beside the client that does not read"
assert_le $((ok2 + secs - 2)) \
    "$(metric pulse_probes_total "$TA2" 'result="success"')" \
    "db's successes in $secs s beside the client that does not read"
assert_http GET /-/healthy 200
stop_serve TERM
assert_rc 0 "SIGTERM after the client that does not read"

log "ok"
