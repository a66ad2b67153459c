#!/bin/sh
# 1,000 concurrent idle plaintext SMTP connections to maillab (issue 4
# "Benchmark"): each gets its greeting and an EHLO reply, then stays idle;
# prints maillab's RSS with all of them open (target under 64 MiB).
#
#   sh bench/idle-conns.sh [BUILD_DIR]        env: CONNECTIONS=1000 HOLD=5
#
# Starts its own maillab instance on a free loopback port (connection limits
# raised above CONNECTIONS, ulimit -n raised) and stops it on exit.
set -u
B=${1:-build}
BENCH=idle-conns
. "$(dirname "$0")/lib.sh"
B=$(cd "$B" 2>/dev/null && pwd) || { echo "idle-conns: no build directory ${1:-build}" >&2; exit 1; }
N=${CONNECTIONS:-1000}
HOLD=${HOLD:-5}
CLIENT=$B/bench/bench-idle
for p in "$B/maillab" "$CLIENT"; do
	[ -x "$p" ] || { echo "idle-conns: $p not built (make bench builds it)" >&2; exit 1; }
done
want_fds=$((N * 2 + 256))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $want_fds ]; then
	ulimit -n $want_fds 2>/dev/null ||
		{ echo "idle-conns: cannot raise ulimit -n to $want_fds (hard limit $(ulimit -Hn))" >&2; exit 1; }
fi

T=$(mktemp -d /tmp/maillab-bench-idle.XXXXXX) && chmod 711 "$T" || exit 1
ML=$T/maillab
ML_PID=""
cleanup() {
	if [ -n "$ML_PID" ]; then
		kill "$ML_PID" 2>/dev/null
		wait "$ML_PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE



kib() {	# kib KEY: a /proc/PID/status value of maillab
	awk '/^'"$1"':/ { print $2 }' "/proc/$ML_PID/status" 2>/dev/null
}

PORT=$(free_port) || { echo "idle-conns: no free port" >&2; exit 1; }
"$B/maillab" init "$ML" --demo --domain lab.test --hostname localhost >/dev/null ||
	{ echo "idle-conns: maillab init failed" >&2; exit 1; }
cat >>"$ML/maillab.conf" <<EOF
# --- idle-conns.sh ---
port_smtp = $PORT
port_submission = 0
port_submissions = 0
port_pop3 = 0
port_pop3s = 0
port_imap = 0
port_imaps = 0
trace = off
max_connections = $((N + 100))
max_connections_per_ip = $((N + 100))
EOF
maillab_serve "$B/maillab" "$ML" "$T/maillab.out" PORT=smtp
ML_PID=$SERVE_PID
wait_port "$PORT" || { cat "$T/maillab.out" >&2; echo "idle-conns: maillab did not listen on $PORT" >&2; exit 1; }
sleep 0.5
before=$(kib VmRSS)
cmd="$CLIENT -p $PORT -n $N -P $ML_PID -h $HOLD"
out=$($cmd)
rc=$?
after=$(kib VmRSS)
if ! kill -0 "$ML_PID" 2>/dev/null; then
	echo "idle-conns: maillab died during the run" >&2
	cat "$T/maillab.out" >&2
	rc=1
fi
rss=$(echo "$out" | sed -n 's/.* rss_kib=\([0-9-]*\).*/\1/p')
est=$(echo "$out" | sed -n 's/.* established=\([0-9]*\).*/\1/p')
open=$(echo "$out" | sed -n 's/.* open_after_hold=\([0-9]*\).*/\1/p')
echo "idle SMTP connections (plaintext, greeting + EHLO, then idle ${HOLD}s):"
printf '%-26s %s\n' "connections requested" "$N"
printf '%-26s %s\n' "established" "${est:-?}"
printf '%-26s %s\n' "still open after hold" "${open:-?}"
printf '%-26s %s KiB\n' "maillab RSS before" "${before:-?}"
printf '%-26s %s KiB (%s MiB; target < 64 MiB)\n' "maillab RSS at $N" "${rss:-?}" \
	"$(awk -v k="${rss:-0}" 'BEGIN { printf "%.1f", k / 1024 }')"
printf '%-26s %s KiB\n' "maillab RSS after close" "${after:-?}"
echo "raw: $out"
echo "to reproduce: sh bench/idle-conns.sh $B   (with its own server:  $cmd)"
exit $rc
