#!/bin/sh
# Installs the Debian packages `make interop` needs on top of tests/deps.sh:
# Dovecot's headers (dovecot-dev) and library (dovecot-core: imaptest links
# libdovecot.so; the dovecot service itself is not used) and autotools
# to build imaptest. Not needed by `make check`.
# One package a line, so that additions do not collide.
PKGS="
dovecot-dev
dovecot-core
autoconf
automake
libtool
pkg-config
make
gcc
python3
"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "interop deps: installing:$missing" >&2
if [ "$(id -u)" = 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	SUDO="sudo"
else
	echo "interop deps: missing packages; run as root:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null || exit 1
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null || exit 1
