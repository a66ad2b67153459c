"""POP3 against a live `maillab serve` (issue 5): Python's poplib (plain,
STLS, POP3S), curl, fetchmail when installed, SMTP -> POP3 end to end, and
the bad inputs of the issue over a real socket."""
import imaplib
import os
import poplib
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from fixture import Instance, recv_until, run_cli

_seq = [0]


def drop(inst, user, data, folder="new"):
    """Puts a message file into the user's INBOX the way other Maildir
    software would; returns its bytes."""
    _seq[0] += 1
    name = "%d.M%dP%d.systest,S=%d" % (int(time.time()), _seq[0], os.getpid(),
                                       len(data))
    path = os.path.join(inst.maildir(user), folder, name)
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.rename(path + ".tmp", path)
    return data


def message(n, body_lines=3):
    lines = [b"From: sender@lab.test", b"To: alice@lab.test",
             b"Subject: message %d" % n, b""]
    lines += [b"line %d of message %d" % (i, n) for i in range(body_lines)]
    lines += [b".starts with a dot", b".", b"..two dots", b"end"]
    return b"\r\n".join(lines) + b"\r\n"


def inbox_files(inst, user):
    out = {}
    for sub in ("cur", "new"):
        d = os.path.join(inst.maildir(user), sub)
        for name in os.listdir(d):
            with open(os.path.join(d, name), "rb") as f:
                out[name] = f.read()
    return out


def recv_lines(sock, n, timeout=10):
    """Reads until n reply lines have arrived."""
    sock.settimeout(timeout)
    data = b""
    while data.count(b"\r\n") < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def joined(lines):
    """poplib's retr() lines back into the message bytes."""
    return b"".join(l + b"\r\n" for l in lines)


class Pop3Base(unittest.TestCase):
    config = {}

    def setUp(self):
        self.inst = Instance.start(config=dict(self.config))
        self.pw = self.inst.password("alice")

    def tearDown(self):
        self.inst.stop()

    def connect(self):
        return poplib.POP3(self.inst.host, self.inst.port("pop3"), timeout=20)

    def login(self):
        p = self.connect()
        p.user("alice")
        p.pass_(self.pw)
        return p

    def raw(self, service="pop3"):
        s = socket.create_connection((self.inst.host, self.inst.port(service)), 10)
        greeting = recv_until(s, b"\r\n")
        self.assertTrue(greeting.startswith(b"+OK"), greeting)
        return s


