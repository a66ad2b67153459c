#!/bin/sh
# Mailbox store benchmarks (issue 3): durable deliveries/s through the store
# beside a bare write+fsync+rename+dir-fsync loop at 1 and 16 writers (4 KiB
# messages), then the 100,000-message folder open and index rebuild.
#
#   sh bench/store.sh [BUILD_DIR]     (env: TRIALS=7 SECONDS_EACH=1 TMPDIR)
#
# Disk speed on a shared machine wanders from second to second, so the two
# loops run alternately in short runs, TRIALS pairs, and the figure is the
# median of the per-pair ratios (each pair ran back to back), beside the
# median rates.
B=${1:-build}
TRIALS=${TRIALS:-7}
SECS=${SECONDS_EACH:-1}
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
	ratios=""
	i=0
	while [ $i -lt "$TRIALS" ]; do
		rb=$("$B/bench/bench-bareloop" -w $w -t "$SECS" | rate) || status=1
		rs=$("$B/bench/bench-deliver" -w $w -t "$SECS" 2>/dev/null | rate) || status=1
		bare="$bare ${rb:-0}"
		store="$store ${rs:-0}"
		ratios="$ratios $(awk -v s="${rs:-0}" -v b="${rb:-0}" 'BEGIN { if (b > 0) printf "%.0f", 100 * s / b; else print 0 }')"
		i=$((i + 1))
	done
	mb=$(printf '%s\n' $bare | median)
	ms=$(printf '%s\n' $store | median)
	pct=$(printf '%s\n' $ratios | median)
	echo "store: writers=$w bare loop ${mb}/s  store ${ms}/s  store/bare ${pct}% (median of pairs; target >= 70%)"
	echo "store:   bare:$bare"
	echo "store:   store:$store"
	echo "store:   ratios %:$ratios"
done
"$B/bench/bench-index" 2>/dev/null || status=1
exit $status
