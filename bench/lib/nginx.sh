# shellcheck shell=bash disable=SC2154  # the globals are the caller's
# nginx serving one small page on a few loopback listeners, for the HTTP
# benchmarks.  Sourced by bash scripts, which define die() and set:
#   addrs           the 127.0.0.x addresses to listen on
#   ports_per_addr  ports on each, the first free from port_base, trying at
#   port_base,      most port_tries of them
#   port_tries
#   concurrency     connections in flight (nginx gets 512 more)
#   ngx             a directory of its own (configuration, logs, pid file)
#   nginx           the nginx binary
#   page, word      the page served under /p/, and the word it holds
#   python          a Python 3 interpreter (to fetch the page once)
#   targets, tfile  for write_targets: how many URLs, and where
# They set ports, listeners (ADDR:PORT) and nginx_pid.

# Set ports to the first ports_per_addr ports from port_base that no TCP
# socket holds, on any address, and that lie below the ephemeral range
# (so no client connection is ever given one).
pick_ports() {
	local lo
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
	read -r -a ports <<<"$(ss -Htan | awk -v base="$port_base" \
		-v tries="$port_tries" -v want="$ports_per_addr" -v lo="$lo" '
		{ n = split($4, a, ":"); used[a[n] + 0] = 1 }
		END {
			for (p = base; p < base + tries && p < lo && k < want; p++)
				if (!(p in used)) { printf "%d ", p; k++ }
		}')"
	[ ${#ports[@]} -eq "$ports_per_addr" ] ||
		die "no $ports_per_addr free ports in $port_base..$((port_base +
			port_tries - 1)) below the ephemeral range"
}

# nginx's configuration: every listener serves the page under /p/.
write_config() {
	local a p
	mkdir -p "$ngx/tmp"
	{
		cat <<-EOF
		daemon off;
		master_process on;
		worker_processes 2;
		pid $ngx/nginx.pid;
		error_log $ngx/error.log warn;
		events {
		    worker_connections $((concurrency + 512));
		}
		http {
		    access_log off;
		    client_body_temp_path $ngx/tmp/body;
		    proxy_temp_path $ngx/tmp/proxy;
		    fastcgi_temp_path $ngx/tmp/fastcgi;
		    uwsgi_temp_path $ngx/tmp/uwsgi;
		    scgi_temp_path $ngx/tmp/scgi;
		    keepalive_timeout 0;
		    default_type text/html;
		    server {
		EOF
		for a in "${addrs[@]}"; do
			for p in "${ports[@]}"; do
				echo "        listen $a:$p backlog=4096;"
			done
		done
		cat <<-EOF
		        location /p/ {
		            return 200 "$page";
		        }
		        location / {
		            return 404;
		        }
		    }
		}
		EOF
	} >"$ngx/nginx.conf"
}

# Listening sockets of nginx's among the ones configured.
listening() {
	ss -Htln | awk -v want="${listeners[*]}" '
		BEGIN {
			n = split(want, w, " ")
			for (i = 1; i <= n; i++)
				c[w[i]] = 1
		}
		$4 in c { k++ }
		END { print k + 0 }'
}

# Start nginx and wait, at most 10 s, until every listener is up; then
# fetch the page from each once.
start_nginx() {
	local i a p
	listeners=()
	for a in "${addrs[@]}"; do
		for p in "${ports[@]}"; do
			listeners+=("$a:$p")
		done
	done
	"$nginx" -p "$ngx/" -c "$ngx/nginx.conf" -e "$ngx/error.log" \
		>"$ngx/stdout" 2>&1 &
	nginx_pid=$!
	for i in $(seq 100); do
		[ "$(listening)" -eq ${#listeners[@]} ] && break
		kill -0 "$nginx_pid" 2>/dev/null ||
			die "nginx failed: $(cat "$ngx/error.log" "$ngx/stdout")"
		[ "$i" -lt 100 ] || die "nginx not listening after 10 s"
		sleep 0.1
	done
	# http.client takes no proxy from the environment.
	"$python" - "$word" "${listeners[@]}" <<-'EOF' ||
	import http.client
	import sys
	for hp in sys.argv[2:]:
	    host, port = hp.rsplit(":", 1)
	    c = http.client.HTTPConnection(host, int(port), timeout=5)
	    c.request("GET", "/p/check")
	    r = c.getresponse()
	    body = r.read()
	    c.close()
	    if r.status != 200 or sys.argv[1].encode() not in body:
	        sys.exit(f"{hp}: status {r.status}, body {body[:80]!r}")
	EOF
		die "nginx does not serve the page"
	if grep -q . "$ngx/error.log" 2>/dev/null; then
		sed 's/^/    nginx: /' "$ngx/error.log" | head -n 5 >&2
	fi
}

# N URLs, each path distinct, spread over the listeners in turn.
write_targets() {
	echo "# $targets URLs served by nginx on loopback, each must hold" \
		"'$word'" >"$tfile"
	awk -v n="$targets" -v word="$word" -v list="${listeners[*]}" 'BEGIN {
		k = split(list, l, " ")
		for (i = 0; i < n; i++)
			printf "http://%s/p/%d match=%s\n", l[i % k + 1], i, word
	}' >>"$tfile"
	[ "$(grep -c '^http://127\.' "$tfile")" -eq "$targets" ] ||
		die "did not write $targets loopback URLs"
	if grep -v '^#' "$tfile" | grep -qv '^http://127\.0\.0\.[0-9]*:'; then
		die "non-loopback target in $tfile"
	fi
	[ "$(grep -v '^#' "$tfile" | cut -d' ' -f1 | sort -u | wc -l)" \
		-eq "$targets" ] || die "the URLs in $tfile are not distinct"
}

# CPU seconds nginx, master and workers, has used so far.
nginx_cpu() {
	local pid stats=()
	for pid in "$nginx_pid" $(cat /proc/"$nginx_pid"/task/*/children); do
		stats+=("/proc/$pid/stat")
	done
	awk -v hz="$(getconf CLK_TCK)" \
		'{ t += $14 + $15 } END { print t / hz }' "${stats[@]}"
}

# Stop nginx: its master stops its workers on SIGTERM.
stop_nginx() {
	local i
	[ -n "$nginx_pid" ] || return 0
	kill "$nginx_pid" 2>/dev/null || true
	for i in $(seq 50); do
		kill -0 "$nginx_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$nginx_pid" 2>/dev/null || true
	wait "$nginx_pid" 2>/dev/null || true
	nginx_pid=
}
