"""Delivery status notifications beyond bounces (RFC 3461, RFC 3464): every
report is parsed with Python's `email` and every field checked.

- NOTIFY=SUCCESS for a local recipient: a "delivered" report at once;
- NOTIFY=SUCCESS through a next hop without DSN: "relayed" from us;
- through a next hop with DSN (instance b): NOTIFY, ORCPT, RET and ENVID go
  on the wire and b reports "delivered" itself;
- a recipient still deferred after queue_delay_warning: one "delayed"
  warning with Will-Retry-Until, none for NOTIFY=NEVER or NOTIFY=FAILURE;
  then the failure report when it gives up; NOTIFY=NEVER: never a word."""
import email
import email.utils
import re
import smtplib
import time
import unittest

from fixture import Instance, run_cli
from test_queue_kill import RecordingHop
from test_relay import wait_for

STATUS = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}$")


def date_ok(value):
    return email.utils.parsedate_to_datetime(value) is not None


class Reports(unittest.TestCase):
    def setUp(self):
        self.hop = RecordingHop()      # no DSN in its EHLO
        self.b = Instance.start(config={"domains": "b.test"})
        self.a = Instance.start(config={
            "domains": "a.test", "queue_retry_base": "1s",
            "queue_retry_max": "1s", "queue_delay_warning": "2s",
            "queue_lifetime": "8s", "timeout_client": "10s",
            "route hop.test": "127.0.0.1:%d" % self.hop.port,
            "route b.test": "127.0.0.1:%d" % self.b.port("smtp")})
        self.b.write_config({"route a.test": "127.0.0.1:%d" % self.a.port("smtp")})
        self.b.reload()
        time.sleep(0.5)

    def tearDown(self):
        self.a.stop()
        self.b.stop()
        self.hop.close()

    def submit(self, subject, rcpts, mail_options=()):
        a = self.a
        msg = ("From: alice@a.test\r\nSubject: %s\r\nMessage-ID: <%s@a.test>\r\n"
               "\r\nbody of %s\r\n" % (subject, subject, subject)).encode()
        with smtplib.SMTP(a.host, a.port("submission")) as c:
            c.starttls(context=a.tls_context())
            c.login("alice", a.password("alice"))
            c.ehlo()
            self.assertTrue(c.has_extn("dsn"))
            c.mail("alice@a.test", list(mail_options))
            for addr, opts in rcpts:
                code, resp = c.rcpt(addr, opts)
                self.assertEqual(code, 250, resp)
            code, resp = c.data(msg)
            self.assertEqual(code, 250, resp)

    def reports(self):
        return [msg for msg in self.a.inbox_messages("alice")
                if msg.get_content_type() == "multipart/report"]

    def report_for(self, subject, action):
        """The reports about `subject` whose recipients say `action`."""
        found = []
        for r in self.reports():
            headers = r.get_payload()[2].get_payload()
            groups = r.get_payload()[1].get_payload()[1:]
            if ("Subject: %s\r\n" % subject in headers or
                    "Subject: %s\n" % subject in headers) and \
                    groups[0]["Action"] == action:
                found.append(r)
        return found

    def check_report(self, r, reporting_host, subject, envid, groups_want):
        """Every RFC 3464 field of report r; groups_want is a list of
        (final recipient, original recipient or None, action, status
        prefix, diagnostic wanted)."""
        self.assertEqual(r.get_param("report-type"), "delivery-status")
        self.assertEqual(r.get_all("Return-Path"), ["<>"])
        self.assertEqual(r["To"], "<alice@a.test>")
        self.assertEqual(email.utils.parseaddr(r["From"])[1],
                         "MAILER-DAEMON@" + reporting_host)
        self.assertEqual(r["Auto-Submitted"], "auto-replied")
        self.assertTrue(date_ok(r["Date"]))
        self.assertIsNotNone(r["Message-ID"])
        human, status, returned = r.get_payload()
        self.assertEqual(human.get_content_type(), "text/plain")
        self.assertEqual(status.get_content_type(), "message/delivery-status")
        # RFC 3461 4.3: only a failure report may return the whole message
        self.assertEqual(returned.get_content_type(), "text/rfc822-headers")
        self.assertIn("Subject: " + subject, returned.get_payload())
        self.assertNotIn("body of", returned.get_payload())
        per_msg, *groups = status.get_payload()
        self.assertEqual(per_msg["Reporting-MTA"], "dns; " + reporting_host)
        self.assertEqual(per_msg["Original-Envelope-Id"], envid)
        self.assertTrue(date_ok(per_msg["Arrival-Date"]))
        self.assertEqual(len(groups), len(groups_want))
        for g, (final, orig, action, status_prefix, diag) in zip(groups, groups_want):
            self.assertEqual(g["Final-Recipient"], "rfc822; " + final)
            self.assertEqual(g["Original-Recipient"], orig)
            self.assertEqual(g["Action"], action)
            self.assertRegex(g["Status"], STATUS)
            self.assertTrue(g["Status"].startswith(status_prefix), g["Status"])
            if diag:
                self.assertTrue(g["Diagnostic-Code"].startswith("smtp; "), g["Diagnostic-Code"])
            self.assertTrue(date_ok(g["Last-Attempt-Date"]))
            if action == "delayed":
                self.assertTrue(date_ok(g["Will-Retry-Until"]))
            else:
                self.assertIsNone(g["Will-Retry-Until"])
        return groups

    def test_success_delay_and_never(self):
        # local: delivered at once, reported by a
        self.submit("local-ok", [("bob@a.test", ["NOTIFY=SUCCESS"]),
                                 ("alice@a.test", ["NOTIFY=NEVER"])],
                    ["ENVID=env-local", "RET=FULL"])
        r = wait_for("the delivered report", lambda: self.report_for("local-ok", "delivered"))
        self.check_report(r[0], "localhost", "local-ok", "env-local",
                          [("bob@a.test", None, "delivered", "2.", False)])
        # next hop without DSN: "relayed" from us
        self.submit("relayed-ok", [("ok-1@hop.test",
                                    ["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;Ok-1@hop.test"])],
                    ["ENVID=env-relay"])
        r = wait_for("the relayed report", lambda: self.report_for("relayed-ok", "relayed"))
        self.check_report(r[0], "localhost", "relayed-ok", "env-relay",
                          [("ok-1@hop.test", "rfc822;Ok-1@hop.test", "relayed", "2.", True)])
        # next hop with DSN: the parameters go on, b reports delivery
        self.submit("via-b", [("bob@b.test", ["NOTIFY=SUCCESS", "ORCPT=rfc822;bob@b.test"])],
                    ["ENVID=env-b", "RET=HDRS"])
        r = wait_for("b's delivered report", lambda: self.report_for("via-b", "delivered"))
        self.check_report(r[0], "localhost", "via-b", "env-b",
                          [("bob@b.test", "rfc822;bob@b.test", "delivered", "2.", False)])
        out = [t for n, t in self.a.traces().items() if n.startswith("smtp-out")
               and "RCPT TO:<bob@b.test>" in t][0]
        self.assertIn("RET=HDRS ENVID=env-b", out)
        self.assertIn("RCPT TO:<bob@b.test> NOTIFY=SUCCESS ORCPT=rfc822;bob@b.test", out)
        self.assertEqual(self.report_for("via-b", "relayed"), [])

        # the hop is down: one delay warning, then the failure
        self.hop.mode = "down"
        self.submit("slow", [("late-1@hop.test", []),
                             ("quiet@hop.test", ["NOTIFY=NEVER"]),
                             ("fail-only@hop.test", ["NOTIFY=FAILURE"])],
                    ["ENVID=env-slow"])
        r = wait_for("the delay warning", lambda: self.report_for("slow", "delayed"))
        self.check_report(r[0], "localhost", "slow", "env-slow",
                          [("late-1@hop.test", None, "delayed", "4.", True)])
        self.assertIn("only a warning", r[0].get_payload()[0].get_payload())
        r = wait_for("the failure after the lifetime",
                     lambda: self.report_for("slow", "failed"), timeout=40)
        groups = self.check_report(
            r[0], "localhost", "slow", "env-slow",
            [("late-1@hop.test", None, "failed", "4.", True),
             ("fail-only@hop.test", None, "failed", "4.", True)])
        self.assertIn("Gave up", r[0].get_payload()[0].get_payload())
        wait_for("an empty queue", lambda: "The queue is empty." in
                 run_cli("queue", "list", "-d", self.a.dir).stdout)
        # exactly one of each, none for NOTIFY=NEVER
        self.assertEqual(len(self.report_for("slow", "delayed")), 1)
        self.assertEqual(len(self.report_for("local-ok", "delivered")), 1)
        self.assertEqual(len(self.report_for("relayed-ok", "relayed")), 1)
        self.assertNotIn("quiet@hop.test", "".join(r.as_string() for r in self.reports()))
        self.a.assert_alive()
        self.b.assert_alive()


if __name__ == "__main__":
    unittest.main()
