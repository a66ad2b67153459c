#!/bin/sh
# IMAP, maillab beside Dovecot over copies of one Maildir (issue 6
# "Benchmark"): in a BIG-message INBOX of SIZE-byte messages, SELECT,
# FETCH 1:* (FLAGS UID RFC822.SIZE), FETCH 1:* BODY.PEEK[HEADER.FIELDS (From
# Subject Date)], UID SEARCH TEXT "zanzibar" (1 message in 100 holds it), and
# FETCH of BODIES full bodies (BODY.PEEK[], so no flag changes between runs).
# Both servers first get one warm-up session with the same commands
# (maillab builds its index, Dovecot its index and cache), then each figure
# is the median of TRIALS sessions.  A command maillab does not answer with
# OK is shown as "maillab: not supported yet" instead of failing the run.
#
#   sh bench/compare-imap.sh [BUILD_DIR]
#   env: BIG=100000 BODIES=5000 SIZE=4096 TRIALS=3
#        MAILLAB=path/to/maillab (default BUILD_DIR/maillab), e.g. a build
#        whose main.c already maps the imap services to imapd
#
# Dovecot (Debian dovecot-imapd, installed here when missing) runs as a
# private instance from bench/dovecot/dovecot.conf.in.  Everything this
# script starts is stopped on exit, also on failure.
set -u
B=${1:-build}
BENCH=compare-imap
. "$(dirname "$0")/lib.sh"
B=$(cd "$B" 2>/dev/null && pwd) || { echo "compare-imap: no build directory ${1:-build}" >&2; exit 1; }
BIG=${BIG:-100000}
BODIES=${BODIES:-5000}
SIZE=${SIZE:-4096}
TRIALS=${TRIALS:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
CLIENT=$B/bench/bench-imap-client
ML_BIN=${MAILLAB:-$B/maillab}
for p in "$ML_BIN" "$CLIENT"; do
	[ -x "$p" ] || { echo "compare-imap: $p not built (make bench builds it)" >&2; exit 1; }
done
[ "$BODIES" -le "$BIG" ] || { echo "compare-imap: BODIES must not exceed BIG" >&2; exit 1; }


dovecot_setup dovecot-imapd

# --- maillab and the Maildirs ------------------------------------------------
maillab_imap_setup compare-imap.sh
echo "filling the Maildir: alice INBOX $BIG x $SIZE bytes ..."
fill "$ML/mail/alice" "$BIG" "$SIZE"

mkdir -p "$DC/mail/alice" "$DC/home/alice" "$DC/run" "$DC/state" || die "mkdir $DC"
cp -a "$ML/mail/alice/cur" "$ML/mail/alice/new" "$ML/mail/alice/tmp" "$DC/mail/alice/" ||
	die "copying the Maildir"
chown -R nobody:nogroup "$DC/mail" "$DC/home" || die "chown $DC"
printf 'alice:{PLAIN}%s\n' "$PW" >"$DC/passwd"
chmod 644 "$DC/passwd"

maillab_serve "$ML_BIN" "$ML" "$T/maillab.out" ML_PORT=imap ML_POP3=pop3
ML_PID=$SERVE_PID
wait_port "$ML_POP3" || { cat "$T/maillab.out" >&2; die "maillab did not start (no POP3 listener on $ML_POP3)"; }
ML_IMAP=yes
wait_port "$ML_PORT" 20 || ML_IMAP=no

# --- Dovecot ---------------------------------------------------------------
DC_PORT=$(free_port) || die "no free port"
case "$DC_PORT" in "$ML_PORT"|"$ML_POP3") DC_PORT=$((ML_PORT + 2)) ;; esac
sed -e "s|@DIR@|$DC|g" -e "s|@PORT@|$DC_PORT|g" -e "s|@PROTOCOL@|imap|g" \
    -e "s|@UID@|$(id -u nobody)|g" -e "s|@GID@|$(id -g nobody)|g" \
    "$HERE/dovecot/dovecot.conf.in" >"$DC/dovecot.conf" || die "writing $DC/dovecot.conf"
