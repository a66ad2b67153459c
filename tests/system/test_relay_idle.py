"""Outbound connections kept open for the next message (issue 12: "one
connection per destination reused for several messages"): a connection
with nothing more to send waits queue_connection_idle for the next message
to its destination, which then goes over it after an RSET (RFC 5321
4.1.1.5); after the idle time it says QUIT (4.1.1.10).  A next hop that
drops the idle connection (its own idle timeout, RFC 5321 4.5.3.2.7) costs
nothing: the next message goes over a new connection, once."""
import smtplib
import socket
import threading
import time
import unittest

from fixture import Instance, run_cli
from test_relay import LAB_TIMINGS, wait_for


class IdleHop:
    """A next hop with PIPELINING that records each session's lines and
    every message's Subject.  `mode` says what it does to a session once
    it has taken one message: "keep" nothing, "close" closes it (as a
    server whose idle timeout ran out), "close-on-rset" keeps it open but
    closes it without a reply when the next command (RSET) comes,
    "mute-quit" never answers QUIT (nor closes)."""

    def __init__(self, mode="keep"):
        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.sessions = []
        self.subjects = []
        self.lock = threading.Lock()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()

    def session(self, conn):
        lines = []
        with self.lock:
            self.sessions.append(lines)
        f = conn.makefile("rb")
        conn.sendall(b"220 hop.test ESMTP\r\n")
        taken = 0
        try:
            for raw in f:
                line = raw.decode().rstrip("\r\n")
                lines.append(line)
                verb = line.split(" ")[0].upper()
                if taken and self.mode == "close-on-rset" and verb == "RSET":
                    return
                if verb == "EHLO":
                    conn.sendall(b"250-hop.test\r\n250-PIPELINING\r\n250 SIZE 1000000\r\n")
                elif verb in ("MAIL", "RCPT", "RSET"):
                    conn.sendall(b"250 2.0.0 ok\r\n")
                elif verb == "DATA":
                    conn.sendall(b"354 go\r\n")
                    subject = None
                    for data in f:
                        if data == b".\r\n":
                            break
                        if data.startswith(b"Subject: "):
                            subject = data[9:].decode().strip()
                    with self.lock:
                        self.subjects.append(subject)
                    lines.append("<message %s>" % subject)
                    conn.sendall(b"250 2.0.0 queued\r\n")
                    taken += 1
                    if self.mode == "close":
                        return
                elif verb == "QUIT" and self.mode == "mute-quit":
                    continue
                elif verb == "QUIT":
                    conn.sendall(b"221 2.0.0 bye\r\n")
                    return
                else:
                    conn.sendall(b"502 5.5.2 what\r\n")
        finally:
            conn.close()

    def close(self):
        self.sock.close()


