#!/bin/sh
# IMAP IDLE at scale, maillab beside Dovecot (issue 11 "Benchmark"):
# SESSIONS sessions of one user log in, SELECT INBOX and IDLE; one more
# session APPENDs a message; the time from its last byte until the last
# idling session has its "* n EXISTS", and the memory each idle session
# costs (Pss of the server's whole process tree: Dovecot runs a process per
# session, maillab one process), with bench-imap-idle.  Each of MODES:
# plain (plaintext IMAP), tls (implicit TLS, port imaps), compress
# (COMPRESS=DEFLATE after LOGIN, RFC 4978), tls+compress.  Dovecot's
# COMPRESS is its imap_zlib plugin, its TLS maillab's certificate.
#
#   sh bench/compare-idle.sh [BUILD_DIR]
#   env: SESSIONS=1000 TRIALS=3 MESSAGES=100
#        MODES="plain tls compress tls+compress"
#
# Dovecot (Debian dovecot-imapd, installed here when missing) runs as a
# private instance from bench/dovecot/dovecot.conf.in with its process and
# per-user connection limits raised for SESSIONS sessions.
set -u
B=${1:-build}
BENCH=compare-idle
. "$(dirname "$0")/lib.sh"
B=$(cd "$B" 2>/dev/null && pwd) || { echo "compare-idle: no build directory ${1:-build}" >&2; exit 1; }
SESSIONS=${SESSIONS:-1000}
TRIALS=${TRIALS:-3}
MESSAGES=${MESSAGES:-100}
MODES=${MODES:-plain tls compress tls+compress}
HERE=$(cd "$(dirname "$0")" && pwd)
CLIENT=$B/bench/bench-imap-idle
ML_BIN=${MAILLAB:-$B/maillab}
for p in "$ML_BIN" "$CLIENT"; do
	[ -x "$p" ] || { echo "compare-idle: $p not built (make bench builds it)" >&2; exit 1; }
done
# a socket per session on each side, and Dovecot's own check of the limit
ulimit -n 20000 2>/dev/null || ulimit -n 8192 || die "cannot raise the file limit"

dovecot_setup dovecot-imapd

# Dovecot's IDLE watches the Maildir with inotify, one instance per session
# process; Debian's default of 128 instances per user would leave the rest
# polling every 30 s.  Raised for the run (maillab needs one), restored on
# exit.
INOTIFY=/proc/sys/fs/inotify/max_user_instances
INOTIFY_SAVED=$(cat "$INOTIFY" 2>/dev/null || echo "")
idle_cleanup() {
	[ -n "$INOTIFY_SAVED" ] && echo "$INOTIFY_SAVED" >"$INOTIFY"
	dovecot_cleanup
}
trap idle_cleanup EXIT
if [ -n "$INOTIFY_SAVED" ] && [ "$INOTIFY_SAVED" -lt $((SESSIONS + 256)) ]; then
	echo $((SESSIONS + 256)) >"$INOTIFY" || die "cannot raise $INOTIFY"
fi

# --- maillab -----------------------------------------------------------------
ML_PORT=$(free_port) || die "no free port"
ML_TLS_PORT=$(free_port) || die "no free port"
[ "$ML_TLS_PORT" = "$ML_PORT" ] && ML_TLS_PORT=$((ML_PORT + 2))
"$ML_BIN" init "$ML" --demo --domain lab.test --hostname localhost >/dev/null ||
	die "maillab init failed"
cat >>"$ML/maillab.conf" <<CONF
# --- compare-idle.sh ---
port_smtp = 0
port_submission = 0
port_submissions = 0
port_pop3 = 0
port_pop3s = 0
port_imap = $ML_PORT
port_imaps = $ML_TLS_PORT
trace = off
max_connections = $((SESSIONS + 100))
max_connections_per_ip = $((SESSIONS + 100))
CONF
PW=$(awk '$1 == "alice" { print $2 }' "$ML/credentials.txt")
[ -n "$PW" ] || die "no password in $ML/credentials.txt"
fill "$ML/mail/alice" "$MESSAGES" 4096

mkdir -p "$DC/mail/alice" "$DC/home/alice" "$DC/run" "$DC/state" || die "mkdir $DC"
cp -a "$ML/mail/alice/cur" "$ML/mail/alice/new" "$ML/mail/alice/tmp" "$DC/mail/alice/" ||
	die "copying the Maildir"
chown -R nobody:nogroup "$DC/mail" "$DC/home" || die "chown $DC"
printf 'alice:{PLAIN}%s\n' "$PW" >"$DC/passwd"
chmod 644 "$DC/passwd"

maillab_serve "$ML_BIN" "$ML" "$T/maillab.out" ML_PORT=imap ML_TLS_PORT=imaps
ML_PID=$SERVE_PID
wait_port "$ML_PORT" || { cat "$T/maillab.out" >&2; die "maillab did not start"; }

