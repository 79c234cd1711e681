#!/usr/bin/env python3
"""A recording proxy in front of a name server and a broker, for seeding the fuzz corpus with the
frames real clients send (and what they are answered).

    capture_traffic.py --namesrv UP_HOST:PORT --broker UP_HOST:PORT \
        --namesrv-listen 127.0.0.1:P1 --broker-listen 127.0.0.1:P2 --out FILE [--duration-s 600]

Clients are pointed at the name-server listener. Route answers of the name server are rewritten so
that the upstream broker's address reads as the broker listener's, so every frame a client sends
to the broker passes through this proxy too. Brokers register with the upstream name server
directly (their traffic is ours, not a client's). The store-host port of records in pull answers
is rewritten the same way, as clients send failed messages back to a message's store host. Frames are recorded as they arrive (a client's
bytes unchanged; a rewritten route answer as the client received it), at most --per-kind of each
(direction, port, code, request code, header keys, property names) and none over --max-frame bytes, so the file stays small.

Output: FILE holds records `tag(1) request_code(2) frame`: tag is `>` (client to server) or `<`
(server to client); request_code (big-endian i16) is, for an answer, the code of the request with
its opaque, else -1; frame is a whole remoting frame with its 4-byte length prefix. Stops after --duration-s or on SIGTERM/SIGINT, writing FILE first.
Plain Python 3, no dependencies.
"""

import argparse
import json
import signal
import socket
import struct
import sys
import threading
import time


