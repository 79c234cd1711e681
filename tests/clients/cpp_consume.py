#!/usr/bin/env python3
"""Consume with the Apache C++ client's push consumer (PyPI rocketmq 0.4.4), clustering mode.

Collects deliveries until it has --expect distinct messages and no new delivery came for
--idle-s (so extras show up), and it ran at least --min-run-s; fails when --timeout-s passes
before --expect distinct messages arrived. --consumers K runs K consumers of the group in this
process (instance names <instance>-0..K-1), for queue-split checks. Prints one JSON line:
  {"received": [{"consumer", "topic", "body", "body_sha256", "body_len", "tags", "keys", "msg_id", "queue_id", "offset",
                 "reconsume_times", "commit_log_offset", "store_timestamp", "born_timestamp"}, ...],
   "count", "distinct", "queue_ids": {"<consumer>": [..]}, "instances": [..]}
every delivery is listed (duplicates included, "distinct" counts msg_id). msg_id is the UNIQ_KEY
the producer set (else the broker's offset id). Plus "error" and a non-zero exit on failure.
A line "cpp_consume.py: started" goes to stderr once every consumer's start() returned.
"""

import hashlib
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpp_common as C  # noqa: E402


def parse_args():
    p = C.arg_parser(__doc__.splitlines()[0])
    C.add_common_args(p)
    p.add_argument("--expect", type=int, required=True, help="distinct messages to wait for (0: none)")
    p.add_argument("--expression", default="*", help="tag expression, e.g. 'a || b'")
    p.add_argument("--timeout-s", type=float, default=60.0, help="fail if --expect not reached by then")
    p.add_argument("--idle-s", type=float, default=3.0, help="quiet time after --expect before stopping")
    p.add_argument("--min-run-s", type=float, default=0.0, help="run at least this long")
    p.add_argument("--expect-deliveries", type=int, default=0,
                   help="also wait for this many deliveries in all (redeliveries count), e.g. after a reset")
    p.add_argument("--consumers", type=int, default=1, help="consumers of the group in this process")
    p.add_argument("--from", dest="from_where", default="first", choices=sorted(C.CONSUME_FROM),
                   help="ConsumeFromWhere of a new group: first (default) or last (the C API's own default)")
    p.add_argument("--thread-count", type=int, default=0, help="consume threads per consumer (0: client default)")
    a = p.parse_args()
    if a.expect < 0 or a.consumers < 1:
        p.error("--expect must be >= 0 and --consumers >= 1")
    return a


def main():
    args = parse_args()
    log_dir = C.set_log_home(args.log_home)
    C.ensure_venv()
    from rocketmq.client import PushConsumer
    from rocketmq.ffi import dll
    import ctypes

    # The C API has no ConsumeFromWhere setter (CreatePushConsumer forces LAST_OFFSET), but the
    # handle is a rocketmq::DefaultMQPushConsumer* and the library exports its setter.
    set_from = dll._ZN8rocketmq21DefaultMQPushConsumer19setConsumeFromWhereENS_16ConsumeFromWhereE
    set_from.argtypes = [ctypes.c_void_p, ctypes.c_int]
    set_from.restype = None

    base = args.instance or "cpp-%d" % os.getpid()
    instances = [base] if args.consumers == 1 else ["%s-%d" % (base, k) for k in range(args.consumers)]
    lock = threading.Lock()
    received = []
    seen = set()
    state = {"last": time.monotonic()}
    t_start = time.monotonic()

    def snapshot():
        with lock:
            qids = {}
            for r in received:
                qids.setdefault(str(r["consumer"]), set()).add(r["queue_id"])
            return {"received": list(received), "count": len(received), "distinct": len(seen),
                    "queue_ids": {k: sorted(v) for k, v in sorted(qids.items())},
                    "instances": instances, "cpp_log": C.cpp_log_files(log_dir)}

    C.start_watchdog(args.timeout_s + 30.0, snapshot)

    def make_callback(k):
        def on_message(msg):
            rec = {
                "consumer": k,
                "topic": msg.topic,
                "body": C.to_str(msg.body),
                "body_sha256": hashlib.sha256(msg.body or b"").hexdigest(),
                "body_len": len(msg.body or b""),
                "tags": C.to_str(msg.tags),
                "keys": C.to_str(msg.keys),
                "msg_id": msg.id,
                "queue_id": msg.queue_id,
                "offset": msg.queue_offset,
                "reconsume_times": msg.reconsume_times,
                "commit_log_offset": msg.commit_log_offset,
                "store_timestamp": msg.store_timestamp,
                "born_timestamp": msg.born_timestamp,
            }
            with lock:
                received.append(rec)
                seen.add(rec["msg_id"])
                state["last"] = time.monotonic()
        return on_message

    consumers = []
    C.log("group=%s instances=%s namesrv=%s topic=%s expression=%r expect=%d from=%s; C++ log in %s",
          args.group, ",".join(instances), args.namesrv, args.topic, args.expression, args.expect,
          args.from_where, log_dir)
    for k, inst in enumerate(instances):
        c = PushConsumer(args.group)
        dll.SetPushConsumerLogLevel(c._handle, C.LOG_LEVELS[args.log_level])
        c.set_instance_name(inst)
        c.set_namesrv_addr(args.namesrv)
        C.set_credentials(c, args)
        set_from(c._handle, C.CONSUME_FROM[args.from_where])
        if args.thread_count > 0:
            c.set_thread_count(args.thread_count)
        c.subscribe(args.topic, make_callback(k), expression=args.expression)
        ok, err = C.bounded(c.start, max(1.0, args.timeout_s - (time.monotonic() - t_start)), "consumer %s start" % inst)
        if not ok:
            C.failure(snapshot(), "consumer %s start failed: %s" % (inst, err))
        consumers.append(c)
    C.log("started")
    with lock:
        state["last"] = time.monotonic()

    error = None
    while True:
        time.sleep(0.1)
        now = time.monotonic()
        with lock:
            distinct, last, deliveries = len(seen), state["last"], len(received)
        enough = distinct >= args.expect and deliveries >= args.expect_deliveries
        if enough and now - last >= args.idle_s and now - t_start >= args.min_run_s:
            break
        if now - t_start >= args.timeout_s:
            if distinct < args.expect:
                error = "timeout after %.1fs: %d of %d distinct messages" % (args.timeout_s, distinct, args.expect)
            elif deliveries < args.expect_deliveries:
                error = "timeout after %.1fs: %d of %d deliveries" % (args.timeout_s, deliveries, args.expect_deliveries)
            break

    C.log("collected %d distinct (%d deliveries) in %.2fs; shutting down", distinct, len(received), time.monotonic() - t_start)
    out = snapshot()
    if error:
        C.failure(out, error)
    del out["cpp_log"]
    C.emit_then_shut_down(out, [(c.shutdown, "consumer %s shutdown" % inst) for c, inst in zip(consumers, instances)])


if __name__ == "__main__":
    main()