class Poplib(Pop3Base):
    def test_plain_session(self):
        msgs = [drop(self.inst, "alice", message(i)) for i in range(3)]
        p = self.connect()
        caps = p.capa()
        for cap in ("TOP", "UIDL", "USER", "SASL", "RESP-CODES",
                    "AUTH-RESP-CODE", "PIPELINING", "STLS", "EXPIRE",
                    "IMPLEMENTATION"):
            self.assertIn(cap, caps)
        self.assertEqual(caps["SASL"], ["PLAIN", "LOGIN"])
        p.user("alice")
        self.assertTrue(p.pass_(self.pw).startswith(b"+OK"))
        count, size = p.stat()
        self.assertEqual(count, 3)
        self.assertEqual(size, sum(len(m) for m in msgs))
        resp, listing, _ = p.list()
        self.assertEqual(listing, [b"%d %d" % (i + 1, len(m))
                                   for i, m in enumerate(msgs)])
        for i, m in enumerate(msgs):
            resp, lines, octets = p.retr(i + 1)
            self.assertEqual(joined(lines), m)
            self.assertEqual(octets, len(m))
            self.assertEqual(resp, b"+OK %d octets" % len(m))
        resp, lines, _ = p.top(2, 1)
        self.assertEqual(lines, [b"From: sender@lab.test", b"To: alice@lab.test",
                                 b"Subject: message 1", b"", b"line 0 of message 1"])
        resp, uids, _ = p.uidl()
        self.assertEqual(len(set(u.split()[1] for u in uids)), 3)
        self.assertEqual(p.uidl(2).split()[1:], uids[1].split())
        p.dele(1)
        self.assertEqual(p.stat()[0], 2)
        p.rset()
        self.assertEqual(p.stat()[0], 3)
        p.dele(3)
        self.assertTrue(p.quit().startswith(b"+OK"))
        left = inbox_files(self.inst, "alice")
        self.assertEqual(sorted(left.values()), sorted(msgs[:2]))
        # retrieved messages are \Seen now (":2,S" in the file name)
        self.assertTrue(all(":2," in n and "S" in n.split(":2,")[1]
                            for n in left), left.keys())
        # same UIDLs next time, the deleted one is gone
        p = self.login()
        resp, uids2, _ = p.uidl()
        self.assertEqual(uids2, uids[:2])
        p.quit()

    def test_stls(self):
        drop(self.inst, "alice", message(1))
        p = self.connect()
        p.stls(self.inst.tls_context())
        self.assertNotIn("STLS", p.capa())
        p.user("alice")
        p.pass_(self.pw)
        self.assertEqual(joined(p.retr(1)[1]), message(1))
        p.quit()

    def test_pop3s(self):
        drop(self.inst, "alice", message(1))
        p = poplib.POP3_SSL(self.inst.host, self.inst.port("pop3s"),
                            context=self.inst.tls_context(), timeout=20)
        self.assertNotIn("STLS", p.capa())
        p.user("alice")
        p.pass_(self.pw)
        self.assertEqual(p.stat(), (1, len(message(1))))
        p.quit()

    def test_bare_lf_file(self):
        data = b"Subject: lf\n\n.dot\nbody\n"
        drop(self.inst, "alice", data)
        p = self.login()
        size = len(data) + data.count(b"\n")
        self.assertEqual(p.list(1), b"+OK 1 %d" % size)
        resp, lines, _ = p.retr(1)
        self.assertEqual(joined(lines), data.replace(b"\n", b"\r\n"))
        p.quit()

    def test_no_final_line_end(self):
        """RFC 1939 5: LIST and STAT give the octets RETR sends, also for a
        file without a final line end (RETR adds CRLF before the '.')."""
        crlf = drop(self.inst, "alice", b"Subject: a\r\n\r\nno end")
        lf = drop(self.inst, "alice", b"Subject: b\n\n.x\ny")
        s = self.raw()
        s.sendall(b"USER alice\r\nPASS %s\r\n" % self.pw.encode())
        recv_lines(s, 2)
        sizes = {}
        for n in (1, 2):
            s.sendall(b"LIST %d\r\n" % n)
            reply = recv_until(s, b"\r\n")
            sizes[n] = int(reply.split()[2])
            s.sendall(b"RETR %d\r\n" % n)
            data = recv_until(s, b"\r\n.\r\n")
            first, body = data.split(b"\r\n", 1)
            self.assertEqual(first, b"+OK %d octets" % sizes[n])
            # the stuffed dot is not part of the size
            body = body[:-3].replace(b"\r\n..", b"\r\n.")
            if body.startswith(b".."):
                body = body[1:]
            self.assertEqual(len(body), sizes[n], body)
        self.assertEqual(sizes, {1: len(crlf) + 2,
                                 2: len(lf) + lf.count(b"\n") + 2})
        s.sendall(b"STAT\r\n")
        self.assertEqual(recv_until(s, b"\r\n"),
                         b"+OK 2 %d\r\n" % (sizes[1] + sizes[2]))
        s.close()

    def test_large_message(self):
        body = b"".join(b"%07d %s\r\n" % (i, b"x" * 90) for i in range(60000))
        data = drop(self.inst, "alice", b"Subject: big\r\n\r\n" + body)
        p = self.login()
        resp, lines, _ = p.retr(1)
        self.assertEqual(joined(lines), data)
        p.quit()

    def test_wrong_password_then_disconnect(self):
        p = self.connect()
        for i in range(2):
            p.user("alice")
            with self.assertRaises(poplib.error_proto) as e:
                p.pass_("wrong")
            self.assertIn(b"[AUTH]", e.exception.args[0])
        p.user("alice")
        with self.assertRaises(poplib.error_proto):
            p.pass_("wrong")
        with self.assertRaises((poplib.error_proto, OSError, EOFError)):
            p.noop()
            p.noop()
        self.inst.assert_alive()
        self.login().quit()

    def test_in_use(self):
        drop(self.inst, "alice", message(1))
        p = self.login()
        q = self.connect()
        q.user("alice")
        with self.assertRaises(poplib.error_proto) as e:
            q.pass_(self.pw)
        self.assertIn(b"[IN-USE]", e.exception.args[0])
        p.quit()
        q.user("alice")
        q.pass_(self.pw)
        self.assertEqual(q.stat()[0], 1)
        q.quit()

    def test_no_quit_deletes_nothing(self):
        msgs = [drop(self.inst, "alice", message(i)) for i in range(2)]
        p = self.login()
        p.dele(1)
        p.dele(2)
        p.sock.shutdown(socket.SHUT_RDWR)   # dropped without QUIT
        p.close()
        # mid-RETR: a large message, the client goes away after a few bytes
        big = drop(self.inst, "alice", b"Subject: big\r\n\r\n" +
                   b"y" * 78 + b"\r\n" * 1 + (b"z" * 98 + b"\r\n") * 50000)
        s = None
        for _ in range(50):       # the lock goes when the session is freed
            s = self.raw()
            s.sendall(b"USER alice\r\nPASS %s\r\n" % self.pw.encode())
            r = recv_lines(s, 2)
            if b"IN-USE" not in r:
                break
            s.close()
            time.sleep(0.1)
        self.assertNotIn(b"IN-USE", r)
        s.sendall(b"DELE 1\r\nRETR 3\r\n")
        recv_until(s, b"octets\r\n")
        s.close()
        time.sleep(0.3)
        self.assertEqual(sorted(inbox_files(self.inst, "alice").values()),
                         sorted(msgs + [big]))
        self.inst.assert_alive()


