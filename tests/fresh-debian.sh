#!/bin/sh
# Proves that `make check` passes on a fresh Debian 12 machine with nothing
# preinstalled but git, gcc and make: every other tool a test uses must come
# from tests/deps.sh (run by `make check` itself).  Not part of `make check`.
#
# Builds a minimal bookworm root with debootstrap, copies the committed tree
# in (git archive HEAD) and runs `make check` inside a chroot.  Root only.
# The archive mirror is the one this machine's apt already uses, read from
# /etc/apt at run time.  The chroot shares the network namespace, so the
# system tests' loopback listeners work as on the host.
#
#   sudo sh tests/fresh-debian.sh [--keep]     (--keep leaves the root in place)
set -eu

die() { echo "fresh-debian: $*" >&2; exit 1; }

keep=no
[ "${1:-}" = "--keep" ] && keep=yes
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot, mount)"
command -v debootstrap >/dev/null 2>&1 ||
	die "debootstrap is missing; install it: apt-get install debootstrap"
top=$(git rev-parse --show-toplevel 2>/dev/null) || die "run inside the maillab git tree"

# The first bookworm URI of an enabled "deb" source, one-line (*.list) or
# deb822 (*.sources) format, as apt reads them.
debian_mirror() {
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" {
			i = 2
			if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
			if ($(i + 1) == "bookworm") { print $i; exit }
		}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = ""; FS = "\n" }
		{
			types = ""; uris = ""; suites = ""; enabled = "yes"
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^#/) continue
				split($i, kv, ":")
				key = tolower(kv[1]); val = substr($i, length(kv[1]) + 2)
				if (key == "types") types = " " val " "
				else if (key == "uris") uris = val
				else if (key == "suites") suites = " " val " "
				else if (key == "enabled") enabled = val
			}
			gsub(/[ \t]+/, " ", types); gsub(/[ \t]+/, " ", suites)
			if (enabled ~ /no/ || types !~ / deb / || suites !~ / bookworm /) next
			split(uris, u, " ")
			for (j in u) if (u[j] != "") { print u[j]; exit }
		}' "$f"
	done
}

mirror=$(debian_mirror | head -n 1)
[ -n "$mirror" ] || die "no bookworm source in /etc/apt/sources.list*"

root=$(mktemp -d /var/tmp/maillab-fresh.XXXXXX)
mounted=""
cleanup() {
	rc=$?
	for m in $mounted; do
		umount "$root/$m" || { echo "fresh-debian: cannot unmount $root/$m" >&2; keep=yes; }
	done
	if [ "$keep" = yes ]; then
		echo "fresh-debian: root kept in $root" >&2
	else
		# --one-file-system: never descend into a mount left behind.
		rm -rf --one-file-system "$root"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "fresh-debian: debootstrap bookworm into $root"
debootstrap --variant=minbase --include=git,gcc,make bookworm "$root" "$mirror" \
	>"$root.debootstrap.log" 2>&1 ||
	{ tail -n 20 "$root.debootstrap.log" >&2; die "debootstrap failed (log: $root.debootstrap.log)"; }
rm -f "$root.debootstrap.log"
# debootstrap writes no /etc/hosts; the Debian installer writes this one,
# so localhost and the machine's own name resolve without DNS.
cat >"$root/etc/hosts" <<EOF
127.0.0.1	localhost
127.0.1.1	$(hostname)
::1	localhost ip6-localhost ip6-loopback
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
EOF

# Mounted last first on exit: $mounted is kept in reverse order.
do_mount() {
	target=$1; shift
	mount "$@" "$root/$target"
	mounted="$target $mounted"
}
do_mount proc -t proc proc
do_mount sys -t sysfs sysfs
do_mount dev --bind /dev
do_mount dev/pts -t devpts -o newinstance,ptmxmode=0666 devpts
do_mount dev/shm -t tmpfs -o mode=1777 tmpfs

mkdir -p "$root/src/maillab"
git -C "$top" archive HEAD | tar -x -C "$root/src/maillab"
echo "fresh-debian: make check of $(git -C "$top" rev-parse --short HEAD) in the chroot"
status=0
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root LANG=C.UTF-8 TERM=dumb \
	chroot "$root" sh -c 'cd /src/maillab && make check' || status=$?
if [ "$status" -eq 0 ]; then
	echo "fresh-debian: make check passed on a fresh Debian 12"
else
	echo "fresh-debian: make check failed (exit $status) on a fresh Debian 12"
fi
exit "$status"
