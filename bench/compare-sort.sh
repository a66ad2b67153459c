#!/bin/sh
# SORT and THREAD, maillab beside Dovecot over copies of one Maildir (issue
# 11 "Benchmark"): an INBOX of MESSAGES messages in conversations of
# THREAD_LEN (the first "topic N", the replies "Re: topic N" with
# References to the ones before), then SORT (SUBJECT) and THREAD=REFERENCES
# of all of them.  Both servers first get one warm-up session with the same
# commands (maillab builds its index, Dovecot its index and cache); each
# figure is the median of TRIALS sessions after that.  maillab computes the
# keys from the message headers once and keeps them (imapd/sort-cache.h:
# in memory and in a key file beside the index), so the warm-up pays for
# them and the sessions after it read no message file.
#
#   sh bench/compare-sort.sh [BUILD_DIR]
#   env: MESSAGES=100000 THREAD_LEN=5 TRIALS=3 MAILLAB=path/to/maillab
set -u
B=${1:-build}
BENCH=compare-sort
. "$(dirname "$0")/lib.sh"
B=$(cd "$B" 2>/dev/null && pwd) || { echo "compare-sort: no build directory ${1:-build}" >&2; exit 1; }
MESSAGES=${MESSAGES:-100000}
THREAD_LEN=${THREAD_LEN:-5}
TRIALS=${TRIALS:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
CLIENT=$B/bench/bench-imap-client
ML_BIN=${MAILLAB:-$B/maillab}
for p in "$ML_BIN" "$CLIENT"; do
	[ -x "$p" ] || { echo "compare-sort: $p not built (make bench builds it)" >&2; exit 1; }
done

dovecot_setup dovecot-imapd

# fill_threads MAILDIR COUNT LEN: conversations of LEN messages, the dates
# increasing, every reply naming its predecessors in References.
fill_threads() {
	python3 - "$1" "$2" "$3" <<'PY' || die "filling $1 failed"
import os, sys, time
d, n, tlen = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
base = 1700000000
os.makedirs(d + "/cur", exist_ok=True)
for i in range(n):
    t, k = divmod(i, tlen)
    refs = " ".join("<%d.%d@bench>" % (t, j) for j in range(k))
    head = ("From: Sender %d <sender%d@example.org>\r\n"
            "To: Alice <alice@lab.test>\r\n"
            "Subject: %stopic %d\r\n"
            "Date: %s\r\n"
            "Message-ID: <%d.%d@bench>\r\n"
            "%s\r\n") % (
        i % 50, i % 50, "Re: " if k else "", t,
        time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(base + i)),
        t, k, ("References: %s\r\n" % refs) if refs else "")
    data = (head + "Message %d of topic %d.\r\n" % (k, t)).encode()
    name = "%d.M%dP1Q%d.bench,S=%d:2," % (base + i, i, i, len(data))
    with open(os.path.join(d, "cur", name), "wb") as f:
        f.write(data)
    os.utime(os.path.join(d, "cur", name), (base + i, base + i))
PY
}

maillab_imap_setup compare-sort.sh
echo "filling the Maildir: alice INBOX $MESSAGES messages in threads of $THREAD_LEN ..."
fill_threads "$ML/mail/alice" "$MESSAGES" "$THREAD_LEN"
chown -R --reference="$ML/mail/alice/new" "$ML/mail/alice/cur" 2>/dev/null

mkdir -p "$DC/mail/alice" "$DC/home/alice" "$DC/run" "$DC/state" || die "mkdir $DC"
cp -a "$ML/mail/alice/cur" "$ML/mail/alice/new" "$ML/mail/alice/tmp" "$DC/mail/alice/" ||
	die "copying the Maildir"
chown -R nobody:nogroup "$DC/mail" "$DC/home" || die "chown $DC"
printf 'alice:{PLAIN}%s\n' "$PW" >"$DC/passwd"
chmod 644 "$DC/passwd"

maillab_serve "$ML_BIN" "$ML" "$T/maillab.out" ML_PORT=imap ML_POP3=pop3
ML_PID=$SERVE_PID
wait_port "$ML_PORT" || { cat "$T/maillab.out" >&2; die "maillab did not start"; }

