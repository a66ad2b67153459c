#!/bin/sh
# Relay throughput and a big queue (issue 12 "Benchmark"):
#
# 1. MESSAGES messages of SIZE bytes submitted over CLIENTS connections
#    (PER_CONN per connection, no pipelining) to a next hop that accepts
#    everything, Postfix's smtp-sink on loopback: messages per second from
#    the first submission until the sink has counted all of them.
#    maillab: submission port with AUTH PLAIN (loopback), the durable queue,
#    `route sink.test = 127.0.0.1:SINK`, queue_max_per_destination = 20.
#    Postfix: a private instance (bench/postfix/*.cf.in) with
#    relayhost = [127.0.0.1]:SINK, the client in mynetworks.  Same run, one
#    sink each.
# 2. A queue of DEFERRED deferred messages (SIZE bytes each, written
#    straight into DIR/queue): the server's memory once its runner has
#    looked at all of them (VmRSS, VmHWM), its CPU time over the next 10 s
#    of idling (near 0: the runner looks at its schedule's head, not at
#    every message) and the time `maillab queue list` takes while it runs.
#    Then ARRIVALS more messages submitted (4 connections) for the same
#    dead next hop while those wait: the rate and the server's CPU time
#    (each arrival is looked up among the messages the runner knows).
#
#   sh bench/relay.sh [BUILD_DIR]
#   env: MESSAGES=5000 SIZE=4096 CLIENTS=20 PER_CONN=50 DEFERRED=100000
#        ARRIVALS=2000
#
# Needs root (Postfix's private instance; postfix is installed when
# missing, "No configuration": the system's own instance stays unconfigured
# and stopped).  Everything it starts is stopped on exit.
set -u
B=${1:-build}
BENCH=relay
. "$(dirname "$0")/lib.sh"
B=$(cd "$B" 2>/dev/null && pwd) || { echo "relay: no build directory ${1:-build}" >&2; exit 1; }
MESSAGES=${MESSAGES:-5000}
SIZE=${SIZE:-4096}
CLIENTS=${CLIENTS:-20}
PER_CONN=${PER_CONN:-50}
DEFERRED=${DEFERRED:-100000}
ARRIVALS=${ARRIVALS:-2000}
HERE=$(cd "$(dirname "$0")" && pwd)
CLIENT=$B/bench/bench-smtp-client

for p in "$B/maillab" "$CLIENT"; do
	[ -x "$p" ] || die "$p not built (make bench builds it)"
done
[ "$(id -u)" = 0 ] || die "Postfix's private instance needs root (postfix start)"
if ! installed postfix; then
	echo "relay: installing postfix (No configuration: the system instance stays unconfigured and stopped)"
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix >/dev/null ||
		die "apt-get install postfix failed"
fi

T=$(mktemp -d /tmp/maillab-bench-relay.XXXXXX) && chmod 755 "$T" || exit 1
ML=$T/maillab
MQ=$T/bigqueue
PF=$T/postfix
PIDS=""
PF_STARTED=""
cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ -n "$PF_STARTED" ]; then
		postfix -c "$PF/etc" stop >/dev/null 2>&1 ||
			postfix -c "$PF/etc" abort >/dev/null 2>&1
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

now() { date +%s.%N; }
sink_count() { tr '\r' '\n' <"$1" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -1; }

# pick_port VAR: a free port not handed out before (a port is only seen
# as taken once its server listens)
USED=""
pick_port() {
	i=0
	while :; do
		p=$(free_port) || die "no free port"
		case " $USED " in *" $p "*) ;; *) break ;; esac
		i=$((i + 1))
		[ $i -lt 50 ] || die "no free port"
	done
	USED="$USED $p"
	eval "$1=$p"
}

# start_sink NAME VAR: a smtp-sink on a free port (into VAR), counting (-c)
# into T/NAME.out
start_sink() {
	pick_port "$2"
	eval "port=\$$2"
	smtp-sink -c -u nobody "127.0.0.1:$port" 256 >"$T/$1.out" 2>&1 &
	PIDS="$PIDS $!"
	wait_port "$port" || die "smtp-sink did not listen on $port"
}

# wait_sink NAME: until the sink has MESSAGES messages (10 min at most)
wait_sink() {
	i=0
	while [ "$(sink_count "$T/$1.out")" != "$MESSAGES" ]; do
		i=$((i + 1))
		[ $i -lt 12000 ] || { echo "relay: $1's sink has $(sink_count "$T/$1.out") of $MESSAGES" >&2; return 1; }
		sleep 0.05
	done
}

# --- maillab -------------------------------------------------------------
start_sink sink-maillab SINK_ML
pick_port ML_SMTP
pick_port ML_SUB
"$B/maillab" init "$ML" --domain lab.test --hostname localhost >/dev/null ||
	die "maillab init failed"
