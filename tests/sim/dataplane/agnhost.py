#!/usr/bin/env python3
"""The two agnhost subcommands the lab uses, for pods simulated as network namespaces (stdlib only).

  agnhost netexec --http-port=8080 [--hostname=NAME]   TCP/HTTP server (GET /hostname → NAME, / → NOW: …)
  agnhost connect HOST:PORT --timeout=3s --protocol=tcp
      exit 0 when connected; otherwise exit 1 with TIMEOUT, REFUSED, DNS or OTHER on stderr (like agnhost).
"""

import http.server
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


def netexec(args):
    port = int(opt(args, "http-port", "8080"))
    hostname = opt(args, "hostname") or socket.gethostname()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            path = self.path.split("?")[0]
            if path == "/hostname":
                body = hostname
            elif path == "/clientip":
                body = "%s:%s" % self.client_address[:2]
            else:
                body = "NOW: %s" % time.strftime("%Y-%m-%d %H:%M:%S")
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_):
            pass

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
