"""A client that asks for a big reply and then stops reading (and maybe
half-closes with shutdown(SHUT_WR)) is disconnected after the idle
timeout, its connection freed, and the next client served: plaintext, TLS
(implicit and STARTTLS) and IMAP COMPRESS=DEFLATE, where the bytes wait
below a filter.  RFC 3501 5.4 / RFC 9051 5.4 (autologout timer), RFC 1939
3, RFC 5321 4.5.3.2 (server timeouts)."""
import imaplib
import os
import poplib
import random
import re
import smtplib
import socket
import time
import unittest
import zlib

from fixture import Instance

TIMEOUT = 2
# alice's message: base64 noise, which DEFLATE keeps at ~3/4 of its size,
# more than any socket buffer and the server's max_output_buffer hold.
# bob's: small enough to be taken whole by the buffers below the session
# (the filters', the socket's), so that the session itself waits for
# nothing and only those buffers hold the bytes.
SIZES = {"alice": 6 << 20, "bob": 600 << 10}


def noise_message(size):
    import base64
    rnd = random.Random(size)
    body = base64.encodebytes(rnd.randbytes(size * 3 // 4))
    return (b"From: Bob <bob@lab.test>\r\nTo: alice@lab.test\r\n"
            b"Subject: big\r\n\r\n" + body.replace(b"\n", b"\r\n"))


class Raw:
    """A client socket with small buffers that reads only what it asks."""

    def __init__(self, inst, service, tls=False):
        s = socket.socket()
        # small buffers: the server's reply cannot hide in the kernel
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(20)
        s.connect((inst.host, inst.port(service)))
        if tls:
            s = inst.tls_context().wrap_socket(s, server_hostname="localhost")
        self.sock = s
        self.inst = inst
        self.pending = b""
        self.inflate = self.deflate = None

    def starttls(self):
        self.sock = self.inst.tls_context().wrap_socket(
            self.sock, server_hostname="localhost")

    def send(self, data):
        if self.deflate is not None:
            data = self.deflate.compress(data) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def read_line(self):
        while b"\r\n" not in self.pending:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            if self.inflate is not None:
                chunk = self.inflate.decompress(chunk)
            self.pending += chunk
        line, self.pending = self.pending.split(b"\r\n", 1)
        return line

    def until(self, prefix):
        while True:
            line = self.read_line()
            if line.startswith(prefix):
                return line

    def half_close(self):
        # below any TLS layer: no close_notify, just a FIN
        try:
            socket.socket.shutdown(self.sock, socket.SHUT_WR)
        except OSError:
            pass	# the server has already closed

    def close(self):
        try:
            socket.socket.close(self.sock)
        except OSError:
            pass


class Base(unittest.TestCase):
    SIZES = SIZES
    CONFIG = {}

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start(config=dict({
            "timeout_imap": str(TIMEOUT), "timeout_imap_preauth": str(TIMEOUT),
            "timeout_pop3": str(TIMEOUT), "timeout_smtp": str(TIMEOUT),
            "max_message_size": "20M"}, **cls.CONFIG))
        for user, size in cls.SIZES.items():
            new = os.path.join(cls.inst.maildir(user), "new")
            with open(os.path.join(new, "1700000000.big.localhost"), "wb") as f:
                f.write(noise_message(size))

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def tearDown(self):
        self.inst.assert_alive()
        self.assert_next_clients()

    def assert_next_clients(self):
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        m.login("alice", self.inst.password("alice"))
        self.assertEqual(m.select("INBOX")[0], "OK")
        self.assertEqual(m.noop()[0], "OK")
        m.logout()
        p = poplib.POP3(self.inst.host, self.inst.port("pop3"), timeout=20)
        p.user("alice")
        p.pass_(self.inst.password("alice"))
        self.assertEqual(p.stat()[0], 1)
        p.quit()
        with smtplib.SMTP(self.inst.host, self.inst.port("smtp"), timeout=20) as s:
            self.assertEqual(s.noop()[0], 250)

    def session_id(self, log_from, service):
        found = re.findall(r"\[(\w+)\]: connect from \S+ on " + service + r"\n",
                           self.inst.log()[log_from:])
        self.assertEqual(len(found), 1, found)
        return found[0]

    def assert_dropped(self, sid, c, started):
        """The server logs the connection gone within a few timeouts."""
        deadline = started + 6 * TIMEOUT + 4
        while time.time() < deadline:
            if "[%s]: disconnect" % sid in self.inst.log():
                break
            time.sleep(0.2)
        else:
            c.close()
            self.fail("session %s still open %.0f s after it stopped reading"
                      % (sid, time.time() - started))
        # the socket is closed: what is left to read ends (FIN or RST)
        c.sock.settimeout(10)
        try:
            while c.sock.recv(1 << 20):
                pass
        except (ConnectionResetError, OSError):
            pass
        c.close()

    def stall(self, service, command, tls=False, starttls=None,
              compress=False, half_close=False, user="alice"):
        log_from = len(self.inst.log())
        c = Raw(self.inst, service, tls=tls)
        if service.startswith("imap"):
            c.read_line()
            if starttls:
                c.send(b"t STARTTLS\r\n")
                c.until(b"t OK")
                c.starttls()
            c.send(b"l LOGIN %s %s\r\n" % (user.encode(), self.inst.password(user).encode()))
            c.until(b"l OK")
            if compress:
                c.send(b"z COMPRESS DEFLATE\r\n")
                c.until(b"z OK")
                c.inflate = zlib.decompressobj(-15)
                c.deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
            c.send(b"s SELECT INBOX\r\n")
            c.until(b"s OK")
        elif service.startswith("pop3"):
            c.read_line()
            if starttls:
                c.send(b"STLS\r\n")
                c.until(b"+OK")
                c.starttls()
            c.send(b"USER %s\r\n" % user.encode())
            c.until(b"+OK")
            c.send(b"PASS %s\r\n" % self.inst.password(user).encode())
            c.until(b"+OK")
        sid = self.session_id(log_from, service)
        c.send(command)
        if half_close:
            c.half_close()
        started = time.time()
        self.assert_dropped(sid, c, started)
        log = self.inst.log()[log_from:]
        # A TLS stream cut without close_notify is an error at once, and
        # a reply the kernel takes whole is sent before the half-closed
        # connection closes: only the others wait for the timeout.
        if not (half_close and (tls or starttls or user == "bob")):
            self.assertIn("[%s]: timeout" % sid, log)

    FETCH = b"f FETCH 1 (BODY.PEEK[])\r\n"


class StallTest(Base):

    def test_imap_plain(self):
        self.stall("imap", self.FETCH)

    def test_imap_plain_half_close(self):
        self.stall("imap", self.FETCH, half_close=True)

    def test_imaps(self):
        self.stall("imaps", self.FETCH, tls=True)

    def test_imaps_half_close(self):
        self.stall("imaps", self.FETCH, tls=True, half_close=True)

    def test_imap_starttls_half_close(self):
        self.stall("imap", self.FETCH, starttls=True, half_close=True)

    def test_imap_deflate(self):
        self.stall("imap", self.FETCH, compress=True)

    def test_imap_deflate_half_close(self):
        self.stall("imap", self.FETCH, compress=True, half_close=True)

    def test_imap_deflate_tls(self):
        self.stall("imap", self.FETCH, starttls=True, compress=True)

    def test_imap_deflate_tls_half_close(self):
        self.stall("imap", self.FETCH, starttls=True, compress=True,
                   half_close=True)

    def test_pop3_plain_half_close(self):
        self.stall("pop3", b"RETR 1\r\n", half_close=True)

    def test_pop3s(self):
        self.stall("pop3s", b"RETR 1\r\n", tls=True)

    def test_pop3s_half_close(self):
        self.stall("pop3s", b"RETR 1\r\n", tls=True, half_close=True)

    def test_pop3_stls_half_close(self):
        self.stall("pop3", b"RETR 1\r\n", starttls=True, half_close=True)

    # the reply fits in the buffers below the session
    def test_imap_plain_buffered(self):
        self.stall("imap", self.FETCH, user="bob")

    def test_imap_plain_buffered_half_close(self):
        self.stall("imap", self.FETCH, user="bob", half_close=True)

    def test_imap_starttls_buffered(self):
        self.stall("imap", self.FETCH, starttls=True, user="bob")

    def test_imap_deflate_buffered(self):
        self.stall("imap", self.FETCH, compress=True, user="bob")

    def test_imap_deflate_buffered_half_close(self):
        self.stall("imap", self.FETCH, compress=True, user="bob",
                   half_close=True)

    def test_imap_deflate_tls_buffered(self):
        self.stall("imap", self.FETCH, starttls=True, compress=True,
                   user="bob")

    def test_pop3_stls_buffered(self):
        self.stall("pop3", b"RETR 1\r\n", starttls=True, user="bob")

    def test_pop3s_buffered(self):
        self.stall("pop3s", b"RETR 1\r\n", tls=True, user="bob")

    def test_smtp_starttls_pipelined(self):
        """RFC 5321 4.5.3.2: SMTP has no big reply, but a client that
        pipelines thousands of commands after STARTTLS and reads none of
        the replies fills the server's output the same way."""
        log_from = len(self.inst.log())
        c = Raw(self.inst, "submission")
        c.until(b"220 ")
        c.send(b"EHLO client.test\r\n")
        c.until(b"250 ")
        c.send(b"STARTTLS\r\n")
        c.until(b"220 ")
        c.starttls()
        sid = self.session_id(log_from, "submission")
        c.sock.settimeout(3)
        burst = b"NOOP\r\n" * 20000
        try:
            for _ in range(100):
                c.send(burst)
        except (socket.timeout, TimeoutError):
            pass	# the server stopped reading: its output is full
        except OSError:
            pass	# or it has already timed the client out
        c.half_close()
        self.assert_dropped(sid, c, time.time())
        self.assertIn("[%s]: timeout" % sid, self.inst.log())



class BelowTheFilterTest(Base):
    """A server allowed a big output buffer hands a whole FETCH to the
    layers below the session at once: the DEFLATE filter squeezes it into
    the socket's bufferevent (and the TLS filter's into the raw one), more
    than the kernel takes (tcp_wmem tops out at 4 MiB), and the session
    goes on to the next command.  IDLE then sets a new idle timeout, which
    resets the top filter's timers while its own output is empty, and the
    client's half-close ends the reading side: only a write timeout on the
    layer that still holds the bytes can end that connection."""
    SIZES = {"alice": 12 << 20, "bob": 600 << 10}
    CONFIG = {"max_output_buffer": "64M", "timeout_imap_idle": str(TIMEOUT + 1)}
    FETCH_IDLE = b"f FETCH 1 (BODY.PEEK[])\r\ni IDLE\r\n"

    def test_deflate_idle_half_close(self):
        self.stall("imap", self.FETCH_IDLE, compress=True, half_close=True)

    def test_deflate_idle(self):
        self.stall("imap", self.FETCH_IDLE, compress=True)

    def test_deflate_tls_idle(self):
        self.stall("imap", self.FETCH_IDLE, starttls=True, compress=True)

    def test_starttls_idle(self):
        self.stall("imap", self.FETCH_IDLE, starttls=True)

    def test_plain_idle_half_close(self):
        self.stall("imap", self.FETCH_IDLE, half_close=True)


class AfterStarttlsTest(unittest.TestCase):
    """STARTTLS puts a TLS filter over the socket's bufferevent, which
    kept the read timeout it had before the handshake: the pre-login one.
    A client that logged in after STARTTLS was then logged out once it had
    been idle that long, not after the autologout timer (RFC 3501 5.4,
    RFC 9051 5.4: at least 30 minutes; here timeout_imap)."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start(config={
            "timeout_imap_preauth": str(TIMEOUT), "timeout_imap": str(4 * TIMEOUT)})

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def login(self):
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        m.starttls(ssl_context=self.inst.tls_context())
        m.login("alice", self.inst.password("alice"))
        return m

    def test_logged_in_idle_beyond_preauth_timeout(self):
        m = self.login()
        time.sleep(2 * TIMEOUT)
        self.assertEqual(m.noop()[0], "OK")
        m.logout()

    def test_compressed_idle_beyond_preauth_timeout(self):
        w = Raw(self.inst, "imap")
        w.read_line()
        w.send(b"t STARTTLS\r\n")
        w.until(b"t OK")
        w.starttls()
        w.send(b"l LOGIN alice %s\r\n" % self.inst.password("alice").encode())
        w.until(b"l OK")
        w.send(b"z COMPRESS DEFLATE\r\n")
        w.until(b"z OK")
        w.inflate = zlib.decompressobj(-15)
        w.deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        time.sleep(2 * TIMEOUT)
        w.send(b"n NOOP\r\n")
        self.assertEqual(w.until(b"n "), b"n OK NOOP completed")
        w.close()

    def test_still_logged_out_after_timeout_imap(self):
        m = self.login()
        time.sleep(4 * TIMEOUT + 2)
        with self.assertRaises((imaplib.IMAP4.abort, OSError)):
            m.noop()


if __name__ == "__main__":
    unittest.main()
