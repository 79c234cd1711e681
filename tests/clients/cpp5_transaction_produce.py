#!/usr/bin/env python3
"""Send transactional messages with Apache's C++ client 2.x (PyPI rocketmq-client-python 0.5.0rc2).

Message i (key <key-prefix><i>, body "tx-<i>") gets local-transaction answer plan[i % len(plan)]
(--plan commit,rollback,unknown). The check listener answers UNKNOW to the first
--check-unknown-times checks of a message, then --check-answer (commit or rollback). The program
stays up --run-s seconds so the broker can check back. Prints one JSON line:
  {"sent": [{"i", "key", "msg_id", "status", "local"}], "checks": [{"key", "at_ms", "answer",
   "msg_id", "check_times"}], "count"}
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpp_common as C  # noqa: E402

PY5 = os.path.join(C.TOOLS, "py5", "bin", "python")


def ensure_py5():
    """Re-exec under .tools/py5 (rocketmq-client-python) unless it is importable here."""
    try:
        from rocketmq.client import TransactionMQProducer  # noqa: F401
        return
    except ImportError as e:
        err = e
    if os.path.exists(PY5) and os.path.realpath(sys.prefix) != os.path.realpath(os.path.join(C.TOOLS, "py5")):
        os.execv(PY5, [PY5] + sys.argv)
    C.emit({"error": "cannot import rocketmq-client-python (%s); run scripts/install-clients.sh" % err}, 2)


def parse_args():
    p = C.arg_parser(__doc__.splitlines()[0])
    C.add_common_args(p)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--key-prefix", default="tx-")
    p.add_argument("--plan", default="commit", help="local transaction answers, round-robin")
    p.add_argument("--check-unknown-times", type=int, default=0)
    p.add_argument("--check-answer", default="commit", choices=["commit", "rollback", "unknown"])
    p.add_argument("--run-s", type=float, default=5.0, help="stay up this long after sending")
    p.add_argument("--timeout-s", type=float, default=120.0)
    return p.parse_args()


def main():
    args = parse_args()
    log_dir = C.set_log_home(args.log_home)
    ensure_py5()
    from rocketmq.client import Message, TransactionMQProducer, TransactionStatus

    answers = {"commit": TransactionStatus.COMMIT, "rollback": TransactionStatus.ROLLBACK,
               "unknown": TransactionStatus.UNKNOWN}
    plan = [p.strip() for p in args.plan.split(",") if p.strip()]
    for p in plan:
        if p not in answers:
            C.emit({"error": "bad --plan item %r" % p}, 2)
    lock = threading.Lock()
    sent, checks, seen = [], [], {}

    def snapshot():
        with lock:
            return {"sent": list(sent), "checks": list(checks), "count": len(sent),
                    "cpp_log": C.cpp_log_files(log_dir)}

    C.start_watchdog(args.timeout_s, snapshot)

    def on_check(msg):
        key = C.to_str(msg.keys) or ""
        with lock:
            n = seen.get(key, 0)
            seen[key] = n + 1
            answer = "unknown" if n < args.check_unknown_times else args.check_answer
            checks.append({"key": key, "at_ms": int(time.time() * 1000), "answer": answer,
                           "msg_id": msg.id,
                           "check_times": C.to_str(msg.get_property("TRANSACTION_CHECK_TIMES"))})
        C.log("check of %s #%d: %s", key, n + 1, answer)
        return answers[answer]

    producer = TransactionMQProducer(args.group, on_check)
    producer.set_namesrv_addr(args.namesrv)
    C.log("group=%s namesrv=%s topic=%s count=%d plan=%s; C++ log in %s",
          args.group, args.namesrv, args.topic, args.count, plan, log_dir)
    try:
        producer.start()
    except Exception as e:
        C.failure(snapshot(), "producer start failed: %s: %s" % (type(e).__name__, e))
    error = None
    for i in range(args.count):
        msg = Message(args.topic)
        key = args.key_prefix + str(i)
        msg.set_keys(key)
        msg.set_body("tx-%d" % i)
        local = plan[i % len(plan)]
        try:
            r = producer.send_message_in_transaction(msg, lambda m, a, local=local: answers[local], None)
        except Exception as e:
            error = "send %d failed: %s: %s" % (i, type(e).__name__, e)
            break
        with lock:
            sent.append({"i": i, "key": key, "msg_id": r.msg_id, "status": C.SEND_STATUS_NAMES.get(int(r.status), str(r.status)),
                         "local": local})
    if error is None:
        time.sleep(args.run_s)
    out = snapshot()
    if error:
        C.failure(out, error)
    del out["cpp_log"]
    C.emit_then_shut_down(out, [(producer.shutdown, "producer shutdown")])


if __name__ == "__main__":
    main()
