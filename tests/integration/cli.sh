#!/usr/bin/env bash
# The command line: exit codes, stdin, errors, policy validation.
. "$(dirname "$0")/lib.sh"

check "--help exits 0" "$AIRLOCK" --help
expect_match "--version prints a version" "$("$AIRLOCK" --version)" '^airlock [0-9]+\.[0-9]+'
expect "unknown command exits 125" "$("$AIRLOCK" frobnicate >/dev/null 2>&1; echo $?)" 125
expect "run without a command exits 125" "$(rc)" 125
expect "unknown option exits 125" "$(rc --frob -- true)" 125
expect "the command's status passes through" "$(rc -- sh -c 'exit 3')" 3
expect "stdout passes through" "$(run -- echo hello)" hello
expect "stdin passes through" "$(echo 'print(2+2)' | run -- python3 -)" 4
printf 'l1\nl2\nl3\n' > "$TMP/lines"
expect "stdin keeps the caller's file offset" "$({ read -r _; run -- cat; } < "$TMP/lines" | tr '\n' ' ')" "l2 l3 "
: > "$TMP/rw-stdin"
run -- sh -c 'printf LEAK >&0' 0<>"$TMP/rw-stdin" >/dev/null 2>&1
expect "a read-write stdin cannot be written through" "$(cat "$TMP/rw-stdin")" ""
expect "stdin as a socket (libuv-style stdio) still reads" "$(python3 -c '
import socket, subprocess, sys
a, b = socket.socketpair()
a.sendall(b"via-socket\n"); a.shutdown(socket.SHUT_WR)
print(subprocess.run([sys.argv[1], "run", "--", "cat"], stdin=b, capture_output=True).stdout.decode().strip())' "$AIRLOCK")" via-socket
expect "slow readers get all the output" "$(run -- seq 1 20000 | (sleep 1; wc -c))" 108894
expect "command not found exits 127" "$(rc -- /nonexistent/cmd)" 127
expect "not found via PATH exits 127" "$(rc -- no-such-command-xyz)" 127
printf 'echo hi\n' > "$TMP/noexec.sh"; chmod 644 "$TMP/noexec.sh"
expect "not executable exits 126" "$(rc --workspace "$TMP:ro" -- /workspace/noexec.sh)" 126
expect "killed by signal N exits 128+N" "$(rc -- sh -c 'kill -9 $$')" 137
expect "killed by SIGTERM exits 143" "$(rc -- sh -c 'kill -TERM $$')" 143
err=$(run -- /nonexistent/cmd 2>&1 >/dev/null)
expect_match "not found names the command" "$err" "cannot execute '/nonexistent/cmd'"

# A bad policy: exit 125, file:line: field, and nothing ran.
mkdir -p "$TMP/ws" && chmod 777 "$TMP/ws"
printf 'resources:\n  memory_limit: -3G\n' > "$TMP/bad.yaml"
out=$(run --policy "$TMP/bad.yaml" --workspace "$TMP/ws:rw" -- touch /workspace/ran 2>&1)
expect "bad policy exits 125" "$?" 125
expect_match "bad policy names file:line: field" "$out" "bad.yaml:2: resources.memory_limit"
check "bad policy: nothing ran" test ! -e "$TMP/ws/ran"
out=$(run --memory -5M -- true 2>&1); s=$?
expect "bad --memory exits 125" "$s" 125
expect_match "bad --memory names the option" "$out" "--memory"
expect "missing workspace exits 125" "$(rc --workspace /nonexistent-dir -- true)" 125

for f in "$SRC"/policies/*.yaml; do
	check "preset $(basename "$f") validates" "$AIRLOCK" policy validate "$f"
done
out=$("$AIRLOCK" policy validate "$TMP/bad.yaml" 2>&1); s=$?
expect "policy validate of a bad file exits 125" "$s" 125
expect_match "policy validate names file:line: field" "$out" "bad.yaml:2: resources.memory_limit"
printf 'isolation: gvisor\n' > "$TMP/gvisor.yaml"
expect_match "isolation: gvisor is refused naming what exists" \
	"$("$AIRLOCK" policy validate "$TMP/gvisor.yaml" 2>&1)" "namespaces"
expect_match "policy show prints JSON" "$("$AIRLOCK" policy show)" '^\{'
expect "run with the python preset" "$(run --policy "$SRC/policies/python.yaml" -- python3 -c 'print(6*7)')" 42

# The run report
run --report "$TMP/r.json" -- sh -c 'exit 5' >/dev/null 2>&1
expect "report: exit_reason" "$(json "$TMP/r.json" 'r["exit_reason"]')" exited
expect "report: exit_status" "$(json "$TMP/r.json" 'r["exit_status"]')" 5
expect "report: exit_code" "$(json "$TMP/r.json" 'r["exit_code"]')" 5
expect_match "report: policy digest" "$(json "$TMP/r.json" 'r["policy_digest"]')" '^[0-9a-f]{64}$'
expect "report: seccomp layer applied" "$(json "$TMP/r.json" 'r["layers"]["seccomp"]["state"]')" applied
expect_match "report: wall time" "$(json "$TMP/r.json" 'r["wall_ms"] > 0')" True
expect_match "report to stderr with -" "$(run --report - -- true 2>&1 >/dev/null)" '"exit_reason":"exited"'
# options apply in command-line order: the later of two that contradict wins
expect_match "--allow-host then --net none: no network" \
	"$(run -q --allow-host example.com:443 --net none --report - -- true 2>&1 >/dev/null)" '"network":\{"mode":"none"'
expect_match "--net none then --allow-host: the gateway" \
	"$(run -q --net none --allow-host example.com:443 --report - -- true 2>&1 >/dev/null)" '"network":\{"mode":"gateway"'
done_testing
