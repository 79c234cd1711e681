#!/usr/bin/env python3
"""fdatasync latency of a commit-log-like file: one thread appends records through a shared
mmap at a fixed rate, another fdatasyncs whenever new bytes were written (a group commit).

Compares how the file's blocks were made: `falloc` (posix_fallocate: unwritten extents, the
first sync over new data commits the filesystem journal) against `zero` (zeroes written and
synced first). `--write pwrite` appends with pwrite(2) instead of through the mapping, as the
broker does under SYNC_FLUSH. `--busy N` keeps N spinning processes running, as a loaded broker
machine does. `--rate 0` drops the writer thread: one thread appends `--per-sync` records and
syncs, in a loop, so nothing but the sync is timed. Prints each sync's latency percentiles: the
floor a SYNC_FLUSH send waits on.

Usage: scripts/fdatasync-probe.py [--dir /tmp] [--rate 50000] [--record 300] [--seconds 3]
                                  [--write mmap|pwrite] [--per-sync 8] [--busy 2] [--rounds 2]
                                  [falloc zero ...]
"""
import argparse
import mmap
import multiprocessing
import os
import tempfile
import threading
import time

SIZE = 256 << 20


def spin():
    while True:
        pass


def make(path, mode):
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    if mode == "falloc":
        os.posix_fallocate(fd, 0, SIZE)
    elif mode == "zero":
        zeroes = b"\0" * (1 << 20)
        for _ in range(SIZE >> 20):
            os.write(fd, zeroes)
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    else:
        raise SystemExit(f"unknown mode {mode}")
    return fd


def probe(directory, mode, rate, record, seconds, write, per_sync):
    path = os.path.join(directory, "probe.dat")
    fd = make(path, mode)
    try:
        m = mmap.mmap(fd, SIZE)
        rec = b"x" * record
        state = {"pos": 0, "stop": False}

        def append_one():
            p = state["pos"]
            if write == "pwrite":
                os.pwrite(fd, rec, p)
            else:
                m[p:p + record] = rec
            state["pos"] = p + record

        def writer():
            burst = 5
            due = time.perf_counter()
            while not state["stop"] and state["pos"] + burst * record < SIZE:
                for _ in range(burst):
                    append_one()
                due += burst / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)

        thread = threading.Thread(target=writer)
        if rate > 0:
            thread.start()
        lat = []
        synced = 0
        end = time.perf_counter() + seconds
        while time.perf_counter() < end and state["pos"] + per_sync * record < SIZE:
            if rate == 0:
                for _ in range(per_sync):
                    append_one()
            p = state["pos"]
            if p == synced:
                continue
            synced = p
            t = time.perf_counter()
            os.fdatasync(fd)
            lat.append(time.perf_counter() - t)
        state["stop"] = True
        if rate > 0:
            thread.join()
        m.close()
    finally:
        os.close(fd)
        os.unlink(path)
    lat.sort()
    n = len(lat)
    print(f"{mode:6} {write:6} syncs/s {n / seconds:6.0f}  p10 {lat[n // 10] * 1e6:5.0f} us  "
          f"p50 {lat[n // 2] * 1e6:5.0f} us  p90 {lat[n * 9 // 10] * 1e6:5.0f} us  "
          f"p99 {lat[n * 99 // 100] * 1e6:5.0f} us  mean {sum(lat) / n * 1e6:5.0f} us")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=tempfile.gettempdir())
    ap.add_argument("--rate", type=int, default=50000)
    ap.add_argument("--record", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--write", choices=["mmap", "pwrite"], default="mmap")
    ap.add_argument("--per-sync", type=int, default=8)
    ap.add_argument("--busy", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("modes", nargs="*", default=["falloc", "zero"])
    args = ap.parse_args()
    spinners = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.busy)]
    for s in spinners:
        s.start()
    try:
        for _ in range(args.rounds):
            for mode in args.modes:
                probe(args.dir, mode, args.rate, args.record, args.seconds, args.write,
                      args.per_sync)
    finally:
        for s in spinners:
            s.terminate()


if __name__ == "__main__":
    main()
