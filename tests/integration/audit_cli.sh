#!/usr/bin/env bash
# airlock audit tail|summary on a crafted log: readable lines, --json byte for
# byte, filters, -n, the summary's numbers, errors, stdin.
. "$(dirname "$0")/lib.sh"

LOG=$TMP/audit.jsonl
cat > "$LOG" <<'EOF'
{"v":1,"time":"2026-11-23T14:02:03.123Z","run":"3f2a000000000001","agent":"billing-bot","event":"run_start","policy_digest":"ab12","command":["python3","job.py"],"cwd":"/workspace","user":1000,"layers":["userns"],"unavailable":[]}
{"v":1,"time":"2026-11-23T14:02:04.000Z","run":"3f2a000000000001","agent":"billing-bot","event":"egress","proto":"connect","host":"api.evil.com","port":443,"address":"","verdict":"deny","rule":"default deny","reason":"not allowed","status":403,"bytes_up":0,"bytes_down":0,"duration_ms":0.3}
{"v":1,"time":"2026-11-23T14:02:05.000Z","run":"3f2a000000000001","agent":"billing-bot","event":"syscall_denied","syscall":"ptrace","count":2}
{"v":1,"time":"2026-11-23T14:02:05.001Z","run":"3f2a000000000001","agent":"billing-bot","event":"resource_peak","memory_bytes":1048576,"memory_limit":0,"pids":1,"pids_limit":0,"cpu_user_ms":5,"cpu_sys_ms":5,"wall_ms":20,"output_bytes":6,"read_bytes":0,"write_bytes":0}
{"v":1,"time":"2026-11-23T14:02:05.002Z","run":"3f2a000000000001","agent":"billing-bot","event":"run_end","exit_reason":"exited","exit_code":3,"exit_status":3,"term_signal":0,"violations":3,"failed":true}
this line is not an event
{"v":1,"time":"2026-11-23T14:05:00.000Z","run":"3f2a000000000002","agent":"billing-bot","event":"run_start","command":["sh","-c","printf '\u001b]0;pwned\u0007'"]}
{"v":1,"time":"2026-11-23T15:00:00.000Z","run":"00000000000000c1","agent":"ci-bot","event":"run_start","command":["make"],"future_field":{"a":[1]}}
{"v":1,"time":"2026-11-23T15:00:01.000Z","run":"00000000000000c1","agent":"ci-bot","event":"run_end","exit_reason":"exited","exit_code":0,"exit_status":0,"term_signal":0,"violations":0,"failed":false}
{"v":1,"time":"2026-11-23T15:00:02.000Z","run":"3f2a000000000001","agent":"billing-bot","event":"breaker","state":"tripped","violations":5,"failures":1,"until":"2026-11-23T15:30:00Z"}
EOF

out=$("$AIRLOCK" audit tail "$LOG" 2>"$TMP/err"); s=$?
expect "tail exits 0" "$s" 0
expect "tail: one line per event" "$(printf '%s\n' "$out" | wc -l)" 9
expect "tail: run_start readable" "$(printf '%s\n' "$out" | sed -n 1p)" \
	"2026-11-23T14:02:03.123Z billing-bot 3f2a000000000001 run_start      python3 job.py"
expect "tail: egress readable" "$(printf '%s\n' "$out" | sed -n 2p)" \
	"2026-11-23T14:02:04.000Z billing-bot 3f2a000000000001 egress         deny api.evil.com:443 (default deny)"
expect_match "tail: run_end readable" "$out" "run_end        exited 3, 3 violations, failed"
expect_match "tail: the skipped line is reported on stderr" "$(cat "$TMP/err")" "1 line skipped: not audit events"
if printf '%s' "$out" | LC_ALL=C grep -q "$(printf '\033')"; then
	nok "tail: an escape sequence in a command does not reach the terminal"
else
	ok "tail: an escape sequence in a command does not reach the terminal"
fi
expect_match "tail: ... it is shown as '?'" "$out" "printf '\\\\''\?\]0;pwned\?'\\\\''"