DC_STARTED=1
dovecot -c "$DC/dovecot.conf" >"$T/dovecot.out" 2>&1 ||
	{ cat "$T/dovecot.out" "$DC/dovecot.log" >&2; die "dovecot did not start"; }
wait_port "$DC_PORT" || { cat "$DC/dovecot.log" >&2; die "dovecot did not listen on $DC_PORT"; }

# --- runs --------------------------------------------------------------------
C1='SELECT INBOX'
C2='FETCH 1:* (FLAGS UID RFC822.SIZE)'
C3='FETCH 1:* BODY.PEEK[HEADER.FIELDS (From Subject Date)]'
C4='UID SEARCH TEXT "zanzibar"'
C5="FETCH 1:$BODIES BODY.PEEK[]"
HITS=$(( (BIG + 99) / 100 ))
status=0
: >"$T/results"

# session NAME PORT: one session with the five commands; output kept.
session() {
	"$CLIENT" -p "$2" -u alice -w "$PW" "$C1" "$C2" "$C3" "$C4" "$C5" >"$T/out" 2>&1
	sed "s/^/  $1: /" "$T/out" >>"$T/results"
}

# value SERVER N FIELD: FIELD of command N's line in $T/out (status: any).
value() {
	sed -n "$(( $1 + 1 ))p" "$T/out" | sed -n "s/.*[ ]$2=\\([^ ]*\\).*/\\1/p"
}
line_status() {
	sed -n "$(( $1 + 1 ))p" "$T/out" | sed -n 's/^imap status=\([A-Z]*\).*/\1/p'
}

# check SERVER: are the answers complete?  Prints the problems.
check() {
	[ "$(line_status 1)" = OK ] && [ "$(value 1 exists)" != "$BIG" ] && echo "$1: SELECT says $(value 1 exists) EXISTS, expected $BIG"
	[ "$(line_status 2)" = OK ] && [ "$(value 2 fetch)" != "$BIG" ] && echo "$1: FETCH FLAGS gave $(value 2 fetch) FETCH responses, expected $BIG"
	[ "$(line_status 3)" = OK ] && [ "$(value 3 fetch)" != "$BIG" ] && echo "$1: FETCH HEADER.FIELDS gave $(value 3 fetch) responses, expected $BIG"
	[ "$(line_status 4)" = OK ] && [ "$(value 4 search_hits)" != "$HITS" ] && echo "$1: SEARCH found $(value 4 search_hits), expected $HITS"
	[ "$(line_status 5)" = OK ] && [ "$(value 5 literal_bytes)" != "$((BODIES * SIZE))" ] && echo "$1: FETCH BODY[] gave $(value 5 literal_bytes) bytes, expected $((BODIES * SIZE))"
	return 0
}

servers="dovecot"
[ $ML_IMAP = yes ] && servers="maillab dovecot"
echo "warm-up: one session per server with the same commands (maillab builds its index, Dovecot its index and cache)"
for s in $servers; do
	if [ $s = maillab ]; then port=$ML_PORT; else port=$DC_PORT; fi
	session "$s warm-up" "$port"
done
for s in $servers; do
	if [ $s = maillab ]; then port=$ML_PORT; else port=$DC_PORT; fi
	for n in 1 2 3 4 5; do : >"$T/$s.$n"; done
	i=0
	while [ $i -lt "$TRIALS" ]; do
		session "$s" "$port"
		if [ "$(line_status 0)" != OK ]; then
			echo "compare-imap: $s: LOGIN failed: $(head -1 "$T/out")" >&2
			status=1
			[ $s = dovecot ] && status=1
			break
		fi
		for n in 1 2 3 4 5; do
			[ "$(line_status $n)" = OK ] && value $n seconds >>"$T/$s.$n"
		done
		problems=$(check $s)
		if [ -n "$problems" ]; then
			echo "compare-imap: $problems" >&2
			status=1
		fi
		# Dovecot must answer everything; maillab may not yet.
		if [ $s = dovecot ]; then
			for n in 1 2 3 4 5; do
				[ "$(line_status $n)" = OK ] || { echo "compare-imap: dovecot: command $n: $(sed -n "$((n + 1))p" "$T/out")" >&2; status=1; }
			done
		fi
		i=$((i + 1))
	done