DC_PORT=$(free_port) || die "no free port"
case "$DC_PORT" in "$ML_PORT"|"$ML_POP3") DC_PORT=$((ML_PORT + 2)) ;; esac
sed -e "s|@DIR@|$DC|g" -e "s|@PORT@|$DC_PORT|g" -e "s|@PROTOCOL@|imap|g" \
    -e "s|@UID@|$(id -u nobody)|g" -e "s|@GID@|$(id -g nobody)|g" \
    "$HERE/dovecot/dovecot.conf.in" >"$DC/dovecot.conf" || die "writing $DC/dovecot.conf"
DC_STARTED=1
dovecot -c "$DC/dovecot.conf" >"$T/dovecot.out" 2>&1 ||
	{ cat "$T/dovecot.out" "$DC/dovecot.log" >&2; die "dovecot did not start"; }
wait_port "$DC_PORT" || { cat "$DC/dovecot.log" >&2; die "dovecot did not listen on $DC_PORT"; }

C1='SELECT INBOX'
C2='SORT (SUBJECT) UTF-8 ALL'
C3='THREAD REFERENCES UTF-8 ALL'
status=0
: >"$T/results"

session() {
	"$CLIENT" -p "$2" -u alice -w "$PW" "$C1" "$C2" "$C3" >"$T/out" 2>&1
	sed "s/^/  $1: /" "$T/out" >>"$T/results"
}
field() {
	sed -n "$(( $1 + 1 ))p" "$T/out" | sed -n "s/.*[ ]$2=\\([^ ]*\\).*/\\1/p"
}

for s in maillab dovecot; do
	if [ $s = maillab ]; then port=$ML_PORT; else port=$DC_PORT; fi
	session "$s warm-up" "$port"
done
for s in maillab dovecot; do
	if [ $s = maillab ]; then port=$ML_PORT; else port=$DC_PORT; fi
	for n in 1 2 3; do : >"$T/$s.$n"; done
	i=0
	while [ $i -lt "$TRIALS" ]; do
		session "$s" "$port"
		for n in 1 2 3; do
			if [ "$(field $n status)" = OK ]; then
				field $n seconds >>"$T/$s.$n"
			else
				echo "compare-sort: $s: command $n: $(sed -n "$((n + 1))p" "$T/out")" >&2
				status=1
			fi
		done
		[ "$(field 2 search_hits)" = "$MESSAGES" ] ||
			{ echo "compare-sort: $s: SORT gave $(field 2 search_hits) numbers, expected $MESSAGES" >&2; status=1; }
		field 3 bytes >"$T/$s.thread_bytes"
		i=$((i + 1))
	done
done

echo
echo "SORT and THREAD, INBOX of $MESSAGES messages in threads of $THREAD_LEN; medians of $TRIALS sessions after one warm-up each;"
echo "maillab 127.0.0.1:$ML_PORT, Dovecot $(dovecot --version | cut -d' ' -f1) 127.0.0.1:$DC_PORT"
printf '%-34s %12s %12s %16s\n' command "maillab s" "dovecot s" "dovecot/maillab"
for n in 1 2 3; do
	eval "cmd=\$C$n"
	m=$(median - <"$T/maillab.$n")
	d=$(median - <"$T/dovecot.$n")
	printf '%-34s %12s %12s %16s\n' "$cmd" "$m" "$d" \
		"$(awk -v a="$d" -v b="$m" 'BEGIN { if (b > 0 && a > 0) printf "%.2f", a / b; else print "n/a" }')"
done
echo "THREAD response bytes: maillab $(cat "$T/maillab.thread_bytes"), dovecot $(cat "$T/dovecot.thread_bytes")"
echo
echo "raw results:"
cat "$T/results"
echo "to reproduce: MESSAGES=$MESSAGES THREAD_LEN=$THREAD_LEN TRIALS=$TRIALS sh bench/compare-sort.sh $B"
echo "  $CLIENT -p PORT -u alice -w PASSWORD '$C1' '$C2' '$C3'"
exit $status
