#!/usr/bin/env python3
"""Raw-protocol probes of the egress gateway (stdlib only), for what curl
cannot send. Run inside the sandbox (the proxy is 127.0.0.1:3128 there) or on
the host against `airlock gateway` with --proxy. Every socket operation is
bounded by a timeout. Output: one "name value..." line per result.

    client.py [--proxy H:P] requests HOST:PORT CASE...  canned malformed heads: "CASE STATUS closed|open",
                                                        then "CASE-after STATUS" for a normal GET of
                                                        HOST:PORT on a new connection; CASE
                                                        "GET:<authority>" is a plain GET of that
                                                        authority: "CASE STATUS BODY"
    client.py [--proxy H:P] socks [--auth U:P] CMD:HOST:PORT...
                                                        SOCKS5 replies: "CMD:HOST:PORT 0xNN"
                                                        CMD is connect, bind or udp; HOST a name,
                                                        an IPv4 address or [IPv6]
    client.py [--proxy H:P] hold N HOST:PORT            N CONNECT tunnels held, one more, one freed
    client.py [--proxy H:P] slowloris HOST:PORT         a head (and a SOCKS5 greeting) trickled byte by
                                                        byte: "http-cut-ms MS STATUS", "socks-cut-ms MS
                                                        HEX"; a parallel request: "parallel STATUS MS"
    client.py [--proxy H:P] burst URL MAX [WAIT]        GETs until the first non-200 (at most MAX),
                                                        then one more after WAIT seconds
    client.py contain PORT                              direct egress that must fail (ignores proxies)
    client.py wait-lost SECONDS                         until a connect to the proxy is refused
"""
import argparse
import errno
import ipaddress
import socket
import struct
import sys
import threading
import time

PROXY = ("127.0.0.1", 3128)
TIMEOUT = 10


def out(*words):
    print(*words, flush=True)


def connect():
    return socket.create_connection(PROXY, timeout=TIMEOUT)


def read_response(s, check_close=True):
    """(status, closed, body) of the first response (status 0 if none came);
    closed: the proxy closed the connection after it (waits up to 3 s to see
    that, so only when check_close)."""
    data = b""
    try:
        while b"\r\n\r\n" not in data and b"\n\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    try:
        status = int(data.split(b" ", 2)[1])
    except (IndexError, ValueError):
        status = 0
    head = data.split(b"\r\n\r\n")[0].lower()
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line.startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    body = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
    closed = False
    try:
        while len(body) < length:  # the rest of the body, if any
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
        if check_close:
            s.settimeout(3)
            closed = s.recv(1) == b""
    except ConnectionResetError:
        closed = True
    except OSError:
        closed = False  # still open after 3 s
    return status, closed, body[:length]


def http_status(raw, check_close=True):
    """Send raw bytes as one request on a new connection; (status, closed, body)."""
    s = connect()
    try:
        s.sendall(raw)
    except OSError:
        pass  # the proxy may refuse before reading it all
    try:
        return read_response(s, check_close)
    finally:
        s.close()


def get(target, extra=""):
    return (f"GET http://{target}/hello HTTP/1.1\r\nHost: {target}\r\n{extra}"
            f"User-Agent: client.py\r\n\r\n").encode()


def cmd_requests(a):
    t = a.target
    line = f"GET http://{t}/" + "a" * 9000 + f" HTTP/1.1\r\nHost: {t}\r\n\r\n"
    cases = {
        "long-line": line.encode(),                                       # 414
        "many-headers": get(t, "".join(f"X-H{i}: v\r\n" for i in range(120))),  # 431
        "big-head": get(t, "".join(f"X-B{i}: {'b' * 1000}\r\n" for i in range(40))),  # 431
        "garbage": b"\x16\x03\x01 this is not http\r\n\r\n",              # 400
        "no-version": f"GET http://{t}/hello\r\n\r\n".encode(),          # 400
        "space-before-colon": get(t, "X-Bad : v\r\n"),                   # 400
        "cl-and-te": (f"POST http://{t}/echo HTTP/1.1\r\nHost: {t}\r\nContent-Length: 4\r\n"
                      f"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n").encode(),  # 400
        "two-lengths": (f"POST http://{t}/echo HTTP/1.1\r\nHost: {t}\r\nContent-Length: 1\r\n"
                        f"Content-Length: 2\r\n\r\nab").encode(),         # 400
        "origin-form": f"GET /hello HTTP/1.1\r\nHost: {t}\r\n\r\n".encode(),  # 400
        "connect-no-port": f"CONNECT {t.split(':')[0]} HTTP/1.1\r\n\r\n".encode(),  # 400
        "https-uri": f"GET https://{t}/hello HTTP/1.1\r\nHost: {t}\r\n\r\n".encode(),  # 501
        "te-gzip": (f"POST http://{t}/echo HTTP/1.1\r\nHost: {t}\r\nTransfer-Encoding: gzip\r\n"
                    f"\r\n").encode(),                                    # 501
        "http2-version": f"GET http://{t}/hello HTTP/2.0\r\nHost: {t}\r\n\r\n".encode(),  # 505
        # the Host header cannot steer the request away from the URI's host
        "host-steer": f"GET http://{t}/hello HTTP/1.1\r\nHost: evil.test\r\n\r\n".encode(),
    }
    for name in a.cases:
        if name in cases and name != "host-steer":  # refusals: the proxy must close
            status, closed, body = http_status(cases[name])
            out(name, status, "closed" if closed else "open")
            out(f"{name}-after", http_status(get(t), False)[0])
        else:  # "host-steer", or "GET:<authority>": a plain GET for that authority
            raw = cases[name] if name in cases else get(name.split(":", 1)[1])
            status, _, body = http_status(raw, False)
            out(name, status, body.decode("latin-1").strip().replace(" ", "_") or "-")


