"""The labs of labs/ (issue 13): each lab started with `maillab lab start N`
on free ports, done by scripted clients (Python's smtplib, poplib, imaplib
and raw sockets, as a student at nc would), then graded by `maillab lab
check N`: a right run passes every step, a wrong run fails the right step
with its hint.  Lab 5's capture runs tcpdump on loopback as its guide says
(skipped only when this machine does not permit capturing)."""
import base64
import imaplib
import os
import poplib
import random
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

from fixture import binary, recv_until, run_cli

DEFAULT_PORTS = {"smtp": 10025, "submission": 10587, "submissions": 10465,
                 "pop3": 10110, "pop3s": 10995, "imap": 10143, "imaps": 10993}
HOST = "127.0.0.1"
GUIDES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                      "labs")
MUTT = shutil.which("mutt")
TCPDUMP = shutil.which("tcpdump")
SWAKS = shutil.which("swaks")
SCRIPT = shutil.which("script")


def ports_free(ports):
    socks = []
    try:
        for p in ports:
            s = socket.socket()
            socks.append(s)
            s.bind((HOST, p))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def free_offset(shifts):
    for _ in range(200):
        off = random.randrange(10000, 40000)
        if ports_free([p + off + sh for p in DEFAULT_PORTS.values() for sh in shifts]):
            return off
    raise AssertionError("no free ports")


