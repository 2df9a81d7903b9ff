# tests/bench/rest.sh — the REST part of scripts/bench.sh (sourced by it,
# after tests/lib.sh and tests/webserver.sh; `scripts/bench.sh --rest`
# runs only this part). docs/bench.md explains the rows and the figures.
#
# Its own stack, in $T_DIR/rest: eight sample runtimes rt1..rt8 (TCP,
# each its own bearer token, one worker each), a wrg.fcgi registering all
# eight, tests/bench/fcgi-trivial (the FastCGI ceiling: a fixed answer
# through wrg.fcgi's record layer), and a hand-built nginx `proxy_pass`
# straight to rt1 with the token injected and a keepalive upstream pool
# (what an operator would build by hand: the anchor). lighttpd, nginx and
# Apache are started one after another from the shipped snippets
# (tests/webserver.sh), first in front of wrg.fcgi, then in front of the
# trivial responder.
#
# Each row: `wrk -t2 -c32` (load) then `wrk -t1 -c1` (one client, p50 =
# the cost of one request), with the CPU time per request of the FastCGI
# app (wrg.fcgi or the trivial responder), the web server's CPU and wrk's
# own CPU (both % of one core) during the load run. BENCH_REPEAT runs
# (default 1) of every row, interleaved; the table shows medians and
# min–max. Then the issue-11 ratios from the medians, the CPU of every
# process per request of the load runs, and what each ratio leaves
# wrg.fcgi to spend (docs/bench.md, "The CPU budget").
#
# Uses from bench.sh: build, srcdir, FCGI, RT, PY, WRKLUA, DUR, DUR1, die.
# Defines bench_rest (measure) and bench_rest_table (print).

REST_REPEAT=${BENCH_REPEAT:-1}
REST_TRIVIAL=$build/tests/bench/fcgi-trivial
REST_HZ=$(getconf CLK_TCK)
REST_ROWS=()			# labels, in order
declare -A REST_V		# "label|metric" -> values, space-separated

