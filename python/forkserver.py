#!/usr/bin/env python3
"""A fork server: imports torch, fairseq and the plugin once, then runs each job in a forked child.

    .venv/bin/python python/forkserver.py SOCKET

Every fairseq-train run and every script of python/ pays the start-up of Python, torch and fairseq (a few
seconds of CPU each; the tiny preset starts about a hundred of them). This process pays it once: it
imports what they import, prints {"event": "ready", "pid", "seconds"} on stdout (schemas/python-events.schema.json,
"forkserver"), and listens on the Unix
socket SOCKET. python/forkrun.py is the client that takes a job's place: it sends its argv, environment,
working folder and its stdin, stdout and stderr (as file descriptors), and the server forks a child that
runs the job with them, as if started afresh:

    BIN/fairseq-train ARGS...           fairseq_cli.train.cli_main() (the console script's body), BIN the
                                        folder of this interpreter
    [BIN/python] PATH/SCRIPT.py ARGS... the script as __main__, its folder first on sys.path
    anything else                       exec'd as is (no start-up saved)

The child takes the job's environment (os.environ replaced) and thread count (torch.set_num_threads from
OMP_NUM_THREADS, up to torch's default as a fresh torch does: torch read the variable when the server, which
runs without it, imported torch), the root logger of a fresh
process of its kind (fairseq-train's: stdout; a script's: what importing fairseq sets), and default
signal handlers. Each job is seeded by its own code (fairseq seeds every update), so its numbers are the
ones a fresh process computes. Runs with more than one process (--distributed-world-size > 1) are
exec'd: their spawned workers start Python themselves anyway.

Protocol (one connection per job, JSON lines): the client sends {"argv", "env", "cwd"} with its three
file descriptors, then zero or more {"signal": N}; the server answers {"pid": P}, then one of
{"exit": CODE} or {"signal": N} when the job has ended (sent by the child just before it exits, and by
the server when it reaps the child; the client reads the first). The child ends itself with SIGTERM when
the client's end of the connection closes (the client died), as a child of netflowgen does when
netflowgen dies (ts/train/launch.ts).

The server dies with its parent (PR_SET_PDEATHSIG) and on SIGTERM, and ignores SIGINT (Ctrl-C reaches the
jobs themselves, which are in its process group); running children finish their jobs.
"""

import json
import os
import signal
import socket
import sys
import threading
import time

from script_main import emit

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_REQUEST = 1 << 20


def die_with_parent():
    """SIGTERM when the parent (netflowgen) dies: Linux only, ignored elsewhere."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except Exception:
        pass


DEFAULT_THREADS = 1  # torch's thread count without OMP_NUM_THREADS (set by preload)


def preload():
    """What the jobs import, so that a child finds it imported: torch (with torch._dynamo, which the first
    optimizer a run builds imports), numpy, fairseq's training modules and hydra (not fairseq_cli.train
    itself: importing it configures the root logger, which the child does as a fresh fairseq-train would),
    and the plugin, registered as --user-dir registers it."""
    import importlib

    for name in (
        "numpy",
        "torch",
        "torch.optim",
        "torch._dynamo",  # imported by the first optimizer a run builds: seconds
        "fairseq",
        "fairseq.checkpoint_utils",
        "fairseq.options",
        "fairseq.quantization_utils",
        "fairseq.tasks",
        "fairseq.utils",
        "fairseq.data.iterators",
        "fairseq.data.plasma_utils",
        "fairseq.dataclass.configs",
        "fairseq.dataclass.utils",
        "fairseq.distributed.utils",
        "fairseq.file_io",
        "fairseq.logging.meters",
        "fairseq.logging.metrics",
        "fairseq.logging.progress_bar",
        "fairseq.model_parallel.megatron_trainer",
        "fairseq.trainer",
        "omegaconf",
        "hydra",
        "hydra.experimental",
    ):
        importlib.import_module(name)
    global DEFAULT_THREADS
    import torch

    DEFAULT_THREADS = torch.get_num_threads()
    sys.path.insert(0, HERE)
    from script_main import load_plugin

    load_plugin()
    sys.path.remove(HERE)


def read_line(conn, buf):
    """One JSON line from conn (with the file descriptors sent beside it); (None, [], buf) at EOF."""
    fds = []
    while b"\n" not in buf:
        data, got, _flags, _addr = socket.recv_fds(conn, 65536, 3)
        fds.extend(got)
        if not data:
            return None, fds, buf
        buf += data
        if len(buf) > MAX_REQUEST:
            raise ValueError("request too long")
    line, _, rest = buf.partition(b"\n")
    return json.loads(line), fds, rest


def send(conn, obj):
    try:
        conn.sendall((json.dumps(obj) + "\n").encode())
    except OSError:
        pass  # the client is gone


def distributed(argv):
    """Whether a fairseq-train argv asks for more than one process."""
    for i, a in enumerate(argv):
        value = a.split("=", 1)[1] if a.startswith("--distributed-world-size=") else None
        if a == "--distributed-world-size" and i + 1 < len(argv):
            value = argv[i + 1]
        if value is not None and value.strip() not in ("", "1"):
            return True
    return False


def child(conn, listener, others, request, fds):
    """In the forked child: become the job, run it, report its exit status, and exit. Never returns."""
    code = 1
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        listener.close()
        for other in others:
            other.close()
        for target, fd in zip((0, 1, 2), fds, strict=True):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        argv = [str(a) for a in request["argv"]]
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in request.get("env", {}).items()})
        os.chdir(request.get("cwd") or "/")
        watch_client(conn)
        code = run_job(argv)
    except SystemExit as e:
        code = exit_code(e.code)
    except KeyboardInterrupt:
        import traceback

        traceback.print_exc()
        finish(conn, None)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        os._exit(130)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finish(conn, code)
    os._exit(code)


def exit_code(code):
    """SystemExit's code as the exit status Python gives it."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def finish(conn, code):
    """Python's own exit steps that os._exit skips (atexit, logging, the standard streams), then the status."""
    import atexit
    import logging

    try:
        atexit._run_exitfuncs()
        logging.shutdown()
    except BaseException:
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    if code is not None:
        send(conn, {"exit": code})


