"""Store and forward (issue 12) with two live instances on loopback: a.test
relays to b.test through `route b.test = 127.0.0.1:<b's MX port>`.  Alice
submits over a's submission port with smtplib, bob reads over b's IMAP with
imaplib; b goes down, the message waits in a's queue (`maillab queue list`
shows why), b comes back and a retry delivers it; a SIGKILL of a with a
message queued loses nothing and sends nothing twice; a permanent failure
comes back to alice as an RFC 3464 report, and so do a mail loop and a
message deleted from the queue; the MX port still relays nothing."""
import email
import imaplib
import os
import signal
import smtplib
import time
import unittest

from fixture import Instance, free_ports, run_cli

LAB_TIMINGS = {"queue_retry_base": "1s", "queue_retry_max": "2s",
               "timeout_client": "10s"}


def wait_for(what, check, timeout=30):
    """Polls check() until it returns something true; returns that."""
    deadline = time.time() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.2)


def pause(inst):
    """SIGTERM, keeping the instance's files (to start it again)."""
    inst.proc.send_signal(signal.SIGTERM)
    assert inst.proc.wait(timeout=20) == 0, inst.stderr()
    inst.proc = None
    inst.assert_no_sanitizer_report()


class Relay(unittest.TestCase):
    def setUp(self):
        self.b = Instance.start(config={"domains": "b.test"})
        self.a = Instance.start(config=dict(
            LAB_TIMINGS, domains="a.test",
            **{"route b.test": "127.0.0.1:%d" % self.b.port("smtp")}))

    def tearDown(self):
        for inst in (self.a, self.b):
            if inst.proc is None:
                inst.launch()
            inst.stop()

    def submit(self, to, subject, body="Hello Bob.\r\n"):
        a = self.a
        msg = ("From: alice@a.test\r\nTo: %s\r\nSubject: %s\r\n\r\n%s"
               % (", ".join(to), subject, body))
        with smtplib.SMTP(a.host, a.port("submission")) as c:
            c.starttls(context=a.tls_context())
            c.login("alice", a.password("alice"))
            refused = c.sendmail("alice@a.test", to, msg.encode())
        self.assertEqual(refused, {})

    def messages(self, inst, user):
        """Every message in user's INBOX, read over IMAP."""
        m = imaplib.IMAP4(inst.host, inst.port("imap"))
        try:
            m.login(user, inst.password(user))
            m.select("INBOX")
            typ, data = m.search(None, "ALL")
            out = []
            for num in data[0].split():
                typ, parts = m.fetch(num, "(RFC822)")
                out.append(email.message_from_bytes(parts[0][1]))
            return out
        finally:
            m.logout()

    def with_subject(self, inst, user, subject):
        return [m for m in self.messages(inst, user) if m["Subject"] == subject]

    def reports(self):
        """Delivery status notifications in alice's INBOX at a."""
        return [m for m in self.messages(self.a, "alice")
                if m.get_content_type() == "multipart/report"]

    def queue(self, *args):
        return run_cli("queue", *args, "-d", self.a.dir).stdout

    def test_relay_outage_and_retry(self):
        self.submit(["bob@b.test"], "first")
        got = wait_for("the first message at b",
                       lambda: self.with_subject(self.b, "bob", "first"))
        msg = got[0]
        self.assertEqual(msg.get_payload(), "Hello Bob.\r\n")
        # one Return-Path (b's): a does not relay its own
        self.assertEqual(msg.get_all("Return-Path"), ["<alice@a.test>"])
        self.assertEqual(len(msg.get_all("Received")), 2)
        self.assertIn("The queue is empty.", self.queue("list"))

        pause(self.b)
        self.submit(["bob@b.test"], "second")
        listing = wait_for("a deferral in queue list", lambda: (
            lambda out: out if "attempt" in out and "last error" in out else None)(
                self.queue("list")))
        self.assertIn("from <alice@a.test>", listing)
        self.assertIn("<bob@b.test> pending", listing)
        self.assertIn("Connection refused", listing)
        self.assertIn("next try", listing)

        self.b.launch()
        wait_for("the retry to deliver",
                 lambda: self.with_subject(self.b, "bob", "second"))
        wait_for("an empty queue",
                 lambda: "The queue is empty." in self.queue("list"))
        self.assertEqual(len(self.with_subject(self.b, "bob", "first")), 1)
        self.assertEqual(len(self.with_subject(self.b, "bob", "second")), 1)
        log = self.a.log()
        self.assertIn("status=deferred", log)
        self.assertIn("status=sent", log)
        self.a.assert_alive()

    def test_sigkill_with_message_queued(self):
        pause(self.b)
        self.submit(["bob@b.test"], "survivor")
        wait_for("a deferral", lambda: "last error" in self.queue("list"))
        self.a.proc.kill()
        self.a.proc.wait()
        self.a.proc = None
        self.assertIn("<bob@b.test> pending", self.queue("list"))
        self.a.launch()
        self.b.launch()
        wait_for("delivery after the restart",
                 lambda: self.with_subject(self.b, "bob", "survivor"))
        wait_for("an empty queue",
                 lambda: "The queue is empty." in self.queue("list"))
        # a little longer: nothing comes twice
        time.sleep(2)
        self.assertEqual(len(self.with_subject(self.b, "bob", "survivor")), 1)
        self.assertEqual([n for n in os.listdir(os.path.join(self.a.dir, "queue"))
                          if n != "tmp"], [])

    def test_mixed_local_and_remote_and_bounce(self):
        # bob@a.test is local to a: delivered at once; nobody@b.test is
        # refused by b with 550: alice gets a delivery status report
        self.submit(["bob@a.test", "bob@b.test", "nobody@b.test"], "mixed")
        self.assertEqual(len(self.with_subject(self.a, "bob", "mixed")), 1)
        wait_for("delivery at b", lambda: self.with_subject(self.b, "bob", "mixed"))
        reports = wait_for("the bounce", lambda: [
            m for m in self.messages(self.a, "alice")
            if m.get_content_type() == "multipart/report"])
        dsn = reports[0]
        self.assertEqual(dsn.get_param("report-type"), "delivery-status")
        self.assertIn("MAILER-DAEMON@", dsn["From"])
        self.assertEqual(dsn["To"], "<alice@a.test>")
        self.assertEqual(dsn.get_all("Return-Path"), ["<>"])
        self.assertEqual(dsn["Auto-Submitted"], "auto-replied")
        parts = dsn.get_payload()
        self.assertEqual([p.get_content_type() for p in parts],
                         ["text/plain", "message/delivery-status",
                          "text/rfc822-headers"])
        self.assertIn("nobody@b.test", parts[0].get_payload())
        per_msg, per_rcpt = parts[1].get_payload()
        self.assertIn("dns;", per_msg["Reporting-MTA"])
        self.assertIsNotNone(per_msg["Arrival-Date"])
        self.assertEqual(per_rcpt["Final-Recipient"], "rfc822; nobody@b.test")
        self.assertEqual(per_rcpt["Action"], "failed")
        self.assertEqual(per_rcpt["Status"], "5.1.1")
        self.assertTrue(per_rcpt["Diagnostic-Code"].startswith("smtp; 550 5.1.1"))
        self.assertIsNotNone(per_rcpt["Last-Attempt-Date"])
        self.assertIn("Subject: mixed", parts[2].get_payload())
        # the two delivered recipients are not in the report
        self.assertNotIn("bob@b.test", parts[1].as_string())
        wait_for("an empty queue",
                 lambda: "The queue is empty." in self.queue("list"))

    def test_queue_commands(self):
        pause(self.b)
        self.submit(["bob@b.test"], "to be deleted")
        listing = wait_for("the message in the queue",
                           lambda: "last error" in self.queue("list") and self.queue("list"))
        qid = listing.split()[0]
        self.assertEqual(len(qid), 16)
        shown = self.queue("show", qid)
        self.assertIn("Subject: to be deleted", shown)
        self.assertIn("from <alice@a.test>", shown)
        self.assertIn("retries", self.queue("flush", qid))
        # the runner looks for flush-ID files when flush-ids marks them
        wait_for("the runner to take the flush request",
                 lambda: "flush requested (some messages)" in self.a.log())
        # both go, though not always in the same tick: the runner's first
        # look at the queue takes flush-ID files without the mark, so it
        # can take this one before `queue flush` has written flush-ids;
        # that mark is then removed a tick later
        for name in ("flush-" + qid, "flush-ids"):
            path = os.path.join(self.a.dir, "queue", name)
            wait_for(name + " removed", lambda: not os.path.exists(path), timeout=5)
        self.assertIn("retries", self.queue("flush"))
        self.assertIn("Deleted %s (no bounce was sent)" % qid,
                      self.queue("del", qid, "--silent"))
        self.assertIn("The queue is empty.", self.queue("list"))
        p = run_cli("queue", "del", qid, "-d", self.a.dir, check=False)
        self.assertEqual(p.returncode, 1)
        for bad in (["queue"], ["queue", "show"], ["queue", "frob"],
                    ["queue", "list", "x"], ["queue", "del", "../../etc"]):
            p = run_cli(*bad, "-d", self.a.dir, check=False)
            self.assertEqual(p.returncode, 2, (bad, p.stderr))
        # the server goes on, and does not bring the message back
        self.b.launch()
        time.sleep(2)
        self.assertEqual(self.with_subject(self.b, "bob", "to be deleted"), [])
        self.assertIn("The queue is empty.", self.queue("list"))
        self.assertEqual(self.reports(), [])
        # without --silent the sender is told
        pause(self.b)
        self.submit(["bob@b.test"], "deleted loudly")
        qid = wait_for("the message in the queue", lambda: (
            lambda out: "last error" in out and out)(self.queue("list"))).split()[0]
        out = self.queue("del", qid)
        self.assertIn("its sender is told in bounce", out)
        report = wait_for("the bounce", self.reports)[0]
        status = report.get_payload()[1].get_payload()[1]
        self.assertEqual(status["Status"], "5.0.0")
        self.assertEqual(status["Final-Recipient"], "rfc822; bob@b.test")
        self.assertIn("Removed from the queue",
                      report.get_payload()[0].get_payload())
        wait_for("an empty queue",
                 lambda: "The queue is empty." in self.queue("list"))
        self.a.assert_alive()

    def test_mail_loop_is_returned(self):
        # RFC 5321 6.3: too many Received fields, a loop: not sent on
        hops = "".join("Received: from hop%d.example by x; Thu, 1 Jan 2026 "
                       "00:00:00 +0000\r\n" % i for i in range(60))
        self.submit(["bob@b.test"], "no loop")
        a = self.a
        msg = hops + "From: alice@a.test\r\nSubject: round and round\r\n\r\nx\r\n"
        with smtplib.SMTP(a.host, a.port("submission")) as c:
            c.starttls(context=a.tls_context())
            c.login("alice", a.password("alice"))
            c.sendmail("alice@a.test", ["bob@b.test"], msg.encode())
        report = wait_for("the bounce", self.reports)[0]
        status = report.get_payload()[1].get_payload()[1]
        self.assertEqual(status["Status"], "5.4.6")
        self.assertIn("Mail loop", status["Diagnostic-Code"])
        wait_for("the message without a loop at b",
                 lambda: self.with_subject(self.b, "bob", "no loop"))
        self.assertEqual(self.with_subject(self.b, "bob", "round and round"), [])

    def test_mx_port_never_relays(self):
        a = self.a
        with smtplib.SMTP(a.host, a.port("smtp")) as c:
            c.ehlo("client.example")
            c.mail("someone@b.test")
            # a has a route to b.test, and still relays nothing for an
            # unauthenticated client
            code, msg = c.rcpt("bob@b.test")
            self.assertEqual((code, msg[:5]), (554, b"5.7.1"))
            code, msg = c.rcpt("bob@a.test")
            self.assertEqual(code, 250)
        self.assertIn("The queue is empty.", self.queue("list"))