class RawInput(Pop3Base):
    def test_overlong_command_stays_in_sync(self):
        s = self.raw()
        s.sendall(b"USER " + b"a" * 1000 + b"\r\nNOOP\r\nCAPA\r\n")
        r = recv_until(s, b"\r\n.\r\n")
        self.assertTrue(r.startswith(b"-ERR line too long"), r)
        self.assertIn(b"\r\n-ERR NOOP is not valid", r)
        self.assertIn(b"\r\n+OK capability list follows\r\n", r)
        s.sendall(b"QUIT\r\n")
        self.assertTrue(recv_until(s, b"\r\n").startswith(b"+OK"))
        s.close()

    def test_pipelining(self):
        msgs = [drop(self.inst, "alice", message(i)) for i in range(2)]
        s = self.raw()
        cmds = b"USER alice\r\nPASS %s\r\nSTAT\r\nRETR 1\r\nDELE 1\r\nLIST\r\nQUIT\r\n" % \
            self.pw.encode()
        s.sendall(cmds)
        r = recv_until(s, b"signing off (1 messages left)\r\n")
        self.assertIn(b"+OK 2 %d\r\n" % sum(map(len, msgs)), r)
        self.assertIn(b"+OK message 1 deleted\r\n+OK 1 messages", r)
        s.close()
        time.sleep(0.2)
        self.assertEqual(list(inbox_files(self.inst, "alice").values()), [msgs[1]])

    def test_bad_message_numbers(self):
        drop(self.inst, "alice", message(1))
        s = self.raw()
        s.sendall(b"USER alice\r\nPASS %s\r\n" % self.pw.encode())
        recv_until(s, b"octets)\r\n")
        for cmd in (b"RETR 0", b"RETR -1", b"RETR x", b"RETR 2",
                    b"RETR 99999999999999999999999", b"TOP 1 -5", b"DELE 0"):
            s.sendall(cmd + b"\r\n")
            r = recv_until(s, b"\r\n")
            self.assertTrue(r.startswith(b"-ERR"), (cmd, r))
        s.sendall(b"DELE 1\r\nRETR 1\r\nTOP 1 99999999999999999999\r\nRSET\r\nTOP 1 99999999999999999999\r\n")
        r = recv_until(s, b"\r\n.\r\n")
        self.assertIn(b"+OK message 1 deleted\r\n-ERR", r)
        self.assertTrue(r.endswith(b"end\r\n.\r\n"), r)
        s.close()

    def test_garbage_after_stls_is_ignored(self):
        s = self.raw()
        # the command and a pipelined injection in one segment
        s.sendall(b"STLS\r\nUSER alice\r\nPASS x\r\n")
        r = recv_until(s, b"\r\n")
        self.assertTrue(r.startswith(b"+OK"), r)
        t = self.inst.tls_context().wrap_socket(s, server_hostname="localhost")
        t.sendall(b"CAPA\r\n")
        r = recv_until(t, b"\r\n.\r\n")
        # the first reply after the handshake answers CAPA, not USER/PASS
        self.assertTrue(r.startswith(b"+OK capability list follows"), r)
        t.sendall(b"PASS %s\r\n" % self.pw.encode())
        self.assertTrue(recv_until(t, b"\r\n").startswith(b"-ERR"))
        t.close()

    def test_auth_plain_and_errors(self):
        import base64
        s = self.raw()
        s.sendall(b"AUTH PLAIN !!!\r\nAUTH PLAIN\r\n*\r\nAUTH PLAIN\r\n")
        r = recv_until(s, b"\r\n+ \r\n")
        self.assertTrue(r.startswith(b"-ERR"), r)
        self.assertIn(b"+ \r\n-ERR authentication cancelled\r\n+ \r\n", r)
        secret = base64.b64encode(b"\0alice\0" + self.pw.encode())
        s.sendall(secret + b"\r\n")
        self.assertTrue(recv_until(s, b"\r\n").startswith(b"+OK alice has"))
        s.sendall(b"QUIT\r\n")
        recv_until(s, b"\r\n")
        s.close()
        p = self.login()
        p.quit()
        # the trace shows the dialogue, never a password
        time.sleep(0.2)
        traces = "".join(self.inst.traces().values())
        self.assertIn("AUTH PLAIN", traces)
        self.assertIn("<redacted>", traces)
        self.assertNotIn(self.pw, traces)
        self.assertNotIn(secret.decode(), traces)


