#!/bin/sh
# Dovecot's imaptest in stress mode, maillab beside Dovecot over copies of
# one Maildir (issue 11 "Benchmark"): CLIENTS_LIST concurrent clients (one
# run each, SECS seconds) of user alice with imaptest's default mix (LOGIN,
# LIST, STATUS, SELECT, FETCH, STORE, EXPUNGE, APPEND from an mbox of
# MBOX_MESSAGES messages, LOGOUT), INBOX starting with MESSAGES messages.
# Dovecot's passdb holds the yescrypt hash maillab stores for alice
# ({CRYPT} scheme, crypt(3)), so both servers pay the same cost per LOGIN;
# the script checks that Dovecot accepts the password and refuses a wrong
# one.  Reports commands/s (imaptest's "Totals" row summed over SECS) and
# the error lines imaptest printed, for each server.
#
#   sh bench/compare-imaptest.sh [BUILD_DIR]
#   env: CLIENTS_LIST="10 50" SECS=30 MESSAGES=30 MBOX_MESSAGES=200
#        IMAPTEST=path/to/imaptest MAILLAB=path/to/maillab
set -u
B=${1:-build}
BENCH=compare-imaptest
. "$(dirname "$0")/lib.sh"
B=$(cd "$B" 2>/dev/null && pwd) || { echo "compare-imaptest: no build directory ${1:-build}" >&2; exit 1; }
CLIENTS_LIST=${CLIENTS_LIST:-10 50}
SECS=${SECS:-30}
MESSAGES=${MESSAGES:-30}
MBOX_MESSAGES=${MBOX_MESSAGES:-200}
HERE=$(cd "$(dirname "$0")" && pwd)
CLIENT=$B/bench/bench-imap-client
USERHASH=$B/bench/bench-userhash
ML_BIN=${MAILLAB:-$B/maillab}
if [ -z "${IMAPTEST:-}" ]; then
	# where `make interop` builds it (build-interop/ beside the Makefile)
	for p in "$B/interop/imaptest/src/imaptest" \
	    "$(dirname "$0")/../build-interop/imaptest/src/imaptest"; do
		[ -x "$p" ] && { IMAPTEST=$p; break; }
	done
fi
[ -n "${IMAPTEST:-}" ] && [ -x "$IMAPTEST" ] ||
	{ echo "compare-imaptest: no imaptest binary (make interop builds it; or set IMAPTEST)" >&2; exit 1; }
for p in "$ML_BIN" "$CLIENT" "$USERHASH"; do
	[ -x "$p" ] || { echo "compare-imaptest: $p not built (make bench builds it)" >&2; exit 1; }
done

dovecot_setup dovecot-imapd

maillab_imap_setup compare-imaptest.sh
HASH=$("$USERHASH" "$ML" alice) || die "no hash for alice in $ML/db/users.db"
case "$HASH" in '$y$'*) ;; *) die "alice's hash is not yescrypt: $HASH" ;; esac

# The mbox imaptest appends from, and the starting INBOX of both servers.
python3 - "$T/append.mbox" "$MBOX_MESSAGES" <<'PY' || die "writing the mbox failed"
import sys, time
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    for i in range(n):
        t = time.gmtime(1700000000 + i)
        f.write("From sender%d@example.org %s\n" % (i % 20, time.strftime("%a %b %d %H:%M:%S %Y", t)))
        f.write("From: Sender %d <sender%d@example.org>\nTo: Alice <alice@lab.test>\n"
                "Subject: imaptest message %d\nDate: %s\nMessage-ID: <%d.it@example.org>\n\n"
                % (i % 20, i % 20, i, time.strftime("%a, %d %b %Y %H:%M:%S +0000", t), i))
        for k in range(1 + i % 40):
            f.write("line %d of message %d, some words to make it longer than a header\n" % (k, i))
        f.write("\n")
PY
fill "$ML/mail/alice" "$MESSAGES" 4096
chown -R --reference="$ML/mail/alice/new" "$ML/mail/alice/cur" 2>/dev/null
mkdir -p "$DC/mail/alice" "$DC/home/alice" "$DC/run" "$DC/state" || die "mkdir $DC"
cp -a "$ML/mail/alice/cur" "$ML/mail/alice/new" "$ML/mail/alice/tmp" "$DC/mail/alice/" ||
	die "copying the Maildir"
chown -R nobody:nogroup "$DC/mail" "$DC/home" || die "chown $DC"
printf 'alice:{CRYPT}%s\n' "$HASH" >"$DC/passwd"
chmod 644 "$DC/passwd"

maillab_serve "$ML_BIN" "$ML" "$T/maillab.out" ML_PORT=imap ML_POP3=pop3
ML_PID=$SERVE_PID
wait_port "$ML_PORT" || { cat "$T/maillab.out" >&2; die "maillab did not start"; }

DC_PORT=$(free_port) || die "no free port"
case "$DC_PORT" in "$ML_PORT"|"$ML_POP3") DC_PORT=$((ML_PORT + 2)) ;; esac
sed -e "s|@DIR@|$DC|g" -e "s|@PORT@|$DC_PORT|g" -e "s|@PROTOCOL@|imap|g" \
    -e "s|@UID@|$(id -u nobody)|g" -e "s|@GID@|$(id -g nobody)|g" \
    "$HERE/dovecot/dovecot.conf.in" >"$DC/dovecot.conf" || die "writing $DC/dovecot.conf"
