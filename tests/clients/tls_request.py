#!/usr/bin/env python3
"""One remoting request over TLS made with Python's ssl module (OpenSSL): a TLS stack and a
frame encoder written outside the Rust code under test.

Connects to --addr host:port, runs the TLS handshake (checking the server against --ca unless
--no-verify; presenting --cert/--key when given), sends one request with a JSON header
(--code, ext fields from --ext key=value, optional --body) and prints one JSON line:
{"code", "remark", "ext", "body_len", "tls_version", "cipher"}, or {"error"} with exit 1.
--plain sends the same request without TLS (to see a port refuse it). Bounded by --timeout-s.
Plain Python 3, no dependencies.
"""

import argparse
import json
import socket
import ssl
import struct
import sys


def frame(code, ext, body):
    header = json.dumps({
        "code": code, "flag": 0, "language": "PYTHON", "opaque": 7, "version": 393,
        "serializeTypeCurrentRPC": "JSON", "extFields": ext,
    }).encode()
    # Length field covers the header-length word, the header and the body; the header-length
    # word's high byte is the serialize type (0: JSON).
    return struct.pack(">ii", 4 + len(header) + len(body), len(header)) + header + body


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed by the server after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--addr", required=True)
    p.add_argument("--code", type=int, required=True)
    p.add_argument("--ext", action="append", default=[])
    p.add_argument("--body", default="")
    p.add_argument("--ca")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--no-verify", action="store_true")
    p.add_argument("--plain", action="store_true")
    p.add_argument("--timeout-s", type=float, default=10)
    a = p.parse_args()
    host, port = a.addr.rsplit(":", 1)
    out = {}
    try:
        sock = socket.create_connection((host, int(port)), timeout=a.timeout_s)
        if not a.plain:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            if a.no_verify:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            else:
                ctx.load_verify_locations(a.ca)
            if a.cert:
                ctx.load_cert_chain(a.cert, a.key)
            sock = ctx.wrap_socket(sock, server_hostname=host)
            out["tls_version"] = sock.version()
            out["cipher"] = sock.cipher()[0]
        ext = dict(kv.split("=", 1) for kv in a.ext)
        sock.sendall(frame(a.code, ext, a.body.encode()))
        (length,) = struct.unpack(">i", read_exact(sock, 4))
        rest = read_exact(sock, length)
        (hlen,) = struct.unpack(">i", rest[:4])
        header = json.loads(rest[4:4 + (hlen & 0xFFFFFF)])
        out.update({"code": header.get("code"), "remark": header.get("remark"),
                    "ext": header.get("extFields", {}), "body_len": len(rest) - 4 - (hlen & 0xFFFFFF)})
        print(json.dumps(out))
        return 0
    except Exception as e:  # one JSON line whatever happened
        out["error"] = "%s: %s" % (type(e).__name__, e)
        print(json.dumps(out))
        return 1


if __name__ == "__main__":
    sys.exit(main())