if __name__ == "__main__":
    unittest.main()


class DeadDestination(unittest.TestCase):
    """Many messages for a host that refuses connections: each round costs
    at most a connection per message, never a storm of reconnections."""

    def setUp(self):
        self.dead_port = free_ports(1)[0]
        self.a = Instance.start(config={
            "domains": "a.test", "queue_retry_base": "1h",
            "route b.test": "127.0.0.1:%d" % self.dead_port})

    def tearDown(self):
        self.a.stop()

    def test_flush_of_many_messages_to_a_dead_host(self):
        a = self.a
        with smtplib.SMTP(a.host, a.port("submission")) as c:
            c.starttls(context=a.tls_context())
            c.login("alice", a.password("alice"))
            for i in range(8):
                c.sendmail("alice@a.test", ["bob@b.test"],
                           b"Subject: dead %d\r\n\r\nx\r\n" % i)
        queue = lambda: run_cli("queue", "list", "-d", a.dir).stdout
        wait_for("8 deferrals", lambda: queue().count("1 attempt,") == 8)
        run_cli("queue", "flush", "-d", a.dir)
        wait_for("8 second deferrals", lambda: queue().count("2 attempts,") == 8)
        connects = a.log().count("connecting to 127.0.0.1 for b.test")
        # 8 for the first round (one message each), at most 4
        # (queue_max_per_destination) for the flushed round
        self.assertLessEqual(connects, 12)
        self.assertIn("Connection refused", queue())
        a.assert_alive()

    def test_restart_rewrites_no_envelope(self):
        """At start every queued message is looked at once; one waiting
        for its next retry (an hour away) has its envelope left as it is,
        not written again (each write costs an fsync)."""
        a = self.a
        with smtplib.SMTP(a.host, a.port("submission")) as c:
            c.starttls(context=a.tls_context())
            c.login("alice", a.password("alice"))
            for i in range(3):
                c.sendmail("alice@a.test", ["bob@b.test"],
                           b"Subject: waiting %d\r\n\r\nx\r\n" % i)
        queue = lambda: run_cli("queue", "list", "-d", a.dir).stdout
        wait_for("3 deferrals", lambda: queue().count("1 attempt,") == 3)
        pause(a)
        qdir = os.path.join(a.dir, "queue")
        envs = sorted(n for n in os.listdir(qdir) if n.endswith(".env"))
        self.assertEqual(len(envs), 3)
        before = {n: os.stat(os.path.join(qdir, n)) for n in envs}
        a.launch()
        wait_for("the queue read at start",
                 lambda: "3 message(s) in the queue" in a.log())
        time.sleep(2)
        for n in envs:
            st = os.stat(os.path.join(qdir, n))
            self.assertEqual((st.st_ino, st.st_mtime_ns),
                             (before[n].st_ino, before[n].st_mtime_ns), n)
        self.assertEqual(queue().count("1 attempt,"), 3)
        a.assert_alive()
