"""Strict mode (issue 13, labs/strict-rules.md) on a live server: a raw
socket client breaks rules of SMTP, POP3 and IMAP; the replies are the
normal ones (the same as from a server with strict mode off), the trace
names each rule with its RFC section, `maillab trace show ID --explain`
and `--html` mark it, and smtplib, poplib and imaplib are served normally
afterwards (and break no rule)."""
import imaplib
import os
import poplib
import smtplib
import socket
import time
import unittest

from fixture import Instance, recv_until, run_cli

MESSAGE = ("From: s@sender.example\r\nTo: alice@lab.test\r\n"
           "Date: Sat, 05 Dec 2026 10:00:00 +0000\r\nSubject: strict lab\r\n"
           "\r\nhello\r\n")


class Client:
    """A raw socket client that says exactly what the test tells it."""

    def __init__(self, inst, service):
        self.sock = socket.create_connection((inst.host, inst.port(service)), 10)
        self.sock.settimeout(10)
        self.got = b""

    def read_until(self, marker):
        data = recv_until(self.sock, marker)
        self.got += data
        return data.decode("latin-1")

    def send(self, data, marker):
        """Sends bytes, returns the replies up to and including marker."""
        self.sock.sendall(data)
        return self.read_until(marker)

    def close(self):
        self.sock.close()


class StrictTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start(config={"strict": "on"})
        cls.plain = Instance.start(config={"strict": "off"})
        cls.pw = cls.inst.password("alice")
        # one password on both, so that their replies can be compared
        run_cli("user", "passwd", "-d", cls.plain.dir, "alice", "--password-stdin",
                stdin=cls.pw + "\n")
        for inst in (cls.inst, cls.plain):
            s = smtplib.SMTP(inst.host, inst.port("smtp"), timeout=20,
                             local_hostname="client.example")
            s.sendmail("s@sender.example", ["alice@lab.test"], MESSAGE)
            s.quit()

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()
        cls.plain.stop()

    # --- helpers ---

    def new_trace(self, inst, before, service):
        """The one trace file that appeared since `before`, once its session
        has ended: (session id, text)."""
        deadline = time.time() + 20
        while time.time() < deadline:
            new = {n: t for n, t in inst.traces().items()
                   if n not in before and n.startswith(service + "-")}
            if len(new) == 1:
                name, text = next(iter(new.items()))
                if "*: session ended" in text:
                    return name[len(service) + 1:-len(".log")], text
            time.sleep(0.05)
        raise AssertionError("no ended %s session in %s" % (service, sorted(inst.traces())))

    def run_raw(self, inst, service, steps, close_marker=None):
        """Runs steps [(bytes, marker)] (the greeting first is read here);
        ends with (bytes, marker) close_marker if given, else just closes.
        Returns (session id, trace text, all replies)."""
        before = set(inst.traces())
        c = Client(inst, service)
        greeting = {"smtp": "220 ", "pop3": "+OK", "imap": "* OK"}[service]
        self.assertTrue(c.read_until(b"\r\n").startswith(greeting))
        for data, marker in steps:
            c.send(data, marker)
        if close_marker is not None:
            c.send(*close_marker)
        c.close()
        ident, text = self.new_trace(inst, before, service)
        return ident, text, c.got.decode("latin-1")

    def assert_rules(self, ident, text, rules):
        for rule in rules:
            self.assertRegex(text, r"\n\d\d:\d\d:\d\d\.\d{3} \*: strict: %s: .+ \(RFC [^)]+\)\n"
                             % rule, rule)
        explained = run_cli("trace", "show", "-d", self.inst.dir, ident, "--explain").stdout
        for rule in rules:
            self.assertIn("!! BROKEN RULE %s: " % rule, explained)
        html = run_cli("trace", "show", "-d", self.inst.dir, ident, "--html").stdout
        self.assertEqual(html.count('<g class="event strict">'), text.count("*: strict: "))
        self.assertIn(">RULE</text>", html)

    def same_replies(self, service, steps, close_marker=None):
        """The steps on both servers: the replies must be the same; returns
        the strict server's (id, trace)."""
        ident, text, on = self.run_raw(self.inst, service, steps, close_marker)
        _, plain_text, off = self.run_raw(self.plain, service, steps, close_marker)
        self.assertNotIn("strict:", plain_text)
        self.assertEqual(on, off)
        return ident, text, on

    # --- SMTP ---

    def test_smtp_sequence_and_syntax(self):
        ident, text, replies = self.same_replies("smtp", [
            (b"MAIL FROM:<s@sender.example>\r\n", b"503 5.5.1"),
            (b"EHLO client.example\n", b"500 5.5.2"),
            (b"EHLO\r\n", b"501 "),
            (b"EHLO client.example\r\n", b"250 HELP\r\n"),
            (b"RCPT TO:<alice@lab.test>\r\n", b"503 5.5.1"),
            (b"MAIL FROM: <s@sender.example>\r\n", b"250 2.1.0"),
            (b"RCPT TO:alice@lab.test\r\n", b"501 5.1.3"),
            (b"DATA\r\n", b"554 5.5.1"),
            (b"HELLO\r\n", b"502 5.5.2"),
        ])
        self.assertIn("Bare LF received", replies)
        self.assert_rules(ident, text, [
            "smtp-mail-before-helo", "smtp-bare-lf", "smtp-helo-no-domain",
            "smtp-rcpt-before-mail", "smtp-space-after-colon",
            "smtp-path-no-brackets", "smtp-data-before-rcpt",
            "smtp-unknown-command", "smtp-no-quit"])
        self.check_smtplib()

    def test_smtp_data_end_and_headers(self):
        ident, text, replies = self.same_replies("smtp", [
            (b"EHLO client.example\r\n", b"250 HELP\r\n"),
            (b"MAIL FROM:<s@sender.example>\r\n", b"250 "),
            (b"RCPT TO:<alice@lab.test>\r\n", b"250 "),
            (b"DATA\r\n", b"354 "),
            # LF.LF is text: the message ends only at CRLF.CRLF
            (b"Subject: no date, no from\n\nhi\n.\n" + b"x" * 1100 + b"\r\n.\r\n",
             b"\r\n"),
        ], close_marker=(b"QUIT\r\n", b"221 "))
        self.assertIn("500 5.5.2 Line too long", replies)
        self.assert_rules(ident, text, [
            "smtp-data-end-not-crlf", "smtp-data-bare-lf", "smtp-no-date",
            "smtp-no-from", "smtp-text-line-too-long"])
        self.assertNotIn("smtp-no-quit", text)
        self.check_smtplib()

    def test_smtp_pipelining_without_extension(self):
        ident, text, replies = self.same_replies("smtp", [
            # both in one segment: MAIL is sent before HELO's reply came
            (b"HELO client.example\r\nMAIL FROM:<s@sender.example>\r\n", b"250 2.1.0"),
        ], close_marker=(b"QUIT\r\n", b"221 "))
        self.assert_rules(ident, text, ["smtp-pipelining-not-offered"])
        self.check_smtplib()

    def check_smtplib(self):
        before = set(self.inst.traces())
        s = smtplib.SMTP(self.inst.host, self.inst.port("smtp"), timeout=20,
                         local_hostname="client.example")
        s.sendmail("s@sender.example", ["alice@lab.test"], MESSAGE)
        s.quit()
        _, text = self.new_trace(self.inst, before, "smtp")
        self.assertIn("S: 250 2.0.0", text)
        self.assertNotIn("strict:", text)
        self.inst.assert_alive()

    # --- POP3 ---

    def test_pop3_states_numbers_and_no_quit(self):
        pw = self.pw.encode()
        ident, text, replies = self.run_raw(self.inst, "pop3", [
            (b"RETR 1\r\n", b"-ERR"),
            (b"PASS " + pw + b"\r\n", b"-ERR"),
            (b"USER alice\n", b"+OK"),
            (b"PASS " + pw + b"\r\n", b"+OK"),
            (b"RETR 99\r\n", b"-ERR no such message"),
            (b"DELE 1\r\n", b"+OK"),
            (b"RETR 1\r\n", b"-ERR message 1 is deleted"),
            (b"NOOP " + b"x" * 300 + b"\r\n", b"-ERR line too long"),
        ])
        self.assertIn("-ERR RETR is not valid in the AUTHORIZATION state", replies)
        self.assertIn("-ERR PASS needs a USER command first", replies)
        self.assert_rules(ident, text, [
            "pop3-not-logged-in", "pop3-pass-without-user", "pop3-bare-lf",
            "pop3-no-such-message", "pop3-message-deleted",
            "pop3-line-too-long", "pop3-no-quit-dele-lost"])
        explained = run_cli("trace", "show", "-d", self.inst.dir, ident, "--explain").stdout
        self.assertIn("were NOT deleted", explained)
        # and it is so: poplib still finds every message, and breaks no rule
        before = set(self.inst.traces())
        p = poplib.POP3(self.inst.host, self.inst.port("pop3"), timeout=20)
        p.user("alice")
        p.pass_(self.pw)
        count, _ = p.stat()
        self.assertGreaterEqual(count, 1)
        self.assertIn(b"Subject: strict lab", b"\n".join(p.retr(1)[1]))
        p.quit()
        _, text = self.new_trace(self.inst, before, "pop3")
        self.assertNotIn("strict:", text)
        self.inst.assert_alive()

    # --- IMAP ---

    def test_imap_tags_literals_and_states(self):
        pw = self.pw.encode()
        login = b"a2 LOGIN {5}\r\nalice {%d}\r\n%s\r\n" % (len(pw), pw)
        ident, text, replies = self.same_replies("imap", [
            (b"LOGIN alice x\r\n", b"LOGIN BAD"),
            (b"a*1 NOOP\r\n", b"a BAD"),
            (b"a1 SELECT INBOX\r\n", b"a1 BAD"),
            # the literals' data without waiting for "+"
            (login, b"a2 "),
            (b"a3 FETCH 1 FLAGS\r\n", b"a3 BAD"),
            (b"DONE\r\n", b"DONE BAD"),
            (b"a4 NOOP\n", b""), (b"\r\n", b"a4 BAD"),
        ])
        self.assertIn("a2 OK", replies)
        self.assert_rules(ident, text, [
            "imap-no-tag", "imap-bad-tag", "imap-not-authenticated",
            "imap-literal-no-wait", "imap-not-selected",
            "imap-done-outside-idle", "imap-bare-lf", "imap-no-logout"])
        before = set(self.inst.traces())
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"), timeout=20)
        m.login("alice", self.pw)
        typ, data = m.select("INBOX")
        self.assertEqual(typ, "OK")
        typ, data = m.fetch("1", "(FLAGS)")
        self.assertEqual(typ, "OK")
        m.logout()
        _, text = self.new_trace(self.inst, before, "imap")
        self.assertNotIn("strict:", text)
        self.inst.assert_alive()


if __name__ == "__main__":
    unittest.main()