def no_verify():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class LabRun:
    """A lab started with `maillab lab start N -d DIR --port-offset K`."""

    def __init__(self, number, instances=(None,)):
        self.number = number
        self.root = tempfile.mkdtemp(prefix="maillab-lab-")
        # the servers drop to the maillab account, which must reach DIR
        os.chmod(self.root, 0o711)
        self.dir = os.path.join(self.root, "lab-%d" % number)
        self.instances = instances
        self.shift = {name: 100 * i for i, name in enumerate(instances)}
        self.offset = free_offset(self.shift.values())
        self.out = os.path.join(self.root, "stdout.txt")
        self.extra = []
        self.proc = subprocess.Popen(
            [binary(), "lab", "start", str(number), "-d", self.dir,
             "--port-offset", str(self.offset)],
            stdout=open(self.out, "w"), stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        for name in instances:
            self.wait_port(self.port("smtp", name))
            self.wait_port(self.port("imaps", name))
        time.sleep(0.3)

    def wait_port(self, port, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("lab start exited: " + self.output())
            try:
                socket.create_connection((HOST, port), 1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("lab %d did not listen on %d: %s" %
                             (self.number, port, self.output()))

    def output(self):
        with open(self.out, errors="replace") as f:
            return f.read()

    def inst_dir(self, name=None):
        return self.dir if name is None else os.path.join(self.dir, name)

    def port(self, service, name=None):
        return DEFAULT_PORTS[service] + self.offset + self.shift[name]

    def password(self, user, name=None):
        with open(os.path.join(self.inst_dir(name), "credentials.txt")) as f:
            for line in f:
                if line.split()[0] == user:
                    return line.split()[1]
        raise KeyError(user)

    def check(self):
        time.sleep(0.5)     # let the last sessions' "session ended" land
        p = run_cli("lab", "check", str(self.number), "-d", self.dir,
                    check=False)
        return p.returncode, p.stdout

    def step(self, out, n):
        m = re.search(r"^(PASS|FAIL)  step %d: (.*)$" % n, out, re.M)
        assert m, out
        return m.group(1), m.group(2)

    def stop(self):
        for p in self.extra:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
            p.wait(timeout=20)
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=30)
        out = self.output()
        if os.environ.get("MAILLAB_KEEP") != "1":
            shutil.rmtree(self.root, ignore_errors=True)
        assert code == 0, "lab start exited %d: %s" % (code, out)
        for mark in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            assert mark not in out, out


def dialogue(port, lines, pause=0.05, source=None):
    """Sends lines (bytes, each complete) one by one like a student at nc,
    reading what arrives after each; returns everything read.  source: the
    client's address (127.0.0.N: a student's own machine)."""
    s = socket.create_connection((HOST, port), 10,
                                 source_address=(source, 0) if source else None)
    got = recv_until(s, b"\r\n")
    for line in lines:
        s.sendall(line)
        time.sleep(pause)
        s.settimeout(0.5)
        try:
            got += s.recv(65536)
        except socket.timeout:
            pass
    s.close()
    return got.decode("latin-1")


LAB1_GOOD = [b"EHLO student.example\r\n", b"MAIL FROM:<student@example.com>\r\n",
             b"RCPT TO:<bob@lab.test>\r\n", b"DATA\r\n",
             b"From: student@example.com\r\nTo: bob@lab.test\r\n"
             b"Subject: Hello from the lab\r\n\r\nHi Bob,\r\n"
             b"..a line that starts with a dot\r\n.\r\n", b"QUIT\r\n"]


class Lab1Test(unittest.TestCase):
    def setUp(self):
        self.lab = LabRun(1)

    def tearDown(self):
        self.lab.stop()

    def test_right_run_passes(self):
        out = dialogue(self.lab.port("smtp"), LAB1_GOOD)
        self.assertIn("250 2.0.0", out)
        code, out = self.lab.check()
        self.assertEqual(code, 0, out)
        self.assertIn("7 of 7 steps passed", out)
        self.assertNotIn("FAIL", out)

    def test_wrong_subject_and_no_dot(self):
        dialogue(self.lab.port("smtp"), [
            b"EHLO student.example\r\n", b"MAIL FROM:<student@example.com>\r\n",
            b"RCPT TO:<bob@lab.test>\r\n", b"DATA\r\n",
            b"Subject: Hello\r\n\r\nno dot here\r\n.\r\n", b"QUIT\r\n"])
        code, out = self.lab.check()
        self.assertEqual(code, 1, out)
        self.assertEqual(self.lab.step(out, 4)[0], "PASS")
        self.assertEqual(self.lab.step(out, 5), (
            "FAIL", "bob has no message with Subject 'Hello from the lab' "
            "(type the header line 'Subject: Hello from the lab' after DATA)"))
        self.assertEqual(self.lab.step(out, 6)[0], "FAIL")


def pop3_login(lab, user="bob"):
    p = poplib.POP3(HOST, lab.port("pop3"))
    p.user(user)
    p.pass_(lab.password(user))
    return p


def pop3_number(p, subject):
    for entry in p.list()[1]:
        n = int(entry.split()[0])
        if ("Subject: " + subject).encode() in p.top(n, 0)[1]:
            return n
    raise AssertionError("no message " + subject)


class Lab2Test(unittest.TestCase):
    def setUp(self):
        self.lab = LabRun(2)

    def tearDown(self):
        self.lab.stop()

    def test_right_run_passes(self):
        p = pop3_login(self.lab)
        p.stat()
        p.list()
        p.uidl()
        n = pop3_number(p, "Lab 2: delete me")
        p.retr(n)
        p.dele(n)
        p.quit()
        code, out = self.lab.check()
        self.assertEqual(code, 0, out)
        self.assertIn("8 of 8 steps passed", out)

    def test_dele_without_quit_deletes_nothing(self):
        p = pop3_login(self.lab)
        p.stat()
        p.list()
        p.uidl()
        n = pop3_number(p, "Lab 2: delete me")
        p.retr(n)
        p.dele(n)
        p.sock.close()      # hang up without QUIT
        code, out = self.lab.check()
        self.assertEqual(code, 1, out)
        status, hint = self.lab.step(out, 7)
        self.assertEqual(status, "FAIL")
        self.assertRegex(hint, r"sent DELE but no QUIT, and POP3 deletes only "
                         r"at QUIT \(RFC 1939 6\)")
        self.assertEqual(self.lab.step(out, 8)[0], "PASS")


def send_plain(lab, subject, name=None, to="bob@lab.test"):
    with smtplib.SMTP(HOST, lab.port("smtp", name)) as s:
        s.sendmail("someone@example.com", [to],
                   "Subject: %s\r\n\r\nbody\r\n" % subject)


def imap_raw_idle(lab, deliver):
    """a1 LOGIN, SELECT, IDLE; deliver() runs while idling; then DONE."""
    s = socket.create_connection((HOST, lab.port("imap")), 10)
    recv_until(s, b"\r\n")
    s.sendall(b"a1 LOGIN bob %s\r\n" % lab.password("bob").encode())
    recv_until(s, b"a1 ")
    s.sendall(b"a2 SELECT INBOX\r\n")
    recv_until(s, b"a2 ")
    s.sendall(b"a3 IDLE\r\n")
    got = recv_until(s, b"+ ")
    if deliver is not None:
        deliver()
        got += recv_until(s, b"EXISTS")
    s.sendall(b"DONE\r\n")
    got += recv_until(s, b"a3 ")
    s.sendall(b"a4 LOGOUT\r\n")
    recv_until(s, b"a4 ")
    s.close()
    return got


class Lab3Test(unittest.TestCase):
    def setUp(self):
        self.lab = LabRun(3)

    def tearDown(self):
        self.lab.stop()

    def imap(self):
        c = imaplib.IMAP4(HOST, self.lab.port("imap"))
        c.login("bob", self.lab.password("bob"))
        return c

    def test_right_run_passes(self):
        c = self.imap()
        c.list('""', "*")
        c.select("INBOX")
        c.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(c.store("1", "+FLAGS", r"(\Seen)")[0], "OK")
        self.assertEqual(c.create("Lab3")[0], "OK")
        self.assertEqual(c.copy("2", "Lab3")[0], "OK")
        c.search(None, "UNSEEN")
        c.logout()
        got = imap_raw_idle(self.lab, lambda: send_plain(self.lab, "new mail"))
        self.assertIn(b"EXISTS", got)
        code, out = self.lab.check()
        self.assertEqual(code, 0, out)
        self.assertIn("11 of 11 steps passed", out)

    def test_no_copy_and_idle_without_mail(self):
        c = self.imap()
        c.list('""', "*")
        c.select("INBOX")
        c.fetch("1", "(FLAGS)")
        c.store("1", "+FLAGS", r"(\Seen)")
        c.search(None, "ALL")
        c.logout()
        imap_raw_idle(self.lab, None)
        code, out = self.lab.check()
        self.assertEqual(code, 1, out)
        self.assertEqual(self.lab.step(out, 10),
                         ("FAIL", "bob has no folder Lab3: CREATE Lab3"))
        self.assertEqual(self.lab.step(out, 11)[1],
                         "bob's IDLE never announced new mail: while IDLE waits, "
                         "send bob a message from another terminal, then type DONE")


class Lab4Test(unittest.TestCase):
    def setUp(self):
        self.lab = LabRun(4)

    def tearDown(self):
        self.lab.stop()

    def test_right_run_passes(self):
        c = imaplib.IMAP4(HOST, self.lab.port("imap"))
        c.login("bob", self.lab.password("bob"))
        c.select("INBOX")
        n = c.search(None, "SUBJECT", '"read me over IMAP"')[1][0].decode()
        c.store(n, "+FLAGS", r"(\Seen)")
        p = pop3_login(self.lab)
        m = pop3_number(p, "Lab 4: delete me over POP3")
        p.dele(m)
        p.quit()
        typ, data = c.noop()
        c.logout()
        code, out = self.lab.check()
        self.assertEqual(code, 0, out)
        self.assertIn("4 of 4 steps passed", out)
        self.assertRegex(out, r"and its name ends in :2,S")

    def test_one_protocol_at_a_time(self):
        p = pop3_login(self.lab)
        p.dele(pop3_number(p, "Lab 4: delete me over POP3"))
        p.quit()
        code, out = self.lab.check()
        self.assertEqual(code, 1, out)
        self.assertEqual(self.lab.step(out, 1), (
            "FAIL", "bob never had a POP3 and an IMAP session open at the same "
            "time: keep both terminals logged in"))
        self.assertEqual(self.lab.step(out, 2)[1],
                         # POP3 moved it to cur/ when bob logged in
                         "'Lab 4: read me over IMAP' is in cur/ without the S "
                         "flag: over IMAP, STORE its number +FLAGS (\\Seen)")
        self.assertEqual(self.lab.step(out, 3)[0], "PASS")


class Lab5Test(unittest.TestCase):
    def setUp(self):
        self.lab = LabRun(5)

    def tearDown(self):
        self.lab.stop()

    def submit(self, starttls):
        with smtplib.SMTP(HOST, self.lab.port("submission")) as s:
            s.ehlo()
            if starttls:
                s.starttls(context=no_verify())
                s.ehlo()
            s.login("alice", self.lab.password("alice"))
            s.sendmail("alice@lab.test", ["bob@lab.test"],
                       "Subject: Lab 5: under TLS\r\n\r\nsecret\r\n")

    def test_right_run_passes(self):
        send_plain(self.lab, "Lab 5: in the clear")
        self.submit(starttls=True)
        code, out = self.lab.check()
        self.assertEqual(code, 0, out)
        self.assertIn("5 of 5 steps passed", out)

    def test_auth_before_starttls(self):
        send_plain(self.lab, "Lab 5: in the clear")
        self.submit(starttls=False)
        code, out = self.lab.check()
        self.assertEqual(code, 1, out)
        self.assertEqual(self.lab.step(out, 1)[0], "PASS")
        self.assertEqual(self.lab.step(out, 2)[0], "FAIL")
        self.assertRegex(self.lab.step(out, 3)[1],
                         r"^session \S+ sent AUTH before STARTTLS \(at [0-9:.]+\): "
                         r"anyone capturing read the base64 of the password$")


class Capture:
    """tcpdump -i lo -s0 -w FILE 'tcp port P' (labs/05-encryption.md),
    started and stopped around the sessions it records."""

    def __init__(self, path, port):
        self.path = path
        # as root tcpdump would become the user tcpdump before writing
        # the file: -Z root keeps it able to write where the test can
        user = ["-Z", "root"] if os.geteuid() == 0 else []
        # --immediate-mode: without it the packets of the last moment
        # before the interrupt can stay in the kernel's ring (a student
        # who presses Ctrl-C later does not lose them); -U writes each
        # packet at once
        self.proc = subprocess.Popen(
            [TCPDUMP, "-i", "lo", "-s0", "-U", "--immediate-mode", "-n", *user,
             "-w", path,
             "tcp port %d" % port],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()
        if "listening on" not in line:
            err = line + self.proc.stderr.read()
            self.proc.wait(timeout=10)
            raise unittest.SkipTest("capture on lo not permitted here: " + err.strip())

    def stop(self):
        time.sleep(0.5)     # the last packets reach the file (-U)
        self.proc.send_signal(signal.SIGINT)
        self.proc.communicate(timeout=20)

    def text(self):
        """What the eavesdropper reads: tcpdump -A -r FILE."""
        p = subprocess.run([TCPDUMP, "-A", "-n", "-r", self.path],
                           capture_output=True, timeout=30)
        assert p.returncode == 0, p.stderr
        return p.stdout.decode("latin-1")


@unittest.skipUnless(TCPDUMP and SWAKS, "tcpdump or swaks not installed: "
                     "run sh tests/deps.sh")
class Lab5CaptureTest(unittest.TestCase):
    """The capture step of lab 5: what an eavesdropper on loopback sees of a
    plaintext session (the MX by hand, and a login without TLS: the AUTH
    PLAIN base64, hence the password) and of a STARTTLS session (none of
    it)."""

    def setUp(self):
        self.lab = LabRun(5)

    def tearDown(self):
        self.lab.stop()

    def swaks(self, tls, subject, body):
        args = [SWAKS, "--server", "%s:%d" % (HOST, self.lab.port("submission")),
                "--auth", "PLAIN", "--auth-user", "alice",
                "--auth-password", self.lab.password("alice"),
                "--from", "alice@lab.test", "--to", "bob@lab.test",
                "--header", "Subject: " + subject, "--body", body]
        if tls:
            args.insert(3, "--tls")
        p = subprocess.run(args, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("235 2.7.0", p.stdout)

    def test_capture_plaintext_and_starttls(self):
        pw = self.lab.password("alice")
        # printf '\0alice\0PASSWORD' | base64, as the guide builds it
        plain_b64 = base64.b64encode(b"\0alice\0" + pw.encode()).decode()

        clear = Capture(os.path.join(self.lab.root, "clear.pcap"),
                        self.lab.port("submission"))
        self.swaks(False, "Lab 5: in the clear", "My secret is 1234.")
        clear.stop()
        seen = clear.text()
        # the eavesdropper reads the login, the envelope and the message
        self.assertIn("AUTH PLAIN " + plain_b64, seen)
        self.assertEqual(base64.b64decode(plain_b64).split(b"\0")[2].decode(), pw)
        for text in ("MAIL FROM:<alice@lab.test>", "RCPT TO:<bob@lab.test>",
                     "Subject: Lab 5: in the clear", "My secret is 1234."):
            self.assertIn(text, seen)

        tls = Capture(os.path.join(self.lab.root, "tls.pcap"),
                      self.lab.port("submission"))
        self.swaks(True, "Lab 5: under TLS", "My secret is 5678.")
        tls.stop()
        seen = tls.text()
        # only what came before STARTTLS is readable (the guide's grep)
        self.assertIn("250-STARTTLS", seen)
        self.assertIn("STARTTLS", seen.split("250-STARTTLS", 1)[1])
        self.assertRegex(seen, r"\d+ packets? |length \d+")
        for text in (plain_b64, pw, "MAIL FROM", "bob@lab.test",
                     "Lab 5: under TLS", "My secret is 5678."):
            self.assertNotIn(text, seen)
        # AUTH only as the offer in the EHLO reply, never the command
        self.assertEqual(seen.count("AUTH PLAIN"),
                         seen.count("250-AUTH PLAIN LOGIN"), seen)

        # the trace, one end of the encryption, has both, the secret redacted
        code, out = self.lab.check()
        self.assertRegex(self.lab.step(out, 3)[1], r"sent AUTH before STARTTLS")
        self.assertEqual(self.lab.step(out, 5)[0], "PASS")


LAB6_MESSAGE = (b"From: student@example.com\r\nTo: bob@lab.test\r\n"
                b"Subject: Sent by my own client\r\n"
                b"Date: Sat, 05 Dec 2026 19:30:00 +0000\r\n\r\nHello\r\n"
                b"..signature\r\n.\r\n")
LAB6_RIGHT = [b"EHLO client.example\r\n", b"MAIL FROM:<student@example.com>\r\n",
              b"RCPT TO:<bob@lab.test>\r\n", b"DATA\r\n", LAB6_MESSAGE,
              b"QUIT\r\n"]


class Lab6Test(unittest.TestCase):
    """The student's client is a raw socket here, right and wrong."""

    def setUp(self):
        self.lab = LabRun(6)

    def tearDown(self):
        self.lab.stop()

    def test_right_client_passes(self):
        dialogue(self.lab.port("smtp"), LAB6_RIGHT)
        code, out = self.lab.check()
        self.assertEqual(code, 0, out)
        self.assertIn("9 of 9 steps passed", out)
        self.assertRegex(self.lab.step(out, 9)[1],
                         r"^strict mode: your client broke no protocol rule "
                         r"in session \S+$")

    def test_lab_start_turns_strict_mode_on(self):
        with open(os.path.join(self.lab.dir, "maillab.conf")) as f:
            self.assertRegex(f.read(), r"(?m)^strict = on$")

    def strict_fails(self, out):
        """The strict-mode FAIL lines of a check: {rule: hint}."""
        return {m.group(1): m.group(0) for m in re.finditer(
            r"(?m)^FAIL  step \d+: strict mode: your client broke ([a-z0-9-]+): .*$",
            out)}

    def test_reference_client_of_the_guide(self):
        """The instructor's client in labs/06-smtp-client.md, as printed."""
        with open(os.path.join(GUIDES, "06-smtp-client.md")) as f:
            code = re.findall(r"```python\n(.*?)```", f.read(), re.S)[-1]
        code = code.replace('HOST, PORT = "127.0.0.1", 10025',
                            'HOST, PORT = "127.0.0.1", %d' % self.lab.port("smtp"))
        p = subprocess.run(["python3", "-c", code], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual((p.returncode, p.stdout), (0, "sent\n"), p.stderr)
        code, out = self.lab.check()
        self.assertEqual(code, 0, out)

    def test_rcpt_before_mail(self):
        out = dialogue(self.lab.port("smtp"), [
            b"EHLO client.example\r\n", b"RCPT TO:<bob@lab.test>\r\n",
            b"MAIL FROM:<student@example.com>\r\n", b"QUIT\r\n"])
        self.assertIn("503 5.5.1", out)
        code, out = self.lab.check()
        self.assertEqual(code, 1, out)
        status, hint = self.lab.step(out, 6)
        self.assertEqual(status, "FAIL")
        self.assertRegex(hint, r"^your client sent RCPT before MAIL: see the 503 "
                         r"in session \S+$")
        self.assertEqual(self.lab.step(out, 3)[0], "FAIL")

    def test_bare_lf(self):
        dialogue(self.lab.port("smtp"), [b"EHLO client.example\n", b"QUIT\n"])
        code, out = self.lab.check()
        self.assertEqual(code, 1, out)
        self.assertEqual(self.lab.step(out, 1)[0], "FAIL")
        self.assertRegex(self.lab.step(out, 6)[1],
                         r"^your client ended a line with a bare LF "
                         r"\('EHLO client.example'\): SMTP lines end with CRLF")
        fails = self.strict_fails(out)
        self.assertIn("smtp-bare-lf", fails, out)
        self.assertRegex(fails["smtp-bare-lf"],
                         r"^FAIL  step 9: strict mode: your client broke "
                         r"smtp-bare-lf: the line ended in a bare LF; SMTP lines "
                         r"end in CRLF: RFC 5321 2\.3\.8, session (\S+) \(read it "
                         r"with: maillab trace show -d \S+ \1 --explain\)$")
        # one line per rule, however often it was broken
        self.assertEqual(out.count("broke smtp-bare-lf"), 1, out)
        # the server still serves a right client, and the newest run counts
        dialogue(self.lab.port("smtp"), LAB6_RIGHT)
        code, out = self.lab.check()
        self.assertEqual(code, 0, out)

    def test_mail_before_ehlo(self):
        out = dialogue(self.lab.port("smtp"), [
            b"MAIL FROM:<student@example.com>\r\n", b"EHLO client.example\r\n",
            b"QUIT\r\n"])
        self.assertIn("503 5.5.1 Bad sequence of commands: send EHLO or HELO first",
                      out)
        code, out = self.lab.check()
        self.assertEqual(code, 1, out)
        fails = self.strict_fails(out)
        self.assertEqual(list(fails), ["smtp-mail-before-helo"], out)
        self.assertRegex(fails["smtp-mail-before-helo"],
                         r"broke smtp-mail-before-helo: MAIL came before EHLO or "
                         r"HELO; a client greets the server first: RFC 5321 "
                         r"4\.1\.4, session \S+ ")

    def test_rule_the_server_forgives(self):
        """A space after MAIL FROM: is accepted (250), so only strict mode
        can tell the student; and a message without Date:."""
        out = dialogue(self.lab.port("smtp"), [
            b"EHLO client.example\r\n", b"MAIL FROM: <student@example.com>\r\n",
            b"RCPT TO:<bob@lab.test>\r\n", b"DATA\r\n",
            LAB6_MESSAGE.replace(b"Date: Sat, 05 Dec 2026 19:30:00 +0000\r\n", b""),
            b"QUIT\r\n"])
        self.assertIn("250 2.1.0", out)
        code, out = self.lab.check()
        self.assertEqual(code, 1, out)
        self.assertIn("7 of 10 steps passed", out)   # step 2 wants FROM:<
        fails = self.strict_fails(out)
        self.assertEqual(sorted(fails), ["smtp-no-date", "smtp-space-after-colon"], out)
        self.assertIn("RFC 5321 4.1.1.2, 4.1.1.3, session", fails["smtp-space-after-colon"])
        self.assertIn("RFC 5322 3.6, session", fails["smtp-no-date"])

    def test_no_dot_stuffing(self):
        dialogue(self.lab.port("smtp"), [
            b"EHLO client.example\r\n", b"MAIL FROM:<student@example.com>\r\n",
            b"RCPT TO:<bob@lab.test>\r\n", b"DATA\r\n",
            LAB6_MESSAGE.replace(b"..signature", b".signature"), b"QUIT\r\n"])
        code, out = self.lab.check()
        self.assertEqual(code, 1, out)
        self.assertIn("8 of 9 steps passed", out)
        self.assertRegex(self.lab.step(out, 8)[1], r"must send it as '\.\.signature'")


class SharedClassTest(unittest.TestCase):
    """README "For instructors", one shared server: one lab 6 instance, a
    user per student (user add --from-file), each student's client on its
    own machine (source address); `lab check 6 --user NAME` grades one
    student from the shared traces and store."""

    def setUp(self):
        self.lab = LabRun(6)
        roster = os.path.join(self.lab.root, "students.txt")
        with open(roster, "w") as f:
            f.write("ann\nben\n")
        run_cli("user", "add", "-d", self.lab.dir, "--from-file", roster)

    def tearDown(self):
        self.lab.stop()

    def check(self, *args):
        time.sleep(0.5)
        p = run_cli("lab", "check", "6", "-d", self.lab.dir, *args, check=False)
        return p.returncode, p.stdout

    def test_two_students_one_right_one_wrong(self):
        port = self.lab.port("smtp")
        ann = [l.replace(b"<bob@", b"<ann@") for l in LAB6_RIGHT]
        dialogue(port, ann, source="127.0.0.2")
        # ben: RCPT before MAIL, then (newest) a run with bare LFs that
        # fails before naming anyone: his by his machine's address
        out = dialogue(port, [b"EHLO ben.example\r\n", b"RCPT TO:<ben@lab.test>\r\n",
                              b"MAIL FROM:<ben@lab.test>\r\n", b"QUIT\r\n"],
                       source="127.0.0.3")
        self.assertIn("503 5.5.1", out)
        dialogue(port, [b"EHLO ben.example\n", b"QUIT\n"], source="127.0.0.3")

        code, out = self.check("--user", "ann")
        ann_out = out
        self.assertEqual(code, 0, out)
        self.assertIn("student ann", out)
        self.assertIn("9 of 9 steps passed", out)
        self.assertIn("PASS  step 7: ann has the message with Subject "
                      "'Sent by my own client'", out)

        code, out = self.check("--user", "ben")
        self.assertEqual(code, 1, out)
        self.assertEqual(self.lab.step(out, 1)[0], "FAIL")
        self.assertRegex(self.lab.step(out, 6)[1],
                         r"^your client ended a line with a bare LF "
                         r"\('EHLO ben.example'\)")
        self.assertEqual(self.lab.step(out, 7),
                         ("FAIL", "ben has no message with Subject 'Sent by my "
                          "own client' (your client's Subject: header line)"))
        self.assertRegex(self.lab.step(out, 9)[1],
                         r"^strict mode: your client broke smtp-bare-lf: .*: "
                         r"RFC 5321 2\.3\.8, session \S+ ")
        ben_run = re.search(r"session (\S+)\)$", self.lab.step(out, 1)[1]).group(1)
        self.assertNotIn(ben_run, ann_out)

        # bob did nothing: without --user the newest run (ben's) is graded
        code, out = self.check()
        self.assertEqual(code, 1, out)
        self.assertIn("bob has no message", out)

    def test_usage(self):
        for args in (["--user"], ["--user", "Ann Lee"], ["--user", "../x"]):
            p = run_cli("lab", "check", "6", "-d", self.lab.dir, *args, check=False)
            self.assertEqual(p.returncode, 2, args)
        p = run_cli("lab", "start", "6", "--user", "ann", check=False)
        self.assertEqual(p.returncode, 2)
        p = run_cli("lab", "check", "7", "-d", self.lab.dir, "--user", "ann",
                    check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--user is for one shared instance", p.stderr)


class Lab7Test(unittest.TestCase):
    def setUp(self):
        self.lab = LabRun(7, instances=("north", "south"))

    def tearDown(self):
        self.lab.stop()

    def submit(self, to, subject):
        with smtplib.SMTP(HOST, self.lab.port("submission", "north")) as s:
            s.starttls(context=no_verify())
            s.login("alice", self.lab.password("alice", "north"))
            s.sendmail("alice@north.test", [to],
                       "From: alice@north.test\r\nSubject: %s\r\n\r\nhi\r\n" % subject)

    def wait_for(self, what, cond, timeout=40):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if cond():
                return
            time.sleep(0.2)
        raise AssertionError("timed out waiting for " + what)

    def mail_has(self, name, user, text):
        d = os.path.join(self.lab.inst_dir(name), "mail", user)
        for sub in ("new", "cur"):
            for f in os.listdir(os.path.join(d, sub)):
                with open(os.path.join(d, sub, f), errors="replace") as fh:
                    if text in fh.read():
                        return True
        return False

    def test_right_run_passes(self):
        self.submit("bob@south.test", "Lab 7: hello south")
        self.wait_for("the first relay",
                      lambda: self.mail_has("south", "bob", "Lab 7: hello south"))
        with open(os.path.join(self.lab.dir, "south.pid")) as f:
            os.kill(int(f.read()), signal.SIGTERM)
        time.sleep(1.5)
        self.submit("bob@south.test", "Lab 7: while you were down")
        queue = run_cli("queue", "list", "-d", self.lab.inst_dir("north")).stdout
        self.assertIn("<bob@south.test>", queue)
        time.sleep(1)
        south = subprocess.Popen([binary(), "serve", "-d", self.lab.inst_dir("south")],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.lab.extra.append(south)
        self.wait_for("the retry", lambda: self.mail_has(
            "south", "bob", "Lab 7: while you were down"))
        self.submit("nobody@south.test", "Lab 7: to nobody")
        self.wait_for("the bounce",
                      lambda: self.mail_has("north", "alice", "MAILER-DAEMON"))
        code, out = self.lab.check()
        self.assertEqual(code, 0, out)
        self.assertIn("5 of 5 steps passed", out)

    def test_south_never_down(self):
        self.submit("bob@south.test", "Lab 7: hello south")
        self.wait_for("the first relay",
                      lambda: self.mail_has("south", "bob", "Lab 7: hello south"))
        code, out = self.lab.check()
        self.assertEqual(code, 1, out)
        self.assertEqual(self.lab.step(out, 1)[0], "PASS")
        self.assertEqual(self.lab.step(out, 2)[1],
                         "north never found south down: take south down (kill its "
                         "pid), then send 'Lab 7: while you were down'")


class Lab8Test(unittest.TestCase):
    def setUp(self):
        self.lab = LabRun(8)

    def tearDown(self):
        self.lab.stop()

    def send(self):
        with smtplib.SMTP(HOST, self.lab.port("submission")) as s:
            s.starttls(context=no_verify())
            s.login("alice", self.lab.password("alice"))
            s.sendmail("alice@lab.test", ["bob@lab.test"],
                       "From: alice@lab.test\r\nTo: bob@lab.test\r\n"
                       "Subject: Lab 8: from a real client\r\n\r\nhi\r\n")

    def test_right_run_passes(self):
        self.send()
        c = imaplib.IMAP4_SSL(HOST, self.lab.port("imaps"), ssl_context=no_verify())
        c.login("bob", self.lab.password("bob"))
        c.select("INBOX")
        c.fetch("1", "(BODY[])")
        c.logout()
        code, out = self.lab.check()
        self.assertEqual(code, 0, out)
        self.assertIn("3 of 3 steps passed", out)

    def test_reading_without_tls(self):
        self.send()
        c = imaplib.IMAP4(HOST, self.lab.port("imap"))
        c.login("bob", self.lab.password("bob"))
        c.select("INBOX")
        c.fetch("1", "(RFC822)")
        c.logout()
        code, out = self.lab.check()
        self.assertEqual(code, 1, out)
        self.assertRegex(self.lab.step(out, 3)[1],
                         r"^session \S+ read mail without TLS: set the client's IMAP "
                         r"security to SSL/TLS")


@unittest.skipUnless(MUTT and SCRIPT, "mutt or script(1) not installed")
class Lab8MuttTest(unittest.TestCase):
    """Lab 8 with mutt and the muttrc of labs/08-real-clients.md: mutt
    sends as alice (submission, STARTTLS), then reads bob's INBOX over
    imaps under script(1), as test_mutt.py drives it."""

    def setUp(self):
        self.lab = LabRun(8)
        self.home = tempfile.mkdtemp(prefix="maillab-lab8-")

    def tearDown(self):
        self.lab.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    def muttrc(self):
        with open(os.path.join(GUIDES, "08-real-clients.md")) as f:
            text = re.search(r"Save as `lab8.muttrc`.*?```\n(.*?)```", f.read(),
                             re.S).group(1)
        text = (text.replace("./lab-8/", self.lab.dir + "/")
                .replace(":10587/", ":%d/" % self.lab.port("submission"))
                .replace(":10993/", ":%d/" % self.lab.port("imaps"))
                .replace("ALICES-PASSWORD", self.lab.password("alice"))
                .replace("BOBS-PASSWORD", self.lab.password("bob")))
        path = os.path.join(self.home, "lab8.muttrc")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_mutt_passes(self):
        rc = self.muttrc()
        env = dict(os.environ, HOME=self.home, TERM="vt100")
        p = subprocess.run([MUTT, "-F", rc, "-s", "Lab 8: from a real client",
                            "bob@lab.test"], input=b"Hello from mutt\n",
                           env=env, capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        cmd = ("mutt -F %s -e 'set quit=yes wait_key=no' "
               "-e 'push \"<display-message><exit><quit>\"'" % rc)
        p = subprocess.run([SCRIPT, "-qfec", cmd, "/dev/null"], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout[-2000:])
        code, out = self.lab.check()
        self.assertEqual(code, 0, out)
        self.assertRegex(out, r"read a message over TLS as bob \(session \S+, imaps\)")


class LabCommandTest(unittest.TestCase):
    def test_list_and_usage(self):
        out = run_cli("lab", "list").stdout
        for n in range(1, 9):
            self.assertRegex(out, r"(?m)^%d " % n)
        self.assertEqual(run_cli("lab", check=False).returncode, 2)
        self.assertEqual(run_cli("lab", "start", "x", check=False).returncode, 2)
        p = run_cli("lab", "check", "42", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("there is no lab 42", p.stderr)

    def test_check_without_directory(self):
        tmp = tempfile.mkdtemp(prefix="maillab-lab-")
        try:
            p = run_cli("lab", "check", "1", "-d", os.path.join(tmp, "none"),
                        check=False)
            self.assertEqual(p.returncode, 1)
            self.assertIn("maillab lab start 1", p.stderr)
        finally:
            shutil.rmtree(tmp)

    def test_every_guide_exists(self):
        names = os.listdir(GUIDES)
        for n in range(1, 9):
            self.assertTrue(any(f.startswith("%02d-" % n) and f.endswith(".md")
                                for f in names), names)


if __name__ == "__main__":
    unittest.main()
