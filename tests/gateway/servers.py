#!/usr/bin/env python3
"""Upstream servers for the egress gateway tests (stdlib only).

    servers.py origin [--tls CERT KEY]   /hello, /bytes/N, /echo-headers, /slow, POST /echo
    servers.py files DIR [--tls CERT KEY] static files (the pip "simple" index)
    servers.py git DIR [--tls CERT KEY]   git smart HTTP (git http-backend, GIT_PROJECT_ROOT=DIR)
    servers.py refuse                     a port with nothing listening
    servers.py reset                      accepts, then closes with RST (SO_LINGER 0) once
                                         the request's first bytes are in (or after 1 s)
    servers.py hang                       accepts, never reads or answers
    servers.py garbage                    answers every connection with non-HTTP bytes
    servers.py blackhole                  connects never complete (SYNs dropped): for connect timeouts

Each binds 127.0.0.1 on a free port, prints the port as the first line of
stdout, and serves until killed. It also exits by itself when its parent goes
away or after --ttl seconds (default 600), so a test that dies cannot leave it
behind. HTTP is 1.1 with keep-alive.
"""
import argparse
import http.server
import json
import os
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import threading
import time


def announce(port):
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()


def watchdog(ttl):
    parent = os.getppid()
    deadline = time.monotonic() + ttl

    def watch():
        while time.monotonic() < deadline and os.getppid() == parent:
            time.sleep(0.2)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def read_body(handler):
    """The request body: Content-Length or chunked (decoded)."""
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        out = b""
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return out
            out += handler.rfile.read(size)
            handler.rfile.readline()
    return handler.rfile.read(int(handler.headers.get("Content-Length") or 0))


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    tls = None  # an ssl.SSLContext, or None for plain HTTP

    def finish_request(self, request, client_address):
        # The TLS handshake runs in the connection's own thread: a client
        # that never sends a ClientHello must not block the accept loop.
        if self.tls:
            request.settimeout(10)
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                return
            request.settimeout(None)
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        pass  # clients that go away are part of the tests


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120

    def log_message(self, *args):
        pass

    def reply(self, body, ctype="text/plain", status=200):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class Origin(Handler):
    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/hello":
            self.reply(f"hello from {self.headers.get('Host', '')}\n".encode())
        elif path.startswith("/bytes/") and path[7:].isdigit():
            n = int(path[7:])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(n))
            self.end_headers()
            chunk = b"x" * 65536
            while n > 0:
                self.wfile.write(chunk[:n])
                n -= len(chunk)
        elif path == "/echo-headers":
            self.reply(json.dumps(dict(self.headers.items())).encode(), "application/json")
        elif path == "/slow":
            time.sleep(30)
            self.reply(b"slow\n")
        else:
            self.reply(b"not found\n", status=404)

    do_HEAD = do_GET

    def do_POST(self):
        body = read_body(self)
        if self.path == "/echo":
            self.reply(body, self.headers.get("Content-Type", "application/octet-stream"))
        else:
            self.reply(b"not found\n", status=404)


class Files(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120

    def log_message(self, *args):
        pass


class Git(Handler):
    """git smart HTTP: each request runs `git http-backend` as a CGI."""
    root = None

    def cgi(self):
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
        }
        body = read_body(self) if self.command == "POST" else b""
        env["CONTENT_LENGTH"] = str(len(body))
        out = subprocess.run(["git", "http-backend"], input=body, env=env,
                             capture_output=True, timeout=60).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = out.partition(b"\n\n")
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = cgi


def serve_http(handler, tls):
    srv = Server(("127.0.0.1", 0), handler)
    if tls:
        srv.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        srv.tls.load_cert_chain(tls[0], tls[1])
    announce(srv.server_address[1])
    srv.serve_forever()


def serve_tcp(on_accept):
    """A bare TCP listener calling on_accept(conn) in a thread per connection."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(128)
    announce(ls.getsockname()[1])
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=on_accept, args=(conn,), daemon=True).start()


def on_reset(conn):
    # Wait (up to 1 s) for the request's first bytes so that the reset comes
    # when the client waits for an answer, not while it is still connecting.
    conn.settimeout(1)
    try:
        conn.recv(1, socket.MSG_PEEK)
    except OSError:
        pass
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()  # linger 0: RST instead of FIN


held = []


def on_hang(conn):
    held.append(conn)  # keep it open, unread, until the process ends


def on_garbage(conn):
    try:
        conn.settimeout(2)
        conn.recv(65536)  # the request (if any), so that closing sends FIN, not RST
        conn.sendall(b"\x00\xffSSH-2.0-not-http \x01\x02 garbage garbage\r\n\r\n")
        conn.shutdown(socket.SHUT_WR)
        while conn.recv(65536):
            pass
    except OSError:
        pass
    conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["origin", "files", "git", "refuse", "reset", "hang", "garbage",
                                     "blackhole"])
    ap.add_argument("dir", nargs="?")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--ttl", type=float, default=600)
    a = ap.parse_args()
    if a.kind in ("files", "git") and not a.dir:
        ap.error(f"{a.kind} needs a DIR")
    watchdog(a.ttl)
    if a.kind == "origin":
        serve_http(Origin, a.tls)
    elif a.kind == "files":
        root = os.path.abspath(a.dir)
        serve_http(lambda *args: Files(*args, directory=root), a.tls)
    elif a.kind == "git":
        Git.root = os.path.abspath(a.dir)
        serve_http(Git, a.tls)
    elif a.kind == "refuse":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        announce(s.getsockname()[1])  # bound (so no one else takes it), never listening: RST
        threading.Event().wait()
    elif a.kind == "blackhole":
        # A listener whose accept queue (backlog 0: one entry) is full and
        # never drained: Linux drops further SYNs (tcp_abort_on_overflow=0,
        # the default), so a connect() neither succeeds nor fails until the
        # client gives up. Loopback's stand-in for an unreachable host.
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(0)
        filler = socket.create_connection(ls.getsockname(), timeout=5)
        announce(ls.getsockname()[1])
        threading.Event().wait()
        filler.close()
    else:
        serve_tcp({"reset": on_reset, "hang": on_hang, "garbage": on_garbage}[a.kind])


if __name__ == "__main__":
    main()
