#!/bin/sh
# Runs every unit suite, the fuzz corpora replay and the system tests against
# the binary in build dir $1, then prints one line: "N passed, N failed".
B=${1:-build}
passed=0
failed=0
for t in "$B"/tests/test-*; do
	[ -x "$t" ] || continue
	out=$("$t" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -v '^100%' | grep -E ':[EF]:|Checks' || true
	line=$(printf '%s\n' "$out" | grep -E 'Checks: [0-9]+' | tail -n 1)
	n=$(printf '%s\n' "$line" | sed -n 's/.*Checks: \([0-9]*\).*/\1/p')
	f=$(printf '%s\n' "$line" | sed -n 's/.*Failures: \([0-9]*\).*/\1/p')
	e=$(printf '%s\n' "$line" | sed -n 's/.*Errors: \([0-9]*\).*/\1/p')
	if [ -z "$n" ]; then
		echo "$(basename "$t"): crashed or printed no result (exit $rc)"
		failed=$((failed + 1))
		continue
	fi
	bad=$((f + e))
	[ "$rc" -ne 0 ] && [ "$bad" -eq 0 ] && bad=1
	echo "$(basename "$t"): $((n - f - e)) passed, $bad failed"
	passed=$((passed + n - f - e))
	failed=$((failed + bad))
done
if [ -d tests/system ] && ls tests/system/test_*.py >/dev/null 2>&1; then
	out=$(mktemp)
	python3 tests/system/run.py --binary "$B/maillab" >"$out" 2>&1
	cat "$out"
	res=$(sed -n 's/^SYSTEM: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$out" | tail -n 1)
	rm -f "$out"
	if [ -z "$res" ]; then
		echo "system tests: runner printed no result"
		failed=$((failed + 1))
	else
		set -- $res
		passed=$((passed + $1))
		failed=$((failed + $2))
	fi
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
