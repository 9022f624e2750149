#!/usr/bin/env bash
# Kernel layers that stand on their own: Landlock, capabilities, no_new_privs,
# seccomp, the network namespace. Each check fails if its layer is missing.
. "$(dirname "$0")/lib.sh"

status=$(run -- cat /proc/self/status)
for f in CapInh CapPrm CapEff CapBnd CapAmb; do
	expect "$f is empty" "$(awk -v f="$f:" '$1==f {print $2}' <<<"$status")" 0000000000000000
done
expect "no_new_privs is set" "$(awk '$1=="NoNewPrivs:" {print $2}' <<<"$status")" 1
expect "seccomp filter is on" "$(awk '$1=="Seccomp:" {print $2}' <<<"$status")" 2
# setuid binaries grant nothing (nosuid, no_new_privs, no caps)
if [ -u /usr/bin/su ] || [ -u /bin/su ]; then
	expect "setuid su gives no root" "$(run -- sh -c 'su -c id root </dev/null >/dev/null 2>&1; id -u')" 65534
fi

# Landlock: independent of the mounts. /proc is mounted read-write, so a write
# to /proc/self/comm passes the mount layer and is refused only by Landlock.
abi=$(run --report "$TMP/ll.json" -- true; json "$TMP/ll.json" 'r["layers"]["landlock"]["state"]')
if [ "$abi" = applied ]; then
	expect "landlock refuses writes outside workspace and tmp" \
		"$(run -- sh -c 'echo x > /proc/self/comm 2>/dev/null && echo written || echo refused')" refused
	# TCP: without Landlock an unused port answers "connection refused";
	# with it, connect() itself is denied (EACCES) before any packet.
	out=$(run -- python3 -c '
import socket, errno
s = socket.socket()
try:
    s.connect(("127.0.0.1", 9))
except OSError as e:
    print(errno.errorcode[e.errno])')
	expect "landlock denies TCP connect (EACCES, not ECONNREFUSED)" "$out" EACCES
	out=$(run -- python3 -c '
import socket, errno
s = socket.socket()
try:
    s.bind(("127.0.0.1", 8080)); print("bound")
except OSError as e:
    print(errno.errorcode[e.errno])')
	expect "landlock denies TCP bind" "$out" EACCES
	out=$(run -- python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 5353)); print("udp ok")')
	expect "UDP on the sandbox's own loopback still works" "$out" "udp ok"
	# With the egress gateway, exactly its port opens: 3128 connects (the
	# gateway's socket), 3129 is still refused by Landlock, not the kernel.
	out=$(run --net gateway -- python3 -c '
import socket, errno
for port in (3128, 3129):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port)); print(port, "connected")
    except OSError as e:
        print(port, errno.errorcode[e.errno])')
	expect "landlock opens TCP connect to the gateway port only" "$(echo $out)" "3128 connected 3129 EACCES"
	out=$(run --net gateway -- python3 -c '
import socket, errno
s = socket.socket()
try:
    s.bind(("127.0.0.1", 3130)); print("bound")
except OSError as e:
    print(errno.errorcode[e.errno])')
	expect "landlock still denies TCP bind with the gateway" "$out" EACCES
else
	skip "landlock not available on this host"
fi

# seccomp: refused calls fail with EPERM and are counted by name
run --report "$TMP/sc.json" -- sh -c 'unshare -U true 2>/dev/null; unshare -U true 2>/dev/null; exit 0'
expect "unshare is refused and counted" "$(json "$TMP/sc.json" 'r["denied_syscalls"].get("unshare", 0)')" 2
out=$(run -- python3 -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(165, b"none", b"/tmp", b"tmpfs", 0, None)  # mount
print(os.strerror(ctypes.get_errno()))')
expect "mount fails with EPERM" "$out" "Operation not permitted"
printf 'process:\n  syscalls:\n    deny: [uname]\n' > "$TMP/deny-uname.yaml"
expect_match "policy can add a syscall to the deny list" \
	"$(run --policy "$TMP/deny-uname.yaml" -- uname 2>&1)" "Operation not permitted|cannot get system name"
printf 'process:\n  syscalls:\n    deny: [no_such_call]\n' > "$TMP/deny-bad.yaml"
expect "an unknown syscall name is a policy error" "$(rc --policy "$TMP/deny-bad.yaml" -- true)" 125

# network namespace: loopback only, no route
expect "only the loopback interface exists" "$(run -- sh -c "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '")" lo
expect "no routes" "$(run -- sh -c 'tail -n +2 /proc/net/route | wc -l')" 0
# The namespace is made beside init by a helper (net.c): it must be a new one,
# and owned by the sandbox's user namespace, as one made by the clone is (an
# owner above ours would make NS_GET_USERNS fail with EPERM).
host_net=$(readlink /proc/self/ns/net)
out=$(run -- python3 -c '
import fcntl, os
fd = os.open("/proc/self/ns/net", os.O_RDONLY)
owner = fcntl.ioctl(fd, 0xb701)  # NS_GET_USERNS
print(os.readlink("/proc/self/ns/net"),
      "own-userns" if os.fstat(owner).st_ino == os.stat("/proc/self/ns/user").st_ino else "other-userns")')
expect "the network namespace is new" "$( [ -n "$out" ] && [ "${out%% *}" != "$host_net" ] && echo new)" new
expect "the network namespace belongs to the sandbox's user namespace" "${out##* }" own-userns
out=$(run -- python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.connect(("8.8.8.8", 53)); print("routed")
except OSError as e:
    print("unreachable")')
expect "no route to the internet (UDP connect sends nothing)" "$out" unreachable
done_testing
