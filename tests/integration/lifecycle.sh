#!/usr/bin/env bash
# Nothing persists: processes, mounts, cgroups; the tree dies with the supervisor.
. "$(dirname "$0")/lib.sh"

cg_count() { find /sys/fs/cgroup -maxdepth 6 -type d -name 'airlock-*' 2>/dev/null | wc -l; }
before_cg=$(cg_count)
before_mounts=$(wc -l < /proc/self/mountinfo)

# supervisor killed with SIGKILL: the sandbox goes within a second
"$AIRLOCK" run -- sleep 88888 &
sup=$!
for _ in $(seq 50); do pgrep -f '^sleep 88888' >/dev/null && break; sleep 0.1; done
check "the sandboxed process started" pgrep -f '^sleep 88888' -c
kill -9 $sup
wait $sup 2>/dev/null
gone=no
for _ in $(seq 10); do pgrep -f '^sleep 88888' >/dev/null || { gone=yes; break; }; sleep 0.1; done
expect "the process tree dies within 1 s of the supervisor" "$gone" yes

# a supervisor interrupted by SIGTERM forwards it and exits 143
"$AIRLOCK" run -- sleep 88889 &
sup=$!
for _ in $(seq 50); do pgrep -f '^sleep 88889' >/dev/null && break; sleep 0.1; done
kill -TERM $sup
wait $sup
expect "SIGTERM to the supervisor stops the command (143)" "$?" 143

# an interrupt the command ignores is escalated by the next one
"$AIRLOCK" run -- sh -c 'trap "" INT TERM HUP QUIT; sleep 88887; echo survived' > "$TMP/esc.out" &
sup=$!
for _ in $(seq 50); do pgrep -f '^sleep 88887' >/dev/null && break; sleep 0.1; done
kill -INT $sup; sleep 0.2; kill -INT $sup
t0=$(date +%s%N); wait $sup; code=$?; ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "a second interrupt ends a command that ignores signals (exit $code after $ms ms)" test "$code" -ge 128 -a "$ms" -lt 5000
expect "... before it could finish" "$(cat "$TMP/esc.out")" ""

# init holds none of the fds its supervisor inherited
if [ $IS_ROOT -eq 1 ]; then
	echo marker > "$TMP/inherited-marker"
	exec 7<"$TMP/inherited-marker"
	"$AIRLOCK" run -- sleep 88886 &
	sup=$!
	for _ in $(seq 50); do pgrep -f '^sleep 88886' >/dev/null && break; sleep 0.1; done
	init=$(pgrep -P $sup | head -1)
	fds=$(ls -l /proc/$init/fd 2>/dev/null | grep -c -- '->')
	leaked=$(ls -l /proc/$init/fd 2>/dev/null | grep -c inherited-marker)
	kill -TERM $sup; wait $sup 2>/dev/null
	exec 7<&-
	expect "init does not hold the supervisor's inherited fds" "$leaked" 0
	check "init holds only stdio (/dev/null), its socket and its signalfd ($fds fds)" test "$fds" -le 6
else
	skip "init's fd table is only readable as root (it is not dumpable)"
fi

for i in $(seq 50); do "$AIRLOCK" run -- true || echo "run $i failed"; done > "$TMP/runs"
expect "50 runs in a row succeed" "$(cat "$TMP/runs")" ""
sleep 0.2
expect "no airlock cgroups are left behind" "$(cg_count)" "$before_cg"
expect "no mounts are left behind on the host" "$(wc -l < /proc/self/mountinfo)" "$before_mounts"
check "no sandbox processes are left" test -z "$(pgrep -f 'sleep 8888')"
done_testing
