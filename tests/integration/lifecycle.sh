#!/usr/bin/env bash
# Nothing persists: processes, mounts, cgroups; the tree dies with the supervisor.
. "$(dirname "$0")/lib.sh"

cg_count() { find /sys/fs/cgroup -maxdepth 6 -type d -name 'airlock-*' 2>/dev/null | wc -l; }
before_cg=$(cg_count)
before_mounts=$(wc -l < /proc/self/mountinfo)

# supervisor killed with SIGKILL: the sandbox goes within a second
"$AIRLOCK" run -- sleep 88888 &
sup=$!
for _ in $(seq 50); do pgrep -f 'sleep 88888' >/dev/null && break; sleep 0.1; done
check "the sandboxed process started" pgrep -f 'sleep 88888' -c
kill -9 $sup
wait $sup 2>/dev/null
gone=no
for _ in $(seq 10); do pgrep -f 'sleep 88888' >/dev/null || { gone=yes; break; }; sleep 0.1; done
expect "the process tree dies within 1 s of the supervisor" "$gone" yes

# a supervisor interrupted by SIGTERM forwards it and exits 143
"$AIRLOCK" run -- sleep 88889 &
sup=$!
for _ in $(seq 50); do pgrep -f 'sleep 88889' >/dev/null && break; sleep 0.1; done
kill -TERM $sup
wait $sup
expect "SIGTERM to the supervisor stops the command (143)" "$?" 143

for i in $(seq 50); do "$AIRLOCK" run -- true || echo "run $i failed"; done > "$TMP/runs"
expect "50 runs in a row succeed" "$(cat "$TMP/runs")" ""
sleep 0.2
expect "no airlock cgroups are left behind" "$(cg_count)" "$before_cg"
expect "no mounts are left behind on the host" "$(wc -l < /proc/self/mountinfo)" "$before_mounts"
check "no sandbox processes are left" test -z "$(pgrep -f 'sleep 8888')"
done_testing
