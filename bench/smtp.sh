#!/bin/sh
# SMTP benchmark (issue 4): messages per second accepted and durably
# delivered (4 KiB messages, MESSAGES of them, 1 and 20 concurrent clients,
# timed until every file is in new/), side by side with
#   (a) Postfix from Debian's package, set up here in a private instance on
#       another loopback port delivering to a Maildir (virtual(8)), driven by
#       the same load generator (bench-smtp-load);
#   (b) the physical limit, bench-bareloop: write + fsync + rename + fsync
#       of the directory, nothing else, at the same concurrency.
# Then maillab's peak memory at 20 clients, and its memory holding 1,000
# idle plaintext SMTP connections.
#
#   sh bench/smtp.sh [BUILD_DIR]
#   env: MESSAGES=5000 TRIALS=3 WORKERS=20 TMPDIR
#
# Disk speed on a shared machine wanders, so each figure is the median of
# TRIALS runs, the three systems taking turns.  Postfix is skipped (and
# said so) when it is not installed and cannot be (apt-get needs root).
B=${1:-build}
N=${MESSAGES:-5000}
TRIALS=${TRIALS:-3}
WORKERS=${WORKERS:-20}
IDLE=1000

for p in maillab bench/bench-smtp-load bench/bench-bareloop; do
	if [ ! -x "$B/$p" ]; then
		echo "smtp.sh: $B/$p not built" >&2
		exit 1
	fi
done
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null
T=$(mktemp -d "${TMPDIR:-/tmp}/maillab-bench-smtp-XXXXXX") || exit 1
ML_PID=""
PF=""

cleanup() {
	[ -n "$ML_PID" ] && kill "$ML_PID" 2>/dev/null && wait "$ML_PID" 2>/dev/null
	[ -n "$PF" ] && postfix -c "$PF/etc" stop >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {
	python3 - "$1" <<'EOF'
import socket, sys, time
for _ in range(400):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
EOF
}

count() {
	ls "$1" 2>/dev/null | wc -l
}

now() {
	date +%s.%N
}

# Runs the load and waits until `dir` holds `want` files; prints msg/s.
timed_run() {
	port=$1 clients=$2 dir=$3 want=$4
	start=$(now)
	if ! "$B/bench/bench-smtp-load" -p "$port" -c "$clients" -n "$N" \
		-t alice@lab.test >"$T/load.out" 2>&1; then
		echo "smtp.sh: load on port $port failed: $(cat "$T/load.out")" >&2
	fi
	while [ "$(count "$dir")" -lt "$want" ]; do
		sleep 0.01
		if [ "$(echo "$(now) - $start > 300" | bc)" = 1 ]; then
			echo "smtp.sh: only $(count "$dir") of $want files in $dir" >&2
			break
		fi
	done
	end=$(now)
	echo "$N / ($end - $start)" | bc
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else print v[int((NR + 1) / 2)] }'
}

mem_kib() {	# field of /proc/PID/status, in KiB
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# --- maillab ---
ML_PORT=$(free_port)
"$B/maillab" init "$T/ml" --demo --hostname localhost >/dev/null || exit 1
cat >>"$T/ml/maillab.conf" <<EOF
port_smtp = $ML_PORT
port_submission = 0
port_submissions = 0
port_pop3 = 0
port_pop3s = 0
port_imap = 0
port_imaps = 0
trace = off
workers = $WORKERS
max_connections = 4000
max_connections_per_ip = 4000
EOF
"$B/maillab" serve -d "$T/ml" >"$T/ml.out" 2>&1 &
ML_PID=$!
wait_port "$ML_PORT" || { echo "smtp.sh: maillab did not start" >&2; cat "$T/ml.out" >&2; exit 1; }
ML_NEW="$T/ml/mail/alice/new"

# --- Postfix ---
if ! command -v postfix >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	echo "smtp.sh: installing postfix (Debian package) for the comparison"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix >/dev/null 2>&1
fi
if command -v postfix >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && id postfix >/dev/null 2>&1; then
	PF="$T/pf"
	PF_PORT=$(free_port)
	mkdir -p "$PF/etc" "$PF/spool" "$PF/data" "$PF/mail"
	chown postfix "$PF/data"
	chown 65534:65534 "$PF/mail"
	chmod 755 "$T"
	cat >"$PF/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PF/spool
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = pfbench.localhost
mydomain = localhost
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = lab.test
virtual_mailbox_base = $PF/mail
virtual_mailbox_maps = static:alice/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
maillog_file_prefixes = $PF
maillog_file = $PF/maillog
default_process_limit = 100
biff = no
EOF
	cat >"$PF/etc/master.cf" <<EOF
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	if ! postfix -c "$PF/etc" start >/dev/null 2>&1 || ! wait_port "$PF_PORT"; then
		echo "smtp.sh: postfix did not start (see $PF/maillog)" >&2
		PF=""
	fi
else
	echo "smtp.sh: postfix not available (needs the Debian package and root): skipped"
fi
PF_NEW="$PF/mail/alice/new"

status=0
for c in 1 20; do
	ml="" pf="" bare=""
	i=0
	while [ $i -lt "$TRIALS" ]; do
		want=$(($(count "$ML_NEW") + N))
		ml="$ml $(timed_run "$ML_PORT" $c "$ML_NEW" $want)"
		if [ -n "$PF" ]; then
			want=$(($(count "$PF_NEW") + N))
			pf="$pf $(timed_run "$PF_PORT" $c "$PF_NEW" $want)"
		fi
		mkdir -p "$T/bare"
		r=$("$B/bench/bench-bareloop" -w $c -t 3 -d "$T/bare" |
		    sed -n 's/.* rate=\([0-9]*\)\/s.*/\1/p')
		rm -rf "$T/bare"
		bare="$bare $r"
		i=$((i + 1))
	done
	m_ml=$(printf '%s\n' $ml | median)
	m_bare=$(printf '%s\n' $bare | median)
	echo "smtp clients=$c messages=$N maillab=${m_ml}/s bareloop=${m_bare}/s" \
	     "maillab/bareloop=$(echo "scale=2; $m_ml / $m_bare" | bc)" \
	     "(runs: maillab$ml; bareloop$bare)"
	if [ -n "$PF" ]; then
		m_pf=$(printf '%s\n' $pf | median)
		echo "smtp clients=$c postfix=${m_pf}/s maillab/postfix=$(echo "scale=2; $m_ml / $m_pf" | bc)" \
		     "(runs: postfix$pf)"
	fi
done
echo "smtp maillab peak memory (VmHWM) after the 20-client runs: $(mem_kib $ML_PID VmHWM) KiB" \
     "(workers = $WORKERS)"

# --- 1,000 idle connections ---
: >"$T/idle.out"
"$B/bench/bench-smtp-load" -p "$ML_PORT" -i $IDLE -w 4 >"$T/idle.out" 2>&1 &
IDLE_PID=$!
i=0
while ! grep -q "smtp-idle" "$T/idle.out" && [ $i -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
sleep 1
echo "smtp idle: $(cat "$T/idle.out"); maillab VmRSS=$(mem_kib $ML_PID VmRSS) KiB"
wait $IDLE_PID || status=1
kill -0 "$ML_PID" 2>/dev/null || { echo "smtp.sh: maillab died" >&2; status=1; }
exit $status
