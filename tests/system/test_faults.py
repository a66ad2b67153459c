"""Fault injection (issue 13, labs/faults.md) against a live `maillab serve`
with real clients: smtplib meets greylisting and gets through on a later
try, a DATA dropped before its reply delivers nothing, poplib sees
-ERR [IN-USE] and a RETR cut short, imaplib sees NO [UNAVAILABLE], a BYE
and a FETCH cut short and reconnects; every fault is in the trace, marked
INJECTED by `maillab trace show`; with fault_injection off the same names
and rules change nothing.  After each fault a normal client is served."""
import imaplib
import os
import poplib
import smtplib
import socket
import time
import unittest

from fixture import Instance, recv_until, run_cli

MSG = (b"From: sender@example.com\r\nTo: bob@lab.test\r\n"
       b"Subject: fault lab\r\n\r\n"
       + b"a line of the body that is long enough to be cut\r\n" * 20)


def files(inst, user, sub):
    d = os.path.join(inst.maildir(user), sub)
    return [n for n in os.listdir(d) if not n.startswith(".")]


def wait_for(pred, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def fault_traces(inst, service):
    return {n: t for n, t in inst.traces().items()
            if n.startswith(service + "-") and "fault injected" in t}


def send(inst, rcpt, sender="sender@example.com"):
    with smtplib.SMTP(inst.host, inst.port("smtp"), timeout=20) as s:
        s.sendmail(sender, [rcpt], MSG)


class FaultsByConfig(unittest.TestCase):
    """Rules from maillab.conf: every session gets them."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start(config={
            "fault_injection": "on",
            "fault smtp RCPT": "greylist2",
            "fault pop3 NOOP": "delay400",
            "fault imap CREATE": "554",
        })

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def test_serve_says_it_is_on(self):
        with open(self.inst.stdout_path) as f:
            self.assertIn("FAULT INJECTION IS ON: 3 fault line(s)", f.read())
        self.assertIn("fault injection is on", self.inst.log())

    def test_greylist_then_accepted(self):
        inst = self.inst
        sender = "grey-%d@example.com" % os.getpid()
        for attempt in (1, 2):
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
                send(inst, "bob@lab.test", sender)
            code, text = cm.exception.recipients["bob@lab.test"]
            self.assertEqual(code, 451)
            self.assertIn(b"4.7.1", text)
            self.assertIn(b"Greylisted", text)
        # the third try, as a retrying client makes it, gets through
        send(inst, "bob@lab.test", sender)
        self.assertTrue(wait_for(lambda: len(files(inst, "bob", "new")) == 1))
        # another sender is greylisted on its own
        with self.assertRaises(smtplib.SMTPRecipientsRefused):
            send(inst, "bob@lab.test", "other-%d@example.com" % os.getpid())
        traces = fault_traces(inst, "smtp")
        self.assertGreaterEqual(len(traces), 3)
        self.assertTrue(any("attempt 2 of 2 refused" in t
                            for t in traces.values()))
        name = sorted(traces)[0]
        sid = name[len("smtp-"):-len(".log")]
        shown = run_cli("trace", "show", "-d", inst.dir, sid, "--explain").stdout
        self.assertIn("!! fault injected: smtp RCPT greylist2", shown)
        self.assertIn("451 4.7.1", shown)
        self.assertIn("<== INJECTED FAULT", shown)
        self.assertIn("on purpose", shown)
        html = run_cli("trace", "show", "-d", inst.dir, sid, "--html").stdout
        self.assertIn("event fault", html)
        self.assertIn(">INJECTED</text>", html)
        inst.assert_alive()

    def test_delay_is_at_least_the_configured_time(self):
        inst = self.inst
        p = poplib.POP3(inst.host, inst.port("pop3"), timeout=20)
        p.user("alice")
        p.pass_(inst.password("alice"))
        start = time.monotonic()
        self.assertTrue(p.noop().startswith(b"+OK"))
        # a lower bound only: the reply waited at least 400 ms
        self.assertGreaterEqual(time.monotonic() - start, 0.4)
        # other commands are not delayed, and the session goes on
        self.assertTrue(p.stat()[0] >= 0)
        p.quit()
        traces = fault_traces(inst, "pop3")
        self.assertTrue(any("reply delayed by 400 ms" in t
                            for t in traces.values()))

    def test_imap_reply_from_config(self):
        inst = self.inst
        m = imaplib.IMAP4(inst.host, inst.port("imap"), timeout=20)
        m.login("alice", inst.password("alice"))
        typ, data = m.create("Lab")
        self.assertEqual(typ, "NO")
        self.assertIn(b"[CANNOT] Injected fault", data[0])
        typ, _ = m.select("INBOX")
        self.assertEqual(typ, "OK")
        m.logout()


class FaultsByName(unittest.TestCase):
    """Faults asked for by the names clients use (NAME+fault.CMD.ACTION)."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start(config={"fault_injection": "on"})
        send(cls.inst, "bob@lab.test")
        send(cls.inst, "bob@lab.test")
        assert wait_for(lambda: len(files(cls.inst, "bob", "new")) == 2)

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def inbox_count(self):
        return len(files(self.inst, "bob", "new")) + \
            len(files(self.inst, "bob", "cur"))

    def test_dropped_data_is_not_delivered(self):
        inst = self.inst
        before = self.inbox_count()
        s = smtplib.SMTP(inst.host, inst.port("smtp"), timeout=20)
        s.ehlo()
        s.mail("sender@example.com")
        code, _ = s.rcpt("bob+fault.data-end.drop@lab.test")
        self.assertEqual(code, 250)
        with self.assertRaises(smtplib.SMTPServerDisconnected):
            s.data(MSG)
        s.close()
        time.sleep(0.3)
        self.assertEqual(self.inbox_count(), before)
        self.assertEqual(files(inst, "bob", "tmp"), [])
        tmp = os.path.join(inst.dir, "mail", ".tmp")
        self.assertEqual([n for n in os.listdir(tmp) if not n.startswith(".")]
                         if os.path.isdir(tmp) else [], [])
        self.assertTrue(any("connection closed without a reply" in t
                            for t in fault_traces(inst, "smtp").values()))
        # a normal client afterwards
        send(inst, "bob@lab.test")
        self.assertTrue(wait_for(lambda: self.inbox_count() == before + 1))

    def test_rcpt_reply_by_name(self):
        inst = self.inst
        with smtplib.SMTP(inst.host, inst.port("smtp"), timeout=20) as s:
            s.ehlo()
            s.mail("sender@example.com")
            code, text = s.rcpt("bob+fault.rcpt.550@lab.test")
            self.assertEqual(code, 550)
            self.assertIn(b"5.3.0 Injected fault", text)
            s.rset()
            s.mail("sender@example.com")
            self.assertEqual(s.rcpt("bob@lab.test")[0], 250)
            s.rset()

    def test_pop3_in_use(self):
        inst = self.inst
        p = poplib.POP3(inst.host, inst.port("pop3"), timeout=20)
        p.user("bob+fault.pass.in-use")
        with self.assertRaises(poplib.error_proto) as cm:
            p.pass_(inst.password("bob"))
        self.assertIn(b"-ERR [IN-USE]", cm.exception.args[0])
        p.quit()
        p = poplib.POP3(inst.host, inst.port("pop3"), timeout=20)
        p.user("bob")
        p.pass_(inst.password("bob"))
        self.assertGreaterEqual(p.stat()[0], 1)
        p.quit()

    def test_pop3_retr_cut_deletes_nothing(self):
        inst = self.inst
        before = self.inbox_count()
        p = poplib.POP3(inst.host, inst.port("pop3"), timeout=20)
        p.user("bob+fault.retr.drop")
        p.pass_(inst.password("bob"))
        # marked for deletion, then the connection is cut: no QUIT, so
        # nothing is deleted (RFC 1939 6)
        p.dele(2)
        with self.assertRaises((poplib.error_proto, OSError, EOFError)):
            p.retr(1)
        p.close()
        time.sleep(0.3)
        self.assertEqual(self.inbox_count(), before)
        self.assertTrue(any("message cut after" in t
                            for t in fault_traces(inst, "pop3").values()))
        p = poplib.POP3(inst.host, inst.port("pop3"), timeout=20)
        p.user("bob")
        p.pass_(inst.password("bob"))
        resp, lines, _ = p.retr(1)
        self.assertTrue(resp.startswith(b"+OK"))
        self.assertIn(b"Subject: fault lab", lines)
        p.quit()

    def test_imap_unavailable_then_reconnect(self):
        inst = self.inst
        m = imaplib.IMAP4(inst.host, inst.port("imap"), timeout=20)
        with self.assertRaises(imaplib.IMAP4.error) as cm:
            m.login("bob+fault.login.unavailable", inst.password("bob"))
        self.assertIn("UNAVAILABLE", str(cm.exception))
        m.logout()
        m = imaplib.IMAP4(inst.host, inst.port("imap"), timeout=20)
        m.login("bob", inst.password("bob"))
        self.assertEqual(m.select("INBOX")[0], "OK")
        m.logout()

    def test_imap_authenticate_plain_name(self):
        inst = self.inst
        pw = inst.password("bob").encode()
        m = imaplib.IMAP4(inst.host, inst.port("imap"), timeout=20)
        with self.assertRaises(imaplib.IMAP4.error) as cm:
            m.authenticate("PLAIN", lambda _: b"\0bob+fault.login.unavailable\0"
                           + pw)
        self.assertIn("UNAVAILABLE", str(cm.exception))
        m.logout()
        m = imaplib.IMAP4(inst.host, inst.port("imap"), timeout=20)
        m.authenticate("PLAIN", lambda _: b"\0bob\0" + pw)
        self.assertEqual(m.select("INBOX")[0], "OK")
        m.logout()

    def test_imap_bye_mid_session(self):
        inst = self.inst
        m = imaplib.IMAP4(inst.host, inst.port("imap"), timeout=20)
        m.login("bob+fault.select.bye", inst.password("bob"))
        self.assertEqual(m.list()[0], "OK")
        with self.assertRaises(imaplib.IMAP4.abort):
            m.select("INBOX")
        m = imaplib.IMAP4(inst.host, inst.port("imap"), timeout=20)
        m.login("bob", inst.password("bob"))
        self.assertEqual(m.select("INBOX")[0], "OK")
        m.logout()

    def test_imap_fetch_cut_sets_no_flag(self):
        inst = self.inst
        m = imaplib.IMAP4(inst.host, inst.port("imap"), timeout=20)
        m.login("bob+fault.fetch.drop", inst.password("bob"))
        m.select("INBOX")
        with self.assertRaises(imaplib.IMAP4.abort):
            m.fetch("1", "(BODY[])")
        m = imaplib.IMAP4(inst.host, inst.port("imap"), timeout=20)
        m.login("bob", inst.password("bob"))
        m.select("INBOX", readonly=True)
        typ, data = m.fetch("1", "(FLAGS)")
        self.assertEqual(typ, "OK")
        self.assertNotIn(b"\\Seen", data[0])
        typ, data = m.fetch("1", "(BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        self.assertIn(b"Subject: fault lab", data[0][1])
        m.logout()
        self.assertTrue(any("FETCH cut after" in t
                            for t in fault_traces(inst, "imap").values()))


class FaultsAtGreeting(unittest.TestCase):
    """GREETING rules from maillab.conf: the greeting refused (SMTP 554,
    then 503 until QUIT; POP3 -ERR) or delayed (IMAP), as real clients see
    it, and marked in the trace."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start(config={
            "fault_injection": "on",
            "fault smtp GREETING": "554",
            "fault pop3 GREETING": "451",
            "fault imap GREETING": "delay300",
        })

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def test_smtp_554_greeting(self):
        inst = self.inst
        with self.assertRaises(smtplib.SMTPConnectError) as cm:
            smtplib.SMTP(inst.host, inst.port("smtp"), timeout=20)
        self.assertEqual(cm.exception.smtp_code, 554)
        self.assertIn(b"Injected fault: no SMTP service here",
                      cm.exception.smtp_error)
        # RFC 5321 3.1: the server waits for QUIT, 503 meanwhile
        s = socket.create_connection((inst.host, inst.port("smtp")), 20)
        got = recv_until(s, b"\r\n")
        self.assertTrue(got.startswith(b"554 localhost "), got)
        s.sendall(b"EHLO client.example\r\n")
        self.assertIn(b"503 5.5.1", recv_until(s, b"\r\n"))
        s.sendall(b"QUIT\r\n")
        self.assertIn(b"221", recv_until(s, b"\r\n"))
        s.close()
        traces = fault_traces(inst, "smtp")
        name, text = next((n, t) for n, t in traces.items()
                          if "smtp GREETING 554 (at GREETING)" in t)
        shown = run_cli("trace", "show", "-d", inst.dir,
                        name.split("-", 1)[1].rsplit(".", 1)[0]).stdout
        self.assertRegex(shown, r"S: 554 localhost Injected fault: no SMTP "
                         r"service here   <== INJECTED FAULT")

    def test_pop3_err_greeting(self):
        with self.assertRaises(poplib.error_proto) as cm:
            poplib.POP3(self.inst.host, self.inst.port("pop3"), timeout=20)
        self.assertIn(b"-ERR [SYS/TEMP] Injected fault", cm.exception.args[0])
        self.assertTrue(any("pop3 GREETING 451" in t for t in
                            fault_traces(self.inst, "pop3").values()))

    def test_imap_greeting_delayed_then_served(self):
        inst = self.inst
        m = imaplib.IMAP4(inst.host, inst.port("imap"), timeout=20)
        m.login("alice", inst.password("alice"))
        self.assertEqual(m.select("INBOX")[0], "OK")
        m.logout()
        self.assertTrue(any("imap GREETING delay300 (at GREETING): reply delayed "
                            "by 300 ms" in t
                            for t in fault_traces(inst, "imap").values()))


class FaultsByLoginName(unittest.TestCase):
    """+fault. in the name an SMTP AUTH, a POP3 USER or APOP logs in with;
    DATA-END at the end of BDAT LAST."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start(config={"fault_injection": "on",
                                          "pop3_apop": "yes"})
        # APOP needs the secret that passwd stores with pop3_apop on
        run_cli("user", "passwd", "-d", cls.inst.dir, "bob", "--password-stdin",
                stdin=cls.inst.password("bob") + "\n")

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def inbox_count(self):
        return len(files(self.inst, "bob", "new")) + \
            len(files(self.inst, "bob", "cur"))

    def test_smtp_auth_name(self):
        inst = self.inst
        with smtplib.SMTP(inst.host, inst.port("submission"), timeout=20) as s:
            s.ehlo()
            s.login("alice+fault.mail.451", inst.password("alice"))
            with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
                s.sendmail("alice@lab.test", ["bob@lab.test"], MSG)
            self.assertEqual(cm.exception.smtp_code, 451)
        traces = inst.traces()
        self.assertTrue(any("fault requested by name alice: smtp MAIL 451" in t
                            and "auth ok user=alice" in t
                            for n, t in traces.items() if n.startswith("submission-")))
        # without the suffix alice sends as always
        before = self.inbox_count()
        with smtplib.SMTP(inst.host, inst.port("submission"), timeout=20) as s:
            s.login("alice", inst.password("alice"))
            s.sendmail("alice@lab.test", ["bob@lab.test"],
                       MSG.replace(b"sender@example.com", b"alice@lab.test"))
        self.assertTrue(wait_for(lambda: self.inbox_count() == before + 1))

    def test_bdat_last_dropped_by_name(self):
        inst = self.inst
        before = self.inbox_count()

        def bdat(rcpt):
            s = socket.create_connection((inst.host, inst.port("smtp")), 20)
            recv_until(s, b"\r\n")
            s.sendall(b"EHLO client.example\r\n")
            recv_until(s, b"250 ")
            s.sendall(b"MAIL FROM:<sender@example.com>\r\n")
            recv_until(s, b"\r\n")
            s.sendall(b"RCPT TO:<%s>\r\n" % rcpt)
            self.assertIn(b"250", recv_until(s, b"\r\n"))
            s.sendall(b"BDAT %d LAST\r\n" % len(MSG) + MSG)
            got = recv_until(s, b"\r\n")
            s.close()
            return got

        # no reply, the connection closes, nothing is delivered
        self.assertEqual(bdat(b"bob+fault.data-end.drop@lab.test"), b"")
        time.sleep(0.3)
        self.assertEqual(self.inbox_count(), before)
        self.assertEqual(files(inst, "bob", "tmp"), [])
        self.assertTrue(any("smtp DATA-END drop (at DATA-END)" in t
                            for t in fault_traces(inst, "smtp").values()))
        self.assertIn(b"250 2.0.0", bdat(b"bob@lab.test"))
        self.assertTrue(wait_for(lambda: self.inbox_count() == before + 1))

    def test_pop3_user_name(self):
        inst = self.inst
        p = poplib.POP3(inst.host, inst.port("pop3"), timeout=20)
        with self.assertRaises(poplib.error_proto) as cm:
            p.user("bob+fault.user.in-use")
        self.assertIn(b"-ERR [IN-USE] Injected fault", cm.exception.args[0])
        p.quit()

    def test_pop3_apop_name(self):
        inst = self.inst
        p = poplib.POP3(inst.host, inst.port("pop3"), timeout=20)
        self.assertTrue(p.apop("bob+fault.stat.452", inst.password("bob"))
                        .startswith(b"+OK bob has"))
        with self.assertRaises(poplib.error_proto) as cm:
            p.stat()
        self.assertIn(b"-ERR [SYS/TEMP] Injected fault", cm.exception.args[0])
        p.quit()
        p = poplib.POP3(inst.host, inst.port("pop3"), timeout=20)
        p.apop("bob", inst.password("bob"))
        self.assertGreaterEqual(p.stat()[0], 0)
        p.quit()


class FaultsOff(unittest.TestCase):
    """fault_injection off (the default): rules and names do nothing."""

    def test_off_means_off(self):
        inst = Instance.start(config={"fault smtp RCPT": "451",
                                      "fault imap LOGIN": "unavailable"})
        try:
            send(inst, "bob+fault.rcpt.451@lab.test")
            self.assertTrue(wait_for(lambda: len(files(inst, "bob", "new")) == 1))
            m = imaplib.IMAP4(inst.host, inst.port("imap"), timeout=20)
            with self.assertRaises(imaplib.IMAP4.error) as cm:
                m.login("bob+fault.login.unavailable", inst.password("bob"))
            self.assertIn("AUTHENTICATIONFAILED", str(cm.exception))
            m = imaplib.IMAP4(inst.host, inst.port("imap"), timeout=20)
            m.login("bob", inst.password("bob"))
            m.logout()
            for t in inst.traces().values():
                self.assertNotIn("*: fault", t)
            with open(inst.stdout_path) as f:
                self.assertNotIn("FAULT INJECTION", f.read())
        finally:
            inst.stop()


if __name__ == "__main__":
    unittest.main()