def socks_handshake(s, auth):
    if auth:
        s.sendall(b"\x05\x01\x02")
        if s.recv(2) != b"\x05\x02":
            return False
        user, pw = auth.encode().split(b":", 1)
        s.sendall(bytes([1, len(user)]) + user + bytes([len(pw)]) + pw)
        return s.recv(2) == b"\x01\x00"
    s.sendall(b"\x05\x01\x00")
    return s.recv(2) == b"\x05\x00"


def socks_request(spec, auth=None):
    """The reply code to CMD:HOST:PORT as "0xNN" (or a word if none came)."""
    cmd, rest = spec.split(":", 1)
    host, port = rest.rsplit(":", 1)
    code = {"connect": 1, "bind": 2, "udp": 3}[cmd]
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
        addr = (b"\x01" if ip.version == 4 else b"\x04") + ip.packed
    except ValueError:
        addr = b"\x03" + bytes([len(host)]) + host.encode()
    s = connect()
    try:
        if not socks_handshake(s, auth):
            return "auth-refused"
        s.sendall(b"\x05" + bytes([code]) + b"\x00" + addr + struct.pack(">H", int(port)))
        reply = s.recv(4)
        return f"0x{reply[1]:02x}" if len(reply) >= 2 and reply[0] == 5 else "no-reply"
    except OSError as e:
        return errno.errorcode.get(e.errno, "error") if e.errno else "timeout"
    finally:
        s.close()


def cmd_socks(a):
    for spec in a.specs:
        out(spec, socks_request(spec, a.auth))


def tunnel(target):
    """A CONNECT tunnel: (socket, status)."""
    s = connect()
    s.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return s, int(data.split(b" ", 2)[1])
    except (OSError, IndexError, ValueError):
        return s, 0


def cmd_hold(a):
    held = [tunnel(a.target) for _ in range(a.n)]
    out("held", *[st for _, st in held])
    extra, st = tunnel(a.target)
    out("extra", st)
    extra.close()
    held[0][0].close()
    # the gateway may take a moment to see the close
    for _ in range(20):
        s, st = tunnel(a.target)
        s.close()
        if st == 200:
            break
        time.sleep(0.1)
    out("after-release", st)
    # the tunnels still held work
    s = held[1][0]
    s.sendall(f"GET /hello HTTP/1.1\r\nHost: {a.target}\r\n\r\n".encode())
    out("held-tunnel-works", read_response(s, False)[0])


def trickle(first, rest):
    """Open, send `first`, then one byte of `rest` every 0.2 s. Returns
    (ms until the proxy closed the connection, or -1 if it did not within
    8 s; what it sent before closing, as "-" or the hex of a SOCKS reply
    or the status of an HTTP response)."""
    t0 = time.monotonic()
    s = connect()
    s.sendall(first)
    got = b""
    for i in range(40):
        try:
            s.sendall(rest[i % len(rest):i % len(rest) + 1])
            s.settimeout(0.2)
            data = s.recv(65536)
            if data == b"":
                break
            got += data
        except socket.timeout:
            continue
        except OSError:
            break
    else:
        return -1, "-"
    s.close()
    ms = int((time.monotonic() - t0) * 1000)
    if got.startswith(b"HTTP/"):
        return ms, got.split(b" ")[1].decode()
    return ms, got.hex() or "-"