class Restart(Pop3Base):
    def restart(self, sig):
        self.inst.proc.send_signal(sig)
        self.inst.proc.wait(timeout=20)
        self.inst.launch()

    def test_server_stop_or_crash_deletes_nothing(self):
        import signal
        msgs = [drop(self.inst, "alice", message(i)) for i in range(2)]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            s = self.raw()
            s.sendall(b"USER alice\r\nPASS %s\r\nDELE 1\r\nDELE 2\r\n" %
                      self.pw.encode())
            recv_until(s, b"message 2 deleted\r\n")
            self.restart(sig)
            if sig == signal.SIGTERM:
                # the session was told, and nothing was deleted
                self.assertTrue(recv_until(s, b"\r\n").startswith(b"-ERR [SYS/TEMP]"))
            s.close()
            self.assertEqual(sorted(inbox_files(self.inst, "alice").values()),
                             sorted(msgs))
            # no stale lock either
            p = self.login()
            self.assertEqual(p.stat()[0], 2)
            p.quit()


class Timeout(Pop3Base):
    config = {"timeout_pop3": "2"}

    def test_idle_client_is_logged_out(self):
        drop(self.inst, "alice", message(1))
        s = self.raw()
        s.sendall(b"USER alice\r\nPASS %s\r\nDELE 1\r\n" % self.pw.encode())
        recv_until(s, b"deleted\r\n")
        start = time.time()
        r = recv_until(s, b"\r\n", timeout=15)
        self.assertTrue(r.startswith(b"-ERR"), r)
        self.assertEqual(s.recv(100), b"")
        self.assertLess(time.time() - start, 10)
        s.close()
        time.sleep(0.2)
        self.assertEqual(len(inbox_files(self.inst, "alice")), 1)


class LoginDelay(Pop3Base):
    """RFC 2449 6.5, 8.1.1 with pop3_login_delay."""
    config = {"pop3_login_delay": "3600"}

    def test_second_login_is_refused(self):
        p = self.connect()
        self.assertEqual(p.capa().get("LOGIN-DELAY"), ["3600"])
        p.user("alice")
        p.pass_(self.pw)
        p.quit()
        p = self.connect()
        p.user("alice")
        with self.assertRaises(poplib.error_proto) as cm:
            p.pass_(self.pw)
        self.assertTrue(cm.exception.args[0].startswith(b"-ERR [LOGIN-DELAY]"),
                        cm.exception.args[0])
        # the session goes on: another user may log in
        pw_bob = self.inst.password("bob")
        p.user("bob")
        p.pass_(pw_bob)
        p.quit()
        # the delay survives a restart (it is kept in users.db)
        self.inst.proc.send_signal(signal.SIGTERM)
        self.inst.proc.wait(timeout=20)
        self.inst.launch()
        p = self.connect()
        p.user("alice")
        with self.assertRaises(poplib.error_proto):
            p.pass_(self.pw)
        p.quit()


