# TAP helpers for the integration tests: each test script runs the real
# binary ($AIRLOCK) and reports one line per check.
set -u
AIRLOCK=${AIRLOCK:?set AIRLOCK to the airlock binary}
SRC=${AIRLOCK_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
n=0
failed=0
TMP=$(mktemp -d /tmp/airlock-it.XXXXXX)
chmod 755 "$TMP"
trap 'rm -rf "$TMP"' EXIT
IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1

ok() { n=$((n + 1)); echo "ok $n - $*"; }
# A failure shows the stderr of the last sandbox run when a script keeps it
# in $RUN_ERR ($TMP/sb.err unless the script says otherwise).
nok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"
	if [ -s "${RUN_ERR:-$TMP/sb.err}" ]; then
		echo "#   stderr of the last airlock run:"
		tail -n 5 "${RUN_ERR:-$TMP/sb.err}" | sed 's/^/#   /'
	fi
	return 0
}
skip() { n=$((n + 1)); echo "ok $n - # SKIP $*"; }
# check DESC CMD...: passes when CMD succeeds
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else nok "$d"; fi; }
# expect DESC GOT WANT
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else nok "$1 (got '$2', want '$3')"; fi
}
# expect_match DESC GOT REGEX
expect_match() {
	if [[ "$2" =~ $3 ]]; then ok "$1"; else nok "$1 (got '$2', want /$3/)"; fi
}
run() { "$AIRLOCK" run "$@"; }
# status of a run, output discarded
rc() { "$AIRLOCK" run "$@" >/dev/null 2>&1; echo $?; }
# a field of a JSON report file: json FILE EXPR (python expression on r)
json() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }
done_testing() { echo "1..$n"; [ "$failed" -eq 0 ]; }
