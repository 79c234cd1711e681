#!/usr/bin/env python3
"""Builds the seed corpus of the fuzz targets (fuzz/corpus/<target>/) and the command header
dictionary (fuzz/dicts/command_header.dict), reproducibly, from real data only:

- the stores written by Apache RocketMQ 4.9.4 (fixture tarballs, default
  /work/shared/fixtures/apache-4.9.4-stores): commit log records, property strings, message ids,
  consume queue files, index files, metadata JSON files, broker.conf, commit log prefixes;
- traffic captured in the protocol crate's fixtures and tests: hex records, compressed
  register bodies, JSON headers and bodies, frames, SQL92 expressions;
- frames the independent clients (C++ 1.2 and 2.x, ali-ons) sent and were answered, recorded by
  fuzz/capture_clients.sh into fuzz/traffic/*.frames: every request type they send, with their
  headers, properties, heartbeat bodies and subscription expressions.

Usage: fuzz/seed_corpus.py [--fixtures DIR]. Each target's seed directory is replaced; files are
named by a short description and a content hash. The whole corpus stays well under 2 MiB.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import struct
import tarfile
import tempfile
import zlib
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
REPO = FUZZ.parent
PROTOCOL = REPO / "broker" / "protocol"
SERVER = REPO / "broker" / "server"

MAGIC_V1 = 0xDAA320A7
MAGIC_V2 = 0xDAA320AB
BLANK_MAGIC = 0xCBD43194
BORNHOST_V6 = 0x10
STOREHOST_V6 = 0x20

corpus: dict[str, dict[str, bytes]] = {}


def add(target: str, desc: str, data: bytes) -> None:
    """Adds one seed; the same bytes under one target are kept once."""
    seeds = corpus.setdefault(target, {})
    if data in seeds.values():
        return
    digest = hashlib.sha1(data).hexdigest()[:12]
    seeds[f"{desc}-{digest}"] = data


# ---------------------------------------------------------------------------------------------
# Commit log records


def parse_record(buf: bytes, pos: int):
    """The fields of the record at `pos`, or None (blank, zero or malformed)."""
    if pos + 8 > len(buf):
        return None
    size, magic = struct.unpack_from(">iI", buf, pos)
    if size <= 0 or magic not in (MAGIC_V1, MAGIC_V2) or pos + size > len(buf):
        return None
    raw = buf[pos : pos + size]
    queue_id, flag = struct.unpack_from(">ii", raw, 12)
    queue_offset, physical_offset = struct.unpack_from(">qq", raw, 20)
    sys_flag = struct.unpack_from(">i", raw, 36)[0]
    at = 48 + (20 if sys_flag & BORNHOST_V6 else 8)
    store_timestamp = struct.unpack_from(">q", raw, at)[0]
    store_host_at = at + 8
    store_host_len = 16 if sys_flag & STOREHOST_V6 else 4
    store_ip = raw[store_host_at : store_host_at + store_host_len]
    store_port = struct.unpack_from(">i", raw, store_host_at + store_host_len)[0]
    at = store_host_at + store_host_len + 4 + 4 + 8
    body_len = struct.unpack_from(">i", raw, at)[0]
    body = raw[at + 4 : at + 4 + body_len]
    at += 4 + body_len
    if magic == MAGIC_V2:
        topic_len = struct.unpack_from(">H", raw, at)[0]
        at += 2
    else:
        topic_len = raw[at]
        at += 1
    topic = raw[at : at + topic_len].decode("utf-8", "replace")
    at += topic_len
    props_len = struct.unpack_from(">h", raw, at)[0]
    props = raw[at + 2 : at + 2 + max(props_len, 0)]
    return {
        "raw": raw,
        "size": size,
        "queue_id": queue_id,
        "flag": flag,
        "queue_offset": queue_offset,
        "physical_offset": physical_offset,
        "sys_flag": sys_flag,
        "store_timestamp": store_timestamp,
        "store_ip": store_ip,
        "store_port": store_port,
        "body": body,
        "topic": topic,
        "props": props,
    }


def commit_log_records(store: Path):
    """Every record of a store's commit log, in order, with the file it came from."""
    for path in sorted((store / "commitlog").iterdir()):
        buf = path.read_bytes()
        pos = 0
        while True:
            record = parse_record(buf, pos)
            if record is None:
                break
            record["file"] = path
            record["pos"] = pos
            yield record
            pos += record["size"]


