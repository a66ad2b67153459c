#!/bin/sh
# SMTP throughput, maillab beside Postfix and the bare durable-write loop
# (issue 4 "Benchmark"): MESSAGES messages of SIZE bytes at 1 and 20
# concurrent clients, one message per transaction, PER_CONN transactions per
# connection, no pipelining, measured until every file is in new/.  Also
# maillab's peak memory (VmHWM) after the 20-client run.
#
#   sh bench/compare-smtp.sh [BUILD_DIR]
#   env: MESSAGES=5000 SIZE=4096 PER_CONN=50 BARE_SECONDS=5 TRIALS=3
#        CROSSCHECK=1
#
# Disk speed on a shared machine wanders, so maillab, Postfix and the bare
# loop run alternately TRIALS times at each concurrency (every trial into a
# fresh Maildir) and the medians are compared.
# Postfix (Debian package, installed here when missing and run as root) runs
# as a private instance from a temporary config directory: smtpd on
# 127.0.0.1, virtual(8) Maildir delivery into the temporary directory, no
# DNS.  The system's own services are never started or changed.  Everything
# this script starts is stopped on exit, also on failure.
set -u
B=${1:-build}
BENCH=compare-smtp
. "$(dirname "$0")/lib.sh"
B=$(cd "$B" 2>/dev/null && pwd) || { echo "compare-smtp: no build directory ${1:-build}" >&2; exit 1; }
MESSAGES=${MESSAGES:-5000}
SIZE=${SIZE:-4096}
PER_CONN=${PER_CONN:-50}
BARE_SECONDS=${BARE_SECONDS:-5}
TRIALS=${TRIALS:-3}
CROSSCHECK=${CROSSCHECK:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
CLIENT=$B/bench/bench-smtp-client
BARE=$B/bench/bench-bareloop

for p in "$B/maillab" "$CLIENT" "$BARE"; do
	[ -x "$p" ] || { echo "compare-smtp: $p not built (make bench builds it)" >&2; exit 1; }
done

if ! installed postfix; then
	if [ "$(id -u)" != 0 ]; then
		echo "compare-smtp: postfix is missing; as root run:" >&2
		echo "  echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections" >&2
		echo "  DEBIAN_FRONTEND=noninteractive apt-get install -y postfix" >&2
		exit 1
	fi
	echo "compare-smtp: installing postfix (No configuration: the system instance stays unconfigured and stopped)"
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix >/dev/null ||
		{ echo "compare-smtp: apt-get install postfix failed" >&2; exit 1; }
fi
if [ "$(id -u)" != 0 ]; then
	echo "compare-smtp: Postfix's private instance needs root (postfix start)" >&2
	exit 1
fi

# --- helpers -------------------------------------------------------------
T=$(mktemp -d /tmp/maillab-bench-smtp.XXXXXX) && chmod 755 "$T" || exit 1
ML=$T/maillab
PF=$T/postfix
ML_PID=""
PF_STARTED=""

cleanup() {
	if [ -n "$ML_PID" ]; then
		kill "$ML_PID" 2>/dev/null
		wait "$ML_PID" 2>/dev/null
	fi
	if [ -n "$PF_STARTED" ]; then
		postfix -c "$PF/etc" stop >/dev/null 2>&1 ||
			postfix -c "$PF/etc" abort >/dev/null 2>&1
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE



field() {	# field NAME < "key=value ..." line
	sed -n "s/.* $1=\\([0-9.]*\\).*/\\1/p"
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else print v[int((NR + 1) / 2)] }'
}

count_files() {
	ls -f "$1" | grep -vc '^\.'
}


# --- maillab -------------------------------------------------------------
ML_PORT=$(free_port) || die "no free port"
"$B/maillab" init "$ML" --demo --domain lab.test --hostname localhost >/dev/null ||
	die "maillab init failed"
cat >>"$ML/maillab.conf" <<EOF
# --- compare-smtp.sh ---
port_smtp = $ML_PORT
port_submission = 0
port_submissions = 0
port_pop3 = 0
port_pop3s = 0
port_imap = 0
port_imaps = 0
trace = off
EOF
# One mailbox per trial (c1t1 ... c20tN) and carol for the cross-check.
USERS="carol"
for c in 1 20; do
	t=1
	while [ $t -le "$TRIALS" ]; do
		USERS="$USERS c${c}t$t"
		t=$((t + 1))
	done
done
for u in $USERS; do
	printf 'bench-pw-%s\n' "$u" | "$B/maillab" user add -d "$ML" "$u" --password-stdin >/dev/null ||
		die "maillab user add $u failed"
done
maillab_serve "$B/maillab" "$ML" "$T/maillab.out" ML_PORT=smtp
ML_PID=$SERVE_PID
wait_port "$ML_PORT" || { cat "$T/maillab.out" >&2; die "maillab did not listen on $ML_PORT"; }

# --- Postfix -------------------------------------------------------------
PF_PORT=$(free_port) || die "no free port"
[ "$PF_PORT" = "$ML_PORT" ] && PF_PORT=$((PF_PORT + 1))
mkdir -p "$PF/etc" "$PF/spool" "$PF/data" || die "mkdir $PF"
MAP=""
for u in $USERS; do
	mkdir -p "$PF/mail/$u/new" "$PF/mail/$u/cur" "$PF/mail/$u/tmp"
	MAP="$MAP${MAP:+, }$u@lab.test=$u/"
done
chown -R nobody:nogroup "$PF/mail" && chown postfix "$PF/data" || die "chown in $PF"
for f in main master; do
	sed -e "s|@DIR@|$PF|g" -e "s|@PORT@|$PF_PORT|g" -e "s|@MAILBOXES@|$MAP|g" \
	    -e "s|@UID@|$(id -u nobody)|g" -e "s|@GID@|$(id -g nobody)|g" \
	    "$HERE/postfix/$f.cf.in" >"$PF/etc/$f.cf" || die "writing $PF/etc/$f.cf"
done
postfix -c "$PF/etc" check >"$T/postfix.out" 2>&1
PF_STARTED=1
postfix -c "$PF/etc" start >>"$T/postfix.out" 2>&1 ||
	{ cat "$T/postfix.out" "$PF/maillog" >&2; die "postfix start failed"; }
wait_port "$PF_PORT" || { cat "$PF/maillog" >&2; die "postfix did not listen on $PF_PORT"; }

# --- runs ----------------------------------------------------------------
# run_client NAME PORT CLIENTS USER NEWDIR: prints the rate, logs the line.
run_client() {
	cmd="$CLIENT -p $2 -n $MESSAGES -c $3 -k $PER_CONN -s $SIZE -r $4@lab.test -w $5"
	echo "  $1: $cmd" >>"$T/commands"
	out=$($cmd) || { echo "compare-smtp: $1 run failed: $out" >&2; echo 0; return 1; }
	echo "  $1 clients=$3: $out" >>"$T/results"
	echo "$out" | field rate
}

run_bare() {
	mkdir -p "$T/bare/w$1"
	cmd="$BARE -w $1 -t $BARE_SECONDS -d $T/bare/w$1"
	echo "  bare loop: $cmd" >>"$T/commands"
	out=$($cmd) || { echo "compare-smtp: bare loop failed: $out" >&2; echo 0; return 1; }
	echo "  bare loop writers=$1: $out" >>"$T/results"
	echo "$out" | field rate
}

status=0
: >"$T/commands"
: >"$T/results"
echo "SMTP: $MESSAGES messages of $SIZE bytes per run, one per transaction, $PER_CONN per connection, no pipelining;"
echo "medians of $TRIALS alternating trials (bare loop: $BARE_SECONDS s per trial, same writer count)."
echo "clock stops when the last file is in new/.  maillab 127.0.0.1:$ML_PORT, Postfix $(postconf -d -h mail_version) 127.0.0.1:$PF_PORT."
for c in 1 20; do
	: >"$T/ml.$c"; : >"$T/pf.$c"; : >"$T/bare.$c"
	t=1
	while [ $t -le "$TRIALS" ]; do
		u=c${c}t$t
		run_client maillab "$ML_PORT" $c $u "$ML/mail/$u/new" >>"$T/ml.$c" || status=1
		run_client postfix "$PF_PORT" $c $u "$PF/mail/$u/new" >>"$T/pf.$c" || status=1
		run_bare $c >>"$T/bare.$c" || status=1
		for d in "$ML/mail/$u/new" "$PF/mail/$u/new"; do
			n=$(count_files "$d")
			[ "$n" = "$MESSAGES" ] || { echo "compare-smtp: $d holds $n files, expected $MESSAGES" >&2; status=1; }
		done
		t=$((t + 1))
	done
	eval "ml_$c=$(median <"$T/ml.$c") pf_$c=$(median <"$T/pf.$c") bare_$c=$(median <"$T/bare.$c")"
done
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$ML_PID/status" 2>/dev/null)
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$ML_PID/status" 2>/dev/null)

echo
printf '%-8s %14s %14s %16s %16s %13s\n' clients "maillab msg/s" "postfix msg/s" "bare loop msg/s" "maillab/postfix" "maillab/bare"
for c in 1 20; do
	eval "m=\$ml_$c p=\$pf_$c b=\$bare_$c"
	printf '%-8s %14s %14s %16s %16s %12s%%\n' $c "$m" "$p" "$b" "$(ratio "$m" "$p")" \
		"$(awk -v a="$m" -v b="$b" 'BEGIN { if (b > 0) printf "%.0f", 100 * a / b; else print "n/a" }')"
done
echo "targets: maillab/postfix >= 3.00 at both concurrencies, maillab/bare >= 60%"
echo "maillab peak memory (VmHWM over every run, 20 clients the largest): ${hwm:-?} KiB" \
     "($(awk -v k="${hwm:-0}" 'BEGIN { printf "%.1f", k / 1024 }') MiB; target < 50 MiB); RSS after the run ${rss:-?} KiB"

if [ "$CROSSCHECK" = 1 ]; then
	# Postfix's own generator, one message per connection (no -d), 20
	# sessions, into a third Maildir on each server.
	echo
	echo "cross-check with Postfix's smtp-source (20 sessions, one message per connection, $MESSAGES x $SIZE bytes):"
	for s in maillab postfix; do
		if [ $s = maillab ]; then port=$ML_PORT; d=$ML/mail/carol/new; else port=$PF_PORT; d=$PF/mail/carol/new; fi
		cmd="smtp-source -c -s 20 -m $MESSAGES -l $SIZE -f bench@example.org -t carol@lab.test 127.0.0.1:$port"
		echo "  smtp-source: $cmd" >>"$T/commands"
		t0=$(date +%s.%N)
		i=0
		if ! $cmd >/dev/null 2>"$T/smtp-source.err"; then
			echo "compare-smtp: smtp-source to $s failed: $(cat "$T/smtp-source.err")" >&2
			status=1
			i=2400
		fi
		while [ "$(count_files "$d")" -lt "$MESSAGES" ] && [ $i -lt 2400 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		t1=$(date +%s.%N)
		n=$(count_files "$d")
		echo "  $s: $n messages in new/, $(awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "%.0f msg/s", n / (b - a) }')"
		[ "$n" = "$MESSAGES" ] || status=1
	done
fi

echo
echo "raw results:"
cat "$T/results"
echo "to reproduce: sh bench/compare-smtp.sh $B   (runs, per concurrency, with the servers it starts:)"
cat "$T/commands"
exit $status
