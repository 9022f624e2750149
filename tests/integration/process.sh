#!/usr/bin/env bash
# User, pid, uts, ipc namespaces; session; environment; inherited fds.
. "$(dirname "$0")/lib.sh"

expect "uid inside is 65534" "$(run -- id -u)" 65534
expect "gid inside is 65534" "$(run -- id -g)" 65534
map=$(run -- cat /proc/self/uid_map | awk '{print $1, $3}')
expect "a single id is mapped" "$map" "65534 1"
host=$(run -- cat /proc/self/uid_map | awk '{print $2}')
if [ $IS_ROOT -eq 1 ]; then
	check "as root the host id is not 0" test "$host" != 0
	check "as root the host id is not below 65536" test "$host" -ge 65536
	# concurrent runs never share a host id
	run -- sh -c 'cat /proc/self/uid_map; sleep 1' > "$TMP/m1" &
	run -- sh -c 'cat /proc/self/uid_map; sleep 1' > "$TMP/m2" &
	wait
	check "concurrent runs get different host ids" test "$(awk '{print $2}' "$TMP/m1")" != "$(awk '{print $2}' "$TMP/m2")"
	expect "supplementary groups are dropped" "$(run -- id -G)" 65534
else
	expect "as a user the host id is the user" "$host" "$(id -u)"
fi

expect "the command is pid 2 (init is 1)" "$(run -- sh -c 'echo $$')" 2
# sh and ls: nothing of the host, and not even the sandbox's own init
# (hidepid: it is not ptrace-able, so it is not listed)
expect "only the command's processes are visible" "$(run -- sh -c 'ls /proc > /tmp/l; grep -c "^[0-9]" /tmp/l')" 2
expect "pid 1 (init, a copy of the supervisor) is hidden" "$(run -- sh -c 'test -e /proc/1/cmdline && echo visible || echo hidden')" hidden
expect "hostname is airlock" "$(run -- hostname)" airlock
expect "own session: sid == pid" "$(run -- sh -c 'ps -o sid= -p $$ | tr -d " "; echo $$' | sort -u | wc -l)" 1
expect "no controlling terminal" "$(run -- sh -c 'cat /dev/tty 2>/dev/null && echo yes || echo no')" no
# zombies are reaped: orphaned children re-parent to init, which waits for them
out=$(run -- sh -c '(sh -c "exit 0" &); sleep 0.3; grep -l "^State:.*Z" /proc/[0-9]*/status 2>/dev/null | wc -l')
expect "orphans are reaped by init" "$out" 0
# background processes die with the command
run -- sh -c 'sleep 77777 & exit 0'
sleep 0.3
check "leftover background processes are killed" test -z "$(pgrep -f 'sleep 77777')"

# IPC: a host SysV segment is invisible inside
if key=$(ipcmk -M 4096 2>/dev/null | awk '{print $NF}'); then
	inside=$(run -- ipcs -m | grep -c "$key")
	ipcrm -m "$key" 2>/dev/null
	expect "host SysV shm is not visible (ipc namespace)" "$inside" 0
else
	skip "ipcmk not available"
fi

# Environment: clean, allowlisted, set
export AIRLOCK_TEST_SECRET=s3cr3t
env_inside=$(run -- env)
check "caller's variables do not leak" eval '! grep -q AIRLOCK_TEST_SECRET <<<"$env_inside"'
expect_match "PATH is the system one" "$(grep '^PATH=' <<<"$env_inside")" '^PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin$'
expect "--env passes a named variable" "$(run --env AIRLOCK_TEST_SECRET -- printenv AIRLOCK_TEST_SECRET)" s3cr3t
expect "--setenv sets a variable" "$(run --setenv FOO=bar -- printenv FOO)" bar
# The command is looked up in the PATH it is given, not init's (init spawns it
# with CLONE_VM; glibc's execvpe would search the caller's environ).
mkdir -p "$TMP/pathws/bin"
printf '#!/bin/sh\necho found-in-path\n' > "$TMP/pathws/bin/mytool"
chmod -R a+rX "$TMP" && chmod 755 "$TMP/pathws/bin/mytool"
expect "the command is found through the sandbox's PATH" \
	"$(run --quiet --workspace "$TMP/pathws:ro" --setenv PATH=/workspace/bin:/usr/bin:/bin -- mytool 2>&1)" found-in-path
# A file without "#!" runs through /bin/sh, which copies argv onto the spawn
# stack: a long argv must fit (it overran a fixed-size stack once).
printf 'echo ran with $# args\n' > "$TMP/pathws/noshebang"
chmod 755 "$TMP/pathws/noshebang"
expect "a script without #! runs with 40000 arguments" \
	"$(run --quiet --workspace "$TMP/pathws:ro" -- ./noshebang $(seq 1 40000) 2>&1)" "ran with 40000 args"
expect "HOME is the workspace" "$(run -- printenv HOME)" /workspace
unset AIRLOCK_TEST_SECRET

# Inherited fds: only 0, 1, 2 arrive
exec 7</etc/hostname
fds=$(run -- sh -c 'ls /proc/self/fd' | tr '\n' ' ')
exec 7<&-
expect "only fds 0-2 are open inside (plus ls's own)" "$fds" "0 1 2 3 "
expect "working directory is /workspace" "$(run -- pwd)" /workspace
expect "--cwd sets the working directory" "$(run --cwd /tmp -- pwd)" /tmp

# init runs none of the caller's signal handlers (the CLI installs some for
# INT, TERM, HUP, QUIT): a pid namespace's init gets from inside only the
# signals it handles, so the command cannot make it run one.
"$AIRLOCK" run -- sleep 2 >/dev/null 2>&1 &
sup=$!
cgt=''
for _ in $(seq 30); do
	for p in $(pgrep -P "$sup"); do
		[ "$(awk '$1 == "NSpid:" { print $NF }' "/proc/$p/status" 2>/dev/null)" = 1 ] &&
			cgt=$(awk '$1 == "SigCgt:" { print $2 }' "/proc/$p/status")
	done
	[ -n "$cgt" ] && break
	sleep 0.1
done
wait "$sup"
expect "init (PID 1 inside) handles no signal" "$cgt" 0000000000000000
done_testing