def cmd_slowloris(a):
    t = a.target
    res = {}
    head = f"GET http://{t}/hello HTTP/1.1\r\nHost: {t}\r\n".encode()
    threads = [
        threading.Thread(target=lambda: res.__setitem__("http", trickle(head, b"X-Slow: aaaaaaaa\r\n"))),
        # a greeting announcing 255 methods, sent one byte every 0.2 s
        threading.Thread(target=lambda: res.__setitem__("socks", trickle(b"\x05\xff", b"\x00"))),
    ]
    for th in threads:
        th.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    parallel = http_status(get(t))[0]
    out("parallel", parallel, int((time.monotonic() - t0) * 1000))
    for th in threads:
        th.join()
    out("http-cut-ms", *res["http"])
    out("socks-cut-ms", *res["socks"])


def cmd_burst(a):
    import urllib.error
    import urllib.request
    opener = urllib.request.build_opener(urllib.request.ProxyHandler(
        {"http": f"http://{PROXY[0]}:{PROXY[1]}"}))

    def status():
        try:
            with opener.open(a.url, timeout=TIMEOUT) as r:
                r.read()
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return 0

    codes = []
    while len(codes) < a.max:
        codes.append(status())
        if codes[-1] != 200:
            break
    out("codes", *codes)
    out("first-refusal", len(codes) if codes[-1] != 200 else 0, codes[-1])
    if a.wait is not None:
        time.sleep(a.wait)
        out("after-wait", status())


def cmd_contain(a):
    def tcp(host, port, family=socket.AF_INET):
        s = socket.socket(family)
        s.settimeout(3)
        try:
            s.connect((host, port))
            return "OPEN"
        except OSError as e:
            return "blocked-" + (errno.errorcode.get(e.errno, "") if e.errno else "timeout")
        finally:
            s.close()

    out("tcp-1.1.1.1:443", tcp("1.1.1.1", 443))
    out("tcp-127.0.0.1:host-port", tcp("127.0.0.1", a.port))
    out("tcp-[::1]:host-port", tcp("::1", a.port, socket.AF_INET6))
    out("tcp-127.0.0.1:3129", tcp("127.0.0.1", 3129))
    for name in ("example.com", "api.test"):
        try:
            socket.getaddrinfo(name, 443)
            out(f"dns-{name}", "RESOLVED")
        except OSError:
            out(f"dns-{name}", "blocked")
    # UDP: connect only sets the route; nothing is sent to a non-loopback address
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.connect(("8.8.8.8", 53))
        out("udp-8.8.8.8:53", "ROUTED")
    except OSError as e:
        out("udp-8.8.8.8:53", "blocked-" + errno.errorcode.get(e.errno, ""))
    u.close()
    # No DNS server on the sandbox's loopback either
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(1)
    try:
        u.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01",
                 ("127.0.0.1", 53))
        u.recv(512)
        out("udp-127.0.0.1:53", "ANSWERED")
    except OSError:
        out("udp-127.0.0.1:53", "blocked")
    u.close()


def cmd_wait_lost(a):
    t0 = time.monotonic()
    while time.monotonic() - t0 < a.seconds:
        s = socket.socket()
        s.settimeout(1)
        try:
            s.connect(PROXY)
        except (ConnectionRefusedError, PermissionError):
            out("lost", int((time.monotonic() - t0) * 1000))
            return
        except OSError:
            pass
        finally:
            s.close()
        time.sleep(0.1)
    out("still-reachable")


def main():
    global PROXY
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--proxy", default="127.0.0.1:3128")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("requests")
    p.add_argument("target")
    p.add_argument("cases", nargs="+")
    p = sub.add_parser("socks")
    p.add_argument("--auth")
    p.add_argument("specs", nargs="+")
    p = sub.add_parser("hold")
    p.add_argument("n", type=int)
    p.add_argument("target")
    p = sub.add_parser("slowloris")
    p.add_argument("target")
    p = sub.add_parser("burst")
    p.add_argument("url")
    p.add_argument("max", type=int)
    p.add_argument("wait", type=float, nargs="?")
    p = sub.add_parser("contain")
    p.add_argument("port", type=int)
    p = sub.add_parser("wait-lost")
    p.add_argument("seconds", type=float)
    a = ap.parse_args()
    host, port = a.proxy.rsplit(":", 1)
    PROXY = (host, int(port))
    {"requests": cmd_requests, "socks": cmd_socks, "hold": cmd_hold, "slowloris": cmd_slowloris,
     "burst": cmd_burst, "contain": cmd_contain, "wait-lost": cmd_wait_lost}[a.cmd](a)


if __name__ == "__main__":
    main()
