"""The relay client against a next hop that is not maillab: a small SMTP
server written here (no PIPELINING, STARTTLS offered but broken, a 4xx and a
5xx recipient).  The message still goes (opportunistic TLS falls back to
plain text, RFC 7435), commands wait for their replies, the body is
dot-stuffed on the wire (RFC 5321 4.5.2), the deferred recipient is retried
and delivered, the refused one comes back to alice as a report."""
import socket
import smtplib
import threading
import unittest

from fixture import Instance, run_cli
from test_relay import LAB_TIMINGS, wait_for


class FakeNextHop:
    """Accepts SMTP sessions and records them (one list of lines each)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.sessions = []
        self.bodies = []
        self.later_tries = 0
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
        conn.sendall(b"220 fake.test ESMTP\r\n")
        try:
            for raw in f:
                line = raw.decode().rstrip("\r\n")
                lines.append(line)
                verb = line.split(" ")[0].upper()
                if verb == "EHLO":
                    conn.sendall(b"250-fake.test\r\n250-STARTTLS\r\n250 SIZE 1000000\r\n")
                elif verb == "STARTTLS":
                    # not a TLS server after all
                    conn.sendall(b"220 go ahead\r\nthis is not a TLS handshake\r\n")
                    return
                elif verb == "MAIL":
                    conn.sendall(b"250 2.1.0 ok\r\n")
                elif verb == "RCPT":
                    conn.sendall(self.rcpt_reply(line))
                elif verb == "DATA":
                    conn.sendall(b"354 go\r\n")
                    body = b""
                    for data in f:
                        if data == b".\r\n":
                            break
                        body += data
                    with self.lock:
                        self.bodies.append(body)
                    conn.sendall(b"250 2.0.0 queued\r\n")
                elif verb == "RSET":
                    conn.sendall(b"250 2.0.0 reset\r\n")
                elif verb == "QUIT":
                    conn.sendall(b"221 2.0.0 bye\r\n")
                    return
                else:
                    conn.sendall(b"502 5.5.2 what\r\n")
        finally:
            conn.close()

    def rcpt_reply(self, line):
        if "nope@" in line:
            return b"550 5.1.1 <nope@fake.test>: no such user\r\n"
        if "later@" in line:
            with self.lock:
                self.later_tries += 1
                if self.later_tries == 1:
                    return b"451 4.2.1 mailbox busy, try later\r\n"
        return b"250 2.1.5 ok\r\n"

    def close(self):
        self.sock.close()


class RelayClient(unittest.TestCase):
    def setUp(self):
        self.hop = FakeNextHop()
        self.a = Instance.start(config=dict(
            LAB_TIMINGS, domains="a.test",
            **{"route fake.test": "127.0.0.1:%d" % self.hop.port}))

    def tearDown(self):
        self.a.stop()
        self.hop.close()

    def test_plain_fallback_no_pipelining_stuffing_and_results(self):
        a = self.a
        msg = ("From: alice@a.test\r\nSubject: to fake\r\n\r\n"
               "line one\r\n.hidden dot\r\n..two dots\r\nlast\r\n")
        with smtplib.SMTP(a.host, a.port("submission")) as c:
            c.starttls(context=a.tls_context())
            c.login("alice", a.password("alice"))
            # smtplib stuffs the dots, maillab unstuffs and stuffs again
            c.sendmail("alice@a.test", ["ok@fake.test", "later@fake.test",
                                        "nope@fake.test"], msg.encode())
        wait_for("the retry of later@", lambda: len(self.hop.bodies) >= 2)
        wait_for("an empty queue", lambda: "The queue is empty." in
                 run_cli("queue", "list", "-d", a.dir).stdout)
        s = self.hop.sessions
        # the first session tried STARTTLS and failed; the next went on in
        # the clear without it
        self.assertIn("STARTTLS", s[0])
        self.assertNotIn("STARTTLS", s[1])
        # one command at a time; the retry comes within
        # queue_connection_idle, so it may take the same connection, which
        # then begins with RSET (else a new one: the first ends with QUIT)
        self.assertEqual([l.split(":")[0] for l in s[1][:6]],
                         ["EHLO localhost", "MAIL FROM", "RCPT TO", "RCPT TO",
                          "RCPT TO", "DATA"])
        self.assertIn(s[1][6], ("QUIT", "RSET"))
        self.assertTrue(s[1][1].startswith("MAIL FROM:<alice@a.test> SIZE="))
        body = self.hop.bodies[0]
        self.assertIn(b"\r\n\r\nline one\r\n..hidden dot\r\n...two dots\r\nlast\r\n", body)
        self.assertFalse(body.startswith(b"Return-Path:"))
        # the retry carries later@ alone
        wait_for("the last session's QUIT",
                 lambda: self.hop.sessions[-1][-1:] == ["QUIT"])
        txns = "\n".join("\n".join(x) for x in s[1:]).split("MAIL FROM:")
        retry = [l for l in txns[-1].split("\n") if l.startswith("RCPT")]
        self.assertEqual(retry, ["RCPT TO:<later@fake.test>"])
        self.assertEqual(len(txns), 3)
        # nope@ came back as a report
        reports = [msg for msg in a.inbox_messages("alice")
                   if msg.get_content_type() == "multipart/report"]
        self.assertEqual(len(reports), 1)
        group = reports[0].get_payload()[1].get_payload()[1]
        self.assertEqual(group["Final-Recipient"], "rfc822; nope@fake.test")
        self.assertEqual(group["Status"], "5.1.1")
        self.assertIn("again without STARTTLS", a.log())


if __name__ == "__main__":
    unittest.main()
