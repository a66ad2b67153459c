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
