#!/usr/bin/env python3
"""Push-consume with the Apache C++ client (PyPI rocketmq 0.4.4), failing on purpose.

A message whose key starts with --fail-prefix fails (RECONSUME_LATER: the callback raises) on its
first --fail-times deliveries, then succeeds; one whose key starts with --always-fail-prefix fails
every time. Optionally an orderly consumer (--orderly, RegisterMessageCallbackOrderly). Runs until
it saw --expect-deliveries deliveries and no new one came for --idle-s, or --timeout-s. Prints
one JSON line:
  {"deliveries": [{"keys", "body", "topic", "queue_id", "offset", "reconsume_times", "msg_id",
                   "at_ms", "born_timestamp", "store_timestamp", "retry_topic", "origin_msg_id",
                   "ok"}, ...], "count"}
at_ms is the wall clock of the delivery; "ok" says whether this delivery was acknowledged.
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
    p.add_argument("--fail-prefix", default="", help="keys with this prefix fail --fail-times times")
    p.add_argument("--fail-times", type=int, default=0)
    p.add_argument("--always-fail-prefix", default=None, help="keys with this prefix always fail")
    p.add_argument("--expect-deliveries", type=int, required=True)
    p.add_argument("--expression", default="*")
    p.add_argument("--orderly", action="store_true", help="orderly push consumer")
    p.add_argument("--timeout-s", type=float, default=90.0)
    p.add_argument("--idle-s", type=float, default=3.0)
    p.add_argument("--thread-count", type=int, default=0)
    return p.parse_args()


def main():
    args = parse_args()
    log_dir = C.set_log_home(args.log_home)
    C.ensure_venv()
    from rocketmq.client import PushConsumer
    from rocketmq.ffi import dll
    import ctypes

    set_from = dll._ZN8rocketmq21DefaultMQPushConsumer19setConsumeFromWhereENS_16ConsumeFromWhereE
    set_from.argtypes = [ctypes.c_void_p, ctypes.c_int]
    set_from.restype = None

    lock = threading.Lock()
    deliveries = []
    failures = {}
    state = {"last": time.monotonic()}
    t_start = time.monotonic()

    def snapshot():
        with lock:
            return {"deliveries": list(deliveries), "count": len(deliveries),
                    "cpp_log": C.cpp_log_files(log_dir)}

    C.start_watchdog(args.timeout_s + 30.0, snapshot)

    def on_message(msg):
        keys = C.to_str(msg.keys) or ""
        with lock:
            seen = failures.get(keys, 0)
            fail = (args.always_fail_prefix is not None and keys.startswith(args.always_fail_prefix)) or \
                (keys.startswith(args.fail_prefix) and seen < args.fail_times)
            failures[keys] = seen + 1
            deliveries.append({
                "keys": keys,
                "body": C.to_str(msg.body),
                "topic": msg.topic,
                "queue_id": msg.queue_id,
                "offset": msg.queue_offset,
                "reconsume_times": msg.reconsume_times,
                "msg_id": msg.id,
                "at_ms": int(time.time() * 1000),
                "born_timestamp": msg.born_timestamp,
                "store_timestamp": msg.store_timestamp,
                "retry_topic": C.to_str(msg.get_property("RETRY_TOPIC")),
                "origin_msg_id": C.to_str(msg.get_property("ORIGIN_MESSAGE_ID")),
                "ok": not fail,
            })
            state["last"] = time.monotonic()
        if fail:
            raise RuntimeError("failing %s on purpose (delivery %d)" % (keys, seen + 1))

    instance = args.instance or "cpp-%d" % os.getpid()
    c = PushConsumer(args.group, orderly=args.orderly)
    dll.SetPushConsumerLogLevel(c._handle, C.LOG_LEVELS[args.log_level])
    c.set_instance_name(instance)
    c.set_namesrv_addr(args.namesrv)
    set_from(c._handle, C.CONSUME_FROM["first"])
    if args.thread_count > 0:
        c.set_thread_count(args.thread_count)
    # One message per callback batch: a failure then concerns that message only.
    c.set_message_batch_max_size(1)
    c.subscribe(args.topic, on_message, expression=args.expression)
    C.log("group=%s topic=%s orderly=%s fail_prefix=%r x%d always=%r; C++ log in %s", args.group,
          args.topic, args.orderly, args.fail_prefix, args.fail_times, args.always_fail_prefix, log_dir)
    ok, err = C.bounded(c.start, args.timeout_s, "consumer start")
    if not ok:
        C.failure(snapshot(), "consumer start failed: %s" % err)
    C.log("started")
    error = None
    while True:
        time.sleep(0.1)
        now = time.monotonic()
        with lock:
            n, last = len(deliveries), state["last"]
        if n >= args.expect_deliveries and now - last >= args.idle_s:
            break
        if now - t_start >= args.timeout_s:
            if n < args.expect_deliveries:
                error = "timeout after %.1fs: %d of %d deliveries" % (args.timeout_s, n, args.expect_deliveries)
            break
    out = snapshot()
    if error:
        C.failure(out, error)
    del out["cpp_log"]
    C.emit_then_shut_down(out, [(c.shutdown, "consumer shutdown")])


if __name__ == "__main__":
    main()
