#!/usr/bin/env python3
"""Send N messages synchronously with the Apache C++ client (PyPI rocketmq 0.4.4).

Message i has key <key-prefix><i>, tag tags[i % len(tags)] (none when --tags is empty) and body
"msg-<i>" padded with '.' to --body-size bytes. Prints one JSON line:
  {"sent": N, "results": [{"i", "msg_id", "offset", "status"}, ...]}
plus "error" (and a non-zero exit) on failure. msg_id is the client-made UNIQ_KEY id; offset is
the queue offset; status is a Java SendStatus name. The C++ API does not expose the queue id.
--delay-level L sets the delay level; --props '[{"a":"7"},{"a":"3"}]' sets user properties of
message i from item i % n; --orderly-keys K sends orderly, message i to queue (i % K) % queues.
--keep-going records a failed send as {"i", "status": "EXCEPTION", "error", "cpp_log_tail"} and
goes on (the C++ client reports every failed send, once its own retries are spent, as "No route
info of this topic", whatever the cause: the log lines say what the broker answered);
--until-file F stops sending once F exists (--count is then a maximum); --pace-ms P waits P ms
between sends. --resend R sends a failed message again, up to R more times 200 ms apart, as an
application would (at least once); the result then carries "resends".
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpp_common as C  # noqa: E402


def parse_args():
    p = C.arg_parser(__doc__.splitlines()[0])
    C.add_common_args(p)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--tags", default="", help="comma-separated tags, used round-robin")
    p.add_argument("--key-prefix", default="key-")
    p.add_argument("--body-size", type=int, default=0, help="pad bodies to this many bytes")
    p.add_argument("--send-timeout-ms", type=int, default=3000, help="per-send timeout of the client")
    p.add_argument("--timeout-s", type=float, default=60.0, help="hard deadline for the whole run")
    p.add_argument("--delay-level", type=int, default=0, help="delay level of every message")
    p.add_argument("--props", default=None, help="JSON list of user-property objects, used round-robin")
    p.add_argument("--orderly-keys", type=int, default=0, help="send orderly: message i to queue i %% K")
    p.add_argument("--keep-going", action="store_true", help="record failed sends and go on")
    p.add_argument("--until-file", default=None, help="stop sending once this file exists")
    p.add_argument("--pace-ms", type=int, default=0, help="pause between sends")
    p.add_argument("--resend", type=int, default=0, help="resend a message the client failed up to R times")
    a = p.parse_args()
    if a.count < 0:
        p.error("--count must be >= 0")
    return a


def body_of(i, size):
    b = "msg-%d" % i
    if len(b) < size:
        b += "." * (size - len(b))
    return b


def main():
    args = parse_args()
    log_dir = C.set_log_home(args.log_home)
    C.ensure_venv()
    from rocketmq.client import Message, Producer
    from rocketmq.ffi import dll

    tags = [t for t in args.tags.split(",") if t] if args.tags else []
    import json
    user_props = json.loads(args.props) if args.props else []
    instance = args.instance or "cpp-%d" % os.getpid()
    results = []
    lock = threading.Lock()
    started = time.monotonic()

    def snapshot():
        with lock:
            return {"sent": len(results), "results": list(results), "cpp_log": C.cpp_log_files(log_dir)}

    C.start_watchdog(args.timeout_s, snapshot)

    producer = Producer(args.group, timeout=args.send_timeout_ms)
    dll.SetProducerLogLevel(producer._handle, C.LOG_LEVELS[args.log_level])
    dll.SetProducerInstanceName(producer._handle, instance.encode())
    producer.set_namesrv_addr(args.namesrv)
    C.set_credentials(producer, args)
    C.log("group=%s instance=%s namesrv=%s topic=%s count=%d; C++ log in %s",
          args.group, instance, args.namesrv, args.topic, args.count, log_dir)
    try:
        producer.start()
    except Exception as e:
        C.failure(snapshot(), "producer start failed: %s: %s" % (type(e).__name__, e))

    error = None
    for i in range(args.count):
        if args.until_file and os.path.exists(args.until_file):
            break
        if args.pace_ms and i:
            time.sleep(args.pace_ms / 1000.0)
        msg = Message(args.topic)
        msg.set_keys(args.key_prefix + str(i))
        if tags:
            msg.set_tags(tags[i % len(tags)])
        msg.set_body(body_of(i, args.body_size))
        if args.delay_level:
            msg.set_delay_time_level(args.delay_level)
        for k, v in (user_props[i % len(user_props)] if user_props else {}).items():
            msg.set_property(k, str(v))
        t0 = time.monotonic()
        resends = 0
        while True:
            try:
                if args.orderly_keys > 0:
                    r = producer.send_orderly(msg, i % args.orderly_keys)
                else:
                    r = producer.send_sync(msg)
                e = None
            except Exception as raised:
                e = raised
            if e is None or resends >= args.resend:
                break
            resends += 1
            C.log("send %d raised %s: %s; sending it again (%d/%d)", i, type(e).__name__, e, resends, args.resend)
            time.sleep(0.2)
        if e is not None:
            failed = "send %d failed after %.2fs: %s: %s" % (i, time.monotonic() - t0, type(e).__name__, e)
            if args.keep_going:
                # The exception says only "No route info of this topic" once the client's own
                # retries are spent, whatever the broker answered: its log says why.
                hints = C.log_hints(C.cpp_log_files(log_dir))
                with lock:
                    results.append({"i": i, "status": "EXCEPTION", "error": failed, "cpp_log_tail": hints})
                continue
            error = failed
            break
        status = C.SEND_STATUS_NAMES.get(int(r.status), str(r.status))
        with lock:
            result = {"i": i, "msg_id": r.msg_id, "offset": r.offset, "status": status}
            if resends:
                result["resends"] = resends
            results.append(result)

    C.log("sent %d/%d in %.2fs", len(results), args.count, time.monotonic() - started)
    out = snapshot()
    if error:
        C.failure(out, error)
    del out["cpp_log"]
    C.emit_then_shut_down(out, [(producer.shutdown, "producer shutdown")])


if __name__ == "__main__":
    main()