done

# Memory of one idle selected session: maillab's RSS with a session that
# has selected the folder and waits, minus its RSS without it (issue 6:
# under 1 MiB plus the folder's index size).
if [ $ML_IMAP = yes ]; then
	rss() {
		awk '/^VmRSS/ { print $2 }' "/proc/$ML_PID/status" 2>/dev/null
	}
	sleep 1
	idle_before=$(rss)
	"$CLIENT" -p "$ML_PORT" -u alice -w "$PW" -H 3 "$C1" >"$T/idle.out" 2>&1 &
	idle_pid=$!
	sleep 2
	idle_during=$(rss)
	wait $idle_pid || { echo "compare-imap: maillab idle session: $(cat "$T/idle.out")" >&2; status=1; }
	index_kib=$(du -sk "$ML/mail/alice/maillab-index/index.db" 2>/dev/null | cut -f1)
	env_kib=$(du -sk "$ML/mail/alice/maillab-index" 2>/dev/null | cut -f1)
fi

echo
echo "IMAP, INBOX of $BIG messages of $SIZE bytes; medians of $TRIALS sessions after one warm-up session each;"
echo "maillab 127.0.0.1:$ML_PORT, Dovecot $(dovecot --version | cut -d' ' -f1) 127.0.0.1:$DC_PORT"
printf '%-58s %12s %12s %16s\n' command "maillab s" "dovecot s" "dovecot/maillab"
for n in 1 2 3 4 5; do
	eval "cmd=\$C$n"
	d=$(median <"$T/dovecot.$n")
	m=""
	[ -f "$T/maillab.$n" ] && m=$(median <"$T/maillab.$n")
	if [ -z "$m" ]; then
		printf '%-58s %12s %12s %16s\n' "$cmd" "-" "${d:-?}" "maillab: not supported yet"
	else
		printf '%-58s %12s %12s %16s\n' "$cmd" "$m" "${d:-?}" \
			"$(awk -v a="${d:-0}" -v b="$m" 'BEGIN { if (b > 0 && a > 0) printf "%.2f", a / b; else print "n/a" }')"
	fi
done
[ $ML_IMAP = yes ] || echo "maillab: not supported yet (no IMAP listener on 127.0.0.1:$ML_PORT: imapd is not wired into maillab serve)"
echo "target: dovecot/maillab >= 1.20 on every figure (above 1 means maillab is faster)"
if [ $ML_IMAP = yes ]; then
	echo "maillab idle selected session: RSS ${idle_before:-?} KiB without it, ${idle_during:-?} KiB with it" \
	     "(+$(( ${idle_during:-0} - ${idle_before:-0} )) KiB); index.db ${index_kib:-?} KiB (maillab-index/ with logs ${env_kib:-?} KiB);" \
	     "target: under 1024 KiB + index size"
fi
echo
echo "raw results:"
cat "$T/results"
echo "to reproduce: MAILLAB=$ML_BIN sh bench/compare-imap.sh $B   (per trial, against the servers it starts:)"
echo "  $CLIENT -p PORT -u alice -w PASSWORD '$C1' '$C2' '$C3' '$C4' '$C5'"
[ $ML_IMAP = yes ] && echo "  idle session: $CLIENT -p PORT -u alice -w PASSWORD -H 3 '$C1'   (maillab VmRSS sampled after 2 s)"
exit $status
