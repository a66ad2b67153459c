#!/bin/sh
# Installs the Debian packages maillab needs to build and test, when they are
# missing.  As root (or with sudo) it runs apt-get; otherwise it prints the exact
# command and stops.
# One package a line, so that additions do not collide.
PKGS="
gcc
libc6-dev
make
pkg-config
libssl-dev
libdb-dev
check
libevent-dev
libcrypt-dev
python3
curl
swaks
libnet-ssleay-perl
openssl
ca-certificates
fetchmail
mutt
man-db
groff-base
offlineimap3
e2fsprogs
mount
chromium
neomutt
dnsmasq-base
isync
postfix
zlib1g-dev
netcat-openbsd
tcpdump
"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing" >&2
if [ "$(id -u)" = 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	SUDO="sudo"
else
	echo "deps: missing packages; run as root:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# tests and benchmarks run private Postfix instances; the system's own
# stays unconfigured and stopped
case "$missing" in *" postfix"*)
	echo "postfix postfix/main_mailer_type select No configuration" |
		$SUDO debconf-set-selections ;;
esac
$SUDO apt-get update -qq >/dev/null || exit 1
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null || exit 1
