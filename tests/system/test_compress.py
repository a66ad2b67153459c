"""COMPRESS=DEFLATE (RFC 4978) against a live `maillab serve`, driven with
Python's zlib over a raw socket, plain and after STARTTLS: LOGIN, COMPRESS
DEFLATE, then SELECT, APPEND and FETCH compressed; COMPRESS twice; a
deflate bomb (cut off with BYE, the server's peak memory stays bounded and
it serves the next client); bytes that are not deflate data; mutt with
imap_deflate (an independent client's zlib), when installed."""
import imaplib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import zlib

from fixture import Instance

MESSAGE = (b"From: Bob <bob@lab.test>\r\nTo: alice@lab.test\r\n"
           b"Subject: squeezed\r\n\r\n" + b"compressible line of text\r\n" * 200)


def peak_rss_kib(pid):
    """VmHWM of a process: the most resident memory it ever had."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM for %d" % pid)


class Wire:
    """An IMAP connection that can switch to raw deflate both ways."""

    def __init__(self, inst, tls=False):
        self.sock = socket.create_connection((inst.host, inst.port("imap")),
                                             timeout=20)
        self.pending = b""
        self.inflate = self.deflate = None
        self.read_line()  # greeting
        if tls:
            self.command(b"t STARTTLS")
            self.sock = inst.tls_context().wrap_socket(
                self.sock, server_hostname=inst.host)

    def send(self, data):
        if self.deflate is not None:
            data = self.deflate.compress(data) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("server closed the connection")
        if self.inflate is not None:
            chunk = self.inflate.decompress(chunk)
        self.pending += chunk

    def read_line(self):
        while b"\r\n" not in self.pending:
            self.fill()
        line, self.pending = self.pending.split(b"\r\n", 1)
        return line + b"\r\n"

    def read_all(self):
        """Everything until the server closes."""
        try:
            while True:
                self.fill()
        except (EOFError, ConnectionResetError):
            return self.pending

    def command(self, line, literal=None):
        """Sends a command; returns every reply line up to its tagged one."""
        tag = line.split(b" ", 1)[0]
        self.send(line + b"\r\n")
        out = b""
        if literal is not None:
            out += self.read_line()
            assert out.startswith(b"+"), out
            self.send(literal + b"\r\n")
        while True:
            got = self.read_line()
            out += got
            if got.startswith(tag + b" "):
                return out

    def compress(self):
        reply = self.command(b"z COMPRESS DEFLATE")
        assert reply == b"z OK DEFLATE active\r\n", reply
        assert self.pending == b"", self.pending
        self.inflate = zlib.decompressobj(-15)
        self.deflate = zlib.compressobj(6, zlib.DEFLATED, -15)

    def close(self):
        self.sock.close()


class CompressTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def tearDown(self):
        self.inst.assert_alive()
        self.assert_normal_client()

    def assert_normal_client(self):
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        m.starttls(ssl_context=self.inst.tls_context())
        m.login("alice", self.inst.password("alice"))
        self.assertEqual(m.select("INBOX")[0], "OK")
        self.assertEqual(m.noop()[0], "OK")
        m.logout()

    def login(self, tls=False):
        w = Wire(self.inst, tls)
        reply = w.command(b"l LOGIN alice " + self.inst.password("alice").encode())
        self.assertIn(b"l OK", reply)
        self.assertIn(b"COMPRESS=DEFLATE", w.command(b"c CAPABILITY"))
        return w

    def session(self, tls):
        w = self.login(tls)
        w.compress()
        reply = w.command(b"s SELECT INBOX")
        self.assertIn(b"s OK [READ-WRITE]", reply)
        reply = w.command(b"a APPEND INBOX {%d}" % len(MESSAGE), MESSAGE)
        self.assertIn(b"a OK [APPENDUID ", reply)
        uid = reply.split(b"[APPENDUID ")[1].split(b"]")[0].split()[1]
        reply = w.command(b"f UID FETCH " + uid + b" BODY.PEEK[]")
        self.assertIn(b"{%d}\r\n" % len(MESSAGE) + MESSAGE, reply)
        self.assertIn(b"f OK", reply)
        # RFC 4978 3: only once
        self.assertEqual(w.command(b"y COMPRESS DEFLATE"),
                         b"y NO [COMPRESSIONACTIVE] DEFLATE is already active\r\n")
        reply = w.command(b"d UID STORE " + uid + b" +FLAGS.SILENT (\\Deleted)")
        self.assertIn(b"d OK", reply)
        self.assertIn(b"e OK", w.command(b"e EXPUNGE"))
        reply = w.command(b"o LOGOUT")
        self.assertIn(b"* BYE", reply)
        w.close()

    def test_plain(self):
        self.session(tls=False)

    def test_after_starttls(self):
        self.session(tls=True)

    def test_pipelined(self):
        """Commands sent in one burst (as mbsync does) get each reply
        once, in order."""
        w = self.login()
        w.compress()
        self.assertIn(b"a OK", w.command(b"a APPEND INBOX {%d}" % len(MESSAGE),
                                         MESSAGE))
        w.send(b"s SELECT INBOX\r\n" + b"".join(
            b"f%d FETCH 1 (BODY.PEEK[])\r\n" % i for i in range(5)) +
            b"n NOOP\r\n")
        out = b""
        while b"n OK" not in out:
            out += w.read_line()
        for i in range(5):
            self.assertEqual(out.count(b"f%d OK" % i), 1, out[-3000:])
        self.assertEqual(out.count(MESSAGE), 5)
        self.assertEqual(w.pending, b"")
        w.command(b"d STORE 1:* +FLAGS.SILENT (\\Deleted)")
        self.assertIn(b"e OK", w.command(b"e EXPUNGE"))
        w.close()

    def test_large_message_round_trip(self):
        """A 3 MB message (text, base64 noise, and 20 KB blocks repeated
        20 KB apart, beyond the server's 8 KiB deflate window but inside
        the client's 32 KiB one) goes up with APPEND and comes back with
        FETCH over COMPRESS, several times with small commands between
        (the server's streams rest and resume between them), byte for
        byte, decoded by Python's zlib.decompressobj(-15)."""
        import base64
        import random
        rnd = random.Random(11)
        block = b"\r\n".join(
            bytes(rnd.choice(b"abcdefghij klmnop") for _ in range(70))
            for _ in range(280))
        parts = [b"From: Bob <bob@lab.test>\r\nTo: alice@lab.test\r\n"
                 b"Subject: big\r\n\r\n"]
        while sum(map(len, parts)) < 3 << 20:
            parts.append(b"line of text %d in a long message\r\n" % len(parts))
            parts.append(base64.encodebytes(rnd.randbytes(3000))
                         .replace(b"\n", b"\r\n"))
            parts.append(block + b"\r\n")
        big = b"".join(parts)
        w = self.login()
        w.compress()
        self.assertIn(b"s OK", w.command(b"s SELECT INBOX"))
        reply = w.command(b"a APPEND INBOX {%d}" % len(big), big)
        self.assertIn(b"a OK [APPENDUID ", reply)
        uid = reply.split(b"[APPENDUID ")[1].split(b"]")[0].split()[1]
        for i in range(3):
            self.assertIn(b"n%d OK" % i, w.command(b"n%d NOOP" % i))
            reply = w.command(b"f%d UID FETCH %s BODY.PEEK[]" % (i, uid))
            head = b"{%d}\r\n" % len(big)
            self.assertIn(head, reply)
            start = reply.index(head) + len(head)
            self.assertEqual(reply[start:start + len(big)], big)
            self.assertIn(b"f%d OK" % i, reply)
        self.assertIn(b"d OK", w.command(
            b"d UID STORE " + uid + b" +FLAGS.SILENT (\\Deleted)"))
        self.assertIn(b"e OK", w.command(b"e EXPUNGE"))
        w.close()

    def append_big(self, w):
        """Four 1 MB messages of random letters (deflated they still fill
        the server's 1 MB output buffer)."""
        import random
        rnd = random.Random(4)
        letters = bytes(b"abcdefghijklmnopqrstuvwxyz "[i % 27] for i in range(256))
        for i in range(4):
            text = rnd.randbytes(70 * 14000).translate(letters)
            body = b"Subject: big %d\r\n\r\n" % i + b"\r\n".join(
                text[k:k + 70] for k in range(0, len(text), 70)) + b"\r\n"
            self.assertIn(b"a OK", w.command(b"a APPEND INBOX {%d}" % len(body), body))

    def test_pipelined_big_fetches(self):
        """Five pipelined FETCHes of 1 MB messages and a NOOP, compressed,
        fifteen times.  A command that waited behind a full output after
        the reply before it was complete used to wait for good: under the
        DEFLATE filter only the draining of the bytes below it wakes the
        connection, and that woke it only for a reply still being made."""
        w = self.login()
        w.compress()
        self.assertIn(b"s OK", w.command(b"s SELECT INBOX"))
        self.append_big(w)
        for _ in range(15):
            w.send(b"".join(b"f%d FETCH %d (BODY.PEEK[])\r\n" % (i, 1 + i % 4)
                            for i in range(5)) + b"n NOOP\r\n")
            # raw reads: read_line over megabytes is quadratic
            while b"\r\nn OK" not in w.pending[-300:] or not w.pending.endswith(b"\r\n"):
                w.fill()
            self.assertEqual(w.pending.count(b" FETCH (BODY[] {"), 5)
            w.pending = b""
        self.assertIn(b"d OK", w.command(b"d STORE 1:* +FLAGS.SILENT (\\Deleted)"))
        self.assertIn(b"e OK", w.command(b"e EXPUNGE"))
        w.close()

    def big_fetch_partly_read(self, compress, then):
        """FETCH 1:* BODY[] of four 1 MB messages (random letters, so that
        even deflated they are more than the server's 1 MB output buffer)
        with a NOOP pipelined behind it; the client reads 300 KB, waits,
        then `then(w)`.  The NOOP used to be taken as soon as new bytes or
        the end of input came with the output partly drained, and the
        server's loop spun completing the FETCH (issue 11)."""
        w = self.login()
        if compress:
            w.compress()
        self.assertIn(b"s OK", w.command(b"s SELECT INBOX"))
        self.append_big(w)
        w.send(b"f FETCH 1:* BODY.PEEK[]\r\nn NOOP\r\n")
        time.sleep(0.3)
        got = 0
        while got < 300 * 1024:
            chunk = w.sock.recv(65536)
            self.assertTrue(chunk)
            got += len(chunk)
            if w.inflate is not None:
                chunk = w.inflate.decompress(chunk)
            w.pending += chunk
        time.sleep(0.2)
        then(w)

    def read_rest_in_order(self, w):
        w.send(b"m NOOP\r\n")
        # raw reads, not read_line: 4 MB split line by line is quadratic
        while b"\r\nm OK" not in w.pending[-300:] or not w.pending.endswith(b"\r\n"):
            w.fill()
        # w.pending kept the 300 KB read first: out is the whole answer
        out, w.pending = w.pending, b""
        self.assertEqual(out.count(b" FETCH (BODY[] {"), 4)
        self.assertLess(out.index(b"f OK"), out.index(b"n OK"))
        self.assertLess(out.index(b"n OK"), out.index(b"m OK"))
        self.assertIn(b"d OK", w.command(b"d STORE 1:* +FLAGS.SILENT (\\Deleted)"))
        self.assertIn(b"e OK", w.command(b"e EXPUNGE"))
        w.close()

    def test_line_behind_big_fetch(self):
        """The pipelined NOOP and one sent later are answered after the
        whole FETCH, plain and compressed."""
        for compress in (False, True):
            with self.subTest(compress=compress):
                self.big_fetch_partly_read(compress, self.read_rest_in_order)

    def test_close_in_middle_of_big_fetch(self):
        """The client closes after one more byte, in the middle of the
        FETCH: the server drops it and serves the next client at once
        (tearDown), plain and compressed."""
        def close(w):
            w.sock.send(b"x")
            time.sleep(0.2)
            w.close()
        for compress in (False, True):
            with self.subTest(compress=compress):
                self.big_fetch_partly_read(compress, close)
                self.assert_normal_client()
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        m.login("alice", self.inst.password("alice"))
        m.select("INBOX")
        m.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
        m.expunge()
        m.logout()

    def test_unknown_algorithm_and_before_login(self):
        w = Wire(self.inst)
        self.assertIn(b"z BAD", w.command(b"z COMPRESS DEFLATE"))
        w.command(b"l LOGIN alice " + self.inst.password("alice").encode())
        self.assertEqual(w.command(b"z COMPRESS LZ4"),
                         b"z BAD Unknown compression algorithm\r\n")
        self.assertIn(b"n OK", w.command(b"n NOOP"))
        w.close()

    def bomb(self, inst, tls):
        """Sends 20 times 10 MB of zeros deflated to ~10 KB; returns what
        the server said."""
        bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
        chunk = bomb.compress(b"\0" * (10 << 20)) + bomb.flush(zlib.Z_SYNC_FLUSH)
        self.assertLess(len(chunk), 20 << 10)
        w = Wire(inst, tls)
        self.assertIn(b"l OK", w.command(
            b"l LOGIN alice " + inst.password("alice").encode()))
        w.compress()
        self.assertIn(b"s OK", w.command(b"s SELECT INBOX"))
        try:
            for _ in range(20):
                w.sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        rest = w.read_all()
        w.close()
        return rest

    def test_deflate_bomb(self):
        # an instance of its own, so that its peak memory is this test's
        inst = Instance.start()
        try:
            pid = inst.proc.pid
            w = Wire(inst)
            w.command(b"l LOGIN alice " + inst.password("alice").encode())
            w.compress()
            self.assertIn(b"s OK", w.command(b"s SELECT INBOX"))
            w.close()
            before = peak_rss_kib(pid)
            for tls in (False, True):
                rest = self.bomb(inst, tls)
                self.assertIn(b"* BYE compressed input expands beyond any "
                              b"mail (deflate bomb)\r\n", rest)
            after = peak_rss_kib(pid)
            print("deflate bomb (2 x 200 MB inflated): server peak RSS "
                  "%d KiB before, %d KiB after" % (before, after))
            self.assertLess(after - before, 16 << 10)
            inst.assert_alive()
            m = imaplib.IMAP4(inst.host, inst.port("imap"))
            m.login("alice", inst.password("alice"))
            self.assertEqual(m.select("INBOX")[0], "OK")
            m.logout()
        finally:
            inst.stop()

    def test_line_limit_after_inflate(self):
        """A compressed line longer than the line limit is skipped like a
        plain one; the session goes on."""
        w = self.login()
        w.compress()
        # compresses about 5:1, far from a bomb
        text = bytes(b"abcdefghijklmnop"[b % 16] for b in os.urandom(200000))
        w.send(b"x NOOP " + text + b"\r\n")
        line = w.read_line()
        self.assertRegex(line, rb"^(\* |x )BAD ")
        self.assertIn(b"n OK NOOP completed", w.command(b"n NOOP"))
        w.close()

    def test_not_deflate(self):
        w = self.login()
        w.compress()
        w.sock.sendall(b"a NOOP\r\n" + os.urandom(64))
        rest = w.read_all()
        w.close()
        self.assertIn(b"* BYE invalid compressed data", rest)


MUTT = shutil.which("mutt")
SCRIPT = shutil.which("script")


@unittest.skipUnless(MUTT and SCRIPT, "mutt or script(1) not installed")
class MuttDeflateTest(unittest.TestCase):
    """mutt's imap_deflate (mutt 2.2; Debian 12's neomutt 20220429 has no
    COMPRESS support): reads INBOX and saves a message into a new
    folder (FETCH, CREATE, COPY) over a compressed connection."""

    def setUp(self):
        self.inst = Instance.start()
        self.tmp = tempfile.mkdtemp(prefix="maillab-deflate-")

    def tearDown(self):
        self.inst.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def imap(self):
        c = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        c.login("alice", self.inst.password("alice"))
        return c

    def imap_traces(self):
        return "".join(t for name, t in self.inst.traces().items()
                       if name.startswith("imap"))

    def test_mutt_deflate(self):
        c = self.imap()
        self.assertEqual(c.append("INBOX", None, None, MESSAGE)[0], "OK")
        c.logout()
        rc = os.path.join(self.tmp, "muttrc")
        url = "imap://%s:%d/" % (self.inst.host, self.inst.port("imap"))
        with open(rc, "w") as f:
            f.write("set imap_user=alice\n"
                    "set imap_pass=\"%s\"\n"
                    "set imap_deflate=yes\n"
                    "set folder=%s\n"
                    "set spoolfile=+INBOX\n"
                    "set ssl_starttls=no\n"
                    "set ssl_force_tls=no\n"
                    "set header_cache=\n"
                    "set message_cachedir=\n"
                    "set confirmappend=no\n"
                    "set confirmcreate=no\n"
                    "set move=no\n"
                    "set delete=yes\n"
                    "set mail_check=600\n"
                    "set timeout=600\n"
                    "set quit=yes\n"
                    "set wait_key=no\n"
                    % (self.inst.password("alice"), url))
        cmd = ("mutt -n -F %s -f %sINBOX -e 'push \"<save-message>"
               "=Squeezed<enter><quit>\"'" % (rc, url))
        env = dict(os.environ, TERM="vt100", HOME=self.tmp)
        try:
            p = subprocess.run([SCRIPT, "-qfec", cmd, "/dev/null"], env=env,
                               stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=60)
        except subprocess.TimeoutExpired as e:
            self.fail("mutt hung; trace:\n%s\nscreen:\n%s" % (
                self.imap_traces()[-3000:],
                (e.stdout or b"").decode("latin-1")[-1500:]))
        out = p.stdout.decode("latin-1")
        self.assertEqual(p.returncode, 0, out[-2000:])
        traces = self.imap_traces()
        self.assertIn("COMPRESS DEFLATE", traces)
        self.assertIn("DEFLATE compression on", traces)
        self.assertIn("[COPYUID ", traces)
        c = self.imap()
        self.assertEqual(c.select("Squeezed"), ("OK", [b"1"]), traces[-3000:])
        typ, data = c.fetch("1", "(BODY.PEEK[])")
        self.assertEqual(data[0][1], MESSAGE)
        # the save took the message out of INBOX (EXPUNGE, compressed)
        self.assertEqual(c.select("INBOX"), ("OK", [b"0"]), traces[-3000:])
        c.logout()


if __name__ == "__main__":
    unittest.main()