# imaptest's clients are all alice from 127.0.0.1: lift Dovecot's default
# of 10 sessions per user and IP (maillab has no such limit), or most of
# the 50 clients get NO [LIMIT] instead of work.
printf 'protocol imap {\n  mail_max_userip_connections = 1000\n}\n' >>"$DC/dovecot.conf"
DC_STARTED=1
dovecot -c "$DC/dovecot.conf" >"$T/dovecot.out" 2>&1 ||
	{ cat "$T/dovecot.out" "$DC/dovecot.log" >&2; die "dovecot did not start"; }
wait_port "$DC_PORT" || { cat "$DC/dovecot.log" >&2; die "dovecot did not listen on $DC_PORT"; }

# Dovecot really verifies the yescrypt hash: the password logs in, a wrong
# one does not (so LOGIN costs one yescrypt on both sides).
"$CLIENT" -p "$DC_PORT" -u alice -w "$PW" NOOP >"$T/login-ok" 2>&1 ||
	{ cat "$T/login-ok" "$DC/dovecot.log" >&2; die "dovecot refused alice's password with the {CRYPT} yescrypt hash"; }
if "$CLIENT" -p "$DC_PORT" -u alice -w "wrong$PW" NOOP >"$T/login-bad" 2>&1; then
	die "dovecot accepted a wrong password: the hash is not checked"
fi
echo "dovecot {CRYPT} yescrypt: right password $(head -1 "$T/login-ok" | sed 's/.*\(status=[A-Z]*\) \(seconds=[^ ]*\).*/\1 \2/'), wrong password $(head -1 "$T/login-bad" | sed 's/.*\(status=[A-Z]*\).*/\1/')"

status=0
: >"$T/table"
# run NAME PORT CLIENTS: one imaptest stress run; appends a table row.
run() {
	out=$T/imaptest.$1.$3
	"$IMAPTEST" host=127.0.0.1 port="$2" user=alice pass="$PW" \
	    mbox="$T/append.mbox" clients="$3" secs="$SECS" >"$out" 2>&1
	rc=$?
	[ -n "${KEEP:-}" ] && cp "$out" "$KEEP/" 2>/dev/null
	total=$(awk '/^Totals:/ { t = 1; next }
	    t == 1 && /^[ 0-9]+$/ { for (i = 1; i <= NF; i++) s += $i; print s; exit }' "$out")
	errors=$(grep -c 'Error:' "$out")
	[ -n "$total" ] || { echo "compare-imaptest: $1 $3 clients: no Totals (rc $rc)" >&2; tail -5 "$out" >&2; status=1; total=0; }
	printf '%s %s %s %s %s\n' "$1" "$3" "$total" \
	    "$(awk -v t="$total" -v s="$SECS" 'BEGIN { printf "%.1f", t / s }')" "$errors" >>"$T/table"
}
for c in $CLIENTS_LIST; do
	run maillab "$ML_PORT" "$c"
	run dovecot "$DC_PORT" "$c"
done

echo
echo "imaptest stress ($SECS s per run, user alice, INBOX of $MESSAGES + APPENDs from $MBOX_MESSAGES);"
echo "maillab 127.0.0.1:$ML_PORT, Dovecot $(dovecot --version | cut -d' ' -f1) 127.0.0.1:$DC_PORT, both yescrypt ($HASH's cost)" | sed 's/\$y\$\([^$]*\)\$[^ ]*/$y$\1$.../'
printf '%-8s %14s %14s %10s %14s %10s %18s\n' clients "maillab cmd/s" "maillab errs" "" "dovecot cmd/s" "dovecot errs" "maillab/dovecot"
for c in $CLIENTS_LIST; do
	m=$(awk -v c="$c" '$1 == "maillab" && $2 == c { print $4 " " $5 }' "$T/table")
	d=$(awk -v c="$c" '$1 == "dovecot" && $2 == c { print $4 " " $5 }' "$T/table")
	printf '%-8s %14s %14s %10s %14s %10s %18s\n' "$c" "${m% *}" "${m#* }" "" "${d% *}" "${d#* }" \
	    "$(awk -v a="${m% *}" -v b="${d% *}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
done
echo
echo "raw imaptest output (Totals and errors; averages per command in ms):"
for f in "$T"/imaptest.*; do
	echo "--- $(basename "$f")"
	grep 'ms/cmd avg' "$f" | tail -1
	sed -n '/^Totals:/,$p' "$f"
	grep 'Error:' "$f" | sort | uniq -c | sort -rn | head -10
done
echo "to reproduce: CLIENTS_LIST=\"$CLIENTS_LIST\" SECS=$SECS MESSAGES=$MESSAGES sh bench/compare-imaptest.sh $B"
echo "  $IMAPTEST host=127.0.0.1 port=PORT user=alice pass=PASSWORD mbox=MBOX clients=N secs=$SECS"
exit $status
