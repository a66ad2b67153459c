"""The outbound queue under SIGKILL (issue 12, "surviving a SIGKILL in every
state"): a maillab instance relays to a next hop on loopback that records
every recipient it accepts and can be made slow (kills land in the middle
of a delivery), down (421 at the greeting: messages deferred) or picky
(451 for a recipient's first tries: deferred; 550 for another: bouncing).
Over many kill points at pseudo-random instants (fixed seed) the server is
killed, the queue and the mailboxes are looked at while it is dead, and it
is started again.  At the end every acknowledged message has reached every
recipient and every refused recipient has been reported to the sender.

Exactly once, with one exception that no SMTP client can avoid (RFC 1047):
the next hop said 250 and the server died before it had written that down.
Each kill is checked for that window (a recipient the next hop accepted
that the envelope on disk still shows pending); only a recipient seen in
such a window may arrive twice, and the test prints how many were."""
import os
import random
import re
import smtplib
import socket
import sys
import threading
import time
import unittest

from fixture import Instance, run_cli
from test_relay import wait_for

TOKEN = re.compile(rb"kq-(\d+)")


class RecordingHop:
    """An SMTP next hop that records (token, recipient) for every recipient
    of a transaction it accepts, just before its final 250."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(32)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.accepted = []          # (token, rcpt), in order
        self.tries = {}             # (token, rcpt) -> RCPT commands seen
        self.active = 0             # sessions open
        self.max_active = 0         # the most at once
        self.mode = "ok"            # ok | slow | down
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.active += 1
                self.max_active = max(self.max_active, self.active)
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()

    def session(self, conn):
        try:
            self.dialogue(conn, conn.makefile("rb"))
        except OSError:
            pass
        finally:
            conn.close()
            with self.lock:
                self.active -= 1

    def dialogue(self, conn, f):
        if self.mode == "down":
            conn.sendall(b"421 4.3.2 hop.test down for maintenance\r\n")
            return
        conn.sendall(b"220 hop.test ESMTP\r\n")
        rcpts = []
        for raw in f:
            verb = raw[:4].upper()
            if self.mode == "down" and verb in (b"MAIL", b"RSET"):
                # going down with a session open (a connection the relay
                # kept idle): RFC 5321 3.8, 421 to the next command
                conn.sendall(b"421 4.3.2 hop.test down for maintenance\r\n")
                return
            if verb == b"EHLO":
                conn.sendall(b"250-hop.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            elif verb == b"MAIL":
                rcpts = []
                conn.sendall(b"250 2.1.0 ok\r\n")
            elif verb == b"RCPT":
                addr = raw.split(b"<", 1)[1].split(b">", 1)[0].decode()
                conn.sendall(self.rcpt_reply(addr, rcpts))
            elif verb == b"DATA" and not rcpts:
                # RFC 2920 3.1: the pipelined DATA after refused RCPTs
                conn.sendall(b"554 5.5.1 no valid recipients\r\n")
            elif verb == b"DATA":
                if self.mode == "slow":
                    time.sleep(0.4)     # a kill here is before the dot
                conn.sendall(b"354 go\r\n")
                body = b""
                for line in f:
                    if line == b".\r\n":
                        break
                    body += line
                else:
                    return      # the client died in the middle
                found = TOKEN.search(body)
                token = int(found.group(1)) if found else -1
                with self.lock:
                    self.accepted.extend((token, r) for r in rcpts)
                conn.sendall(b"250 2.0.0 queued\r\n")
            elif verb == b"RSET":
                rcpts = []
                conn.sendall(b"250 2.0.0 ok\r\n")
            elif verb == b"QUIT":
                conn.sendall(b"221 2.0.0 bye\r\n")
                return
            else:
                conn.sendall(b"502 5.5.2 what\r\n")

    def rcpt_reply(self, addr, rcpts):
        if addr.startswith("nope"):
            return b"550 5.1.1 no such user\r\n"
        if addr.startswith("later"):
            key = addr
            with self.lock:
                self.tries[key] = self.tries.get(key, 0) + 1
                if self.tries[key] <= 2:
                    return b"451 4.2.1 mailbox busy\r\n"
        if self.mode == "slow":
            time.sleep(0.05)
        rcpts.append(addr)
        return b"250 2.1.5 ok\r\n"

    def wait_idle(self):
        wait_for("the next hop to see the connections close",
                 lambda: self.active == 0, timeout=15)

    def received(self):
        with self.lock:
            return list(self.accepted)

    def close(self):
        self.sock.close()


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


class QueueKill(unittest.TestCase):
    ROUNDS = int(os.environ.get("MAILLAB_KILL_ROUNDS", "12"))
    PER_ROUND = 3
    MODES = ["slow", "ok", "down", "slow", "ok", "slow"]

    def setUp(self):
        self.hop = RecordingHop()
        self.a = Instance.start(config={
            "domains": "a.test", "queue_retry_base": "1s",
            "queue_retry_max": "1s", "timeout_client": "10s",
            "route hop.test": "127.0.0.1:%d" % self.hop.port})
        self.qdir = os.path.join(self.a.dir, "queue")
        self.rng = random.Random(int(os.environ.get("MAILLAB_KILL_SEED", "12")))
        self.states = {"in delivery": 0}
        self.expected = {}          # token -> recipients the hop must get
        self.bounced = set()        # tokens with a refused recipient
        self.windows = []           # items (token, rcpt | "report") at risk

    def tearDown(self):
        if self.a.proc is None:
            self.a.launch()
        self.a.stop()
        self.hop.close()

    def submit(self, token):
        rcpts = ["ok-%d@hop.test" % token, "two-%d@hop.test" % token]
        if token % 3 == 0:
            rcpts.append("later-%d@hop.test" % token)
        if token % 4 == 1:
            rcpts.append("nope-%d@hop.test" % token)
            self.bounced.add(token)
        msg = ("From: alice@a.test\r\nSubject: kq-%d\r\n\r\nmessage kq-%d\r\n"
               % (token, token)).encode()
        a = self.a
        with smtplib.SMTP(a.host, a.port("submission"), timeout=30) as c:
            c.starttls(context=a.tls_context())
            c.login("alice", a.password("alice"))
            self.assertEqual(c.sendmail("alice@a.test", rcpts, msg), {})
        self.expected[token] = [r for r in rcpts if not r.startswith("nope")]

    def reports(self):
        """Tokens of the delivery reports in alice's Maildir (one each)."""
        out = []
        base = self.a.maildir("alice")
        for sub in ("new", "cur"):
            for name in os.listdir(os.path.join(base, sub)):
                text = read(os.path.join(base, sub, name))
                if text is not None and b"multipart/report" in text:
                    out.append(int(TOKEN.search(text).group(1)))
        return out

    def queued(self):
        """(sender, token, [(state, rcpt)]) of every message in the queue,
        read from its files while the server is dead."""
        out = []
        for name in os.listdir(self.qdir):
            if not name.endswith(".env"):
                continue
            env = read(os.path.join(self.qdir, name))
            msg = read(os.path.join(self.qdir, name[:-4] + ".msg"))
            lines = env.decode().splitlines()
            sender = [l[7:] for l in lines if l.startswith("sender ")][0]
            rcpts = [(l.split()[1], l.split()[4]) for l in lines
                     if l.startswith("rcpt ")]
            out.append((sender, int(TOKEN.search(msg).group(1)), rcpts))
        return out

    def note_windows(self):
        """The recipients a SIGKILL just caught between the next hop's 250
        and the envelope that records it."""
        accepted = set(self.hop.received())
        reported = set(self.reports())
        for sender, token, rcpts in self.queued():
            for state, rcpt in rcpts:
                if state != "pending":
                    continue
                if sender == "<>" and token in reported:
                    self.windows.append((token, "report"))
                elif sender != "<>" and (token, rcpt) in accepted:
                    self.windows.append((token, rcpt))

    def note_states(self, in_delivery):
        """Counts the states the kill caught (printed at the end)."""
        if in_delivery:
            self.states["in delivery"] += 1
        for sender, token, rcpts in self.queued():
            for state, rcpt in rcpts:
                key = ("bounce " if sender == "<>" else "") + state
                self.states[key] = self.states.get(key, 0) + 1

    def kill_and_restart(self):
        in_delivery = self.hop.active > 0
        self.a.proc.kill()
        self.a.proc.wait()
        self.a.proc = None
        self.hop.wait_idle()
        self.note_windows()
        self.note_states(in_delivery)
        self.a.launch()

    def test_sigkill_in_every_state(self):
        token = 0
        for rnd in range(self.ROUNDS):
            self.hop.mode = self.MODES[rnd % len(self.MODES)]
            for _ in range(self.PER_ROUND):
                self.submit(token)
                token += 1
            time.sleep(self.rng.uniform(0.05, 1.5))
            self.kill_and_restart()
        self.hop.mode = "ok"
        run_cli("queue", "flush", "-d", self.a.dir)
        wait_for("an empty queue", lambda: "The queue is empty." in
                 run_cli("queue", "list", "-d", self.a.dir).stdout, timeout=90)
        wait_for("the hop to close", lambda: self.hop.active == 0)

        got = self.hop.received()
        reports = self.reports()
        risky = set(self.windows)
        for t, rcpts in self.expected.items():
            for rcpt in rcpts:
                n = got.count((t, rcpt))
                self.assertGreaterEqual(n, 1, "lost: kq-%d to %s" % (t, rcpt))
                self.assertLessEqual(n, 1 + self.windows.count((t, rcpt)),
                                     "sent twice: kq-%d to %s" % (t, rcpt))
            n = reports.count(t)
            if t in self.bounced:
                self.assertGreaterEqual(n, 1, "report lost: kq-%d" % t)
                self.assertLessEqual(n, 1 + self.windows.count((t, "report")),
                                     "reported twice: kq-%d" % t)
            else:
                self.assertEqual(n, 0, "a report for kq-%d" % t)
        self.assertFalse([r for _, r in got if r.startswith("nope")])
        dups = sum(1 for item in risky if got.count(item) > 1 or
                   (item[1] == "report" and reports.count(item[0]) > 1))
        print("\n  %d kills, %d messages, %d recipients caught between the "
              "250 and the envelope write, %d of them sent twice"
              % (self.ROUNDS, token, len(self.windows), dups), file=sys.stderr)
        print("  states caught: %s" % ", ".join(
            "%s %d" % kv for kv in sorted(self.states.items())), file=sys.stderr)
        self.assertEqual(sorted(n for n in os.listdir(self.qdir)
                                if n not in ("tmp",)), [])
        self.a.assert_alive()


if __name__ == "__main__":
    unittest.main()