def pick_records(records):
    """A few records of every kind: topic, sysFlag, size class, with and without tags."""
    picked, kinds = [], {}
    for r in records:
        props = r["props"]
        size_class = min(r["size"].bit_length(), 13)
        kind = (r["topic"], r["sys_flag"], size_class, b"TAGS\x01" in props, b"DELAY\x01" in props)
        if kinds.get(kind, 0) >= 2 or r["size"] > 6000:
            continue
        kinds[kind] = kinds.get(kind, 0) + 1
        picked.append(r)
    return picked


def hex_fixture(path: Path) -> bytes:
    out = bytearray()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out += bytes.fromhex(line)
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# Rust sources: literals captured from real peers


def raw_string_literals(path: Path):
    """The contents of `r#"..."#` and `br#"..."#` literals."""
    return re.findall(r'b?r#"(.*?)"#', path.read_text(), re.S)


def frame(header: bytes, body: bytes, serialize_type: int) -> bytes:
    return struct.pack(">ii", 4 + len(header) + len(body), serialize_type << 24 | len(header)) + header + body


def header_list():
    """The header types of the command_header target, in its order: (module, struct)."""
    text = (FUZZ / "fuzz_targets" / "command_header.rs").read_text()
    return re.findall(r"^\s*check::<(\w+)::(\w+)>,", text, re.M)


def header_fields(module: str, struct_name: str):
    """(java key, rust type) of each field of a `command_header!` struct."""
    text = (PROTOCOL / "src" / "command" / f"{module}.rs").read_text()
    start = text.index(f"pub struct {struct_name} {{")
    body = text[start : text.index("\n    }", start)]
    return re.findall(r"^\s*\w+\s*:\s*([\w<>]+)\s*=>\s*\"(\w+)\"", body, re.M)


def sample_value(rust_type: str) -> str:
    inner = rust_type.removeprefix("Option<").removesuffix(">")
    return {
        "i32": "1",
        "i64": "1700000000000",
        "bool": "true",
        "BoundaryType": "UPPER",
        "TopicFilterType": "SINGLE_TAG",
    }.get(inner, "T")


# ---------------------------------------------------------------------------------------------


