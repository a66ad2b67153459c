#!/bin/sh
# POP3, maillab beside Dovecot over the same Maildir (issue 5 "Benchmark"):
# RETR of all SMALL messages of SIZE bytes in one session, LIST and UIDL of
# BIG messages.  Both servers first get one warm-up session per mailbox
# (maillab builds its index, Dovecot its index and cache on first open), then
# each figure is the median of TRIALS measured sessions.
#
#   sh bench/compare-pop3.sh [BUILD_DIR]
#   env: SMALL=5000 BIG=100000 SIZE=4096 TRIALS=5
#
# The Maildirs are filled directly (files named time.M<usec>P<pid>Q<n>.host,
# S=<size>:2, in cur/, CRLF line ends); Dovecot (Debian dovecot-pop3d,
# installed here when missing) runs as a private instance from
# bench/dovecot/dovecot.conf.in over a copy of them.  Everything this script
# starts is stopped on exit, also on failure.
set -u
B=${1:-build}
BENCH=compare-pop3
. "$(dirname "$0")/lib.sh"
B=$(cd "$B" 2>/dev/null && pwd) || { echo "compare-pop3: no build directory ${1:-build}" >&2; exit 1; }
SMALL=${SMALL:-5000}
BIG=${BIG:-100000}
SIZE=${SIZE:-4096}
TRIALS=${TRIALS:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
CLIENT=$B/bench/bench-pop3-client
for p in "$B/maillab" "$CLIENT"; do
	[ -x "$p" ] || { echo "compare-pop3: $p not built (make bench builds it)" >&2; exit 1; }
done


dovecot_setup dovecot-pop3d

# Connect + login + STAT: the maildrop is open by the end of STAT on either
# server (Dovecot defers part of the opening past PASS).
login_stat() {
	awk '/^pop3 op=(login|STAT) status=OK/ { for (i = 1; i <= NF; i++) if ($i ~ /^seconds=/) { sub("seconds=", "", $i); t += $i; n++ } }
	     END { if (n == 2) printf "%.4f\n", t }'
}

field() {	# field NAME OP < client output
	sed -n "s/^pop3 op=$2 status=OK .*$1=\\([0-9.]*\\).*/\\1/p"
}

# --- maillab and the Maildirs ------------------------------------------------
ML_PORT=$(free_port) || die "no free port"
"$B/maillab" init "$ML" --demo --domain lab.test --hostname localhost >/dev/null ||
	die "maillab init failed"
cat >>"$ML/maillab.conf" <<EOF
# --- compare-pop3.sh ---
port_smtp = 0
port_submission = 0
port_submissions = 0
port_pop3 = $ML_PORT
port_pop3s = 0
port_imap = 0
port_imaps = 0
trace = off
EOF
PW_ALICE=$(awk '$1 == "alice" { print $2 }' "$ML/credentials.txt")
PW_BOB=$(awk '$1 == "bob" { print $2 }' "$ML/credentials.txt")
[ -n "$PW_ALICE" ] && [ -n "$PW_BOB" ] || die "no passwords in $ML/credentials.txt"
echo "filling Maildirs: alice $SMALL x $SIZE bytes, bob $BIG x $SIZE bytes ..."
fill "$ML/mail/alice" "$SMALL" "$SIZE"
fill "$ML/mail/bob" "$BIG" "$SIZE"

mkdir -p "$DC/mail" "$DC/home/alice" "$DC/home/bob" "$DC/run" "$DC/state" || die "mkdir $DC"
for u in alice bob; do
	mkdir -p "$DC/mail/$u"
	cp -a "$ML/mail/$u/cur" "$ML/mail/$u/new" "$ML/mail/$u/tmp" "$DC/mail/$u/" || die "copying the $u Maildir"
done
chown -R nobody:nogroup "$DC/mail" "$DC/home" || die "chown $DC"
printf 'alice:{PLAIN}%s\nbob:{PLAIN}%s\n' "$PW_ALICE" "$PW_BOB" >"$DC/passwd"
chmod 644 "$DC/passwd"

maillab_serve "$B/maillab" "$ML" "$T/maillab.out" ML_PORT=pop3
ML_PID=$SERVE_PID
wait_port "$ML_PORT" || { cat "$T/maillab.out" >&2; die "maillab did not listen on $ML_PORT"; }

# --- Dovecot ---------------------------------------------------------------
DC_PORT=$(free_port) || die "no free port"
[ "$DC_PORT" = "$ML_PORT" ] && DC_PORT=$((DC_PORT + 1))
sed -e "s|@DIR@|$DC|g" -e "s|@PORT@|$DC_PORT|g" -e "s|@PROTOCOL@|pop3|g" \
    -e "s|@UID@|$(id -u nobody)|g" -e "s|@GID@|$(id -g nobody)|g" \
    "$HERE/dovecot/dovecot.conf.in" >"$DC/dovecot.conf" || die "writing $DC/dovecot.conf"
DC_STARTED=1
dovecot -c "$DC/dovecot.conf" >"$T/dovecot.out" 2>&1 ||
	{ cat "$T/dovecot.out" "$DC/dovecot.log" >&2; die "dovecot did not start"; }
wait_port "$DC_PORT" || { cat "$DC/dovecot.log" >&2; die "dovecot did not listen on $DC_PORT"; }

# --- runs --------------------------------------------------------------------
status=0
: >"$T/results"
# session NAME PORT USER PASSWORD OP...: one client session, output kept.
session() {
	name=$1 port=$2 user=$3 pw=$4
	shift 4
	out=$("$CLIENT" -p "$port" -u "$user" -w "$pw" "$@")
	rc=$?
	echo "$out" | sed "s/^/  $name $user: /" >>"$T/results"
	[ $rc = 0 ] || { echo "compare-pop3: $name session for $user failed: $out" >&2; : >"$T/failed"; }
	echo "$out"
}

echo "warm-up: one session per mailbox and server (maillab builds its index, Dovecot its index files)"
for s in maillab dovecot; do
	if [ $s = maillab ]; then port=$ML_PORT; else port=$DC_PORT; fi
	session "$s warm-up" "$port" alice "$PW_ALICE" STAT RETR-ALL >/dev/null
	session "$s warm-up" "$port" bob "$PW_BOB" STAT LIST UIDL >/dev/null
done

for s in maillab dovecot; do
	if [ $s = maillab ]; then port=$ML_PORT; else port=$DC_PORT; fi
	: >"$T/$s.retr" ; : >"$T/$s.login5" ; : >"$T/$s.list" ; : >"$T/$s.uidl" ; : >"$T/$s.login100"
	i=0
	while [ $i -lt "$TRIALS" ]; do
		out=$(session "$s" "$port" alice "$PW_ALICE" STAT RETR-ALL)
		echo "$out" | field seconds RETR-ALL >>"$T/$s.retr"
		echo "$out" | login_stat >>"$T/$s.login5"
		items=$(echo "$out" | field items RETR-ALL)
		[ "$items" = "$SMALL" ] || { echo "compare-pop3: $s retrieved ${items:-no} messages, expected $SMALL" >&2; status=1; }
		# LIST first in its session: Dovecot computes message sizes on
		# the first command that needs them (STAT or LIST), maillab
		# at login, so LIST after STAT would hide Dovecot's work.
		out=$(session "$s" "$port" bob "$PW_BOB" LIST UIDL)
		echo "$out" | field seconds LIST >>"$T/$s.list"
		echo "$out" | field seconds UIDL >>"$T/$s.uidl"
		for op in LIST UIDL; do
			items=$(echo "$out" | field items $op)
			[ "$items" = "$BIG" ] || { echo "compare-pop3: $s $op gave ${items:-no} lines, expected $BIG" >&2; status=1; }
		done
		out=$(session "$s" "$port" bob "$PW_BOB" STAT)
		echo "$out" | login_stat >>"$T/$s.login100"
		i=$((i + 1))
	done
done

[ -f "$T/failed" ] && status=1

row() {	# row LABEL FILE
	m=$(median 0 <"$T/maillab.$2")
	d=$(median 0 <"$T/dovecot.$2")
	printf '%-34s %12s %12s %16s\n' "$1" "$m" "$d" \
		"$(awk -v a="$d" -v b="$m" 'BEGIN { if (b > 0 && a > 0) printf "%.2f", a / b; else print "n/a" }')"
}
echo
echo "POP3, medians of $TRIALS sessions after one warm-up session each; maillab 127.0.0.1:$ML_PORT, Dovecot $(dovecot --version | cut -d' ' -f1) 127.0.0.1:$DC_PORT"
printf '%-34s %12s %12s %16s\n' figure "maillab s" "dovecot s" "dovecot/maillab"
row "RETR all $SMALL x $SIZE B" retr
row "LIST of $BIG (first command)" list
row "UIDL of $BIG (after LIST)" uidl
row "connect+login+STAT, $SMALL msgs" login5
row "connect+login+STAT, $BIG msgs" login100
echo "target: dovecot/maillab >= 1.20 on every figure (above 1 means maillab is faster)"
echo
echo "raw results:"
cat "$T/results"
echo "to reproduce: sh bench/compare-pop3.sh $B   (per trial, against the servers it starts:)"
echo "  $CLIENT -p PORT -u alice -w PASSWORD STAT RETR-ALL"
echo "  $CLIENT -p PORT -u bob -w PASSWORD LIST UIDL"
echo "  $CLIENT -p PORT -u bob -w PASSWORD STAT"
exit $status