class Apop(Pop3Base):
    """RFC 1939 7 APOP with pop3_apop = yes, driven by poplib's apop()."""
    config = {"pop3_apop": "yes"}

    def test_apop(self):
        drop(self.inst, "alice", message(1))
        p = self.connect()
        # RFC 1939 7: <process-ID.clock@hostname> in the greeting
        self.assertRegex(p.getwelcome(), rb"<\d+\.\d+\.\d+@localhost>$")
        # users made before pop3_apop was on have no APOP secret
        with self.assertRaises(poplib.error_proto) as cm:
            p.apop("alice", self.pw)
        self.assertTrue(cm.exception.args[0].startswith(b"-ERR [AUTH]"),
                        cm.exception.args[0])
        p.quit()
        out = run_cli("user", "passwd", "-d", self.inst.dir, "alice",
                      "--password-stdin", stdin=self.pw + "\n").stdout
        self.assertIn("reversible", out)
        p = self.connect()
        p.apop("alice", self.pw)
        self.assertEqual(p.stat()[0], 1)
        resp, lines, _ = p.retr(1)
        self.assertEqual(joined(lines), message(1))
        p.quit()
        # a wrong password, then the right one in the same session
        p = self.connect()
        with self.assertRaises(poplib.error_proto) as cm:
            p.apop("alice", self.pw + "x")
        self.assertTrue(cm.exception.args[0].startswith(b"-ERR [AUTH]"))
        p.apop("alice", self.pw)
        p.quit()

    def test_users_added_with_apop_on(self):
        run_cli("user", "add", "-d", self.inst.dir, "carol",
                "--password-stdin", stdin="carol pw\n")
        p = self.connect()
        p.apop("carol", "carol pw")
        p.quit()


