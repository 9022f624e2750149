#!/usr/bin/env bash
# Run the whole suite as the current user and, when that is root, again as an
# unprivileged user (the sandbox must hold without privileges too). Prints one
# summary line at the end: "N passed, N failed, N skipped". Exit 1 on failure.
#
# The unprivileged run builds in its own copy of the tree under /tmp: the
# checkout may sit below directories that user cannot enter (e.g. /root), and
# its build must not need write access to ours.
set -uo pipefail
build=${1:?build dir}
user=${2:-airlock-test}
cd "$(dirname "$0")/.."
root=$(pwd)
sanitize='-Db_sanitize=address,undefined -Db_lundef=false'

status=0
echo "=== tests (as $(id -un)) ==="
meson test -C "$build" --no-rebuild --print-errorlogs || status=1
logs=("$build/meson-logs/testlog.json")

work=
if [ "$(id -u)" -eq 0 ]; then
	id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
	work=$(mktemp -d /tmp/airlock-user.XXXXXX)
	trap 'rm -rf "$work"' EXIT
	tar -C "$root" --exclude='./build*' --exclude='./.git' -cf - . | tar -C "$work" -xf -
	chown -R "$user:" "$work"
	chmod 755 "$work"
	echo "=== tests (as unprivileged $user, in $work) ==="
	setpriv --reuid="$user" --regid="$user" --clear-groups --reset-env \
		env HOME="$work" PATH="$PATH" bash -c "cd '$work' && meson setup build-user $sanitize >/dev/null && ninja -C build-user >/dev/null && meson test -C build-user --print-errorlogs" \
		|| status=1
	logs+=("$work/build-user/meson-logs/testlog.json")
fi

python3 - "${logs[@]}" <<'PY' || status=1
import json, re, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1  # the phase did not even get to run its tests
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
