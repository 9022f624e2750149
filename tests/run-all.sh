#!/usr/bin/env bash
# Run the whole suite as the current user and, when that is root, again as an
# unprivileged user (the sandbox must hold without privileges too). Prints one
# summary line at the end: "N passed, N failed, N skipped". Exit 1 on failure.
set -uo pipefail
build=${1:?build dir}
user=${2:-airlock-test}
cd "$(dirname "$0")/.."
root=$(pwd)

run_phase() { # label, logbase, command...
	local label=$1 logbase=$2
	shift 2
	echo "=== tests ($label) ==="
	"$@" meson test -C "$build" --no-rebuild --print-errorlogs --logbase "$logbase"
}

status=0
run_phase "as $(id -un)" testlog || status=1
logs=("$build/meson-logs/testlog.json")

if [ "$(id -u)" -eq 0 ]; then
	id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
	chmod a+rwx "$build/meson-logs"
	chmod -R a+rX "$build"
	# The checkout must be readable for the policy files and scripts.
	chmod a+rx "$root"
	run_phase "as unprivileged $user" testlog-user \
		setpriv --reuid="$user" --regid="$user" --clear-groups --reset-env env HOME=/tmp PATH="$PATH" \
		|| status=1
	logs+=("$build/meson-logs/testlog-user.json")
fi

python3 - "${logs[@]}" <<'PY' || status=1
import json, re, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1
        continue
    for line in lines:
        t = json.loads(line)
        out = t.get("stdout") or ""
        ok = len(re.findall(r"^ok \d+(?! .*# SKIP)", out, re.M))
        skip = len(re.findall(r"^ok \d+.*# SKIP", out, re.M))
        bad = len(re.findall(r"^not ok \d+", out, re.M))
        if ok + skip + bad == 0:
            r = t["result"]
            ok, skip, bad = (r in ("OK", "EXPECTEDFAIL")), (r == "SKIP"), (r not in ("OK", "EXPECTEDFAIL", "SKIP"))
        elif t["result"] not in ("OK", "EXPECTEDFAIL", "SKIP") and bad == 0:
            bad = 1  # crashed or timed out after its last reported check
        passed += ok; failed += bad; skipped += skip
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
exit $status
