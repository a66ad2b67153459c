"""Relaying to and from Postfix (issue 12), a private Postfix instance on
loopback made from bench/postfix/*.cf.in as bench/compare-smtp.sh does (a
temporary config directory, `postfix -c DIR start`, no DNS, nothing of the
system's Postfix touched):

- maillab -> Postfix: alice submits to carol@p.test at instance a, whose
  `route p.test` points at Postfix; Postfix's virtual(8) stores it;
- Postfix -> maillab: a client gives Postfix mail for bob@b.test, which
  Postfix relays (transport_maps) to instance b's MX port.

Byte for byte: each stored file ends with exactly the message the first
client sent (dots at line starts, 8-bit text, trailing blanks, long lines,
empty lines at the end), after the trace fields the servers put in front
(Return-Path, Delivered-To, Received); Postfix stores LF line ends,
maillab CRLF, so the comparison is on the message with that line end."""
import os
import shutil
import smtplib
import subprocess
import tempfile
import time
import unittest

from fixture import Instance, free_ports
from test_relay import LAB_TIMINGS, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "..", "..", "bench", "postfix")

MESSAGE = ("From: Alice <alice@a.test>\r\n"
           "To: Carol <carol@p.test>, Bob <bob@b.test>\r\n"
           "Subject: byte for byte =?UTF-8?Q?caf=C3=A9?=\r\n"
           "Date: Sat, 05 Dec 2026 12:00:00 +0000\r\n"
           "Message-ID: <byte.for.byte@a.test>\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n"
           "Content-Transfer-Encoding: 8bit\r\n"
           "\r\n"
           "Grüße aus dem Labor.\r\n"
           ".a line that starts with a dot\r\n"
           "..and one with two\r\n"
           ".\r\n"
           "trailing blanks   \r\n"
           "\ttab first\r\n"
           + "x" * 900 + "\r\n"
           "\r\n"
           "\r\n").encode()


def postfix_binary():
    path = shutil.which("postfix") or "/usr/sbin/postfix"
    if not os.path.exists(path):
        raise AssertionError("postfix is missing: run sh tests/deps.sh")
    return path


class PrivatePostfix:
    """A Postfix instance in a temporary directory on 127.0.0.1:port."""

    def __init__(self, mailboxes, extra):
        self.dir = tempfile.mkdtemp(prefix="maillab-postfix-")
        os.chmod(self.dir, 0o755)
        self.port = free_ports(1)[0]
        for sub in ("etc", "spool", "data", "mail"):
            os.mkdir(os.path.join(self.dir, sub))
        shutil.chown(os.path.join(self.dir, "data"), "postfix")
        for box in mailboxes:
            for sub in ("new", "cur", "tmp"):
                os.makedirs(os.path.join(self.dir, "mail", box, sub))
        subprocess.run(["chown", "-R", "nobody:nogroup",
                        os.path.join(self.dir, "mail")], check=True)
        nobody = subprocess.run(["id", "-u", "nobody"], capture_output=True,
                                text=True, check=True).stdout.strip()
        nogroup = subprocess.run(["id", "-g", "nobody"], capture_output=True,
                                 text=True, check=True).stdout.strip()
        subst = {"@DIR@": self.dir, "@PORT@": str(self.port),
                 "@MAILBOXES@": ", ".join("%s@p.test=%s/" % (b, b) for b in mailboxes),
                 "@UID@": nobody, "@GID@": nogroup}
        for name in ("main", "master"):
            with open(os.path.join(TEMPLATES, name + ".cf.in")) as f:
                text = f.read()
            for k, v in subst.items():
                text = text.replace(k, v)
            if name == "main":
                text += "".join("%s = %s\n" % kv for kv in extra.items())
            with open(os.path.join(self.dir, "etc", name + ".cf"), "w") as f:
                f.write(text)
        self.run("start")
        self.started = True
        wait_for("postfix listening", self.listening)

    def run(self, *args):
        p = subprocess.run([postfix_binary(), "-c", os.path.join(self.dir, "etc"),
                            *args], capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise AssertionError("postfix %s: %s %s\n%s" % (
                " ".join(args), p.stdout, p.stderr, self.maillog()))

    def listening(self):
        import socket
        try:
            socket.create_connection(("127.0.0.1", self.port), 1).close()
            return True
        except OSError:
            return False

    def maillog(self):
        try:
            with open(os.path.join(self.dir, "maillog"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def messages(self, box):
        d = os.path.join(self.dir, "mail", box, "new")
        out = []
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name), "rb") as f:
                out.append(f.read())
        return out

    def stop(self):
        if self.started:
            subprocess.run([postfix_binary(), "-c", os.path.join(self.dir, "etc"),
                            "stop"], capture_output=True, timeout=60)
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)


