#!/usr/bin/env bash
# airlock breaker status|reset against state files written by hand in the
# documented format (docs/audit.md; src/lib/breaker.c says every key), as the
# audit wiring that trips breakers from real runs lands separately.
. "$(dirname "$0")/lib.sh"

S=$TMP/state
br() { "$AIRLOCK" breaker "$@" --state-dir "$S"; }
brc() { "$AIRLOCK" breaker "$@" --state-dir "$S" >/dev/null 2>&1; echo $?; }
now_ms() { python3 -c 'import time; print(int(time.time() * 1000))'; }
# state AGENT TRIPPED_UNTIL VIOLATIONS FAILURES RUNS
state() {
	mkdir -p -m 700 "$S/breaker"
	(umask 077; printf '{"v":1,"agent":"%s","tripped_until":%s,"trip_violations":%s,"trip_failures":%s,"runs":[%s]}\n' \
		"$1" "$2" "$3" "$4" "$5" > "$S/breaker/$1.json")
}

expect "status of an unknown agent is closed" "$(br status ghost)" "ghost  closed  violations 0  failures 0"
expect "status without a state directory lists nothing" "$(br status)" ""
expect "status --json of an unknown agent" \
	"$(br status ghost --json | python3 -c 'import json,sys; a=json.load(sys.stdin)["agents"][0]; print(a["state"], a["until"])')" \
	"closed None"

now=$(now_ms)
state billing-bot $((now + 3600000)) 5 0 ""
expect_match "status shows a tripped agent" "$(br status billing-bot)" \
	'^billing-bot  tripped until [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z  violations 5  failures 0$'
expect "status --json parses: tripped, 5 violations" \
	"$(br status billing-bot --json | python3 -c '
import json, sys
a = json.load(sys.stdin)["agents"]
print(len(a), a[0]["agent"], a[0]["state"], a[0]["violations"], a[0]["failures"], a[0]["until"].endswith("Z"))')" \
	"1 billing-bot tripped 5 0 True"

state calm 0 0 0 "[$((now - 1000)),2,0],[$((now - 500)),0,1]"
expect "status counts the runs of a closed agent" "$(br status calm)" "calm  closed  violations 2  failures 1"
state past $((now - 1000)) 7 0 ""
expect "an expired trip is closed" "$(br status past)" "past  closed  violations 0  failures 0"
expect "status without an agent lists every agent, sorted" "$(br status | cut -d' ' -f1 | tr '\n' ' ')" \
	"billing-bot calm past "
expect "status of every agent as JSON" \
	"$(br status --json | python3 -c 'import json,sys; print(" ".join(a["agent"] + ":" + a["state"] for a in json.load(sys.stdin)["agents"]))')" \
	"billing-bot:tripped calm:closed past:closed"

expect "reset exits 0" "$(brc reset billing-bot)" 0
expect "reset closes it" "$(br status billing-bot)" "billing-bot  closed  violations 0  failures 0"
check "reset removes the state file" test ! -e "$S/breaker/billing-bot.json"
expect "reset of an unknown agent exits 0" "$(brc reset nobody)" 0

expect "status of an invalid agent exits 125" "$(brc status ../etc)" 125
expect "reset of an invalid agent exits 125" "$(brc reset a/b)" 125
expect "an agent starting with '.' exits 125" "$(brc reset .hidden)" 125
expect_match "an invalid agent is named" "$(br status 'a b' 2>&1)" "^airlock: invalid agent name 'a b'"
expect "reset without an agent exits 125" "$(brc reset)" 125
expect "an unknown action exits 125" "$("$AIRLOCK" breaker frob >/dev/null 2>&1; echo $?)" 125
check "breaker --help exits 0" "$AIRLOCK" breaker --help

(umask 077; echo 'garbage' > "$S/breaker/broken.json")
expect "a corrupt state exits 125" "$(brc status broken)" 125
expect_match "a corrupt state is named" "$(br status broken 2>&1)" "broken.json: corrupt at byte 0"
expect "status of every agent fails on a corrupt one" "$(brc status --json)" 125
expect "reset clears a corrupt state" "$(brc reset broken; br status broken)" "0
broken  closed  violations 0  failures 0"

state target 0 0 0 ""
mv "$S/breaker/target.json" "$TMP/target.json"
ln -s "$TMP/target.json" "$S/breaker/sneaky.json"
expect "a symlinked state file exits 125" "$(brc status sneaky)" 125
expect_match "a symlinked state file is named" "$(br status sneaky 2>&1)" "sneaky.json: a symbolic link: refused"

if [ "$IS_ROOT" -eq 0 ]; then
	mkdir -p "$TMP/home"
	expect "the default state dir is under \$HOME" \
		"$(env -u XDG_STATE_HOME HOME="$TMP/home" "$AIRLOCK" breaker status ghost)" "ghost  closed  violations 0  failures 0"
	expect "no \$HOME and no --state-dir exits 125" \
		"$(env -u XDG_STATE_HOME -u HOME "$AIRLOCK" breaker status ghost >/dev/null 2>&1; echo $?)" 125
else
	skip "the default state dir of a user (running as root)"
	skip "no \$HOME (running as root)"
fi

done_testing