class IdleConnections(unittest.TestCase):
    def start(self, mode, idle):
        self.hop = IdleHop(mode)
        self.a = Instance.start(config=dict(
            LAB_TIMINGS, domains="a.test", queue_connection_idle=idle,
            **{"route hop.test": "127.0.0.1:%d" % self.hop.port}))

    def tearDown(self):
        self.a.stop()
        self.hop.close()

    def send(self, subject):
        a = self.a
        msg = ("From: alice@a.test\r\nTo: bob@hop.test\r\nSubject: %s\r\n\r\n"
               "hello\r\n" % subject)
        with smtplib.SMTP(a.host, a.port("submission")) as c:
            c.starttls(context=a.tls_context())
            c.login("alice", a.password("alice"))
            self.assertEqual(c.sendmail("alice@a.test", ["bob@hop.test"],
                                        msg.encode()), {})

    def wait_subjects(self, n):
        wait_for("%d message(s) at the hop" % n, lambda: len(self.hop.subjects) >= n)
        wait_for("an empty queue", lambda: "The queue is empty." in
                 run_cli("queue", "list", "-d", self.a.dir).stdout)

    def test_reused_within_the_idle_time(self):
        # long enough that the second message comes within it even on a
        # loaded machine
        self.start("keep", "20s")
        self.send("one")
        self.wait_subjects(1)
        self.send("two")
        self.wait_subjects(2)
        s = self.hop.sessions
        self.assertEqual(len(s), 1, s)
        # the second transaction began with RSET, pipelined with MAIL
        i = s[0].index("<message one>")
        self.assertEqual([l.split(":")[0] for l in s[0][i + 1:i + 6]],
                         ["RSET", "MAIL FROM", "RCPT TO", "DATA", "<message two>"])
        self.assertNotIn("QUIT", s[0])
        self.a.assert_alive()

    def test_quit_after_the_idle_time_then_a_new_connection(self):
        self.start("keep", "1s")
        self.send("one")
        self.wait_subjects(1)
        wait_for("QUIT on the idle connection",
                 lambda: self.hop.sessions[0][-1:] == ["QUIT"])
        self.assertIn("idle for 1 s, closing", self.a.log())
        self.send("two")
        self.wait_subjects(2)
        self.assertEqual(len(self.hop.sessions), 2)
        self.assertNotIn("RSET", self.hop.sessions[1])
        self.assertEqual(self.hop.subjects, ["one", "two"])

    def test_no_idle_time_quits_at_once(self):
        self.start("keep", "0")
        self.send("one")
        self.wait_subjects(1)
        wait_for("QUIT", lambda: self.hop.sessions[0][-1:] == ["QUIT"])
        self.assertEqual(self.hop.sessions[0][-2:], ["<message one>", "QUIT"])

    def check_once(self):
        self.assertEqual(sorted(self.hop.subjects), ["one", "two"])
        log = self.a.log()
        # the second message was never deferred: it went at once
        self.assertNotIn("status=deferred", log)
        self.assertEqual(log.count("status=sent"), 2)
        self.a.assert_alive()

    def test_hop_closes_the_idle_connection(self):
        self.start("close", "20s")
        self.send("one")
        self.wait_subjects(1)
        self.send("two")
        self.wait_subjects(2)
        self.assertEqual(len(self.hop.sessions), 2)
        self.check_once()

    def test_hop_drops_the_idle_connection_at_the_rset(self):
        # the connection looks open, but the hop is gone by the time the
        # next message comes: the RSET gets no reply, the message goes
        # over a new connection, once
        self.start("close-on-rset", "20s")
        self.send("one")
        self.wait_subjects(1)
        self.send("two")
        self.wait_subjects(2)
        s = self.hop.sessions
        self.assertEqual(len(s), 2, s)
        self.assertEqual(s[0][-1], "RSET")
        self.assertIn("idle connection lost", self.a.log())
        self.check_once()

    def test_server_stop_says_quit(self):
        # RFC 5321 4.1.1.10: the idle connection is ended with QUIT when
        # the server stops, not just dropped
        self.start("keep", "20s")
        self.send("one")
        self.wait_subjects(1)
        self.assertNotIn("QUIT", self.hop.sessions[0])
        self.a.stop()
        wait_for("QUIT at the stop",
                 lambda: self.hop.sessions[0][-1:] == ["QUIT"], timeout=5)
        self.assertEqual(len(self.hop.sessions), 1)

    def test_server_stop_does_not_wait_for_a_mute_hop(self):
        # a next hop that never answers the QUIT holds the stop up for
        # at most the runner's short wait, within shutdown_grace (1 s)
        self.start("mute-quit", "20s")
        self.send("one")
        self.wait_subjects(1)
        t0 = time.monotonic()
        self.a.stop()
        took = time.monotonic() - t0
        wait_for("QUIT at the stop",
                 lambda: self.hop.sessions[0][-1:] == ["QUIT"], timeout=5)
        self.assertLess(took, 2.5)


if __name__ == "__main__":
    unittest.main()
