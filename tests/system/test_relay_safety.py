"""Relay safety (issue 12): an alias may forward outside the local domains
only when `alias_remote_targets = yes` (else `maillab alias add` refuses the
target, and mail to such an alias already in the database gets 451); a
bounce goes to the envelope sender and to nobody else, whatever the
message's header names (To, Cc, Reply-To, Errors-To,
Disposition-Notification-To, a Return-Path of its own)."""
import os
import smtplib
import unittest

from fixture import Instance, run_cli
from test_queue_kill import RecordingHop
from test_relay import LAB_TIMINGS, wait_for


class AliasForwardingOff(unittest.TestCase):
    def setUp(self):
        self.a = Instance.start(config={"domains": "a.test"})

    def tearDown(self):
        self.a.stop()

    def test_alias_add_refuses_a_remote_target(self):
        a = self.a
        p = run_cli("alias", "add", "-d", a.dir, "out", "someone@b.test",
                    check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("someone@b.test is outside the local domains", p.stderr)
        self.assertIn("alias_remote_targets", p.stderr)
        p = run_cli("alias", "add", "-d", a.dir, "out", "alice", "[127.0.0.1]x",
                    check=False)
        self.assertNotEqual(p.returncode, 0)
        # nothing was stored, local targets still work
        self.assertNotIn("out", run_cli("alias", "list", "-d", a.dir).stdout)
        run_cli("alias", "add", "-d", a.dir, "in", "alice", "bob@a.test")
        self.assertIn("in", run_cli("alias", "list", "-d", a.dir).stdout)
        with smtplib.SMTP(a.host, a.port("smtp")) as c:
            c.ehlo("client.example")
            c.mail("x@example.com")
            self.assertEqual(c.rcpt("in@a.test")[0], 250)
            code, msg = c.rcpt("someone@b.test")
            self.assertEqual((code, msg[:5]), (554, b"5.7.1"))
        a.assert_alive()


class AliasForwardingOnAndBounces(unittest.TestCase):
    def setUp(self):
        self.hop = RecordingHop()
        self.a = Instance.start(config=dict(
            LAB_TIMINGS, domains="a.test", alias_remote_targets="yes",
            **{"route c.test": "127.0.0.1:%d" % self.hop.port}))

    def tearDown(self):
        self.a.stop()
        self.hop.close()

    def test_forward_and_bounce_only_to_the_envelope_sender(self):
        a = self.a
        run_cli("alias", "add", "-d", a.dir, "fwd", "alice", "ok-1@c.test",
                "nope-1@c.test")
        msg = ("From: victim@c.test\r\n"
               "To: third@c.test\r\nCc: other@c.test\r\n"
               "Reply-To: reply@c.test\r\nErrors-To: errors@c.test\r\n"
               "Disposition-Notification-To: dnt@c.test\r\n"
               "Return-Path: <rp@c.test>\r\n"
               "Subject: kq-1\r\n\r\nkq-1 reflected?\r\n")
        # the MX port: anybody may write to the alias
        with smtplib.SMTP(a.host, a.port("smtp")) as c:
            c.ehlo("client.example")
            self.assertEqual(c.sendmail("sender@c.test", ["fwd@a.test"],
                                        msg.encode()), {})
        # the local target at once, the accepted remote one at the hop,
        # the refused one reported to sender@c.test (the envelope sender)
        got = wait_for("the forward and the bounce at the hop",
                       lambda: len(self.hop.received()) >= 2 and self.hop.received())
        wait_for("an empty queue", lambda: "The queue is empty." in
                 run_cli("queue", "list", "-d", a.dir).stdout)
        self.assertEqual(sorted(r for _, r in self.hop.received()),
                         ["ok-1@c.test", "sender@c.test"])
        self.assertEqual(len(got), 2)
        log = a.log()
        self.assertIn("bounce id=", log)
        self.assertNotIn("to=<third@c.test>", log)
        self.assertNotIn("to=<victim@c.test>", log)
        # the bounce had the null reverse-path and one recipient
        bounce = [t for t in a.traces().values()
                  if "RCPT TO:<sender@c.test>" in t]
        self.assertEqual(len(bounce), 1)
        self.assertIn("MAIL FROM:<>", bounce[0])
        # the forward may have gone over the same connection (it stays
        # open for the next message): count in the bounce's transaction
        txn = [t for t in bounce[0].split("MAIL FROM:") if t.startswith("<>")]
        self.assertEqual(len(txn), 1)
        self.assertEqual(txn[0].count("RCPT TO:"), 1)
        a.assert_alive()

    def test_submission_cannot_forge_the_sender_to_aim_a_bounce(self):
        a = self.a
        with smtplib.SMTP(a.host, a.port("submission")) as c:
            c.starttls(context=a.tls_context())
            c.login("alice", a.password("alice"))
            code, resp = c.mail("victim@c.test")
            self.assertEqual(code, 553, resp)
            c.rset()
            self.assertEqual(c.sendmail("alice@a.test", ["nope-2@c.test"],
                                        b"Subject: kq-2\r\nReply-To: victim@c.test"
                                        b"\r\n\r\nx\r\n"), {})
        # the report comes back to alice, never to the hop
        wait_for("an empty queue", lambda: "The queue is empty." in
                 run_cli("queue", "list", "-d", a.dir).stdout)
        wait_for("the report in alice's mailbox", lambda: any(
            "multipart/report" in open(p, errors="replace").read()
            for p in self.files("alice")))
        self.assertEqual(self.hop.received(), [])
        a.assert_alive()

    def files(self, user):
        base = self.a.maildir(user)
        return [os.path.join(base, "new", n)
                for n in os.listdir(os.path.join(base, "new"))]


class Limits(unittest.TestCase):
    """Rate limits per authenticated user and the per-destination
    connection cap (queue_max_per_destination)."""

    def setUp(self):
        self.hop = RecordingHop()
        self.hop.mode = "slow"
        self.a = Instance.start(config=dict(
            LAB_TIMINGS, domains="a.test", queue_max_per_destination="2",
            rate_messages_per_hour="8", rate_recipients_per_hour="9",
            **{"route c.test": "127.0.0.1:%d" % self.hop.port}))

    def tearDown(self):
        self.a.stop()
        self.hop.close()

    def test_rate_limits_and_destination_cap(self):
        a = self.a
        with smtplib.SMTP(a.host, a.port("submission")) as c:
            c.starttls(context=a.tls_context())
            c.login("alice", a.password("alice"))
            for i in range(8):
                c.sendmail("alice@a.test", ["ok-%d@c.test" % i],
                           b"Subject: kq-%d\r\n\r\nx\r\n" % i)
            with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
                c.sendmail("alice@a.test", ["ok-9@c.test"], b"Subject: kq-9\r\n\r\nx\r\n")
            self.assertEqual(cm.exception.smtp_code, 450)
            self.assertIn(b"4.7.1", cm.exception.smtp_error)
            self.assertEqual(c.noop()[0], 250)
        # bob has his own counts; alice's recipients: 8 of 9 used
        with smtplib.SMTP(a.host, a.port("submission")) as c:
            c.starttls(context=a.tls_context())
            c.login("bob", a.password("bob"))
            c.sendmail("bob@a.test", ["ok-10@c.test", "ok-11@c.test"],
                       b"Subject: kq-10\r\n\r\nx\r\n")
        wait_for("10 deliveries at the hop", lambda: len(self.hop.received()) == 10)
        wait_for("an empty queue", lambda: "The queue is empty." in
                 run_cli("queue", "list", "-d", a.dir).stdout)
        # never more than queue_max_per_destination connections at once
        self.assertLessEqual(self.hop.max_active, 2)
        a.assert_alive()


if __name__ == "__main__":
    unittest.main()
