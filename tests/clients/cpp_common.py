"""Shared plumbing of cpp_produce.py and cpp_consume.py (PyPI rocketmq 0.4.4, the C++ client).

- Runs under .tools/py (made by scripts/install-clients.sh): re-executes itself with that
  interpreter when started by another Python.
- Prints exactly one JSON line on stdout; everything else goes to stderr.
- A watchdog ends the process (exit 3, JSON with "error") when the hard deadline passes, whatever
  the C++ client is doing.
- Redirects the C++ client's log: it writes $HOME/logs/rocketmq-cpp/<pid>_rocketmq-cpp.log.<N>
  (SetProducerLogPath/SetPushConsumerLogPath are no-ops in this build), so --log-home DIR (or
  RMQ_CPP_LOG_HOME) sets HOME for this process before the library loads.
"""

import json
import os
import sys
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
TOOLS = os.environ.get("RMQ_CLIENTS_TOOLS") or os.path.join(REPO, ".tools")
VENV_PYTHON = os.path.join(TOOLS, "py", "bin", "python")

# Java's SendStatus names, so both clients' output compares directly.
SEND_STATUS_NAMES = {0: "SEND_OK", 1: "FLUSH_DISK_TIMEOUT", 2: "FLUSH_SLAVE_TIMEOUT", 3: "SLAVE_NOT_AVAILABLE"}

# enum rocketmq::ConsumeFromWhere (include/ConsumeType.h of rocketmq-client-cpp)
CONSUME_FROM = {"last": 0, "first": 4}

_out_lock = threading.Lock()
_printed = False
PROG = os.path.basename(sys.argv[0])


def log(fmt, *args):
    sys.stderr.write("%s: %s\n" % (PROG, fmt % args if args else fmt))
    sys.stderr.flush()


def ensure_venv():
    """Re-exec under .tools/py/bin/python unless `rocketmq` is importable here."""
    try:
        import rocketmq.client  # noqa: F401
        return
    except ImportError as e:
        err = e
    if os.path.exists(VENV_PYTHON) and os.path.realpath(sys.prefix) != os.path.realpath(os.path.join(TOOLS, "py")):
        os.execv(VENV_PYTHON, [VENV_PYTHON] + sys.argv)
    emit({"error": "cannot import rocketmq (%s); run scripts/install-clients.sh" % err}, 2)


def set_log_home(log_home):
    """Must run before `import rocketmq` (the library reads $HOME when it first logs)."""
    log_home = log_home or os.environ.get("RMQ_CPP_LOG_HOME")
    if log_home:
        log_home = os.path.abspath(log_home)
        os.makedirs(log_home, exist_ok=True)
        os.environ["HOME"] = log_home
    home = os.environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, "logs", "rocketmq-cpp")


def cpp_log_files(log_dir):
    prefix = "%d_rocketmq-cpp.log" % os.getpid()
    try:
        return sorted(os.path.join(log_dir, f) for f in os.listdir(log_dir) if f.startswith(prefix))
    except OSError:
        return []


def log_hints(files, n=8):
    """The last n distinct warning/error lines of the C++ log, without timestamps."""
    import re
    seen, out = set(), []
    for f in files:
        try:
            lines = open(f, errors="replace").read().splitlines()
        except OSError:
            continue
        for line in lines:
            m = re.match(r"\[[^\]]*\]\((warning|error|fatal)\):(.*)", line)
            if m:
                text = "%s: %s" % (m.group(1), m.group(2).strip())
                if text in seen:
                    out.remove(text)
                seen.add(text)
                out.append(text)
    return out[-n:]


def failure(out, error):
    """Add error and the C++ log's hints to out, log them, exit 1."""
    out["error"] = error
    out["cpp_log_tail"] = log_hints(out.get("cpp_log", []))
    log("%s", error)
    log("C++ client log: %s", " ".join(out.get("cpp_log", [])) or "(none)")
    for h in out["cpp_log_tail"]:
        log("  %s", h)
    emit(out, 1)


