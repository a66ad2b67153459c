#!/bin/sh
# make bench: every benchmark script in bench/ (NAME.sh), each printing its
# own figures.  Never part of make check.  $1 is the build directory.
B=${1:-build}
cd "$(dirname "$0")/.." || exit 1
status=0
for s in bench/*.sh; do
	case "$s" in bench/run.sh|bench/lib.sh) continue ;; esac
	echo "== $s"
	sh "$s" "$B" || status=1
done
exit $status
