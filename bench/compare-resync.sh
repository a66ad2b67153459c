#!/bin/sh
# Two resynchronisations, maillab beside Dovecot over copies of one Maildir
# (issue 11 "Benchmark"):
#  1. first SELECT of a folder of MESSAGES messages that was never indexed
#     (a user migrating their mail): TRIALS fresh copies per server
#     (folders mig1..migN, no index on either side), the median;
#  2. QRESYNC (RFC 7162 3.2.5): folder qr (MESSAGES messages) is selected
#     once (both servers index it), its UIDVALIDITY and HIGHESTMODSEQ
#     noted, then CHANGES messages get \Flagged and CHANGES others are
#     expunged (with Python's imaplib); then `ENABLE QRESYNC` and
#     `SELECT qr (QRESYNC (UIDVALIDITY MODSEQ))`: bytes of the reply and
#     time, median of TRIALS sessions.
#
#   sh bench/compare-resync.sh [BUILD_DIR]
#   env: MESSAGES=100000 SIZE=4096 CHANGES=100 TRIALS=3 MAILLAB=path/to/maillab
set -u
B=${1:-build}
BENCH=compare-resync
. "$(dirname "$0")/lib.sh"
B=$(cd "$B" 2>/dev/null && pwd) || { echo "compare-resync: no build directory ${1:-build}" >&2; exit 1; }
MESSAGES=${MESSAGES:-100000}
SIZE=${SIZE:-4096}
CHANGES=${CHANGES:-100}
TRIALS=${TRIALS:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
CLIENT=$B/bench/bench-imap-client
ML_BIN=${MAILLAB:-$B/maillab}
for p in "$ML_BIN" "$CLIENT"; do
	[ -x "$p" ] || { echo "compare-resync: $p not built (make bench builds it)" >&2; exit 1; }
done
[ "$MESSAGES" -ge $((2 * CHANGES)) ] || die "MESSAGES must be at least 2 * CHANGES"

dovecot_setup dovecot-imapd

maillab_imap_setup compare-resync.sh
U=$ML/mail/alice
echo "filling the Maildir: $MESSAGES messages of $SIZE bytes, then $((TRIALS + 1)) copies per server ..."
mkdir -p "$T/pristine/cur" "$T/pristine/new" "$T/pristine/tmp" || die "mkdir"
fill "$T/pristine" "$MESSAGES" "$SIZE"
FOLDERS="qr"
i=1
while [ $i -le "$TRIALS" ]; do FOLDERS="$FOLDERS mig$i"; i=$((i + 1)); done
mkdir -p "$DC/mail/alice" "$DC/home/alice" "$DC/run" "$DC/state" || die "mkdir $DC"
cp -a "$U/cur" "$U/new" "$U/tmp" "$DC/mail/alice/" || die "copying INBOX"
for f in $FOLDERS; do
	for d in "$U" "$DC/mail/alice"; do
		cp -a "$T/pristine" "$d/.$f" && : >"$d/.$f/maildirfolder" || die "copying $d/.$f"
	done
done
chown -R --reference="$U/new" "$U" 2>/dev/null
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

status=0
: >"$T/results"
# session LABEL PORT COMMAND...: one bench-imap-client session into $T/out.
session() {
	label=$1 port=$2
	shift 2
	"$CLIENT" -p "$port" -u alice -w "$PW" -t 600 "$@" >"$T/out" 2>&1 || status=1
	sed "s/^/  $label: /" "$T/out" >>"$T/results"
}
field() {
	sed -n "$(( $1 + 1 ))p" "$T/out" | sed -n "s/.*[ ]$2=\\([^ ]*\\).*/\\1/p"
}

# 1. first SELECT of never-indexed copies, alternating the servers.
i=1
while [ $i -le "$TRIALS" ]; do
	for s in maillab dovecot; do
		if [ $s = maillab ]; then port=$ML_PORT; else port=$DC_PORT; fi
		session "$s first" "$port" "SELECT mig$i"
		[ "$(field 1 exists)" = "$MESSAGES" ] ||
			{ echo "compare-resync: $s: SELECT mig$i: EXISTS $(field 1 exists), expected $MESSAGES" >&2; status=1; }
		field 1 seconds >>"$T/$s.first"
	done
	i=$((i + 1))
done

# 2. QRESYNC after CHANGES flag changes and CHANGES expunges.
for s in maillab dovecot; do
	if [ $s = maillab ]; then port=$ML_PORT; else port=$DC_PORT; fi
	python3 - "$port" "$PW" "$MESSAGES" "$CHANGES" >"$T/$s.state" <<'PY' || { echo "compare-resync: $s: changing qr failed" >&2; status=1; }
import imaplib, re, sys
port, pw, n, k = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
m = imaplib.IMAP4("127.0.0.1", port)
m.login("alice", pw)
m._simple_command("ENABLE", "QRESYNC")
typ, _ = m.select("qr")
assert typ == "OK"
uv = m.untagged_responses["UIDVALIDITY"][-1].decode()
ok = [x.decode() for x in m.untagged_responses.get("OK", [])]
ms = [re.search(r"HIGHESTMODSEQ (\d+)", x) for x in ok]
ms = [x.group(1) for x in ms if x]
assert ms, ok
step = n // (2 * k)
flag = ",".join(str(1 + 2 * i * step) for i in range(k))
gone = ",".join(str(1 + (2 * i + 1) * step) for i in range(k))
for seqs, flags in ((flag, r"(\Flagged)"), (gone, r"(\Deleted)")):
    typ, _ = m.store(seqs, "+FLAGS.SILENT", flags)
    assert typ == "OK", typ
typ, _ = m.expunge()
assert typ == "OK", typ
m.logout()
print(uv, ms[-1])
PY
	read -r uv ms <"$T/$s.state"
	: >"$T/$s.qr"
	i=0
	while [ $i -lt "$TRIALS" ]; do
		session "$s qresync" "$port" "ENABLE QRESYNC" "SELECT qr (QRESYNC ($uv $ms))"
		if [ "$(field 2 status)" = OK ]; then
			field 2 seconds >>"$T/$s.qr"
			field 2 bytes >"$T/$s.qr_bytes"
		else
			echo "compare-resync: $s: QRESYNC select: $(sed -n 3p "$T/out")" >&2
			status=1
		fi
		i=$((i + 1))
	done
done

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a > 0) printf "%.2f", a / b; else print "n/a" }'
}
echo
echo "maillab 127.0.0.1:$ML_PORT, Dovecot $(dovecot --version | cut -d' ' -f1) 127.0.0.1:$DC_PORT; folders of $MESSAGES messages of $SIZE bytes"
printf '%-52s %12s %12s %16s\n' "" maillab dovecot "maillab/dovecot"
m=$(median - <"$T/maillab.first"); d=$(median - <"$T/dovecot.first")
printf '%-52s %12s %12s %16s\n' "first SELECT, never indexed, s (median of $TRIALS copies)" "$m" "$d" "$(ratio "$m" "$d")"
m=$(median - <"$T/maillab.qr"); d=$(median - <"$T/dovecot.qr")
printf '%-52s %12s %12s %16s\n' "QRESYNC SELECT after $CHANGES flags + $CHANGES expunges, s" "$m" "$d" "$(ratio "$m" "$d")"
mb=$(cat "$T/maillab.qr_bytes" 2>/dev/null); db=$(cat "$T/dovecot.qr_bytes" 2>/dev/null)
printf '%-52s %12s %12s %16s\n' "QRESYNC SELECT reply, bytes" "$mb" "$db" "$(ratio "$mb" "$db")"
echo "QRESYNC from (UIDVALIDITY HIGHESTMODSEQ): maillab $(cat "$T/maillab.state"), dovecot $(cat "$T/dovecot.state")"
echo
echo "raw results:"
cat "$T/results"
echo "to reproduce: MESSAGES=$MESSAGES SIZE=$SIZE CHANGES=$CHANGES TRIALS=$TRIALS sh bench/compare-resync.sh $B"
echo "  $CLIENT -p PORT -u alice -w PASSWORD 'SELECT migN'"
echo "  $CLIENT -p PORT -u alice -w PASSWORD 'ENABLE QRESYNC' 'SELECT qr (QRESYNC (UIDVALIDITY MODSEQ))'"
exit $status