def watch_client(conn):
    """A thread that passes the client's signals on to this process, and ends it when the client is gone."""

    def loop():
        buf = b""
        while True:
            try:
                msg, fds, buf = read_line(conn, buf)
            except (OSError, ValueError):
                msg, fds = None, []
            for fd in fds:
                os.close(fd)
            if msg is None:
                os.kill(os.getpid(), signal.SIGTERM)
                return
            if isinstance(msg.get("signal"), int):
                os.kill(os.getpid(), msg["signal"])

    threading.Thread(target=loop, daemon=True, name="forkserver-client").start()


def run_job(argv):
    """Runs argv in this process as a fresh process would; returns its exit status."""
    import logging

    threads = os.environ.get("OMP_NUM_THREADS", "")
    if threads.isdigit() and int(threads) > 0:
        import torch

        # A fresh torch takes OMP_NUM_THREADS up to its own default (the machine's cores), no further.
        torch.set_num_threads(min(int(threads), DEFAULT_THREADS))
    python = os.path.abspath(sys.executable)
    here = os.path.dirname(python)
    if len(argv) >= 2 and os.path.abspath(argv[0]) == python and argv[1].endswith(".py"):
        argv = argv[1:]  # `python SCRIPT.py ARGS` with this interpreter: the script
    fairseq_train = os.path.abspath(argv[0]) == os.path.join(here, "fairseq-train")
    if fairseq_train and not distributed(argv):
        # fairseq_cli.train sets the root logger up (stdout, LOGLEVEL) before anything else is imported.
        root = logging.getLogger()
        for h in list(root.handlers):
            root.removeHandler(h)
        sys.argv = ["fairseq-train", *argv[1:]]
        from fairseq_cli.train import cli_main

        return exit_code(cli_main())
    if argv[0].endswith(".py") and os.path.isfile(argv[0]):
        import runpy

        script = os.path.abspath(argv[0])
        sys.argv = [argv[0], *argv[1:]]
        sys.path.insert(0, os.path.dirname(script))
        runpy.run_path(script, run_name="__main__")
        return 0
    os.execvp(argv[0], argv)
    return 127  # not reached


def reaper(pid, conn):
    """In the server: waits for a child and sends its exit status (if the child could not)."""
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        send(conn, {"signal": os.WTERMSIG(status)})
    else:
        send(conn, {"exit": os.WEXITSTATUS(status)})
    conn.close()


def serve(path):
    started = time.monotonic()
    die_with_parent()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Ctrl-C reaches the whole process group: the jobs take it (as fresh processes would), netflowgen ends
    # the server when it is done.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # torch's own default, which the jobs are set from
        os.environ.pop(name, None)
    preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(path):
        os.remove(path)
    listener.bind(path)
    listener.listen(64)
    open_conns = set()
    lock = threading.Lock()
    emit("forkserver", {"event": "ready", "pid": os.getpid(), "seconds": round(time.monotonic() - started, 2)})
    try:
        while True:
            conn, _ = listener.accept()
            try:
                request, fds, _ = read_line(conn, b"")
            except (OSError, ValueError) as e:
                emit("forkserver", {"event": "bad-request", "error": str(e)})
                conn.close()
                continue
            if request is None or len(fds) != 3 or not request.get("argv"):
                for fd in fds:
                    os.close(fd)
                send(conn, {"exit": 127, "error": "a request needs argv and three file descriptors"})
                conn.close()
                continue
            sys.stdout.flush()
            sys.stderr.flush()
            with lock:
                others = [c for c in open_conns]
                pid = os.fork()
            if pid == 0:
                child(conn, listener, others, request, fds)
            for fd in fds:
                os.close(fd)
            send(conn, {"pid": pid})
            with lock:
                open_conns.add(conn)

            def reap(pid=pid, conn=conn):
                reaper(pid, conn)
                with lock:
                    open_conns.discard(conn)

            threading.Thread(target=reap, daemon=True).start()
    finally:
        listener.close()
        if os.path.exists(path):
            os.remove(path)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: forkserver.py SOCKET")
    serve(sys.argv[1])