# --- Dovecot -----------------------------------------------------------------
DC_PORT=$(free_port) || die "no free port"
[ "$DC_PORT" = "$ML_PORT" ] && DC_PORT=$((ML_PORT + 1))
DC_TLS_PORT=$((DC_PORT + 3))
cp "$ML/tls/cert.pem" "$ML/tls/key.pem" "$DC/" || die "copying the certificate"
# the template's imaps listener (port 0) gets a port, and TLS is on
sed -e "s|@DIR@|$DC|g" -e "s|@PORT@|$DC_PORT|g" -e "s|@PROTOCOL@|imap|g" \
    -e "s|@UID@|$(id -u nobody)|g" -e "s|@GID@|$(id -g nobody)|g" \
    -e "s|^    port = 0\$|    address = 127.0.0.1\\n    port = $DC_TLS_PORT|" \
    -e "s|^ssl = no\$|ssl = yes\\nssl_cert = <$DC/cert.pem\\nssl_key = <$DC/key.pem|" \
    "$HERE/dovecot/dovecot.conf.in" >"$DC/dovecot.conf" || die "writing $DC/dovecot.conf"
cat >>"$DC/dovecot.conf" <<CONF
mail_plugins = \$mail_plugins zlib
# --- compare-idle.sh: room for $SESSIONS sessions of one user ---
default_process_limit = $((SESSIONS + 100))
default_client_limit = $((SESSIONS * 2 + 100))
service imap {
  process_limit = $((SESSIONS + 100))
}
protocol imap {
  mail_max_userip_connections = $((SESSIONS + 100))
  mail_plugins = \$mail_plugins imap_zlib
}
CONF
DC_STARTED=1
dovecot -c "$DC/dovecot.conf" >"$T/dovecot.out" 2>&1 ||
	{ cat "$T/dovecot.out" "$DC/dovecot.log" >&2; die "dovecot did not start"; }
wait_port "$DC_PORT" || { cat "$DC/dovecot.log" >&2; die "dovecot did not listen on $DC_PORT"; }
DC_PID=$(cat "$DC/run/master.pid" 2>/dev/null) || die "no Dovecot master.pid"

# --- runs ---------------------------------------------------------------------
status=0
: >"$T/results"
for s in maillab dovecot; do
	for m in $MODES; do
		: >"$T/$s.$m.last"
		: >"$T/$s.$m.kib"
	done
done
i=0
while [ $i -lt "$TRIALS" ]; do
	for m in $MODES; do
	for s in maillab dovecot; do
		if [ $s = maillab ]; then port=$ML_PORT; tport=$ML_TLS_PORT; pid=$ML_PID
		else port=$DC_PORT; tport=$DC_TLS_PORT; pid=$DC_PID; fi
		case $m in
		plain) opts= ;;
		tls) opts="-s $tport" ;;
		compress) opts="-z" ;;
		tls+compress) opts="-s $tport -z" ;;
		*) die "unknown mode $m" ;;
		esac
		# shellcheck disable=SC2086
		"$CLIENT" -p "$port" $opts -u alice -w "$PW" -n "$SESSIONS" -P "$pid" >"$T/out" 2>&1 || {
			echo "compare-idle: $s $m: not every session idled and was notified" >&2
			status=1
		}
		sed "s/^/  $s $m: /" "$T/out" >>"$T/results"
		sed -n 's/.* last_ms=\([^ ]*\).*/\1/p' "$T/out" >>"$T/$s.$m.last"
		# Memory against the server's first, fresh baseline: what a run
		# leaves behind counts against the next one.
		[ -f "$T/$s.base" ] || sed -n 's/.* pss_before_kib=\([^ ]*\).*/\1/p' "$T/out" >"$T/$s.base"
		sed -n 's/.* idling=\([^ ]*\).* pss_idle_kib=\([^ ]*\).*/\1 \2/p' "$T/out" |
			awk -v base="$(cat "$T/$s.base")" '$1 > 0 { printf "%.1f\n", ($2 - base) / $1 }' >>"$T/$s.$m.kib"
		sleep 2	# the sessions of this run are gone
	done
	done
	i=$((i + 1))
done

echo
echo "IMAP IDLE: $SESSIONS sessions of one user idling in an INBOX of $MESSAGES messages, one APPEND;"
echo "medians of $TRIALS runs; maillab 127.0.0.1:$ML_PORT (TLS $ML_TLS_PORT), Dovecot $(dovecot --version | cut -d' ' -f1) 127.0.0.1:$DC_PORT (TLS $DC_TLS_PORT)"
printf '%-52s %12s %12s\n' figure maillab dovecot
for m in $MODES; do
	lm=$(median <"$T/maillab.$m.last"); ld=$(median <"$T/dovecot.$m.last")
	km=$(median <"$T/maillab.$m.kib"); kd=$(median <"$T/dovecot.$m.kib")
	printf '%-52s %12s %12s\n' "$m: ms until the last session saw EXISTS" "${lm:-?}" "${ld:-?}"
	printf '%-52s %12s %12s\n' "$m: KiB per idle session (Pss of process tree)" "${km:-?}" "${kd:-?}"
done
echo "(memory: Pss with all sessions idling minus the Pss before the first run, per session)"
echo "targets (issue 11): under 100 ms; under 64 KiB per plaintext session, 128 KiB per TLS session"
echo
echo "raw results:"
cat "$T/results"
exit $status