def header_names(msg, upto):
    """The header field names in front of `upto` (the servers' trace fields)."""
    head = msg[:upto].replace(b"\r\n", b"\n")
    return [l.split(b":")[0] for l in head.split(b"\n")
            if l and not l.startswith((b" ", b"\t"))]


class Postfix(unittest.TestCase):
    def setUp(self):
        self.b = Instance.start(config={"domains": "b.test"})
        self.addCleanup(self.b.stop)
        self.pf = PrivatePostfix(["carol"], {
            "virtual_mailbox_domains": "p.test",
            "relay_domains": "b.test",
            "transport_maps": "inline:{ b.test=smtp:[127.0.0.1]:%d }"
                              % self.b.port("smtp")})
        self.addCleanup(self.pf.stop)
        self.a = Instance.start(config=dict(
            LAB_TIMINGS, domains="a.test",
            **{"route p.test": "127.0.0.1:%d" % self.pf.port}))
        self.addCleanup(self.a.stop)

    def test_maillab_to_postfix(self):
        a = self.a
        with smtplib.SMTP(a.host, a.port("submission")) as c:
            c.starttls(context=a.tls_context())
            c.login("alice", a.password("alice"))
            self.assertEqual(c.sendmail("alice@a.test", ["carol@p.test"], MESSAGE,
                                        mail_options=["BODY=8BITMIME"]), {})
        got = wait_for("the message in Postfix's Maildir",
                       lambda: self.pf.messages("carol"), timeout=60)
        self.assertEqual(len(got), 1)
        stored = got[0]
        want = MESSAGE.replace(b"\r\n", b"\n")
        self.assertTrue(stored.endswith(want), stored[-300:])
        names = header_names(stored, len(stored) - len(want))
        # Postfix's trace fields, then maillab's Received, nothing else
        self.assertEqual(names, [b"Return-Path", b"X-Original-To",
                                 b"Delivered-To", b"Received", b"Received"])
        self.assertIn(b"Return-Path: <alice@a.test>", stored)
        self.assertIn("status=sent", a.log())
        # Postfix offers CHUNKING: the message went as one BDAT chunk
        # (Postfix counts the commands in its disconnect line, which comes
        # once the connection, kept for queue_connection_idle, has said QUIT)
        wait_for("Postfix's disconnect line",
                 lambda: "disconnect from" in self.pf.maillog().split("status=sent")[-1])
        self.assertIn("bdat=1", self.pf.maillog())
        a.assert_alive()

    def test_postfix_to_maillab(self):
        with smtplib.SMTP("127.0.0.1", self.pf.port) as c:
            c.ehlo("client.p.test")
            self.assertEqual(c.sendmail("carol@p.test", ["bob@b.test"], MESSAGE,
                                        mail_options=["BODY=8BITMIME"]), {})
        box = os.path.join(self.b.maildir("bob"), "new")
        names = wait_for("the message at b", lambda: sorted(os.listdir(box)),
                         timeout=60)
        with open(os.path.join(box, names[0]), "rb") as f:
            stored = f.read()
        self.assertEqual(len(names), 1)
        self.assertTrue(stored.endswith(MESSAGE), stored[-300:])
        trace = header_names(stored, len(stored) - len(MESSAGE))
        # maillab's Return-Path and Received, then Postfix's Received
        self.assertEqual(trace, [b"Return-Path", b"Received", b"Received"])
        self.assertTrue(stored.startswith(b"Return-Path: <carol@p.test>\r\n"))
        self.assertIn("status=sent", self.pf.maillog())
        self.b.assert_alive()


if __name__ == "__main__":
    unittest.main()