def write_line(obj):
    """Print the one JSON line (once; later calls print nothing) without ending the process."""
    global _printed
    with _out_lock:
        if not _printed:
            _printed = True
            sys.stdout.write(json.dumps(obj, sort_keys=False) + "\n")
            sys.stdout.flush()
            sys.stderr.flush()


def exit_now(code):
    """End the process now (no C++ destructors, no __del__)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def emit(obj, code):
    """Print the one JSON line and end the process now."""
    write_line(obj)
    exit_now(code)


def emit_then_shut_down(obj, shutdowns):
    """Print the one JSON line, then run each (shutdown function, what) within 15 s and exit 0.

    The result goes out first: the C++ clients sometimes abort inside shutdown ("terminate called
    after throwing an instance of 'boost::thread_interrupted'", apache/rocketmq-client-cpp#204),
    and what was sent or received must not be lost with them. A shutdown that fails or hangs is
    only logged."""
    write_line(obj)
    for fn, what in shutdowns:
        bounded(fn, 15.0, what)
    exit_now(0)


def start_watchdog(seconds, snapshot):
    """After `seconds`, print snapshot() plus an error and exit 3."""

    def fire():
        try:
            obj = snapshot()
        except Exception as e:  # never let the watchdog itself fail
            obj = {"snapshot_error": repr(e)}
        obj["error"] = "hard timeout after %.1fs" % seconds
        if "cpp_log" in obj:
            obj["cpp_log_tail"] = log_hints(obj["cpp_log"])
        log("hard timeout after %.1fs, exiting", seconds)
        for h in obj.get("cpp_log_tail", []):
            log("  %s", h)
        emit(obj, 3)

    t = threading.Timer(seconds, fire)
    t.daemon = True
    t.start()
    return t


def bounded(fn, seconds, what):
    """Run fn() in a thread; give up waiting after `seconds`. Returns (ok, error-string)."""
    box = {}

    def run():
        try:
            fn()
            box["ok"] = True
        except Exception as e:
            box["err"] = "%s: %s" % (type(e).__name__, e)

    th = threading.Thread(target=run, name=what, daemon=True)
    t0 = time.monotonic()
    th.start()
    th.join(seconds)
    if th.is_alive():
        log("%s did not return within %.1fs", what, seconds)
        return False, "%s did not return within %.1fs" % (what, seconds)
    log("%s took %.2fs", what, time.monotonic() - t0)
    if "err" in box:
        return False, box["err"]
    return True, None


def to_str(v):
    if v is None:
        return None
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    return str(v)


def add_common_args(p):
    p.add_argument("--namesrv", required=True, help="name server address host:port (several: a;b)")
    p.add_argument("--topic", required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--instance", default=None,
                   help="client instance name (default cpp-<pid>); the client id is <pid>-<ip>@<instance>")
    p.add_argument("--log-home", default=None,
                   help="HOME for the C++ client's log (DIR/logs/rocketmq-cpp/); default $RMQ_CPP_LOG_HOME or $HOME")
    p.add_argument("--log-level", default="info", choices=["fatal", "error", "warn", "info", "debug", "trace"])
    p.add_argument("--access-key", default=None, help="ACL account: the client signs every request")
    p.add_argument("--secret-key", default=None, help="the account's secret (with --access-key)")
    p.add_argument("--channel", default="LOCAL", help="OnsChannel the client sends and signs")


def set_credentials(client, args):
    """Signs the client's requests when --access-key is given (set_session_credentials)."""
    if args.access_key:
        client.set_session_credentials(args.access_key, args.secret_key or "", args.channel)


LOG_LEVELS = {"fatal": 1, "error": 2, "warn": 3, "info": 4, "debug": 5, "trace": 6}


def arg_parser(description):
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message):
            self.print_usage(sys.stderr)
            emit({"error": "usage: %s" % message}, 2)

    return Parser(description=description)
