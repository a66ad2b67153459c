# Shared by the bench/*.sh scripts: sourced after setting BENCH (the script's
# name for messages).

die() {
	echo "$BENCH: $*" >&2
	exit 1
}

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"
}

# A port nobody listens on (bounded search from a random start).
free_port() {
	p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 20000 ))
	i=0
	while [ $i -lt 200 ]; do
		if ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then
			echo $p
			return 0
		fi
		p=$((p + 1))
		i=$((i + 1))
	done
	return 1
}

# wait_port PORT [TENTHS]: a listener on PORT within TENTHS/10 s (default 20 s).
wait_port() {
	i=0
	while [ $i -lt "${2:-200}" ]; do
		ss -Hltn "sport = :$1" 2>/dev/null | grep -q . && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# maillab_serve BIN DIR OUT VAR=KEY...: `BIN serve -d DIR` in the
# background (pid in SERVE_PID, stdout and stderr in OUT), returning once it
# says it listens.  Each VAR names the shell variable holding the port of
# config key port_KEY in DIR/maillab.conf.  free_port only looks, and the
# machine is shared: another program may bind that port before maillab
# does, which then exits with "cannot listen on ...: Address already in
# use".  Then every VAR gets a new free port, written into maillab.conf,
# and the server starts again (5 tries).
maillab_serve() {
	ms_bin=$1 ms_dir=$2 ms_out=$3
	shift 3
	ms_try=1
	while :; do
		"$ms_bin" serve -d "$ms_dir" >"$ms_out" 2>&1 &
		SERVE_PID=$!
		i=0
		while ! grep -q "listening:" "$ms_out" 2>/dev/null; do
			kill -0 "$SERVE_PID" 2>/dev/null || break
			i=$((i + 1))
			[ $i -lt 300 ] || { cat "$ms_out" >&2; die "maillab did not start in 30 s"; }
			sleep 0.1
		done
		grep -q "listening:" "$ms_out" 2>/dev/null && return 0
		wait "$SERVE_PID" 2>/dev/null
		if ! grep -q "Address already in use" "$ms_out" || [ $ms_try -ge 5 ]; then
			cat "$ms_out" >&2
			die "maillab did not start"
		fi
		echo "$BENCH: $(grep -m1 "Address already in use" "$ms_out" | sed 's/^maillab: //'); new ports, try $((ms_try + 1))" >&2
		ms_new=""
		for ms_map in "$@"; do
			ms_port=$(free_port) || die "no free port"
			case " $ms_new " in *" $ms_port "*) ms_port=$((ms_port + 1)) ;; esac
			ms_new="$ms_new $ms_port"
			eval "${ms_map%%=*}=\$ms_port"
			sed -i "s/^port_${ms_map#*=}[ 	]*=.*/port_${ms_map#*=} = $ms_port/" "$ms_dir/maillab.conf"
		done
		ms_try=$((ms_try + 1))
	done
}

# median [EMPTY]: the median of the numbers on stdin (EMPTY when none).
median() {
	sort -n | awk -v empty="${1-}" '{ v[NR] = $1 } END { if (NR == 0) print empty; else print v[int((NR + 1) / 2)] }'
}

# dovecot_setup PACKAGE: installs Debian's PACKAGE (dovecot-imapd,
# dovecot-pop3d) when missing, then makes the work directory $T with $ML
# (maillab's instance) and $DC (Dovecot's) in it; on exit maillab
# ($ML_PID) and Dovecot (once $DC_STARTED is set) are stopped and $T
# removed, also after a failure or Ctrl-C.
dovecot_setup() {
	if ! installed "$1"; then
		[ "$(id -u)" = 0 ] || die "$1 is missing; as root run: DEBIAN_FRONTEND=noninteractive apt-get install -y $1"
		echo "$BENCH: installing $1 (the system's dovecot service is not started by this script)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null ||
			die "apt-get install $1 failed"
	fi
	[ "$(id -u)" = 0 ] || die "the private Dovecot instance needs root"
	T=$(mktemp -d "/tmp/maillab-$BENCH.XXXXXX") && chmod 755 "$T" || exit 1
	ML=$T/maillab
	DC=$T/dovecot
	ML_PID=""
	DC_STARTED=""
	trap dovecot_cleanup EXIT
	trap 'exit 1' INT TERM HUP PIPE
}

dovecot_cleanup() {
	if [ -n "$ML_PID" ]; then
		kill "$ML_PID" 2>/dev/null
		wait "$ML_PID" 2>/dev/null
	fi
	if [ -n "$DC_STARTED" ]; then
		dovecot -c "$DC/dovecot.conf" stop >/dev/null 2>&1
		i=0
		while [ -f "$DC/run/master.pid" ] && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	rm -rf "$T"
}

# fill MAILDIR COUNT SIZE: COUNT messages of exactly SIZE bytes (CRLF) in
# cur/, Maildir names with S=<size>; every 100th body holds "zanzibar".
# A maillab instance in $ML for IMAP benchmarks (after dovecot_setup, which
# sets ML): IMAP on a free port (ML_PORT), POP3 on the next (ML_POP3, only
# to see that the server is up), no SMTP, no TLS ports, no trace; alice's
# password in PW.  $1 names the script in the config.
maillab_imap_setup() {
	ML_PORT=$(free_port) || die "no free port"
	ML_POP3=$((ML_PORT + 1))
	"$ML_BIN" init "$ML" --demo --domain lab.test --hostname localhost >/dev/null ||
		die "maillab init failed"
	cat >>"$ML/maillab.conf" <<EOC
# --- $1 ---
port_smtp = 0
port_submission = 0
port_submissions = 0
port_pop3 = $ML_POP3
port_pop3s = 0
port_imap = $ML_PORT
port_imaps = 0
trace = off
EOC
	PW=$(awk '$1 == "alice" { print $2 }' "$ML/credentials.txt")
	[ -n "$PW" ] || die "no password in $ML/credentials.txt"
}

fill() {
	python3 - "$1" "$2" "$3" <<'EOF' || die "filling $1 failed"
import os, sys, time
d, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
words = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet "
         "kilo lima mike november oscar papa quebec romeo sierra tango").split()
base = 1700000000
for i in range(n):
    t = base + i
    head = ("Return-Path: <sender%d@example.org>\r\n"
            "From: Sender %d <sender%d@example.org>\r\n"
            "To: Alice <alice@lab.test>\r\n"
            "Subject: benchmark message %d about %s\r\n"
            "Date: %s\r\n"
            "Message-ID: <%d.bench@example.org>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n") % (
        i % 50, i % 50, i % 50, i, words[i % 20],
        time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t)), i)
    body = []
    left = size - len(head)
    k = i
    while left > 0:
        line = []
        ln = 0
        while ln < 70:
            w = words[k % 20] if (k % 997) else "lorem"
            k += 7
            line.append(w)
            ln += len(w) + 1
        text = " ".join(line)
        if not body and i % 100 == 0:
            text = "zanzibar " + text
        text = text[:max(0, min(len(text), left - 2))]
        body.append(text + "\r\n")
        left -= len(text) + 2
    msg = (head + "".join(body)).encode()
    assert len(msg) == size, (len(msg), size)
    name = "%d.M%dP%dQ%d.bench,S=%d:2," % (t, i % 1000000, os.getpid(), i, size)
    with open(os.path.join(d, "cur", name), "wb") as f:
        f.write(msg)
EOF
}