@unittest.skipUnless(shutil.which("curl"), "curl not installed")
class Curl(Pop3Base):
    def curl(self, *args):
        url = "pop3://%s:%d/" % (self.inst.host, self.inst.port("pop3"))
        p = subprocess.run(["curl", "-sS", "--max-time", "20", "-u",
                            "alice:" + self.pw] + [a.replace("URL", url) for a in args],
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_list_retrieve_delete(self):
        msgs = [drop(self.inst, "alice", message(i)) for i in range(2)]
        self.assertEqual(self.curl("URL"),
                         b"".join(b"%d %d\r\n" % (i + 1, len(m)) for i, m in enumerate(msgs)))
        self.assertEqual(self.curl("URL2"), msgs[1])
        self.curl("-X", "DELE", "-I", "URL1")
        self.assertEqual(list(inbox_files(self.inst, "alice").values()), [msgs[1]])

    def test_pop3s_retrieve(self):
        msg = drop(self.inst, "alice", message(7))
        url = "pop3s://localhost:%d/1" % self.inst.port("pop3s")
        p = subprocess.run(["curl", "-sS", "--max-time", "20", "--cacert",
                            self.inst.cafile, "-u", "alice:" + self.pw, url],
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, msg)


@unittest.skipUnless(shutil.which("fetchmail"), "fetchmail not installed")
class Fetchmail(Pop3Base):
    def fetch(self, *extra, service="pop3s"):
        out = tempfile.mkdtemp(prefix="maillab-fetch-")
        self.addCleanup(shutil.rmtree, out, True)
        rc = os.path.join(out, "fetchmailrc")
        with open(rc, "w") as f:
            f.write("poll localhost protocol POP3 port %d user alice password '%s'\n"
                    % (self.inst.port(service), self.pw))
        os.chmod(rc, 0o600)
        # the MDA stores each message in its own file, byte for byte
        mda = "sh -c 'cat > %s/msg.$$.$(date +%%s%%N)'" % out
        env = dict(os.environ, HOME=out)
        # pop3s: implicit TLS (--ssl); pop3: STLS, required (--sslproto)
        tls = ["--ssl"] if service == "pop3s" else ["--sslproto", "tls1.2+"]
        p = subprocess.run(["fetchmail", "-f", rc, *tls, "--sslcertck",
                            "--sslcertfile", self.inst.cafile, "--nosyslog",
                            "-v", "--mda", mda, "--pidfile",
                            os.path.join(out, "pid"), *extra],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertIn(p.returncode, (0, 1), p.stdout + p.stderr)
        got = []
        for name in sorted(os.listdir(out)):
            if name.startswith("msg."):
                with open(os.path.join(out, name), "rb") as f:
                    got.append(f.read())
        return got

    def test_keep_then_delete(self):
        msgs = [drop(self.inst, "alice", message(i)) for i in range(3)]
        norm = sorted(m.replace(b"\r\n", b"\n") for m in msgs)

        def body_matches(got):
            # fetchmail puts its Received: field on top and hands the MDA
            # LF line ends; the rest is the message byte for byte
            self.assertEqual(len(got), 3)
            for m in norm:
                self.assertEqual(sum(1 for g in got if g.endswith(b"\n" + m)),
                                 1, (m, got))

        body_matches(self.fetch("--keep"))
        body_matches(self.fetch("--keep", service="pop3"))
        self.assertIn("STLS done", self.inst.log())
        self.assertEqual(len(inbox_files(self.inst, "alice")), 3)
        body_matches(self.fetch("--nokeep"))
        self.assertEqual(inbox_files(self.inst, "alice"), {})


class EndToEnd(Pop3Base):
    def test_smtp_to_pop3(self):
        if "smtp" not in self.inst.listening_services():
            self.skipTest("this binary serves no SMTP")
        sent = []
        for i in range(3):
            body = message(i)
            s = smtplib.SMTP(self.inst.host, self.inst.port("smtp"), timeout=20)
            s.sendmail("sender@lab.test", ["alice@lab.test"], body)
            s.quit()
            sent.append(body)
        p = self.login()
        got = [joined(p.retr(i + 1)[1]) for i in range(3)]
        # the store may add a Received: line; what SMTP accepted is the end
        for g, m in zip(got, sent):
            self.assertTrue(g.endswith(m), (g, m))
        p.dele(2)
        p.quit()
        left = list(inbox_files(self.inst, "alice").values())
        self.assertEqual(sorted(left), sorted([got[0], got[2]]))

    def test_pop3_and_imap_see_the_same(self):
        if "imap" not in self.inst.listening_services():
            self.skipTest("this binary serves no IMAP")
        msgs = [drop(self.inst, "alice", message(i)) for i in range(3)]
        im = imaplib.IMAP4(self.inst.host, self.inst.port("imap"), timeout=20)
        im.login("alice", self.pw)
        im.select("INBOX")
        uidvalidity = int(im.untagged_responses["UIDVALIDITY"][0])
        typ, data = im.fetch("1:*", "(UID)")
        uids = [int(re.search(rb"UID (\d+)", d).group(1)) for d in data]
        self.assertEqual(len(uids), 3)
        p = self.login()
        # UIDL is UIDVALIDITY and UID, as IMAP sees them (maildrop.c)
        self.assertEqual(p.uidl()[1], [b"%d %08x%08x" % (i + 1, uidvalidity, u)
                                       for i, u in enumerate(uids)])
        self.assertEqual(joined(p.retr(1)[1]), msgs[0])
        p.dele(2)
        p.quit()
        # the open IMAP session is told about the expunge ...
        typ, data = im.noop()
        self.assertEqual(im.untagged_responses.get("EXPUNGE"), [b"2"])
        # ... and sees the retrieved message read
        typ, data = im.fetch("1:*", "(UID FLAGS)")
        # (unsolicited FETCH responses about the \\Seen change may come first)
        flags = {int(re.search(rb"UID (\d+)", d).group(1)): d
                 for d in data if re.search(rb"UID \d+", d)}
        self.assertEqual(sorted(flags), [uids[0], uids[2]])
        self.assertIn(b"\\Seen", flags[uids[0]])
        self.assertNotIn(b"\\Seen", flags[uids[2]])
        im.logout()


if __name__ == "__main__":
    unittest.main()
