#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Host side of the VM selftests' command channel (see vm_agent.sh).

  vm_console.py SOCK ready TIMEOUT     wait until the guest's agent answers
  vm_console.py SOCK run TIMEOUT       run stdin as a shell script in the guest,
                                       print its output, exit with its status
  vm_console.py SOCK hmp TIMEOUT CMD   one QEMU monitor (HMP) command

SOCK is QEMU's unix socket (server=on,wait=off). Exit 124 on timeout: a
script still running after TIMEOUT is killed (the agent's KILL) and what it
printed until then is printed. While a script runs the agent is pinged
(every 5 s, or a third of SILENCE if that is shorter); a guest whose agent
says nothing for SILENCE seconds (env VM_SILENCE, default 60) has stopped
-- a dead kernel, a livelock -- and run exits 123 at once instead of
waiting out TIMEOUT. Exit 125: the channel failed.
"""
import base64
import os
import socket
import sys
import time


def connect(path, deadline):
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class Lines:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def next(self, deadline):
        """The next line, or None once the deadline passed."""
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(min(left, 1.0))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not data:
                raise EOFError("guest channel closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode(errors="replace").strip("\r")


def ready(path, timeout):
    deadline = time.monotonic() + timeout
    s = connect(path, deadline)
    lines = Lines(s)
    tag = "r%d" % os.getpid()
    while time.monotonic() < deadline:
        s.sendall(("PING %s\n" % tag).encode())
        # one ping a second until the agent is up and answers
        sub = min(deadline, time.monotonic() + 1.0)
        while True:
            line = lines.next(sub)
            if line is None:
                break
            if line == "PONG " + tag:
                return 0
    return 124


PING_EVERY = 5.0     # a PING this often while a script runs (at most)
KILL_GRACE = 30.0    # after KILL: the agent's TERM, 5 s, KILL, the reply...
KILL_SILENCE = 12.0  # ...unless the agent says nothing (a guest rebooting)


def run(path, timeout, silence):
    now = time.monotonic()
    deadline = now + timeout
    s = connect(path, deadline)
    lines = Lines(s)
    tag = "c%d%d" % (os.getpid(), int(time.time() * 1000) % 100000)
    script = base64.b64encode(sys.stdin.buffer.read()).decode()
    s.sendall(("RUN %s %s\n" % (tag, script)).encode())
    out, inside = [], False
    # three pings at least within the silence that means a stopped guest
    every = min(PING_EVERY, silence / 3)
    heard, next_ping, killed = now, now + every, None
    while True:
        end = deadline if killed is None else killed + KILL_GRACE
        line = lines.next(min(next_ping, end))
        now = time.monotonic()
        if line is not None:
            heard = now    # any line: the agent is alive
            if line == "BEGIN " + tag:
                inside = True
            elif line.startswith("END %s " % tag):
                sys.stdout.buffer.write(base64.b64decode("".join(out)))
                sys.stdout.flush()
                if killed is not None:
                    sys.stderr.write("vm_console: the script ran out of its %ss and "
                                     "was killed\n" % timeout)
                    return 124
                return int(line.split()[2])
            elif inside:
                out.append(line)
            continue
        if killed is None and now >= deadline:
            s.sendall(("KILL %s\n" % tag).encode())
            killed = now
        elif killed is not None:
            if now >= end or now - max(heard, killed) > KILL_SILENCE:
                sys.stderr.write("vm_console: no answer in %ss, nor after KILL\n" % timeout)
                return 124
        elif now - heard > silence:
            sys.stderr.write("vm_console: the guest stopped answering: no PONG in %ds "
                             "(%ds into the script)\n"
                             % (silence, now - deadline + timeout))
            return 123
        if now >= next_ping:
            s.sendall(("PING %s-%d\n" % (tag, int(now))).encode())
            next_ping = now + every


def hmp(path, timeout, cmd):
    deadline = time.monotonic() + timeout
    s = connect(path, deadline)
    lines = Lines(s)
    s.sendall((cmd + "\n").encode())
    # the monitor echoes the command after its banner; print what follows
    # until the next prompt
    seen = False
    buf = b""
    while time.monotonic() < deadline:
        s.settimeout(0.5)
        try:
            data = s.recv(65536)
        except socket.timeout:
            if seen:
                break
            continue
        if not data:
            break
        buf += data
        if buf.count(b"(qemu)") >= 2:
            seen = True
    text = buf.decode(errors="replace").replace("\r", "")
    parts = text.split("(qemu)")
    body = "".join(parts[1:-1]) if len(parts) > 2 else text
    # drop the echoed command line (with its terminal escapes)
    body = body.split("\n", 1)[1] if "\n" in body else ""
    sys.stdout.write(body)
    return 0


def main():
    if len(sys.argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    path, verb, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
    try:
        if verb == "ready":
            return ready(path, timeout)
        if verb == "run":
            return run(path, timeout, float(os.environ.get("VM_SILENCE", "60")))
        if verb == "hmp":
            return hmp(path, timeout, " ".join(sys.argv[4:]))
    except (OSError, EOFError) as e:
        sys.stderr.write("vm_console: %s\n" % e)
        return 125
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