def split_address(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def property_names(ext):
    """The names in a send's property string (`properties`, or `i` in a V2 header)."""
    text = ext.get("properties", ext.get("i", ""))
    return tuple(sorted(pair.split("\x01", 1)[0] for pair in text.split("\x02") if pair))


def header_keys(frame):
    """(code, flag, sorted ext-field keys, property names, language) of a whole frame, or None if its header
    does not decode."""
    try:
        (total, marker) = struct.unpack_from(">ii", frame, 0)
        header_len = marker & 0xFFFFFF
        header = frame[8:8 + header_len]
        if marker >> 24 == 0:
            obj = json.loads(header)
            ext = obj.get("extFields") or {}
            return (obj.get("code"), obj.get("flag", 0), tuple(sorted(ext.keys())), property_names(ext),
                    obj.get("language"))
        code, lang, _version, _opaque, flag = struct.unpack_from(">hBhii", header, 0)
        pos = 13
        (remark_len,) = struct.unpack_from(">i", header, pos)
        pos += 4 + max(remark_len, 0)
        (ext_len,) = struct.unpack_from(">i", header, pos)
        pos += 4
        end, ext = pos + ext_len, {}
        while pos < end:
            (key_len,) = struct.unpack_from(">h", header, pos)
            key = header[pos + 2:pos + 2 + key_len].decode("utf-8", "replace")
            pos += 2 + key_len
            (value_len,) = struct.unpack_from(">i", header, pos)
            ext[key] = header[pos + 4:pos + 4 + value_len].decode("utf-8", "replace")
            pos += 4 + value_len
        return code, flag, tuple(sorted(ext.keys())), property_names(ext), lang
    except (ValueError, struct.error, UnicodeDecodeError):
        return None


def opaque_of(frame):
    try:
        marker = struct.unpack_from(">i", frame, 4)[0]
        header = frame[8:8 + (marker & 0xFFFFFF)]
        if marker >> 24 == 0:
            return json.loads(header).get("opaque")
        return struct.unpack_from(">i", header, 5)[0]
    except (ValueError, struct.error, UnicodeDecodeError):
        return None


def rewrite_body(frame, old, new):
    """The frame with `old` replaced by `new` in its body, its length prefix fixed."""
    marker = struct.unpack_from(">i", frame, 4)[0]
    header_end = 8 + (marker & 0xFFFFFF)
    body = frame[header_end:]
    if old not in body:
        return frame
    body = body.replace(old, new)
    head = frame[4:header_end]
    return struct.pack(">i", len(head) + len(body)) + head + body


PULL_MESSAGE = 11
MAGICS = (0xDAA320A7, 0xDAA320AB)


def rewrite_store_port(frame, old_port, new_port):
    """A pull answer with the store-host port of each record moved from `old_port` to `new_port`:
    clients send a failed message back to the broker named by its store host."""
    marker = struct.unpack_from(">i", frame, 4)[0]
    body = bytearray(frame[8 + (marker & 0xFFFFFF):])
    pos = 0
    while pos + 8 <= len(body):
        size, magic = struct.unpack_from(">iI", body, pos)
        if size <= 0 or magic not in MAGICS or pos + size > len(body):
            break
        sys_flag = struct.unpack_from(">i", body, pos + 36)[0]
        born_host = 20 if sys_flag & 0x10 else 8
        store_host = pos + 48 + born_host + 8
        port_at = store_host + (16 if sys_flag & 0x20 else 4)
        if struct.unpack_from(">i", body, port_at)[0] == old_port:
            struct.pack_into(">i", body, port_at, new_port)
        pos += size
    return frame[:8 + (marker & 0xFFFFFF)] + bytes(body)


class Recorder:
    def __init__(self, per_kind, max_frame):
        self.lock = threading.Lock()
        self.records = []
        self.kinds = {}
        self.per_kind = per_kind
        self.max_frame = max_frame

    def record(self, tag, port, frame, request_code=None):
        if len(frame) > self.max_frame:
            return
        kind = (tag, port, request_code, header_keys(frame))
        with self.lock:
            seen = self.kinds.get(kind, 0)
            if seen >= self.per_kind:
                return
            self.kinds[kind] = seen + 1
            code = struct.pack(">h", -1 if request_code is None else request_code)
            self.records.append(tag + code + frame)

    def write(self, path):
        with self.lock:
            data = b"".join(self.records)
        with open(path, "wb") as out:
            out.write(data)
        return len(self.records), len(data)


def take_frames(buf):
    frames = []
    while len(buf) >= 4:
        (total,) = struct.unpack_from(">i", buf, 0)
        if total < 0 or len(buf) < 4 + total:
            break
        frames.append(bytes(buf[:4 + total]))
        del buf[:4 + total]
    return frames


class Connection:
    """One client connection and its upstream; two pumps, one per direction."""

    def __init__(self, client, upstream, port, recorder, rewrite, store_port=None):
        self.client = client
        self.store_port = store_port
        self.upstream = upstream
        self.port = port
        self.recorder = recorder
        self.rewrite = rewrite
        self.requests = {}

    def start(self):
        threading.Thread(target=self.pump, args=(self.client, self.upstream, b">"), daemon=True).start()
        threading.Thread(target=self.pump, args=(self.upstream, self.client, b"<"), daemon=True).start()

    def pump(self, source, sink, tag):
        buf = bytearray()
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk:
                    break
                buf += chunk
                for frame in take_frames(buf):
                    self.handle(frame, sink, tag)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def handle(self, frame, sink, tag):
        keys = header_keys(frame)
        is_response = keys is not None and keys[1] is not None and keys[1] & 1
        code = None
        if is_response:
            asked_by = b"<" if tag == b">" else b">"
            code = self.requests.pop((asked_by, opaque_of(frame)), None)
            if self.rewrite:
                frame = rewrite_body(frame, *self.rewrite)
            if self.store_port and code == PULL_MESSAGE and keys[0] == 0:
                frame = rewrite_store_port(frame, *self.store_port)
        elif keys is not None:
            self.requests[(tag, opaque_of(frame))] = keys[0]
        self.recorder.record(tag, self.port, frame, code)
        sink.sendall(frame)


def serve(listen, upstream, recorder, rewrite, store_port, stop):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(listen)
    server.listen(64)
    server.settimeout(0.5)
    while not stop.is_set():
        try:
            client, _ = server.accept()
        except socket.timeout:
            continue
        try:
            up = socket.create_connection(upstream, timeout=5)
            up.settimeout(None)
        except OSError as err:
            print(f"capture_traffic: upstream {upstream}: {err}", file=sys.stderr)
            client.close()
            continue
        for sock in (client, up):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        Connection(client, up, listen[1], recorder, rewrite, store_port).start()
    server.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--namesrv", required=True, help="upstream name server HOST:PORT")
    p.add_argument("--broker", required=True, help="upstream broker HOST:PORT (as it registers)")
    p.add_argument("--namesrv-listen", required=True)
    p.add_argument("--broker-listen", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--per-kind", type=int, default=3)
    p.add_argument("--max-frame", type=int, default=32768)
    p.add_argument("--duration-s", type=float, default=600)
    a = p.parse_args()

    recorder = Recorder(a.per_kind, a.max_frame)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    broker_listen = split_address(a.broker_listen)
    rewrite = (a.broker.encode(), f"{broker_listen[0]}:{broker_listen[1]}".encode())
    threads = [
        threading.Thread(target=serve, args=(split_address(a.namesrv_listen), split_address(a.namesrv),
                                             recorder, rewrite, None, stop), daemon=True),
        threading.Thread(target=serve, args=(broker_listen, split_address(a.broker), recorder, None,
                                             (split_address(a.broker)[1], broker_listen[1]), stop),
                         daemon=True),
    ]
    for thread in threads:
        thread.start()
    print("capture_traffic: listening", flush=True)
    deadline = time.monotonic() + a.duration_s
    while not stop.is_set() and time.monotonic() < deadline:
        stop.wait(0.5)
    stop.set()
    count, size = recorder.write(a.out)
    print(f"capture_traffic: {count} frames, {size} bytes -> {a.out}", flush=True)


if __name__ == "__main__":
    main()