cat >>"$ML/maillab.conf" <<EOF
# --- bench/relay.sh ---
port_smtp = $ML_SMTP
port_submission = $ML_SUB
port_submissions = 0
port_pop3 = 0
port_pop3s = 0
port_imap = 0
port_imaps = 0
trace = off
rate_messages_per_hour = 0
rate_recipients_per_hour = 0
queue_max_connections = 20
queue_max_per_destination = 20
route sink.test = 127.0.0.1:$SINK_ML
EOF
printf 'bench-pw\n' | "$B/maillab" user add -d "$ML" bench --password-stdin >/dev/null ||
	die "maillab user add failed"
maillab_serve "$B/maillab" "$ML" "$T/maillab.out" ML_SMTP=smtp ML_SUB=submission
ML_PID=$SERVE_PID
PIDS="$PIDS $ML_PID"
wait_port "$ML_SUB" || { cat "$T/maillab.out" >&2; die "maillab did not listen on $ML_SUB"; }
AUTH=$(printf '\0bench\0bench-pw' | base64)

# --- Postfix -------------------------------------------------------------
start_sink sink-postfix SINK_PF
pick_port PF_PORT
mkdir -p "$PF/etc" "$PF/spool" "$PF/data" "$PF/mail" || die "mkdir $PF"
chown postfix "$PF/data" || die "chown $PF/data"
for f in main master; do
	sed -e "s|@DIR@|$PF|g" -e "s|@PORT@|$PF_PORT|g" -e "s|@MAILBOXES@||g" \
	    -e "s|@UID@|$(id -u nobody)|g" -e "s|@GID@|$(id -g nobody)|g" \
	    "$HERE/postfix/$f.cf.in" >"$PF/etc/$f.cf" || die "writing $PF/etc/$f.cf"
done
# a relay: everything to the sink, at Postfix's default concurrency (20)
postconf -c "$PF/etc" -e "relayhost = [127.0.0.1]:$SINK_PF" \
	"virtual_mailbox_domains =" "virtual_mailbox_maps =" ||
	die "postconf failed"
postfix -c "$PF/etc" check >"$T/postfix.out" 2>&1
PF_STARTED=1
postfix -c "$PF/etc" start >>"$T/postfix.out" 2>&1 ||
	{ cat "$T/postfix.out" "$PF/maillog" >&2; die "postfix start failed"; }
wait_port "$PF_PORT" || { cat "$PF/maillog" >&2; die "postfix did not listen on $PF_PORT"; }

# --- 1. relay throughput -------------------------------------------------
status=0
: >"$T/commands"
# relay_run NAME PORT [AUTH]: prints the rate (messages/s, to the sink)
relay_run() {
	cmd="$CLIENT -p $2 -n $MESSAGES -c $CLIENTS -k $PER_CONN -s $SIZE -f bench@lab.test -r user@sink.test${3:+ -A $3}"
	echo "  $1: $cmd" >>"$T/commands"
	start=$(now)
	out=$($cmd) || { echo "relay: $1 submission failed: $out" >&2; echo 0; return 1; }
	submitted=$(now)
	wait_sink "sink-$1" || { echo 0; return 1; }
	end=$(now)
	echo "  $1: $out" >>"$T/results"
	awk -v n="$MESSAGES" -v s="$start" -v m="$submitted" -v e="$end" -v who="$1" \
	    'BEGIN { printf "  %s: submitted in %.2f s, all at the sink after %.2f s\n", who, m - s, e - s >> "/dev/stderr"; printf "%.0f", n / (e - s) }'
}
echo "Relay: $MESSAGES messages of $SIZE bytes over $CLIENTS connections ($PER_CONN per connection, no pipelining) to smtp-sink on loopback;"
echo "clock from the first submission until the sink has counted them all.  Postfix $(postconf -d -h mail_version)."
ml_rate=$(relay_run maillab "$ML_SUB" "$AUTH") || status=1
pf_rate=$(relay_run postfix "$PF_PORT") || status=1
ml_hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$ML_PID/status" 2>/dev/null)
left=$(ls "$ML/queue" | grep -c '\.env$')
[ "$left" = 0 ] || { echo "relay: $left message(s) left in maillab's queue" >&2; status=1; }
printf '%-10s %14s %14s %16s\n' "" "maillab msg/s" "postfix msg/s" "maillab/postfix"
printf '%-10s %14s %14s %16s\n' relay "$ml_rate" "$pf_rate" \
	"$(awk -v a="$ml_rate" -v b="$pf_rate" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
echo "maillab VmHWM after the relay run: ${ml_hwm:-?} kB"

# --- 2. a big deferred queue ---------------------------------------------
kill "$ML_PID" 2>/dev/null
wait "$ML_PID" 2>/dev/null
"$B/maillab" init "$MQ" --domain lab.test --hostname localhost >/dev/null ||
	die "maillab init failed"