# rest_ticks PID... — utime+stime of each pid and its direct children
# (nginx and Apache do their work in children of the pid we started).
rest_ticks() {
	local p c t=0
	for p in "$@"; do
		for c in $p $(ps -o pid= --ppid "$p" 2>/dev/null); do
			t=$((t + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' \
			    "/proc/$c/stat" 2>/dev/null || echo 0)))
		done
	done
	echo "$t"
}

# rest_times_save FILE, then rest_children_cpu FILE — user+sys seconds
# of this shell's finished children (wrk runs in a command substitution:
# its time lands here). `times` must run in this shell, not in a
# subshell (whose children would be its own), hence the file.
rest_times_save() { times >"$1"; }
rest_children_cpu() {
	awk 'NR == 2 { n = split($0, f, " "); s = 0
		for (i = 1; i <= n; i++) { split(f[i], ms, "m"); sub(/s/, "", ms[2])
			s += ms[1] * 60 + ms[2] }
		printf "%.3f", s }' "$1"
}

rest_add() { REST_V["$1|$2"]="${REST_V["$1|$2"]:-} $3"; }

# rest_cpu_add LABEL REQS APP_TICKS HTTPD_TICKS RT_TICKS WRK0 WRK1 RPS
# — CPU µs per request of the load run, by process: the FastCGI app, the
# web server, the eight runtimes, wrk; their total; and busy = req/s x
# total, the share of the box's cores the measured processes used (near
# nproc x 100% when the box, not a process, is the limit).
rest_cpu_add() {
	local label=$1 n=$2 v a h r w t b
	v=$(awk -v n="$n" -v a="$3" -v h="$4" -v r="$5" -v w0="$6" -v w1="$7" \
	    -v rps="$8" -v hz="$REST_HZ" 'BEGIN {
		if (n <= 0) { print "0 0 0 0 0 0"; exit }
		a = a / hz * 1e6 / n; h = h / hz * 1e6 / n; r = r / hz * 1e6 / n
		w = (w1 - w0) * 1e6 / n; t = a + h + r + w
		printf "%.1f %.1f %.1f %.1f %.1f %.0f", a, h, r, w, t, rps * t / 1e4 }')
	read -r a h r w t b <<<"$v"
	rest_add "$label" cpu_app "$a"; rest_add "$label" cpu_httpd "$h"
	rest_add "$label" cpu_rt "$r"; rest_add "$label" cpu_wrk "$w"
	rest_add "$label" cpu_total "$t"; rest_add "$label" busy "$b"
}

# rest_wrk LABEL URL APP_PID HTTPD_PID [wrk args] — one row, one repeat.
rest_wrk() {
	local label=$1 url=$2 app=$3 httpd=$4 out1 outc line1 linec k
	shift 4
	local a0 a1 h0 h1 r0 r1 w0 w1 t0 t1
	declare -A L C
	local seen=0 r
	for r in "${REST_ROWS[@]}"; do [ "$r" = "$label" ] && seen=1; done
	[ "$seen" = 1 ] || REST_ROWS+=("$label")

	a0=$(rest_ticks $app); h0=$(rest_ticks $httpd); r0=$(rest_ticks $REST_RTPIDS)
	rest_times_save "$T_DIR/times0"
	t0=$(date +%s%N)
	out1=$(timeout $((DUR + 10)) wrk -t2 -c32 -d"${DUR}s" --timeout 2s \
	    -s "$WRKLUA" "$@" "$url" 2>&1)
	t1=$(date +%s%N)
	rest_times_save "$T_DIR/times1"
	w0=$(rest_children_cpu "$T_DIR/times0"); w1=$(rest_children_cpu "$T_DIR/times1")
	a1=$(rest_ticks $app); h1=$(rest_ticks $httpd); r1=$(rest_ticks $REST_RTPIDS)
	local ac0 ac1
	ac0=$(rest_ticks $app)
	outc=$(timeout $((DUR1 + 10)) wrk -t1 -c1 -d"${DUR1}s" --timeout 2s \
	    -s "$WRKLUA" "$@" "$url" 2>&1)
	ac1=$(rest_ticks $app)
	echo "$label: $out1" >>"$T_DIR/wrk.log"
	echo "$label (1 client): $outc" >>"$T_DIR/wrk.log"
	line1=$(grep '^BENCH ' <<<"$out1")
	linec=$(grep '^BENCH ' <<<"$outc")
	t_check "wrk ran: $label" [ -n "$line1" -a -n "$linec" ]
	for k in $line1; do [[ $k == *=* ]] && L[${k%%=*}]=${k#*=}; done
	for k in $linec; do [[ $k == *=* ]] && C[${k%%=*}]=${k#*=}; done
	local errs=$(( ${L[err_connect]:-1} + ${L[err_read]:-1} + ${L[err_write]:-1} +
	    ${L[err_timeout]:-1} + ${C[err_connect]:-1} + ${C[err_read]:-1} +
	    ${C[err_write]:-1} + ${C[err_timeout]:-1} ))
	if [ -n "${REST_READ_ERR_OK:-}" ]; then
		# Apache's event MPM closes kept-alive browser connections
		# near MaxRequestWorkers (AH10159 in its log), the trivial
		# responder's rows as much as wrg.fcgi's: wrk counts a read
		# error. Counted, not failed.
		errs=$((errs - ${L[err_read]:-0} - ${C[err_read]:-0}))
		rest_add "$label" rerr "$(( ${L[err_read]:-0} + ${C[err_read]:-0} ))"
	fi
	local non2xx=$(( ${L[non2xx]:-1} + ${C[non2xx]:-1} ))
	t_check "no socket errors/timeouts: $label ($errs)" [ "$errs" -eq 0 ]
	t_check "no non-2xx answers: $label ($non2xx)" [ "$non2xx" -eq 0 ]
	t_check "requests served: $label" [ "${L[reqs]:-0}" -gt 0 -a "${C[reqs]:-0}" -gt 0 ]
	local wall us us1 hp wp
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')
	us=$(awk -v d=$((a1 - a0)) -v n="${L[reqs]:-0}" -v hz="$REST_HZ" \
	    'BEGIN { printf "%.1f", (n > 0 ? d / hz * 1e6 / n : 0) }')
	us1=$(awk -v d=$((ac1 - ac0)) -v n="${C[reqs]:-0}" -v hz="$REST_HZ" \
	    'BEGIN { printf "%.1f", (n > 0 ? d / hz * 1e6 / n : 0) }')
	hp=$(awk -v d=$((h1 - h0)) -v w="$wall" -v hz="$REST_HZ" \
	    'BEGIN { printf "%.0f", d / hz / w * 100 }')
	wp=$(awk -v a="$w0" -v b="$w1" -v w="$wall" \
	    'BEGIN { printf "%.0f", (b - a) / w * 100 }')
	[ -n "$app" ] || { us=-; us1=-; }
	[ -n "$httpd" ] || hp=-
	rest_cpu_add "$label" "${L[reqs]:-0}" $((a1 - a0)) $((h1 - h0)) \
	    $((r1 - r0)) "$w0" "$w1" "${L[rps]:-0}"
	rest_add "$label" rps "${L[rps]:-0}"
	rest_add "$label" p50 "$(awk -v u="${L[p50_us]:-0}" 'BEGIN { printf "%.3f", u / 1000 }')"
	rest_add "$label" p99 "$(awk -v u="${L[p99_us]:-0}" 'BEGIN { printf "%.3f", u / 1000 }')"
	rest_add "$label" c1rps "${C[rps]:-0}"
	rest_add "$label" c1p50 "$(awk -v u="${C[p50_us]:-0}" 'BEGIN { printf "%.3f", u / 1000 }')"
	rest_add "$label" us "$us"
	rest_add "$label" us1 "$us1"
	rest_add "$label" httpd "$hp"
	rest_add "$label" wrk "$wp"
	printf '  %-44s %8.0f req/s  p50 %s ms | 1 client %6.0f req/s p50 %s ms | app %s us/rq (1 client %s) httpd %s%% wrk %s%%\n' \
	    "$label" "${L[rps]:-0}" "$(awk -v u="${L[p50_us]:-0}" 'BEGIN { printf "%.2f", u / 1000 }')" \
	    "${C[rps]:-0}" "$(awk -v u="${C[p50_us]:-0}" 'BEGIN { printf "%.3f", u / 1000 }')" \
	    "$us" "$us1" "$hp" "$wp"
}

# rest_stat "v v v" — "median min max" (numbers; "-" stays "-").
rest_stat() {
	tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '
		{ v[NR] = $1 } END {
		if (NR == 0 || v[1] == "-") { print "- - -"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print m, v[1], v[NR] }'
}
rest_med() { rest_stat "${REST_V["$1|$2"]:-}" | cut -d' ' -f1; }

# rest_front SERVER SOCKET — (re)starts SERVER in front of SOCKET on a
# fresh port; sets REST_WEB and REST_HTTPD.
rest_front() {
	local server=$1 sock=$2 port
	[ -n "${REST_HTTPD:-}" ] && t_stop_pid "$REST_HTTPD"
	REST_HTTPD=
	port=$(t_free_port)
	# The servers keep their files in $T_DIR/<server>: under rest/ so
	# bench.sh's own lighttpd is left alone.
	T_DIR=$REST_DIR t_webserver_start "$server" "$port" "$sock" \
	    127.0.0.1:1 "$REST_DIR/www" || die "$server did not start in front of $sock"
	REST_HTTPD=$T_WEBSERVER_PID
	REST_WEB=http://127.0.0.1:$port
}

# The hand-built anchor: nginx proxy_pass to rt1, token injected by
# nginx, keepalive pool to the runtime.
rest_nginx_direct() {
	local d=$REST_DIR/nginx-direct port
	# t_nginx_run: the same wrapper as the shipped-snippet nginx.
	declare -F t_nginx_run >/dev/null ||
	    . "$top_srcdir/tests/webserver-nginx.sh"
	port=$(t_free_port)
	mkdir -p "$d"
	cat >"$d/direct-site.conf" <<-NGX
	# generated by tests/bench/rest.sh: the hand-built proxy (anchor)
	upstream rt1 {
		server 127.0.0.1:$rt1_PORT;
		keepalive 32;
	}
	server {
		listen 127.0.0.1:$port;
		location /v1/ {
			proxy_pass http://rt1;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Authorization "Bearer $REST_TOK1";
		}
	}
	NGX
	t_nginx_run "$d" direct-site.conf warn ||
	    die "nginx (direct proxy) refused its config"
	REST_NGXD=$T_WEBSERVER_PID
	t_wait_port "$port" || die "nginx (direct proxy) did not start"
	REST_DIRECT=http://127.0.0.1:$port
}

rest_start() {
	local i tok list=
	REST_DIR=$T_DIR/rest
	REST_RTPIDS=
	mkdir -p "$REST_DIR/www"
	echo '<!doctype html><title>bench</title>' >"$REST_DIR/www/index.html"
	[ -x "$REST_TRIVIAL" ] || die "missing $REST_TRIVIAL (make bench builds it)"
	for i in 1 2 3 4 5 6 7 8; do
		tok="bench-rt$i-$$-$RANDOM"
		printf -v "REST_TOK$i" '%s' "$tok"
		T_DIR=$REST_DIR t_start_runtime "rt$i" --token "$tok" ||
		    die "runtime rt$i did not start"
		eval "REST_PORT$i=\$rt${i}_PORT"
		eval "REST_RTPIDS=\"\$REST_RTPIDS \$rt${i}_PID\""
		eval "REST_W$i=\$(t_create_worker \"\$rt${i}_PORT\" \"\$tok\")"
		eval "[ -n \"\$REST_W$i\" ]" || die "no worker on rt$i"
		list="$list${list:+,}
    {\"id\": \"rt$i\", \"base_url\": \"http://127.0.0.1:$(eval echo "\$rt${i}_PORT")\", \"token\": \"$tok\"}"
	done
	cat >"$REST_DIR/wrg.conf" <<-EOF
	// generated by tests/bench/rest.sh — defaults, eight runtimes
	{
	  "api_prefix": "/api",
	  "wsproxy": {"listen": "127.0.0.1:1"},
	  "runtimes": [$list
	  ]
	}
	EOF
	"$FCGI" -c "$REST_DIR/wrg.conf" -s "unix:$REST_DIR/fcgi.sock" \
	    --socket-mode 0666 2>"$REST_DIR/fcgi.log" &
	REST_FPID=$!
	t_track "$REST_FPID"
	t_wait_unix "$REST_DIR/fcgi.sock" || die "wrg.fcgi (rest) did not start"
	"$REST_TRIVIAL" -s "$REST_DIR/trivial.sock" 2>"$REST_DIR/trivial.log" &
	REST_TPID=$!
	t_track "$REST_TPID"
	t_wait_unix "$REST_DIR/trivial.sock" || die "fcgi-trivial did not start"
	rest_nginx_direct
}

bench_rest() {
	local r tw0 tw1 one
	rest_start
	one=/api/runtimes/rt1/workers/$REST_W1
	echo "# REST: wrk -t2 -c32 -d${DUR}s | wrk -t1 -c1 -d${DUR1}s," \
	    "$REST_REPEAT run(s) of each row"
	tw_rt1() { ss -Htan state time-wait "( dport = :$REST_PORT1 or sport = :$REST_PORT1 )" 2>/dev/null | wc -l; }
	for r in $(seq 1 "$REST_REPEAT"); do
		echo "# run $r of $REST_REPEAT (load average $(cut -d' ' -f1-3 /proc/loadavg))"
		rest_front nginx "$REST_DIR/fcgi.sock"
		tw0=$(tw_rt1)
		rest_wrk "nginx -> wrg.fcgi: GET one worker" "$REST_WEB$one" \
		    "$REST_FPID" "$REST_HTTPD"
		tw1=$(tw_rt1)
		# Only in the first run: the runtime closes the anchor's idle
		# kept connections 5 s after its row, which shows up here.
		[ "$r" = 1 ] &&
		t_check "upstream kept alive under load (TIME_WAIT on rt1: $tw0 -> $tw1)" \
		    [ $((tw1 - tw0)) -lt 8 ]
		rest_wrk "nginx -> wrg.fcgi: GET /api/workers (8 rt)" \
		    "$REST_WEB/api/workers" "$REST_FPID" "$REST_HTTPD"
		rest_wrk "nginx -> wrg.fcgi: GET /api/health" \
		    "$REST_WEB/api/health" "$REST_FPID" "$REST_HTTPD"
		BENCH_METHOD=POST BENCH_BODY='{"kind":"user","content":"hello"}' \
		rest_wrk "nginx -> wrg.fcgi: POST input" \
		    "$REST_WEB/api/runtimes/rt2/workers/$REST_W2/input" \
		    "$REST_FPID" "$REST_HTTPD"
		rest_front nginx "$REST_DIR/trivial.sock"
		rest_wrk "nginx -> trivial responder" "$REST_WEB$one" \
		    "$REST_TPID" "$REST_HTTPD"
		rest_front lighttpd "$REST_DIR/fcgi.sock"
		rest_wrk "lighttpd -> wrg.fcgi: GET one worker" "$REST_WEB$one" \
		    "$REST_FPID" "$REST_HTTPD"
		rest_wrk "lighttpd -> wrg.fcgi: GET /api/workers (8 rt)" \
		    "$REST_WEB/api/workers" "$REST_FPID" "$REST_HTTPD"
		rest_front lighttpd "$REST_DIR/trivial.sock"
		rest_wrk "lighttpd -> trivial responder" "$REST_WEB$one" \
		    "$REST_TPID" "$REST_HTTPD"
		rest_front apache "$REST_DIR/fcgi.sock"
		REST_READ_ERR_OK=1 \
		rest_wrk "apache -> wrg.fcgi: GET one worker" "$REST_WEB$one" \
		    "$REST_FPID" "$REST_HTTPD"
		rest_front apache "$REST_DIR/trivial.sock"
		REST_READ_ERR_OK=1 \
		rest_wrk "apache -> trivial responder" "$REST_WEB$one" \
		    "$REST_TPID" "$REST_HTTPD"
		t_stop_pid "$REST_HTTPD"
		REST_HTTPD=
		rest_wrk "runtime direct: GET /v1/workers/W" \
		    "http://127.0.0.1:$REST_PORT1/v1/workers/$REST_W1" "" "" \
		    -H "Authorization: Bearer $REST_TOK1"
		rest_wrk "nginx proxy_pass -> runtime (anchor)" \
		    "$REST_DIRECT/v1/workers/$REST_W1" "" "$REST_NGXD"
	done
	t_check "wrg.fcgi (rest) still running" kill -0 "$REST_FPID"
}

# rest_cell LABEL METRIC FMT — "median (min–max)" or just the median
# when there is one run.
rest_cell() {
	local med mn mx
	read -r med mn mx <<<"$(rest_stat "${REST_V["$1|$2"]:-}")"
	if [ "$med" = - ]; then echo -; return; fi
	if [ "$REST_REPEAT" -gt 1 ]; then
		printf "$3 ($3-$3)" "$med" "$mn" "$mx"
	else
		printf "$3" "$med"
	fi
}

# rest_ratio NAME A B TARGET — A/B against a minimum.
rest_ratio() {
	awk -v n="$1" -v a="$2" -v b="$3" -v t="$4" 'BEGIN {
		r = (b > 0 ? a / b : 0)
		v = (r >= t ? "met" : sprintf("short by %.2f", t - r))
		printf "  %-52s %5.2f (target >= %.2f: %s)\n", n, r, t, v }'
}

bench_rest_table() {
	local l
	echo "== REST (median (min-max) of $REST_REPEAT run(s); ms; load = wrk -t2 -c32 -d${DUR}s, 1 client = wrk -t1 -c1 -d${DUR1}s) =="
	printf '%-45s | %-20s %-22s | %-22s %-18s | %-14s %-7s %-6s %-5s\n' "row" \
	    "req/s" "p99" "1 client p50" "req/s" "app us/rq" "1 cl." "httpd" "wrk"
	for l in "${REST_ROWS[@]}"; do
		printf '%-45s | %-20s %-22s | %-22s %-18s | %-14s %-7s %-6s %-5s\n' "$l" \
		    "$(rest_cell "$l" rps %.0f)" "$(rest_cell "$l" p99 %.2f)" \
		    "$(rest_cell "$l" c1p50 %.3f)" "$(rest_cell "$l" c1rps %.0f)" \
		    "$(rest_cell "$l" us %.0f)" "$(rest_med "$l" us1)" \
		    "$(rest_med "$l" httpd)%" "$(rest_med "$l" wrk)%"
	done
	for l in "${REST_ROWS[@]}"; do
		[ -n "${REST_V["$l|rerr"]:-}" ] &&
		    echo "($l: wrk read errors per run:${REST_V["$l|rerr"]} — Apache closing kept connections near MaxRequestWorkers)"
	done
	echo "(app us/rq = CPU time of the FastCGI app (wrg.fcgi, or the trivial responder)"
	echo " per request under load, and with one client; httpd = the web server's"
	echo " processes, wrk = the load client, % of one core during the load run)"
	echo "issue-11 ratios (medians):"
	rest_ratio "nginx -> wrg.fcgi / nginx proxy_pass (anchor)" \
	    "$(rest_med "nginx -> wrg.fcgi: GET one worker" rps)" \
	    "$(rest_med "nginx proxy_pass -> runtime (anchor)" rps)" 0.8
	rest_ratio "lighttpd -> wrg.fcgi / lighttpd -> trivial" \
	    "$(rest_med "lighttpd -> wrg.fcgi: GET one worker" rps)" \
	    "$(rest_med "lighttpd -> trivial responder" rps)" 0.9
	rest_ratio "/api/workers (8 rt) / GET one worker (nginx)" \
	    "$(rest_med "nginx -> wrg.fcgi: GET /api/workers (8 rt)" rps)" \
	    "$(rest_med "nginx -> wrg.fcgi: GET one worker" rps)" 0.5
	awk -v a="$(rest_med "nginx -> wrg.fcgi: GET one worker" c1p50)" \
	    -v b="$(rest_med "nginx proxy_pass -> runtime (anchor)" c1p50)" 'BEGIN {
		d = a - b
		v = (d <= 0.1 ? "met" : sprintf("over by %.3f ms", d - 0.1))
		printf "  %-52s %+.3f ms (target <= +0.100: %s)\n",
		    "1-client p50, nginx -> wrg.fcgi minus the anchor", d, v }'
	rest_cpu_table
}

# rest_budget NAME ROW BASE TARGET — under the CPU model (the box is the
# limit, so req/s = cores / total CPU per request), ROW/BASE >= TARGET
# holds when ROW's total <= BASE's total / TARGET; what that leaves
# ROW's FastCGI app, and the ratio ROW would reach with an app that
# cost nothing (the other processes spending what they spent).
rest_budget() {
	awk -v n="$1" -v t="$4" -v tot="$(rest_med "$2" cpu_total)" \
	    -v app="$(rest_med "$2" cpu_app)" -v base="$(rest_med "$3" cpu_total)" 'BEGIN {
		rest = tot - app
		printf "  %-44s app may spend %6.1f us, spends %6.1f; with a free app: %.2f\n",
		    n, base / t - rest, app, (rest > 0 ? base / rest : 0) }'
}

rest_cpu_table() {
	local l
	echo "CPU per request of the load runs, by process (us, medians; busy ="
	echo " req/s x total: the cores the measured processes used, % of one):"
	printf '  %-45s %7s %7s %8s %7s %7s %6s\n' row app httpd runtime wrk total busy
	for l in "${REST_ROWS[@]}"; do
		printf '  %-45s %7s %7s %8s %7s %7s %5s%%\n' "$l" \
		    "$(rest_med "$l" cpu_app)" "$(rest_med "$l" cpu_httpd)" \
		    "$(rest_med "$l" cpu_rt)" "$(rest_med "$l" cpu_wrk)" \
		    "$(rest_med "$l" cpu_total)" "$(rest_med "$l" busy)"
	done
	echo "CPU budget of each ratio target (app = wrg.fcgi; \"with a free app\" = the"
	echo " ratio if wrg.fcgi cost nothing and the rest spent what it spent):"
	rest_budget "nginx -> wrg.fcgi >= 0.80 x anchor" \
	    "nginx -> wrg.fcgi: GET one worker" \
	    "nginx proxy_pass -> runtime (anchor)" 0.8
	rest_budget "lighttpd -> wrg.fcgi >= 0.90 x trivial" \
	    "lighttpd -> wrg.fcgi: GET one worker" \
	    "lighttpd -> trivial responder" 0.9
	rest_budget "/api/workers >= 0.50 x GET one (nginx)" \
	    "nginx -> wrg.fcgi: GET /api/workers (8 rt)" \
	    "nginx -> wrg.fcgi: GET one worker" 0.5
}
