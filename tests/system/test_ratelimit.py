"""Sending limits per authenticated user survive a restart (issue 12):
past rate_messages_per_hour MAIL gets 450 4.7.1, past
rate_recipients_per_hour RCPT gets 452 4.5.3, and both still hold after
the server is stopped (SIGTERM) or killed (SIGKILL) and started again:
the counts live in DIR/db/ratelimit.db."""
import os
import signal
import smtplib
import unittest

from fixture import Instance

BODY = b"Subject: limits\r\n\r\nHello.\r\n"


class LimitsAcrossRestarts(unittest.TestCase):
    def setUp(self):
        self.a = Instance.start(config={"rate_messages_per_hour": "2",
                                        "rate_recipients_per_hour": "3"})

    def tearDown(self):
        self.a.stop()

    def login(self, user):
        c = smtplib.SMTP(self.a.host, self.a.port("submission"))
        c.starttls(context=self.a.tls_context())
        c.login(user, self.a.password(user))
        return c

    def restart(self, sig):
        self.a.proc.send_signal(sig)
        self.a.proc.wait(timeout=20)
        self.a.launch()

    def assert_refused(self):
        """alice has sent her 2 messages, bob his 3 recipients."""
        with self.login("alice") as c:
            code, text = c.mail("alice@lab.test")
            self.assertEqual(code, 450, text)
            self.assertTrue(text.startswith(b"4.7.1 "), text)
            self.assertEqual(c.noop()[0], 250)
        with self.login("bob") as c:
            self.assertEqual(c.mail("bob@lab.test")[0], 250)
            code, text = c.rcpt("alice@lab.test")
            self.assertEqual(code, 452, text)
            self.assertTrue(text.startswith(b"4.5.3 "), text)
            self.assertEqual(c.rset()[0], 250)
            self.assertEqual(c.noop()[0], 250)

    def test_counts_survive_stop_and_kill(self):
        with self.login("alice") as c:
            c.sendmail("alice@lab.test", ["bob@lab.test"], BODY)
            c.sendmail("alice@lab.test", ["bob@lab.test"], BODY)
        with self.login("bob") as c:
            c.sendmail("bob@lab.test",
                       ["alice@lab.test", "bob@lab.test", "postmaster@lab.test"],
                       BODY)
        self.assert_refused()
        self.restart(signal.SIGTERM)
        self.assert_refused()
        self.restart(signal.SIGKILL)
        self.assert_refused()
        self.assertTrue(os.path.exists(os.path.join(self.a.dir, "db",
                                                    "ratelimit.db")))
        # the MX port has no user and no limit
        with smtplib.SMTP(self.a.host, self.a.port("smtp")) as c:
            c.sendmail("someone@example.com", ["bob@lab.test"], BODY)
        self.a.assert_alive()


if __name__ == "__main__":
    unittest.main()