def seed_records(stores: dict[str, Path]) -> None:
    for name in ("record_v1_ipv4", "record_v1_bornhost_ipv6"):
        raw = hex_fixture(PROTOCOL / "src" / "message" / "fixtures" / f"{name}.hex")
        add("record_decode", name, raw)
    for store_name, store in stores.items():
        records = list(commit_log_records(store))
        for r in pick_records(records):
            add("record_decode", f"{store_name}-{r['topic']}-sys{r['sys_flag']}", r["raw"])
        # A pull body: consecutive records.
        for start in (0, len(records) // 2):
            run = records[start : start + 3]
            add("record_decode", f"{store_name}-pull-body", b"".join(r["raw"] for r in run))
        # Property strings, with a name to look up first.
        props_seen = 0
        for r in records:
            props = r["props"]
            if not props or props_seen >= 40:
                continue
            names = [b"TAGS", b"KEYS", b"UNIQ_KEY", b"DELAY", b"city", b"REAL_TOPIC"]
            name = names[props_seen % len(names)]
            before = len(corpus.get("message_properties", {}))
            add("message_properties", f"{store_name}-{name.decode()}", name + b"\x00" + props)
            if len(corpus["message_properties"]) > before:
                props_seen += 1
        # SQL92 over real properties.
        cities = [r["props"] for r in records if b"city\x01" in r["props"]][:2]
        for props in cities:
            add("sql_filter", f"{store_name}-city", b"city IS NOT NULL AND TAGS <> 'tag1'\x00" + props)
        # Offset message ids: store host, port, commit log offset; and the ids clients printed.
        for r in records[:: max(1, len(records) // 8)]:
            ip = r["store_ip"]
            msg_id = (ip + struct.pack(">iq", r["store_port"], r["physical_offset"])).hex().upper()
            add("msg_id", f"{store_name}-offset-id", msg_id.encode())
        acked = (store / "acked.tsv").read_text().splitlines()
        for line in acked[:: max(1, len(acked) // 6)]:
            add("msg_id", f"{store_name}-client-id", line.split("\t")[4].encode())
        seed_recovery(store_name, store, records)
        seed_batches(store_name, records)
        seed_ha(store_name, store, records)


def seed_recovery(store_name: str, store: Path, records) -> None:
    """Commit log prefixes cut at record boundaries, with option bytes (see store_recovery.rs)."""
    first_file = sorted((store / "commitlog").iterdir())[0].read_bytes()
    for limit, options, desc in (
        (4096, 0x00, "4k-clean"),
        (4096, 0x01, "4k-after-crash"),
        (16384, 0x00, "16k-clean"),
        (16384, 0x05, "16k-after-crash-truncate-policy"),
        (8192, 0x0A, "8k-no-crc-no-index"),
        (8192, 0x10, "8k-sync-flush"),
    ):
        end = 0
        for r in records:
            if r["file"] != records[0]["file"] or r["pos"] + r["size"] > limit:
                break
            end = r["pos"] + r["size"]
        if end == 0:
            continue
        prefix = first_file[:end]
        add("store_recovery", f"{store_name}-{desc}", bytes([options]) + prefix)
        # The same bytes as a master streams them to a slave (see replica_append.rs): in one
        # append, in 64- and 4096-byte chunks, and after a refused append at a wrong offset.
        for chunk, flags in ((0, 0), (1, 0), (64, 1)):
            add("replica_append", f"{store_name}-{desc}-chunk{chunk}-flags{flags}",
                bytes([chunk, flags]) + prefix)
        if desc == "4k-clean":
            # The same records, the rest of the 4 KiB file marked unused by a blank record.
            blank = struct.pack(">iI", 4096 - end, BLANK_MAGIC)
            add("store_recovery", f"{store_name}-4k-blank-tail", bytes([options]) + prefix + blank)


def seed_batches(store_name: str, records) -> None:
    """SEND_BATCH_MESSAGE bodies rebuilt from stored batch messages (flag, body, properties)."""
    batch = [r for r in records if r["topic"] == "FixBatch"][:12]
    for n in (1, 4, 12):
        body = bytearray()
        for r in batch[:n]:
            props = r["props"]
            total = 20 + len(r["body"]) + 2 + len(props)
            body += struct.pack(">iiiii", total, 0, 0, r["flag"], len(r["body"]))
            body += r["body"] + struct.pack(">h", len(props)) + props
        if body:
            add("batch_decode", f"{store_name}-batch-of-{n}", bytes(body))
    # The hand-computed vector of batch.rs.
    add("batch_decode", "hand-computed", bytes([0, 0, 0, 29, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7,
                                               0, 0, 0, 3]) + b"abc" + bytes([0, 4]) + b"K\x01v\x02")


def seed_ha(store_name: str, store: Path, records) -> None:
    """HA traffic: a slave's reports, a master's transfer frame of real commit log bytes, and
    master operations (see ha_frames.rs for the encoding)."""
    offsets = [r["physical_offset"] + r["size"] for r in records[:6]]
    reports = b"".join(struct.pack(">q", o) for o in offsets)
    add("ha_frames", f"{store_name}-reports", b"\x00" + b"\x02\x05\x0b" + reports)
    first_file = sorted((store / "commitlog").iterdir())[0].read_bytes()
    end = records[0]["size"] + (records[1]["size"] if len(records) > 1 else 0)
    transfer = struct.pack(">qi", 0, end) + first_file[:end]
    heartbeat = struct.pack(">qi", end, 0)
    add("ha_frames", f"{store_name}-slave-transfer",
        b"\x02" + b"\x00\x00" + b"\x00" + b"\x01" + transfer + b"\x02\x13\x88\x03" + b"\x01" + heartbeat + b"\x03\x04")
    ops = bytearray(b"\x01")
    ops += b"\x00"                                   # connect
    ops += b"\x03" + struct.pack(">H", end)          # append
    ops += b"\x04"                                   # SYNC_MASTER wait
    ops += b"\x02\x00\x08" + struct.pack(">q", 0)    # first report: 0
    ops += b"\x05\x00\x10"                           # send
    ops += b"\x02\x00\x08" + struct.pack(">q", end)  # confirm
    ops += b"\x04\x06\x0b\xb8\x07\x08\x09"           # wait, time, expire, lag, heartbeat
    add("ha_frames", f"{store_name}-master", bytes(ops))


def seed_store_files(stores: dict[str, Path]) -> None:
    for store_name, store in stores.items():
        cq_root = store / "consumequeue"
        picked = 0
        for topic in sorted(cq_root.iterdir()):
            for queue in sorted(topic.iterdir())[:2]:
                files = sorted(queue.iterdir())
                data = b"".join(f.read_bytes() for f in files[:3]).rstrip(b"\x00")
                if data and picked < 10:
                    add("consume_queue", f"{store_name}-{topic.name}-{queue.name}", data)
                    picked += 1
        for index in sorted((store / "index").iterdir())[:2]:
            add("index_file", f"{store_name}-index", index.read_bytes().rstrip(b"\x00"))
        config = store / "config"
        for name, which in (("topics.json", 0), ("consumerOffset.json", 1),
                            ("subscriptionGroup.json", 2), ("delayOffset.json", 3)):
            for path in (config / name, config / f"{name}.bak"):
                if path.exists():
                    add("metadata_json", f"{store_name}-{path.name}", bytes([which]) + path.read_bytes())
        checkpoint = (store / "checkpoint").read_bytes()
        add("checkpoint", f"{store_name}-checkpoint", checkpoint.rstrip(b"\x00") or checkpoint[:24])
        add("checkpoint", f"{store_name}-checkpoint-page", checkpoint)
        conf = (store / "broker.conf.used").read_bytes()
        add("properties_text", f"{store_name}-broker-conf", conf)
        # The broker's topic table as the JSON bodies that carry it.
        topics = (config / "topics.json").read_bytes()
        wrapper = json.loads(re.sub(rb"([{,]\s*)(-?\d+)(\s*:)", rb'\1"\2"\3', topics))
        add("register_body", f"{store_name}-topic-config-wrapper", json.dumps(wrapper).encode())
        register = {"filterServerList": [], "topicConfigSerializeWrapper": wrapper}
        add("register_body", f"{store_name}-register-body", json.dumps(register).encode())
        add("register_body", f"{store_name}-data-version", json.dumps(wrapper["dataVersion"]).encode())


def seed_protocol_fixtures() -> None:
    fixtures = PROTOCOL / "tests" / "fixtures"
    for path in sorted(fixtures.glob("register-compressed-*.bin")):
        compressed = path.read_bytes()
        add("register_body", path.stem, b"\x00" + compressed)
        add("register_body", f"{path.stem}-inflated", b"\x01" + zlib.decompress(compressed))

    # Frames and headers of the frame tests and the JSON headers captured from Java and C++
    # clients in the header tests.
    json_headers = []
    for path in (PROTOCOL / "src" / "frame" / "tests.rs", PROTOCOL / "src" / "header" / "json.rs"):
        for literal in raw_string_literals(path):
            if literal.startswith('{"code"'):
                json_headers.append(literal.strip().encode())
    for header in json_headers:
        add("header_decode", "json-header", header)
        add("frame_decode", "json-frame", frame(header, b"hi", 0))
    rocketmq_frame = bytes([
        0x00, 0x00, 0x00, 0x27, 0x01, 0x00, 0x00, 0x21, 0x00, 0x69, 0x00, 0x01, 0xDF,
        0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x0C, 0x00, 0x05, *b"topic", 0x00, 0x00, 0x00, 0x01, *b"T", *b"hi",
    ])
    add("frame_decode", "rocketmq-frame", rocketmq_frame)
    binary_header = rocketmq_frame[8:8 + 0x21]
    add("header_decode", "rocketmq-header", binary_header)

    # Typed headers: every type with its fields as key=value lines, and the captured headers.
    headers = header_list()
    keys = set()
    for index, (module, struct_name) in enumerate(headers):
        fields = header_fields(module, struct_name)
        keys.update(key for _, key in fields)
        text = "\n".join(f"{key}={sample_value(ty)}" for ty, key in fields).encode()
        add("command_header", f"{struct_name}-lines", bytes([index, 2]) + text)
    by_name = {name: i for i, (_, name) in enumerate(headers)}
    for header in json_headers:
        try:
            code = json.loads(header)["code"]
        except ValueError:
            continue
        target = {310: "SendMessageRequestHeaderV2", 105: "GetRouteInfoRequestHeader",
                  11: "PullMessageRequestHeader"}.get(code)
        if target:
            add("command_header", f"{target}-captured-json", bytes([by_name[target], 0]) + header)
    add("command_header", "GetRouteInfoRequestHeader-rocketmq",
        bytes([by_name["GetRouteInfoRequestHeader"], 1]) + binary_header)
    dicts = FUZZ / "dicts"
    dicts.mkdir(exist_ok=True)
    (dicts / "command_header.dict").write_text(
        "# Ext field names of every typed header (generated by fuzz/seed_corpus.py).\n"
        + "".join(f'"{key}"\n' for key in sorted(keys))
        + '"true"\n"false"\n"-1"\n"9223372036854775807"\n"UPPER"\n"MULTI_TAG"\n'
    )

    # JSON bodies captured in the command and body tests.
    for module in ("command/heart_beat.rs", "command/lock_batch_mq.rs", "command/get_consume_stats.rs",
                   "command/get_topic_stats.rs", "command/get_consumer_list.rs", "body/route.rs",
                   "body/kv_table.rs", "body/topic_list.rs"):
        for literal in raw_string_literals(PROTOCOL / "src" / module):
            text = literal.strip()
            if text.startswith("{") and text.endswith("}"):
                add("json_bodies", Path(module).stem, text.encode())

    # Java properties text of the properties tests.
    text = (PROTOCOL / "src" / "body" / "properties.rs").read_text()
    for literal in re.findall(r'"((?:[^"\\]|\\.)*\\n(?:[^"\\]|\\.)*)"', text):
        decoded = literal.encode().decode("unicode_escape").encode()
        add("properties_text", "properties-test", decoded)


def seed_kv_config() -> None:
    """kvConfig.json as Apache's name server writes it (`KVConfigSerializeWrapper`), the order
    topic namespace the name server reads, and the shapes around it."""
    for desc, text in (
        ("order-topics", '{"configTable":{"ORDER_TOPIC_CONFIG":{"TopicA":"broker-a:4;broker-b:4"}}}'),
        ("two-namespaces", '{"configTable":{"ORDER_TOPIC_CONFIG":{"T":"b:8"},"fuzz":{"k":"v","n":"1"}}}'),
        ("empty-table", '{"configTable":{}}'),
        ("blank", "  \n"),
        ("pretty", '{\n\t"configTable":{\n\t\t"ns":{\n\t\t\t"a":"b"\n\t\t}\n\t}\n}'),
    ):
        add("kv_config", desc, text.encode())


def seed_sql() -> None:
    """The expressions of the SQL92 filter tests, with the properties they were tested on."""
    text = (SERVER / "src" / "sql_filter" / "tests.rs").read_text()
    for expr, pairs in re.findall(r'selects\(\s*"((?:[^"\\]|\\.)*)",\s*&\[(.*?)\]\s*\)', text, re.S):
        props = b"".join(
            k.encode() + b"\x01" + v.encode() + b"\x02"
            for k, v in re.findall(r'\("((?:[^"\\]|\\.)*)",\s*"((?:[^"\\]|\\.)*)"\)', pairs)
        )
        expr = expr.encode().decode("unicode_escape").encode()
        add("sql_filter", "test-expression", expr + b"\x00" + props)
    add("sql_filter", "tag-expression", b"TagA || TagB ||tagC\x00TAGS\x01TagB\x02")


# Request codes whose ext fields the client's header types read, by request code; answers by the
# code of the request they answer.
REQUEST_HEADERS = {
    10: "SendMessageRequestHeader", 310: "SendMessageRequestHeaderV2", 320: "SendMessageRequestHeaderV2",
    11: "PullMessageRequestHeader", 12: "QueryMessageRequestHeader", 14: "QueryConsumerOffsetRequestHeader",
    15: "UpdateConsumerOffsetRequestHeader", 29: "SearchOffsetRequestHeader", 30: "GetMaxOffsetRequestHeader",
    31: "GetMinOffsetRequestHeader", 32: "GetEarliestMsgStoretimeRequestHeader", 33: "ViewMessageRequestHeader",
    35: "UnregisterClientRequestHeader", 36: "ConsumerSendMsgBackRequestHeader", 37: "EndTransactionRequestHeader",
    38: "GetConsumerListByGroupRequestHeader", 39: "CheckTransactionStateRequestHeader",
    40: "NotifyConsumerIdsChangedRequestHeader", 105: "GetRouteInfoRequestHeader",
}
RESPONSE_HEADERS = {
    10: "SendMessageResponseHeader", 310: "SendMessageResponseHeader", 320: "SendMessageResponseHeader",
    11: "PullMessageResponseHeader", 12: "QueryMessageResponseHeader", 14: "QueryConsumerOffsetResponseHeader",
    29: "SearchOffsetResponseHeader", 30: "GetMaxOffsetResponseHeader", 31: "GetMinOffsetResponseHeader",
    32: "GetEarliestMsgStoretimeResponseHeader",
}
HEARTBEAT = 34


def traffic_records(path: Path):
    """(direction, request code of an answer or -1, whole frame) of a capture_traffic.py file."""
    data = path.read_bytes()
    pos = 0
    while pos + 7 <= len(data):
        tag, request_code, total = struct.unpack_from(">chi", data, pos)
        frame_bytes = data[pos + 3 : pos + 7 + total]
        pos += 7 + total
        yield tag, request_code, frame_bytes


def split_frame(frame_bytes: bytes):
    """(serialize type, header, body) of a whole frame."""
    marker = struct.unpack_from(">i", frame_bytes, 4)[0]
    end = 8 + (marker & 0xFFFFFF)
    return marker >> 24, frame_bytes[8:end], frame_bytes[end:]


def seed_traffic() -> None:
    """Frames the independent clients sent and were answered (fuzz/capture_clients.sh)."""
    by_name = {name: i for i, (_, name) in enumerate(header_list())}
    properties, expressions = [], []
    for path in sorted((FUZZ / "traffic").glob("*.frames")):
        requests = []
        for tag, request_code, frame_bytes in traffic_records(path):
            serialize_type, header, body = split_frame(frame_bytes)
            if serialize_type != 0:
                continue
            fields = json.loads(header)
            code, language = fields["code"], fields.get("language", "")
            is_answer = fields.get("flag", 0) & 1
            desc = f"{path.stem}-{language}-{'answer' if is_answer else 'request'}-{request_code if is_answer else code}"
            add("frame_decode", desc, frame_bytes)
            add("header_decode", desc, header)
            if not is_answer and tag == b">":
                requests.append(frame_bytes)
            name = (RESPONSE_HEADERS if is_answer else REQUEST_HEADERS).get(request_code if is_answer else code)
            if name:
                add("command_header", f"{name}-{desc}", bytes([by_name[name], 0]) + header)
            ext = fields.get("extFields") or {}
            if not is_answer and (props := ext.get("properties", ext.get("i"))):
                properties.append(props.encode())
            if is_answer and (msg_id := ext.get("msgId")):
                add("msg_id", desc, msg_id.encode())
            if body.startswith((b"{", b"[")):
                add("json_bodies", desc, body)
                if code == HEARTBEAT and not is_answer:
                    for consumer in json.loads(body).get("consumerDataSet", []):
                        for sub in consumer.get("subscriptionDataSet", []):
                            expressions.append(sub.get("subString", "").encode())
        # A connection's read buffer holds several frames.
        add("frame_decode", f"{path.stem}-requests", b"".join(requests[:8]))
    for props in properties:
        name = props.split(b"\x01", 1)[0]
        add("message_properties", "client-send", name + b"\x00" + props)
        for expr in expressions:
            add("sql_filter", "client-subscription", expr + b"\x00" + props)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", default="/work/shared/fixtures/apache-4.9.4-stores")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rmq-seed-") as tmp:
        stores = {}
        for tarball in sorted(Path(args.fixtures).glob("apache-4.9.4-*.tar.gz")):
            name = tarball.name.removeprefix("apache-4.9.4-").removesuffix(".tar.gz")
            with tarfile.open(tarball) as tar:
                tar.extractall(Path(tmp) / name, filter="data")
            stores[name] = Path(tmp) / name / "store"
        seed_records(stores)
        seed_store_files(stores)
    seed_protocol_fixtures()
    seed_sql()
    seed_kv_config()
    seed_traffic()

    total = 0
    for target, seeds in sorted(corpus.items()):
        out = FUZZ / "corpus" / target
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        for name, data in sorted(seeds.items()):
            (out / name).write_bytes(data)
        size = sum(len(d) for d in seeds.values())
        total += size
        print(f"{target:20} {len(seeds):4} seeds {size:8} bytes")
    print(f"{'total':20} {sum(map(len, corpus.values())):4} seeds {total:8} bytes")


if __name__ == "__main__":
    main()
