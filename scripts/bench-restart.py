#!/usr/bin/env python3
"""Time from spawning rmq-broker on a copy of a store to its first answered request.

Usage: scripts/bench-restart.py BROKER_BINARY PRISTINE_STORE_ROOT WORK_DIR [--runs N]

Every run copies PRISTINE_STORE_ROOT (sparse files kept) to WORK_DIR/run, syncs, starts the broker
on it (listening on 127.0.0.1, name server address unreachable: registration does not gate
serving), and sends GET_BROKER_RUNTIME_INFO every 2 ms until a frame comes back. Prints one line
per run and the median. A pristine store left by a kill -9 (e.g. by
`target/release/examples/recovery fill ROOT BYTES`) measures crash recovery; an empty directory
measures a first start.
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import struct
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_run(broker, pristine, work):
    run = os.path.join(work, "run")
    shutil.rmtree(run, ignore_errors=True)
    subprocess.run(["cp", "-a", "--sparse=always", pristine, run], check=True)
    subprocess.run(["sync"], check=True)
    port = free_port()
    conf = os.path.join(work, "broker.conf")
    with open(conf, "w") as f:
        f.write("\n".join([
            "brokerClusterName=DefaultCluster", "brokerName=broker-a", "brokerId=0",
            "namesrvAddr=127.0.0.1:1", "brokerIP1=127.0.0.1", f"listenPort={port}",
            f"haListenPort={free_port()}", "bindAddress=127.0.0.1",
            f"storePathRootDir={run}", "flushDiskType=ASYNC_FLUSH",
        ]) + "\n")
    header = json.dumps({"code": 28, "flag": 0, "language": "JAVA", "opaque": 1,
                         "version": 401}).encode()
    frame = struct.pack(">II", 4 + len(header), len(header)) + header
    log_path = os.path.join(work, "broker.log")
    env = dict(os.environ, RUST_LOG="info", NO_COLOR="1")
    started = time.perf_counter()
    with open(log_path, "w") as log:
        broker_proc = subprocess.Popen([broker, "-c", conf], stderr=log, env=env)
    answered = None
    try:
        while time.perf_counter() - started < 30:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
                    c.sendall(frame)
                    if c.recv(4):
                        answered = time.perf_counter() - started
                        break
            except OSError:
                time.sleep(0.002)
    finally:
        broker_proc.kill()
        broker_proc.wait()
    if answered is None:
        with open(log_path) as log:
            raise SystemExit("no answer within 30 s; broker log:\n" + log.read()[-2000:])
    with open(log_path) as log:
        recovered = [line.strip() for line in log if "store recovered" in line]
    return answered * 1000, recovered[0] if recovered else ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("broker")
    parser.add_argument("pristine")
    parser.add_argument("work")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    times = []
    for i in range(args.runs):
        ms, recovered = one_run(args.broker, args.pristine, args.work)
        times.append(ms)
        print(f"run {i + 1}: first answer after {ms:.0f} ms  {recovered[-200:]}", flush=True)
    print(f"median {statistics.median(times):.0f} ms (range {min(times):.0f}-{max(times):.0f})")
    shutil.rmtree(os.path.join(args.work, "run"), ignore_errors=True)


if __name__ == "__main__":
    main()