"$AIRLOCK" audit tail "$LOG" --json > "$TMP/passthrough" 2>/dev/null
grep -v '^this line' "$LOG" > "$TMP/events"
check "tail --json: byte-identical passthrough" cmp "$TMP/passthrough" "$TMP/events"

out=$("$AIRLOCK" audit tail "$LOG" --agent ci-bot 2>/dev/null)
expect "tail --agent: only that agent" "$(printf '%s\n' "$out" | grep -c ci-bot)/$(printf '%s\n' "$out" | wc -l)" 2/2
out=$("$AIRLOCK" audit tail --run 3f2a000000000002 "$LOG" 2>/dev/null)
expect "tail --run: only that run" "$(printf '%s\n' "$out" | awk '{print $3, $4}')" "3f2a000000000002 run_start"
out=$("$AIRLOCK" audit tail "$LOG" -n 2 --json 2>/dev/null)
expect "tail -n 2: the last two" "$out" "$(tail -n 2 "$LOG")"
expect "tail -n x: a usage error" "$("$AIRLOCK" audit tail "$LOG" -n x >/dev/null 2>&1; echo $?)" 125

"$AIRLOCK" audit summary "$LOG" --json > "$TMP/summary.json" 2>/dev/null
expect "summary --json exits 0" "$?" 0
a() { json "$TMP/summary.json" "{x['agent']: x for x in r['agents']}$1"; }
expect "summary: agents" "$(json "$TMP/summary.json" '[x["agent"] for x in r["agents"]]')" "['billing-bot', 'ci-bot']"
expect "summary: runs" "$(a "['billing-bot']['runs']")" 2
expect "summary: unfinished (run_start without run_end)" "$(a "['billing-bot']['unfinished']")" 1
expect "summary: failures" "$(a "['billing-bot']['failures']")" 1
expect "summary: violations" "$(a "['billing-bot']['violations']")" 3
expect "summary: egress denied" "$(a "['billing-bot']['egress_denied']")" 1
expect "summary: refused syscalls" "$(a "['billing-bot']['syscalls_refused']")" 2
expect "summary: breaker trips" "$(a "['billing-bot']['breaker_trips']")" 1
expect "summary: first run" "$(a "['billing-bot']['first_run']")" 2026-11-23T14:02:03.123Z
expect "summary: last run" "$(a "['billing-bot']['last_run']")" 2026-11-23T14:05:00.000Z
expect "summary: a clean agent" "$(a "['ci-bot']['runs']"),$(a "['ci-bot']['failures']"),$(a "['ci-bot']['unfinished']")" 1,0,0
out=$("$AIRLOCK" audit summary "$LOG" --agent ci-bot 2>/dev/null)
expect_match "summary: a table" "$out" "^agent +runs +unfinished"
expect "summary --agent: one row" "$(printf '%s\n' "$out" | sed 1d | awk '{print $1, $2}')" "ci-bot 1"

out=$("$AIRLOCK" audit tail "$TMP/missing.jsonl" 2>&1); s=$?
expect "an unreadable file exits 125" "$s" 125
expect_match "... and says why" "$out" "^airlock: .*missing.jsonl: No such file"
expect "a directory exits 125" "$("$AIRLOCK" audit summary "$TMP" >/dev/null 2>&1; echo $?)" 125
expect "no file: a usage error" "$("$AIRLOCK" audit tail >/dev/null 2>&1; echo $?)" 125
expect "an unknown subcommand: a usage error" "$("$AIRLOCK" audit frob "$LOG" >/dev/null 2>&1; echo $?)" 125

out=$("$AIRLOCK" audit tail - --json < "$LOG" 2>/dev/null)
expect "stdin as -" "$out" "$(grep -v '^this line' "$LOG")"
out=$(grep ci-bot "$LOG" | "$AIRLOCK" audit summary - --json 2>/dev/null)
expect_match "summary from stdin" "$out" '^\{"agents":\[\{"agent":"ci-bot","runs":1,'
done_testing