pick_port MQ_SMTP
pick_port MQ_SUB
pick_port DEAD
cat >>"$MQ/maillab.conf" <<EOF
# --- bench/relay.sh (big queue) ---
port_smtp = $MQ_SMTP
port_submission = $MQ_SUB
rate_messages_per_hour = 0
rate_recipients_per_hour = 0
port_submissions = 0
port_pop3 = 0
port_pop3s = 0
port_imap = 0
port_imaps = 0
trace = off
route sink.test = 127.0.0.1:$DEAD
EOF
start=$(now)
python3 - "$MQ/queue" "$DEFERRED" "$SIZE" <<'EOF' || die "filling the queue failed"
import os, sys, time
qdir, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(os.path.join(qdir, "tmp"), exist_ok=True)
now = int(time.time())
body = ("x" * 76 + "\r\n") * (size // 78 + 1)
for i in range(n):
    qid = "%08X%08X" % (now & 0xffffffff, i)
    head = ("From: <bench@lab.test>\r\nTo: <user%d@sink.test>\r\n"
            "Subject: deferred %d\r\n\r\n" % (i, i))
    msg = (head + body)[:size - 2] + "\r\n"
    with open(os.path.join(qdir, qid + ".msg"), "w", newline="") as f:
        f.write(msg)
    with open(os.path.join(qdir, qid + ".env"), "w") as f:
        f.write("maillab-queue 1\ncreated %d\nsender <bench@lab.test>\nsize %d\n"
                "body 7bit\nsmtputf8 no\nrcpt pending 1 %d user%d@sink.test - - "
                "127.0.0.1:1: 421 4.4.1 Connection refused\n"
                % (now, len(msg), now + 86400, i))
EOF
filled=$(now)
chown -R --reference="$MQ/mail" "$MQ/queue" || die "chown $MQ/queue"
printf 'bench-pw\n' | "$B/maillab" user add -d "$MQ" bench --password-stdin >/dev/null ||
	die "maillab user add failed"
served=$(now)
maillab_serve "$B/maillab" "$MQ" "$T/bigqueue.out" MQ_SMTP=smtp MQ_SUB=submission
MQ_PID=$SERVE_PID
PIDS="$PIDS $MQ_PID"
wait_port "$MQ_SMTP" || { cat "$T/bigqueue.out" >&2; die "maillab did not listen on $MQ_SMTP"; }
# the runner has looked at every message when its CPU time stops growing
prev=-1
i=0
while :; do
	cpu=$(awk '{ print $14 + $15 }' "/proc/$MQ_PID/stat" 2>/dev/null)
	[ "$cpu" = "$prev" ] && break
	prev=$cpu
	i=$((i + 1))
	[ $i -lt 600 ] || break
	looked=$(now)
	sleep 1
done
# idle: the runner's look each second must not walk the deferred messages
idle0=$(awk '{ print $14 + $15 }' "/proc/$MQ_PID/stat")
sleep 10
idle1=$(awk '{ print $14 + $15 }' "/proc/$MQ_PID/stat")
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$MQ_PID/status")
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$MQ_PID/status")
lstart=$(now)
lines=$("$B/maillab" queue list -d "$MQ" | wc -l)
lend=$(now)
count=$("$B/maillab" queue list -d "$MQ" | tail -1)
echo "Queue of $DEFERRED deferred messages of $SIZE bytes (written in $(awk -v a="$start" -v b="$filled" 'BEGIN { printf "%.1f", b - a }') s):"
echo "  maillab queue list: $(awk -v a="$lstart" -v b="$lend" 'BEGIN { printf "%.2f", b - a }') s ($lines lines; last: $count)"
echo "  server after its runner went through them: VmRSS $rss kB, VmHWM $hwm kB"
echo "  server idle over 10 s after that: $((idle1 - idle0)) ticks of CPU (utime+stime, $(getconf CLK_TCK) a second)"
echo "  the runner went through them within $(awk -v a="$served" -v b="$looked" 'BEGIN { printf "%.1f", b - a }') s of the start (to 1 s)"
wait_port "$MQ_SUB" || die "maillab did not listen on $MQ_SUB"
acmd="$CLIENT -p $MQ_SUB -n $ARRIVALS -c 4 -k 50 -s $SIZE -f bench@lab.test -r user@sink.test -A $AUTH"
cpu0=$(awk '{ print $14 + $15 }' "/proc/$MQ_PID/stat")
astart=$(now)
aout=$($acmd) || { echo "relay: arrivals failed: $aout" >&2; status=1; }
aend=$(now)
cpu1=$(awk '{ print $14 + $15 }' "/proc/$MQ_PID/stat")
echo "  $ARRIVALS arrivals for the dead next hop beside them: $(awk -v n="$ARRIVALS" -v a="$astart" -v b="$aend" 'BEGIN { printf "%.2f s, %.0f msg/s", b - a, n / (b - a) }'), server CPU $((cpu1 - cpu0)) ticks"
grep -q "$DEFERRED message(s) in the queue" "$MQ/log/maillab.log" ||
	{ echo "relay: the server did not find $DEFERRED messages" >&2; status=1; }

echo "commands:"
cat "$T/commands"
echo "  maillab queue list -d DIR   (DIR holding $DEFERRED deferred messages)"
echo "  arrivals: $acmd"
echo "client output:"
cat "$T/results"
exit $status
