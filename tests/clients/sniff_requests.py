#!/usr/bin/env python3
"""A fake RocketMQ endpoint that records what a client sends (debugging aid for the harness).

Listens on --listen host:port, decodes every remoting frame (JSON or ROCKETMQ binary header) and
prints one JSON line per frame on stdout: {"t", "conn", "peer", "serialize", "code", "flag",
"opaque", "language", "version", "remark", "ext", "body_len", "body"(first 200 bytes)}. By default
it never answers; --respond CODE answers every request with that response code (e.g. 17
TOPIC_NOT_EXIST, 1 SYSTEM_ERROR) and a JSON header like Apache's. Stops after --duration-s.
Plain Python 3, no dependencies.
"""

import argparse
import json
import select
import socket
import struct
import sys
import time


def decode_rocketmq_header(h):
    code, lang, version, opaque, flag = struct.unpack(">hBhii", h[:13])
    pos = 13
    (rlen,) = struct.unpack(">i", h[pos:pos + 4])
    pos += 4
    remark = h[pos:pos + rlen].decode("utf-8", "replace") if rlen > 0 else None
    pos += max(rlen, 0)
    (elen,) = struct.unpack(">i", h[pos:pos + 4])
    pos += 4
    ext, end = {}, pos + max(elen, 0)
    while pos < end:
        (kl,) = struct.unpack(">h", h[pos:pos + 2])
        k = h[pos + 2:pos + 2 + kl].decode("utf-8", "replace")
        pos += 2 + kl
        (vl,) = struct.unpack(">i", h[pos:pos + 4])
        v = h[pos + 4:pos + 4 + vl].decode("utf-8", "replace")
        pos += 4 + vl
        ext[k] = v
    return {"code": code, "language": lang, "version": version, "opaque": opaque, "flag": flag,
            "remark": remark, "extFields": ext}


def frames(buf):
    """Split buf into complete frames (without the length prefix) and the unconsumed rest."""
    out = []
    while len(buf) >= 4:
        (total,) = struct.unpack(">i", buf[:4])
        if len(buf) < 4 + total:
            break
        out.append(buf[4:4 + total])
        buf = buf[4 + total:]
    return out, buf


def response(code, opaque):
    header = json.dumps({"code": code, "flag": 1, "language": "JAVA", "opaque": opaque,
                         "remark": "sniff_requests", "serializeTypeCurrentRPC": "JSON",
                         "version": 373}).encode()
    return struct.pack(">ii", 4 + len(header), len(header)) + header


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", default="127.0.0.1:9876")
    p.add_argument("--duration-s", type=float, default=20.0)
    p.add_argument("--respond", type=int, default=None, help="answer every request with this code")
    a = p.parse_args()
    host, port = a.listen.rsplit(":", 1)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, int(port)))
    srv.listen(16)
    sys.stderr.write("sniff_requests: listening on %s for %.1fs\n" % (a.listen, a.duration_s))
    sys.stderr.flush()
    t0 = time.monotonic()
    conns = {}  # sock -> [id, peer, buffer]
    n = 0
    while time.monotonic() - t0 < a.duration_s:
        r, _, _ = select.select([srv] + list(conns), [], [], 0.2)
        for s in r:
            if s is srv:
                c, peer = srv.accept()
                n += 1
                conns[c] = [n, "%s:%d" % peer, b""]
                continue
            data = s.recv(65536)
            st = conns[s]
            if not data:
                print(json.dumps({"t": round(time.monotonic() - t0, 3), "conn": st[0], "closed": True}), flush=True)
                del conns[s]
                s.close()
                continue
            fs, st[2] = frames(st[2] + data)
            for f in fs:
                (hl,) = struct.unpack(">i", f[:4])
                ser, hlen = (hl >> 24) & 0xFF, hl & 0xFFFFFF
                raw = f[4:4 + hlen]
                body = f[4 + hlen:]
                rec = {"t": round(time.monotonic() - t0, 3), "conn": st[0], "peer": st[1]}
                if ser == 0:
                    rec["serialize"] = "JSON"
                    rec["raw_header"] = raw.decode("utf-8", "replace")
                    try:
                        rec.update(json.loads(raw))
                    except ValueError as e:
                        rec["header_error"] = str(e)
                else:
                    rec["serialize"] = "ROCKETMQ"
                    rec.update(decode_rocketmq_header(raw))
                rec["body_len"] = len(body)
                rec["body"] = body[:200].decode("utf-8", "replace")
                print(json.dumps(rec), flush=True)
                is_oneway = bool(rec.get("flag", 0) & 2)
                if a.respond is not None and not is_oneway and not (rec.get("flag", 0) & 1):
                    s.sendall(response(a.respond, rec.get("opaque", 0)))
    for c in conns:
        c.close()
    srv.close()


if __name__ == "__main__":
    main()
