"""A smart host (issue 12, "for users whose provider blocks port 25"):
`route * = HOST:PORT tls=require auth=USER:PASSWORD` sends everything not
local through another server's submission port, here a second maillab
instance b, with STARTTLS required, b's certificate checked against
`relay_ca_file`, and AUTH PLAIN, the message in one BDAT chunk (b offers
CHUNKING); b relays on to a recording next hop.
The password never reaches a's trace.  A certificate that the CA file
does not vouch for, a wrong password and a smart host without STARTTLS
each keep the mail in the queue with the reason."""
import os
import smtplib
import unittest

from fixture import Instance, run_cli
from test_queue_kill import RecordingHop
from test_relay import LAB_TIMINGS, wait_for


class SmartHost(unittest.TestCase):
    def setUp(self):
        self.hop = RecordingHop()
        self.b = Instance.start(config={
            "domains": "b.test", "smtp_sender_must_match": "no",
            "smtp_from_must_match": "no",
            "route c.test": "127.0.0.1:%d" % self.hop.port})
        # cleanups run even when a fails to start in a test
        self.addCleanup(self.hop.close)
        self.addCleanup(self.b.stop)

    def start_a(self, route, ca):
        self.a = Instance.start(config=dict(
            LAB_TIMINGS, domains="a.test", relay_ca_file=ca,
            **{"route *": route}))
        self.addCleanup(self.a.stop)
        return self.a

    def submit(self, subject):
        a = self.a
        with smtplib.SMTP(a.host, a.port("submission")) as c:
            c.starttls(context=a.tls_context())
            c.login("alice", a.password("alice"))
            c.sendmail("alice@a.test", ["ok-1@c.test"],
                       ("From: alice@a.test\r\nSubject: %s\r\n\r\nkq-1\r\n"
                        % subject).encode())

    def queue(self):
        return run_cli("queue", "list", "-d", self.a.dir).stdout

    def route(self, password, port=None):
        return "127.0.0.1:%d tls=require auth=bob:%s" % (
            port or self.b.port("submission"), password)

    def test_relay_through_the_smart_host(self):
        a = self.start_a(self.route(self.b.password("bob")), self.b.cafile)
        self.submit("via smart host")
        wait_for("the message at the hop", lambda: self.hop.received())
        wait_for("an empty queue", lambda: "The queue is empty." in self.queue())
        self.assertEqual(self.hop.received(), [(1, "ok-1@c.test")])
        out = [t for n, t in a.traces().items() if n.startswith("smtp-out")]
        self.assertEqual(len(out), 1)
        trace = out[0]
        self.assertIn("TLS established", trace)
        self.assertIn("AUTH PLAIN <redacted>", trace)
        self.assertNotIn(self.b.password("bob"), trace)
        self.assertLess(trace.index("STARTTLS"), trace.index("AUTH PLAIN"))
        self.assertLess(trace.index("AUTH PLAIN"), trace.index("MAIL FROM"))
        # b offers CHUNKING (RFC 3030): the message goes as one BDAT chunk
        self.assertIn("C: BDAT ", trace)
        self.assertIn("<message body (BDAT)", trace)
        self.assertNotIn("C: DATA", trace)
        # b saw bob log in and relayed for him
        self.assertIn("bob", "".join(t for n, t in self.b.traces().items()
                                     if n.startswith("submission")))
        a.assert_alive()

    def test_certificate_not_vouched_for(self):
        # a's own certificate as the CA: b's certificate does not chain to it
        a = Instance.start(config={"domains": "x.test"})
        own_ca = a.cafile
        try:
            self.start_a(self.route(self.b.password("bob")), own_ca)
            self.submit("bad cert")
            listing = wait_for("a deferral", lambda: (
                lambda out: "last error" in out and out)(self.queue()))
            self.assertIn("certificate verify failed", listing)
            self.assertIn("<ok-1@c.test> pending", listing)
            self.assertEqual(self.hop.received(), [])
        finally:
            a.stop()
        self.assertNotIn("again without STARTTLS", self.a.log())

    def test_wrong_password(self):
        self.start_a(self.route("not-the-password"), self.b.cafile)
        self.submit("bad password")
        listing = wait_for("a deferral", lambda: (
            lambda out: "last error" in out and out)(self.queue()))
        self.assertIn("535", listing)
        self.assertIn("<ok-1@c.test> pending", listing)
        self.assertNotIn("not-the-password", "".join(self.a.traces().values()))
        self.assertEqual(self.hop.received(), [])

    def test_smart_host_without_starttls(self):
        # the recording hop offers no STARTTLS: nothing is sent, no password
        self.start_a(self.route("secret-pw", port=self.hop.port), self.b.cafile)
        self.submit("no tls")
        listing = wait_for("a deferral", lambda: (
            lambda out: "last error" in out and out)(self.queue()))
        self.assertIn("4.7.10 TLS is required", listing)
        self.assertEqual(self.hop.received(), [])
        out = "".join(t for n, t in self.a.traces().items()
                      if n.startswith("smtp-out"))
        self.assertIn("EHLO", out)
        self.assertNotIn("AUTH", out)
        self.assertNotIn("MAIL FROM", out)
        self.assertNotIn("secret-pw", "".join(self.a.traces().values()))


if __name__ == "__main__":
    unittest.main()
