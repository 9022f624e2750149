#!/usr/bin/env bash
# Resource limits: memory, pids, CPU, rlimits, wall clock, output cap.
. "$(dirname "$0")/lib.sh"

run --report "$TMP/r.json" -- true
mem_state=$(json "$TMP/r.json" 'r["layers"]["memory_limit"]["state"]')
pids_state=$(json "$TMP/r.json" 'r["layers"]["pids_limit"]["state"]')
cpu_state=$(json "$TMP/r.json" 'r["layers"]["cpu_limit"]["state"]')
if [ $IS_ROOT -eq 1 ]; then
	expect "as root the memory cgroup is applied" "$mem_state" applied
	expect "as root the pids cgroup is applied" "$pids_state" applied
	expect "as root the cpu cgroup is applied" "$cpu_state" applied
else
	check "unprivileged: the report says which limits are not cgroup-enforced" \
		test "$mem_state" = applied -o "$mem_state" = unavailable
fi
# never pretend: a limit the host cannot enforce is said on every run
warn=$(run -- true 2>&1 >/dev/null)
if [ "$mem_state" = applied ] && [ "$pids_state" = applied ] && [ "$cpu_state" = applied ]; then
	expect "no warning when every layer is enforced" "$warn" ""
else
	expect_match "a warning names what this host does not enforce" "$warn" "warning: not enforced on this host: .*_limit"
	expect "--quiet silences it" "$(run --quiet -- true 2>&1 >/dev/null)" ""
fi

# memory bomb: killed (cgroup, reason oom) or refused (RLIMIT_AS fallback)
code=$(run --memory 64M --report "$TMP/m.json" -- python3 -c 'b = bytearray(300 * 1024 * 1024); print("allocated")' >/dev/null 2>&1; echo $?)
reason=$(json "$TMP/m.json" 'r["exit_reason"]')
if [ "$mem_state" = applied ]; then
	expect "memory bomb is killed by the cgroup" "$code/$reason" 137/oom
else
	expect "memory bomb fails under RLIMIT_AS" "$code" 1
fi

# many processes, each under the limit, together over it: the memory
# cgroup (root) or the supervisor's RSS watchdog (no cgroup) ends the run
code=$(run --memory 200M --report "$TMP/mm.json" -- python3 -c '
import os, time
for i in range(8):
    if os.fork() == 0:
        b = bytearray(60 << 20); time.sleep(5); os._exit(0)
time.sleep(5); print("all alive")' >/dev/null 2>&1; echo $?)
if [ "$mem_state" = applied ]; then
	# the kernel's OOM killer picks a process; the sum stays under the limit
	expect "the sum of many processes' memory is limited (cgroup)" \
		"$(json "$TMP/mm.json" 'r["oom_kill"] and r["peak_memory_bytes"] <= 200 << 20')" True
else
	expect "the sum of many processes' memory is limited (watchdog)" \
		"$code/$(json "$TMP/mm.json" 'r["exit_reason"]')/$(json "$TMP/mm.json" 'r["oom_kill"]')" 137/oom/True
fi

# fork bomb: contained by the pids limit, the host keeps working
out=$(run --pids 16 --timeout 20 --report "$TMP/p.json" -- python3 -c '
import os
n = 0
try:
    for i in range(200):
        if os.fork() == 0:
            import time; time.sleep(5); os._exit(0)
        n += 1
except OSError as e:
    print("fork refused after", n)
' 2>&1)
expect_match "fork bomb is refused at the pids limit" "$out" 'fork refused after 1[0-6]$'

# CPU quota: a busy loop for 2 s of wall time gets about half a CPU
if [ "$cpu_state" = applied ]; then
	run --cpus 0.5 --report "$TMP/c.json" -- python3 -c '
import time
t = time.time()
while time.time() - t < 2: pass' >/dev/null
	cpu=$(json "$TMP/c.json" 'int(r["cpu_user_ms"] + r["cpu_sys_ms"])')
	check "cpu quota 0.5 holds a spin to <= 1.3 s of CPU in 2 s (got ${cpu} ms)" test "$cpu" -le 1300
else
	skip "cpu cgroup not available as $(id -un)"
fi

# rlimits
expect "core dumps are off" "$(run -- sh -c 'ulimit -c')" 0
# 1 byte, not 0: 0 still lets a core_pattern pipe (systemd-coredump, apport)
# take the process's memory; 1 is the kernel's "no dump at all"
expect "RLIMIT_CORE is 1 byte, soft and hard" \
	"$(run -- python3 -c 'import resource; print(resource.getrlimit(resource.RLIMIT_CORE))')" "(1, 1)"
expect "open files limit" "$(run -- sh -c 'ulimit -n')" 1024
out=$(run -- python3 -c '
import resource, os
resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
fds = []
try:
    while True: fds.append(os.open("/dev/null", os.O_RDONLY))
except OSError as e:
    print("EMFILE" if e.errno == 24 else e)')
expect "fd exhaustion ends in EMFILE" "$out" EMFILE

# wall clock: TERM, grace, KILL; exit 124
start=$(date +%s%N)
code=$(rc --timeout 1 --report "$TMP/t.json" -- sh -c 'trap "" TERM; while :; do :; done')
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
expect "timeout exits 124" "$code" 124
expect "timeout reason in the report" "$(json "$TMP/t.json" 'r["exit_reason"]')" timeout
check "a TERM-ignoring spin dies within timeout + grace + 1 s (${elapsed} ms)" test "$elapsed" -lt 4500

# output cap
bytes=$(run --output-limit 100K --report "$TMP/o.json" -- sh -c 'yes airlock' 2>/dev/null | wc -c)
check "output is capped at 100 KiB (got $bytes)" test "$bytes" -eq 102400
expect "output cap reason in the report" "$(json "$TMP/o.json" 'r["exit_reason"]')" output_limit
done_testing
