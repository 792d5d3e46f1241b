#!/usr/bin/env python3
"""The two agnhost subcommands the lab uses, for pods simulated as network namespaces (stdlib only).

  agnhost netexec --http-port=8080 [--udp-port=8081] [--hostname=NAME] [--log-file=PATH]
      HTTP server (GET /hostname -> NAME, /clientip, /echo?msg=X -> X, anything else -> NOW: ...) and UDP server
      (hostname, echo X, clientip; --udp-port=-1: none). Every request is logged as agnhost's netexec logs it
      (Go's log package on stderr: "YYYY/MM/DD HH:MM:SS <text>"); --log-file also appends each line in the CRI
      log format a container runtime writes ("<RFC 3339 time> stderr F <line>"), which kwok serves as the
      container's log.
  agnhost connect HOST:PORT --timeout=3s --protocol=tcp
      exit 0 when connected; otherwise exit 1 with TIMEOUT, REFUSED, DNS or OTHER on stderr (like agnhost).
"""

import datetime
import http.server
import threading
import urllib.parse
import socket
import socketserver
import sys
import time


def opt(args, name, default=None):
    for arg in args:
        if arg.startswith("--%s=" % name):
            return arg.split("=", 1)[1]
    return default


def connect(args):
    target = next((a for a in args if not a.startswith("-")), None)
    if not target:
        print("usage: agnhost connect HOST:PORT", file=sys.stderr)
        return 2
    timeout = float(opt(args, "timeout", "5s").rstrip("s") or 5)
    host, _, port = target.rpartition(":")
    host = host.strip("[]")
    try:
        infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        print("DNS: %s" % exc, file=sys.stderr)
        return 1
    family, kind, proto, _, addr = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.settimeout(timeout)
    try:
        sock.connect(addr)
    except socket.timeout:
        print("TIMEOUT", file=sys.stderr)
        return 1
    except ConnectionRefusedError:
        print("REFUSED", file=sys.stderr)
        return 1
    except OSError as exc:
        print("OTHER: %s" % exc, file=sys.stderr)
        return 1
    finally:
        sock.close()
    return 0


class DualStackServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


class Logger(object):
    """netexec's log lines: Go's ``log`` (stderr, ``YYYY/MM/DD HH:MM:SS`` prefix, local time), also appended to
    ``path`` in the CRI log format (``<RFC 3339 nano UTC> stderr F <line>``)."""

    def __init__(self, path=None):
        self.path = path
        self.lock = threading.Lock()

    def log(self, text):
        now = datetime.datetime.now(datetime.timezone.utc)
        line = "%s %s" % (now.astimezone().strftime("%Y/%m/%d %H:%M:%S"), text.rstrip("\n"))
        with self.lock:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
            if self.path:
                with open(self.path, "a") as handle:
                    handle.write("%s stderr F %s\n" % (now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), line))


def udp_server(port, logger, hostname):
    """netexec's startUDPServer: lower-cased, trimmed commands; each answered and logged as netexec does."""
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", port))
    while True:
        data, peer = sock.recvfrom(2048)
        text = data.decode("utf-8", "replace").strip().lower()
        host = peer[0][7:] if peer[0].startswith("::ffff:") else peer[0]
        client = "[%s]:%d" % (host, peer[1]) if ":" in host else "%s:%d" % (host, peer[1])
        if not text:
            continue
        if text == "hostname":
            logger.log("Sending udp hostName response")
            reply = hostname
        elif text.startswith("echo "):
            reply = text[len("echo "):]
            logger.log("Echoing %s to UDP client %s" % (reply, client))
        elif text == "clientip":
            logger.log("Sending clientip back to UDP client %s" % client)
            reply = client
        else:
            logger.log("Unknown UDP command received from %s: %s" % (client, text))
            continue
        sock.sendto(reply.encode(), peer)


def netexec(args):
    port = int(opt(args, "http-port", "8080"))
    udp_port = int(opt(args, "udp-port", "8081"))
    hostname = opt(args, "hostname") or socket.gethostname()
    logger = Logger(opt(args, "log-file"))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            if url.path == "/hostname":
                logger.log("GET /hostname")
                body = hostname
            elif url.path == "/clientip":
                logger.log("GET /clientip")
                body = "%s:%s" % self.client_address[:2]
            elif url.path == "/echo":
                msg, code = (query.get("msg") or [""])[0], (query.get("code") or [""])[0]
                logger.log("GET /echo?msg=%s&code=%s" % (msg, code))
                body = msg
            else:
                logger.log("GET /")  # the root handler serves every other path, and logs only this
                body = "NOW: %s" % time.strftime("%Y-%m-%d %H:%M:%S")
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_):
            pass

    if udp_port > 0:
        threading.Thread(target=udp_server, args=(udp_port, logger, hostname), daemon=True).start()
    DualStackServer(("::", port), Handler).serve_forever()
    return 0


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "connect":
        return connect(rest)
    if cmd == "netexec":
        return netexec(rest)
    print("agnhost stand-in: subcommand %r not simulated" % cmd, file=sys.stderr)
    return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
