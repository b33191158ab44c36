#!/usr/bin/env python3
"""The client of python/forkserver.py: runs one job in the server's fork and ends as the job ends.

    .venv/bin/python python/forkrun.py SOCKET ARGV...

It takes the job's place for whoever started it: it hands the server its argv, environment, working folder
and its stdin, stdout and stderr, so the job writes where this process would; SIGTERM and SIGHUP are
passed on to the job, and SIGINT too unless the job is in this process's group (Ctrl-C reached it
already); and it exits with the job's status, or dies of the job's signal. When it dies itself
(SIGKILL), the job sees its connection close and ends with SIGTERM. It imports nothing heavy: its own
start-up is that of a bare Python. When the server cannot be reached it execs ARGV (the job then pays its
own start-up).
"""

import json
import os
import signal
import socket
import sys


def main(argv):
    if len(argv) < 3:
        sys.exit("usage: forkrun.py SOCKET ARGV...")
    path, job = argv[1], argv[2:]
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
    except OSError:
        os.execvp(job[0], job)
    request = {"argv": job, "env": dict(os.environ), "cwd": os.getcwd()}
    socket.send_fds(conn, [(json.dumps(request) + "\n").encode()], [0, 1, 2])

    child = None  # the job's pid, from the server's first answer

    def forward(signum, _frame):
        # Ctrl-C reaches the whole process group: a job in ours has had its SIGINT already.
        if signum == signal.SIGINT and child is not None and same_group(child):
            return
        try:
            conn.sendall((json.dumps({"signal": signum}) + "\n").encode())
        except OSError:
            pass

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, forward)
    buf = b""
    while True:
        while b"\n" not in buf:
            try:
                data = conn.recv(65536)
            except InterruptedError:
                continue
            if not data:
                print("forkrun.py: the fork server closed the connection before the job's end", file=sys.stderr)
                os._exit(1)
            buf += data
        line, _, buf = buf.partition(b"\n")
        msg = json.loads(line)
        if "pid" in msg:
            child = int(msg["pid"])
        if "exit" in msg:
            if msg.get("error"):
                print(f"forkrun.py: {msg['error']}", file=sys.stderr)
            os._exit(int(msg["exit"]))
        if "signal" in msg:
            signal.signal(int(msg["signal"]), signal.SIG_DFL)
            os.kill(os.getpid(), int(msg["signal"]))
            os._exit(128 + int(msg["signal"]))


def same_group(pid):
    try:
        return os.getpgid(pid) == os.getpgrp()
    except OSError:
        return False


if __name__ == "__main__":
    main(sys.argv)
