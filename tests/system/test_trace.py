"""`maillab trace` (issue 13) on real sessions: smtplib, poplib and imaplib
talk to a live server, then list, show, --explain and --html read what the
server recorded; the HTML is rendered in headless Chromium; follow shows a
session started after it."""
import imaplib
import os
import poplib
import re
import select
import shutil
import signal
import smtplib
import struct
import subprocess
import tempfile
import time
import unittest
import zlib

from fixture import Instance, binary, run_cli

SUBJECT = "Trace lab 4f1c"
BODY_WORD = "zebra-body-marker"


def png_pixels(path):
    """(width, height, set of distinct pixels) of an 8-bit RGB/RGBA PNG,
    decoded with zlib and struct only."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    colours = set()
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        if y % 4 == 0:
            for x in range(0, stride, bpp * 2):
                colours.add(bytes(line[x:x + 3]))
        prev = line
    return width, height, colours


class TraceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start()
        cls.dir = cls.inst.dir
        cls.tmp = tempfile.mkdtemp(prefix="maillab-trace-")
        inst = cls.inst
        s = smtplib.SMTP(inst.host, inst.port("submission"), timeout=20)
        s.ehlo()
        s.starttls(context=inst.tls_context())
        s.ehlo()
        s.login("alice", inst.password("alice"))
        s.sendmail("alice@lab.test", ["bob@lab.test"],
                   "Subject: %s\r\n\r\n%s\r\n" % (SUBJECT, BODY_WORD))
        code, _ = s.docmd("RCPT", "TO:<bob@lab.test>")   # out of sequence
        assert code == 503, code
        s.quit()
        p = poplib.POP3(inst.host, inst.port("pop3"), timeout=20)
        p.stls(inst.tls_context())
        p.user("bob")
        p.pass_(inst.password("bob"))
        p.stat()
        p.list()
        p.retr(1)
        p.quit()
        m = imaplib.IMAP4(inst.host, inst.port("imap"), timeout=20)
        m.starttls(inst.tls_context())
        m.login("bob", inst.password("bob"))
        m.select("INBOX")
        m.fetch("1", "(FLAGS BODY[])")
        m.store("1", "+FLAGS", "(\\Seen)")
        m.logout()
        cls.wait_ended(3)

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def sessions(cls, *args):
        out = run_cli("trace", "list", "-d", cls.dir, "--last", "1000", *args).stdout
        lines = out.splitlines()
        assert lines[0].startswith("ID"), out
        rows = []
        for l in lines[1:]:
            f = l.split()
            rows.append({"id": f[0], "service": f[1], "client": f[2], "user": f[3],
                         "day": f[4], "time": f[5], "duration": f[6],
                         "lines": int(f[7]), "outcome": " ".join(f[8:])})
        return rows

    @classmethod
    def wait_ended(cls, n_dialogues, timeout=20):
        """Until n sessions with a dialogue have ended (the trace is
        closed when the server has freed the session)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            done = [r for r in cls.sessions() if r["lines"] > 5 and r["outcome"] != "open"]
            if len(done) >= n_dialogues:
                return
            time.sleep(0.1)
        raise AssertionError("sessions did not end:\n" + run_cli(
            "trace", "list", "-d", cls.dir).stdout)

    def session_of(self, service, user):
        rows = [r for r in self.sessions("--service", service, "--user", user)]
        self.assertEqual(len(rows), 1, rows)
        return rows[0]

    def show(self, ident, *flags):
        return run_cli("trace", "show", "-d", self.dir, ident, *flags).stdout

    def test_list_columns_and_filters(self):
        sub = self.session_of("submission", "alice")
        self.assertEqual(sub["client"], "127.0.0.1")
        self.assertEqual(sub["outcome"], "quit")
        self.assertRegex(sub["day"], r"^\d{4}-\d\d-\d\d$")
        self.assertRegex(sub["time"], r"^\d\d:\d\d:\d\d$")
        self.assertRegex(sub["duration"], r"^\d+\.\d{3}s$")
        self.assertGreater(sub["lines"], 20)
        pop = self.session_of("pop3", "bob")
        self.assertEqual(pop["outcome"], "quit")
        imap = self.session_of("imap", "bob")
        self.assertEqual(imap["outcome"], "quit")
        # a protocol name selects all its services; a service only itself
        smtp_family = {r["service"] for r in self.sessions("--service", "smtp")}
        self.assertIn("submission", smtp_family)
        self.assertTrue(smtp_family <= {"smtp", "submission", "submissions"})
        self.assertEqual({r["user"] for r in self.sessions("--user", "alice")}, {"alice"})
        self.assertEqual(len(self.sessions("--last", "2")), 2)
        out = run_cli("trace", "list", "-d", self.dir, "--last", "1").stdout
        self.assertEqual(len(out.splitlines()), 2)

    def test_bad_arguments(self):
        for args in (["trace"], ["trace", "frob"], ["trace", "list", "--last", "0"],
                     ["trace", "list", "--bogus"], ["trace", "show"],
                     ["trace", "follow", "extra"]):
            p = run_cli(*args, "-d", self.dir, check=False)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn("usage", p.stderr)
        p = run_cli("trace", "show", "-d", self.dir, "no-such-id", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no session no-such-id", p.stderr)
        p = run_cli("trace", "list", "-d", os.path.join(self.tmp, "none"), check=False)
        self.assertEqual(p.returncode, 1)

    def test_show_dialogue_states_and_secrets(self):
        sub = self.session_of("submission", "alice")
        out = self.show(sub["id"])
        self.assertIn("submission session %s from 127.0.0.1" % sub["id"], out)
        self.assertRegex(out, r"\n\d\d:\d\d:\d\d\.\d{3} C: AUTH PLAIN <redacted>\n")
        self.assertRegex(out, r"\n\d\d:\d\d:\d\d\.\d{3} S: 235 2\.7\.0 ")
        self.assertRegex(out, r"C: <message body, \d+ bytes>")
        self.assertIn("-- state: RCPT \u00b7 TLS \u00b7 user alice --", out)
        self.assertIn("*: TLS established", out)
        self.assertNotIn(self.inst.password("alice"), out)
        self.assertNotIn(BODY_WORD, out)
        # the file name works as well as the id
        self.assertEqual(self.show("submission-" + sub["id"]), out)

    def test_show_elides_message_bodies(self):
        pop = self.show(self.session_of("pop3", "bob")["id"])
        self.assertRegex(pop, r"S: <message data, \d+ octets, not shown>")
        self.assertIn("-- state: TRANSACTION \u00b7 TLS \u00b7 user bob --", pop)
        self.assertIn("-- state: UPDATE", pop)
        self.assertNotIn(BODY_WORD, pop)
        self.assertNotIn(self.inst.password("bob"), pop)
        imap = self.show(self.session_of("imap", "bob")["id"])
        self.assertRegex(imap, r"S: <message data, \d+ octets, not shown>")
        self.assertIn("-- state: SELECTED", imap)
        self.assertNotIn(BODY_WORD, imap)
        # the raw trace did hold body lines: show is what hides them
        self.assertIn(BODY_WORD, "".join(self.inst.traces().values()))

    def test_explain_names_meaning_and_rfc(self):
        sub = self.show(self.session_of("submission", "alice")["id"], "--explain")
        self.assertRegex(sub, r"C: mail FROM:<alice@lab\.test>.*\n +Starts a new "
                         r"message.*\[RFC 5321 4\.1\.1\.2\]")
        self.assertRegex(sub, r"S: 250 2\.1\.5 .*\n +Recipient accepted \(2\.1\.5")
        self.assertRegex(sub, r"S: 503 5\.5\.1 .*\n +Bad sequence of commands.*"
                         r"\[RFC 5321 4\.1\.4\]")
        self.assertRegex(sub, r"S: 250-PIPELINING\n +The client may send several")
        pop = self.show(self.session_of("pop3", "bob")["id"], "--explain")
        self.assertRegex(pop, r"C: RETR 1\n +Downloads the whole message.*\[RFC 1939 5\]")
        self.assertRegex(pop, r"C: PASS <redacted>\n +Gives the password")
        imap = self.show(self.session_of("imap", "bob")["id"], "--explain")
        self.assertRegex(imap, r"OK \[READ-WRITE\] SELECT completed\n +Tagged OK.*\n"
                         r" +\[READ-WRITE\]: the mailbox is open")
        self.assertRegex(imap, r"S: \* \d+ EXISTS\n +How many messages")
        # every line of dialogue has at least one explanation under it
        for text in (sub, pop, imap):
            lines = text.splitlines()
            for i, l in enumerate(lines):
                if re.match(r"\d\d:\d\d:\d\d\.\d{3} [CS]: [A-Za-z0-9+*<-]", l) and \
                        not re.match(r".* S: (\d+ \S+|\.|\))$", l):
                    self.assertTrue(i + 1 < len(lines) and lines[i + 1].startswith("    "),
                                    "no explanation for: " + l)

    def test_html_renders_in_chromium(self):
        chromium = shutil.which("chromium")
        self.assertIsNotNone(chromium, "chromium is missing: run `make deps`")
        ident = self.session_of("imap", "bob")["id"]
        text = self.show(ident)
        html = self.show(ident, "--html")
        arrows = len(re.findall(r"^\d\d:\d\d:\d\d\.\d{3} [CS]: ", text, re.M))
        self.assertGreater(arrows, 15)
        self.assertEqual(html.count('<g class="arrow '), arrows)
        self.assertIn('class="arrow c2s auth"', html)
        self.assertIn('class="event tls"', html)
        self.assertIn('class="life tls"', html)
        self.assertIn('<g class="state">', html)
        # self-contained: nothing fetched, nothing run
        self.assertNotIn("<script", html.lower())
        self.assertNotRegex(html, r"(src|href)=")
        self.assertNotIn("@import", html)
        self.assertNotIn(self.inst.password("bob"), html)
        self.assertNotIn(BODY_WORD, html)
        page = os.path.join(self.tmp, "imap.html")
        with open(page, "w") as f:
            f.write(html)
        png = os.path.join(self.tmp, "imap.png")
        common = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                  "--no-first-run", "--user-data-dir=" + os.path.join(self.tmp, "profile")]
        shot = subprocess.run(common + ["--enable-logging=stderr", "--v=0",
                                        "--screenshot=" + png, "--window-size=1560,1400",
                                        "file://" + page],
                              capture_output=True, text=True, timeout=120)
        self.assertTrue(os.path.exists(png), shot.stderr)
        console = [l for l in shot.stderr.splitlines() if "CONSOLE" in l]
        self.assertEqual(console, [])
        width, height, colours = png_pixels(png)
        self.assertEqual((width, height), (1560, 1400))
        # text, arrows in three colours, bands: far from one flat colour
        self.assertGreater(len(colours), 50)
        dom = subprocess.run(common + ["--dump-dom", "file://" + page],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(dom.stdout.count('<g class="arrow '), arrows)
        self.assertIn("</svg>", dom.stdout)

    def test_follow_shows_a_new_session(self):
        follow = subprocess.Popen([binary(), "trace", "follow", "-d", self.dir],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            # it says so once the lines already there are skipped
            ready = follow.stderr.readline().decode()
            self.assertIn("following", ready)
            s = smtplib.SMTP(self.inst.host, self.inst.port("smtp"), timeout=20)
            s.ehlo("follow.test")
            s.noop()
            s.quit()
            seen = b""
            deadline = time.time() + 20
            while b"221 2.0.0" not in seen and time.time() < deadline:
                r, _, _ = select.select([follow.stdout], [], [], 0.5)
                if r:
                    seen += os.read(follow.stdout.fileno(), 65536)
            text = seen.decode()
            self.assertRegex(text, r"smtp-\w+ \d\d:\d\d:\d\d\.\d{3} C: (?i:ehlo) follow\.test")
            self.assertIn("S: 221 2.0.0", text)
            # nothing from the sessions that had ended before it started
            self.assertNotIn("AUTH PLAIN", text)
        finally:
            follow.send_signal(signal.SIGTERM)
            code = follow.wait(timeout=10)
            follow.stdout.close()
            follow.stderr.close()
        self.assertEqual(code, 0)


if __name__ == "__main__":
    unittest.main()
