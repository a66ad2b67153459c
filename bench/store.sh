#!/bin/sh
# Mailbox store benchmarks (issue 3): durable deliveries/s through the store
# beside a bare write+fsync+rename+dir-fsync loop at 1 and 16 writers (4 KiB
# messages), then the 100,000-message folder open and index rebuild.
#
#   sh bench/store.sh [BUILD_DIR]     (env: TRIALS=3 SECONDS_EACH=3 TMPDIR)
#
# Disk speed on a shared machine wanders, so the two loops run alternately
# TRIALS times each and the medians are compared.
B=${1:-build}
TRIALS=${TRIALS:-3}
SECS=${SECONDS_EACH:-3}
for p in bench-deliver bench-bareloop bench-index; do
	if [ ! -x "$B/bench/$p" ]; then
		echo "store.sh: $B/bench/$p not built" >&2
		exit 1
	fi
done

rate() {
	sed -n 's/.* rate=\([0-9]*\)\/s.*/\1/p'
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else print v[int((NR + 1) / 2)] }'
}

status=0
for w in 1 16; do
	bare=""
	store=""
	i=0
	while [ $i -lt "$TRIALS" ]; do
		r=$("$B/bench/bench-bareloop" -w $w -t "$SECS" | rate) || status=1
		bare="$bare $r"
		r=$("$B/bench/bench-deliver" -w $w -t "$SECS" 2>/dev/null | rate) || status=1
		store="$store $r"
		i=$((i + 1))
	done
	mb=$(printf '%s\n' $bare | median)
	ms=$(printf '%s\n' $store | median)
	pct=$(awk -v s="$ms" -v b="$mb" 'BEGIN { if (b > 0) printf "%.0f", 100 * s / b; else print 0 }')
	echo "store: writers=$w bare loop ${mb}/s (trials:$bare)  store ${ms}/s (trials:$store)  store/bare ${pct}% (target >= 70%)"
done
"$B/bench/bench-index" 2>/dev/null || status=1
exit $status
