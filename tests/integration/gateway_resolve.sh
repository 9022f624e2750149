#!/usr/bin/env bash
# The gateway resolves the name it decided on, and no other: the resolver's
# search list must not turn a short name into a denied long one. Runs in a
# network and mount namespace of its own (unshare), where a resolv.conf with
# a search list, a hosts file and a small DNS server on 127.0.0.1:53 are the
# test's, and nothing reaches or touches the host's.
. "$(dirname "$0")/lib.sh"

userns=()
[ "$IS_ROOT" = 1 ] || userns=(-r)
if ! unshare "${userns[@]}" -mn true 2>/dev/null; then
	skip "unshare -mn is not allowed here"
	done_testing
	exit 0
fi

cat > "$TMP/dns.py" <<'EOF'
# A records for the names below, NXDOMAIN for the rest; every query logged.
import socket, struct, sys
NAMES = {"secret.corp.test": "127.0.0.1", "dns-only.test": "127.0.0.1"}
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
print("ready", flush=True)
while True:
    q, peer = s.recvfrom(512)
    tid, = struct.unpack(">H", q[:2])
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode()); i += 1 + q[i]
    qtype, = struct.unpack(">H", q[i + 1:i + 3])
    question, name = q[12:i + 5], ".".join(labels).lower()
    print("query", name, qtype, flush=True)
    if name in NAMES:
        ans, an = b"", 0
        if qtype == 1:
            ans, an = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 5, 4) + socket.inet_aton(NAMES[name]), 1
        r = struct.pack(">HHHHHH", tid, 0x8180, 1, an, 0, 0) + question + ans
    else:
        r = struct.pack(">HHHHHH", tid, 0x8183, 1, 0, 0, 0) + question
    s.sendto(r, peer)
EOF
printf 'nameserver 127.0.0.1\nsearch corp.test\noptions timeout:1 attempts:1\n' > "$TMP/resolv.conf"
printf '127.0.0.1\tlocalhost\n127.0.0.1\thosts-only.test HostAlias # comment\n' > "$TMP/hosts"
mkdir -p "$TMP/www" && echo origin > "$TMP/www/index.html"

cat > "$TMP/inner.sh" <<'EOF'
set -u
cd "$TMP"
ip link set lo up
mount --bind "$TMP/resolv.conf" /etc/resolv.conf
mount --bind "$TMP/hosts" /etc/hosts
python3 dns.py > dns.log 2>&1 &
python3 -m http.server --bind 127.0.0.1 18082 --directory www > origin.log 2>&1 &
cat > gw.yaml <<EOP
network:
  mode: gateway
  egress_allowlist: ["*:18082", "127.0.0.1:18082"]
  egress_denylist: ["secret.corp.test:18082"]
EOP
"$AIRLOCK" gateway --listen 127.0.0.1:18090 --policy gw.yaml --log gw.log > gw.out 2>&1 &
for _ in $(seq 50); do
	grep -qs ready dns.log && grep -qs 'listening on' gw.out && curl -s -m 1 http://127.0.0.1:18082/ > /dev/null && break
	sleep 0.1
done
for h in secret.corp.test secret hosts-only.test HOSTALIAS dns-only.test; do
	echo "http $h $(curl -s -o /dev/null -m 10 -x http://127.0.0.1:18090 "http://$h:18082/" -w '%{http_code}')"
done
echo "socks secret $(curl -s -o /dev/null -m 10 --socks5-hostname 127.0.0.1:18090 http://secret:18082/ -w '%{http_code}')"
kill $(jobs -p) 2>/dev/null
wait 2>/dev/null
EOF
out=$(TMP=$TMP AIRLOCK=$AIRLOCK unshare "${userns[@]}" -mn bash "$TMP/inner.sh" 2>&1)
code() { awk -v k="$1" -v h="$2" '$1 == k && $2 == h { print $3 }' <<<"$out"; }
expect "the denied long name is refused" "$(code http secret.corp.test)" 403
expect_match "its short name is not resolved through the search list" "$(code http secret)" '^(4|5)[0-9][0-9]$'
# curl prints 000 for a refused SOCKS5 request, 200 had it reached the origin
expect "nor over SOCKS5" "$(code socks secret)" 000
# a denied name is never resolved, so any query for it came from the short one
expect "no lookup of secret.corp.test at all" "$(grep -c '^query secret.corp.test ' "$TMP/dns.log")" 0
expect "the short name was asked as an absolute name only" "$(grep -c '^query secret ' "$TMP/dns.log" | awk '{ print ($1 > 0) }')" 1
expect "a name only the hosts file knows is found there" "$(code http hosts-only.test)" 200
expect "an alias in the hosts file, any case" "$(code http HOSTALIAS)" 200
expect "a name DNS knows as absolute is found" "$(code http dns-only.test)" 200
log=$(cat "$TMP/gw.log" 2>/dev/null)
expect_match "the log names the host that was judged" "$log" '"host":"secret\.corp\.test".*"verdict":"deny"'
done_testing
