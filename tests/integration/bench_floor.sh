#!/usr/bin/env bash
# bench/floor is read as the least a sandbox with airlock's layers costs on
# this host; that holds only if it applies every layer it names. Each check
# fails if the floor left its layer out (and so would look cheaper than it
# is), and --without must take out exactly the layer named.
. "$(dirname "$0")/lib.sh"
FLOOR=${FLOOR:?set FLOOR to build/bench/floor}

layers=$("$FLOOR" --layers)
expect_match "--layers names what it applies" "$layers" '^applied: ns fs net'

probe='
id -u
awk "\$1 == \"CapBnd:\" || \$1 == \"CapEff:\" || \$1 == \"NoNewPrivs:\" || \$1 == \"Seccomp:\" { print \$1 \$2 }" /proc/self/status
awk "NR > 2 { sub(\":\", \"\", \$1); print \"if:\" \$1 }" /proc/net/dev
[ -e /home ] && echo home-visible
[ -s /etc/shadow ] && echo shadow-readable
touch /workspace/w 2>/dev/null && echo workspace-writable
touch /usr/x 2>/dev/null && echo usr-writable
echo x > /proc/self/comm 2>/dev/null && echo comm-writable
ls /dev | tr "\n" " "; echo
'
out=$("$FLOOR" sh -c "$probe" 2>"$TMP/floor.err")
expect "the floor's command runs (status)" "$?" 0
expect "user namespace: uid 65534 inside" "$(sed -n 1p <<<"$out")" 65534
expect "capabilities: bounding set empty" "$(grep '^CapBnd:' <<<"$out")" CapBnd:0000000000000000
expect "capabilities: none effective" "$(grep '^CapEff:' <<<"$out")" CapEff:0000000000000000
expect "no_new_privs set" "$(grep '^NoNewPrivs:' <<<"$out")" NoNewPrivs:1
expect "seccomp filter on" "$(grep '^Seccomp:' <<<"$out")" Seccomp:2
expect "network namespace: loopback only" "$(grep '^if:' <<<"$out" | tr '\n' ' ')" "if:lo "
expect "mount namespace: /home not visible" "$(grep -c home-visible <<<"$out")" 0
expect "fs: /etc/shadow masked" "$(grep -c shadow-readable <<<"$out")" 0
expect "fs: /workspace writable" "$(grep -c workspace-writable <<<"$out")" 1
expect "fs: /usr read-only" "$(grep -c usr-writable <<<"$out")" 0
expect_match "fs: a minimal /dev" "$(tail -n 1 <<<"$out")" '^fd full null ptmx pts random shm stderr stdin stdout urandom zero $'
if [[ "$layers" == *" landlock(ABI"* ]]; then
	expect "landlock: writes outside workspace and tmp refused" "$(grep -c comm-writable <<<"$out")" 0
else
	skip "landlock: not in this kernel"
fi

# --without takes out the layer named, and only it
out=$("$FLOOR" --without seccomp sh -c 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status | tr -d "\t"')
expect "--without seccomp: no filter, the rest stays" "$(tr '\n' ' ' <<<"$out")" "NoNewPrivs:1 Seccomp:0 "
expect "--without net: the host's interfaces are there" \
	"$("$FLOOR" --without net sh -c 'awk "NR > 2" /proc/net/dev | wc -l')" "$(awk 'NR > 2' /proc/net/dev | wc -l)"
out=$("$FLOOR" --without caps sh -c 'awk "\$1 == \"CapBnd:\" { print \$2 }" /proc/self/status')
[ "$out" != 0000000000000000 ] && ok "--without caps: bounding set left full" || nok "--without caps (got $out)"
expect "--without with an unknown layer is refused" "$("$FLOOR" --without nope true 2>/dev/null; echo $?)" 2

# cgroups: a group below our own with the limits while the command runs,
# gone after; its namespace inside
if [[ "$layers" == *" cgroup(v"* ]]; then
	"$FLOOR" sh -c 'cat /proc/self/cgroup > /workspace/cg; sleep 1; grep -c ":/$" /workspace/cg' >"$TMP/cg.out" &
	fpid=$!
	sleep 0.5
	groups=$(find /sys/fs/cgroup -maxdepth 6 -type d -name "floor-$fpid" 2>/dev/null)
	[ -n "$groups" ] && ok "cgroup: floor-$fpid made" || nok "cgroup: no floor-$fpid group while running"
	lim=''
	for g in $groups; do
		[ -f "$g/pids.max" ] && lim="$lim pids.max=$(cat "$g/pids.max")"
		[ -f "$g/memory.limit_in_bytes" ] && lim="$lim memory=$(cat "$g/memory.limit_in_bytes")"
		[ -f "$g/memory.max" ] && lim="$lim memory=$(cat "$g/memory.max")"
	done
	expect_match "cgroup: pids and memory limits set" "$lim" 'pids.max=128.*memory=536870912|memory=536870912.*pids.max=128'
	wait "$fpid"
	expect "cgroup: removed after the run" "$(find /sys/fs/cgroup -maxdepth 6 -type d -name "floor-$fpid" 2>/dev/null | wc -l)" 0
	[ "$(cat "$TMP/cg.out")" -ge 1 ] && ok "cgroup namespace: the group is / inside" || nok "cgroup namespace (got $(cat "$TMP/cg.out"))"
else
	skip "cgroup: none this user may create ($layers)"
fi
done_testing
