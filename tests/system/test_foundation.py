"""The shared foundation against a live server (issue 2): the maillab
command, TLS with real clients, the STARTTLS injection class of bug,
connection limits, idle timeouts, SIGHUP reload and a clean stop.  SMTP is the
protocol used to reach the common layer."""
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from fixture import Instance, recv_until, run_cli, binary


class CommandLine(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="maillab-cli-")
        # Run as root, init hands instances to the run_as user, and the
        # commands work as that user, who must reach them.
        os.chmod(self.tmp, 0o711)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_usage_errors_exit_2(self):
        for args in ([], ["frobnicate"], ["init"], ["version", "extra"],
                     ["serve", "unexpected"], ["user"], ["user", "add"]):
            p = run_cli(*args, check=False)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assertIn("usage", p.stderr.lower(), args)

    def test_help_lists_only_existing_commands(self):
        out = run_cli("help").stdout
        for cmd in ("init", "serve", "user", "alias", "trace", "queue", "lab",
                    "version", "help"):
            self.assertIn("maillab " + cmd, out)

    def test_init_layout_and_modes(self):
        d = os.path.join(self.tmp, "i")
        out = run_cli("init", d, "--demo", "--domain", "example.test").stdout
        for sub in ("maillab.conf", "tls/cert.pem", "tls/key.pem", "db", "mail/alice",
                    "mail/bob", "queue", "log/trace", "credentials.txt"):
            self.assertTrue(os.path.exists(os.path.join(d, sub)), sub)
        self.assertEqual(os.stat(os.path.join(d, "tls/key.pem")).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(os.path.join(d, "credentials.txt")).st_mode & 0o777, 0o600)
        with open(os.path.join(d, "credentials.txt")) as f:
            creds = f.read()
        # printed once, on init
        for line in creds.splitlines():
            if line and not line.startswith("#"):
                self.assertIn(line.split()[1], out)
        p = run_cli("init", d, check=False)
        self.assertEqual(p.returncode, 1)

    def test_user_add_passwd_list_del(self):
        d = os.path.join(self.tmp, "u")
        run_cli("init", d)
        run_cli("user", "add", "-d", d, "carol", "--password-stdin", stdin="s3cret-pw\n")
        self.assertIn("carol", run_cli("user", "list", "-d", d).stdout)
        self.assertTrue(os.path.isdir(os.path.join(d, "mail", "carol", "new")))
        p = run_cli("user", "add", "-d", d, "carol", "--password-stdin",
                    stdin="x\n", check=False)
        self.assertEqual(p.returncode, 1)
        run_cli("user", "passwd", "-d", d, "carol", "--password-stdin", stdin="other-pw\n")
        run_cli("user", "del", "-d", d, "carol", "--yes")
        self.assertNotIn("carol", run_cli("user", "list", "-d", d).stdout)
        self.assertFalse(os.path.exists(os.path.join(d, "mail", "carol")))

    def test_bad_config_names_the_line(self):
        d = os.path.join(self.tmp, "c")
        run_cli("init", d)
        with open(os.path.join(d, "maillab.conf"), "a") as f:
            f.write("no_such_key = 1\n")
        p = run_cli("serve", "-d", d, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, r"maillab\.conf:\d+: .*no_such_key")
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)

    def test_port_in_use_names_the_port(self):
        d = os.path.join(self.tmp, "p")
        run_cli("init", d)
        blocker = socket.socket()
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        with open(os.path.join(d, "maillab.conf"), "a") as f:
            f.write("port_smtp = %d\n" % port)
        try:
            p = subprocess.run([binary(), "serve", "-d", d], capture_output=True,
                               text=True, timeout=30)
        finally:
            blocker.close()
        self.assertEqual(p.returncode, 1)
        self.assertIn("127.0.0.1:%d" % port, p.stderr)


def smtp_reply(sock):
    """Reads one (possibly multi-line) SMTP reply."""
    data = b""
    while True:
        data += recv_until(sock, b"\r\n")
        lines = data.split(b"\r\n")
        for line in lines[:-1]:
            if len(line) >= 4 and line[3:4] == b" ":
                return data
        if not data:
            return data


class LiveServer(unittest.TestCase):
    config = {}

    def setUp(self):
        self.inst = Instance.start(config=dict(self.config))

    def tearDown(self):
        if self.inst.proc is not None:
            self.inst.stop()

    def connect(self, service="smtp"):
        s = socket.create_connection((self.inst.host, self.inst.port(service)), 10)
        return s


class Tls(LiveServer):
    def test_implicit_tls_with_python_ssl(self):
        ctx = self.inst.tls_context()
        with smtplib.SMTP_SSL("localhost", self.inst.port("submissions"),
                              context=ctx, timeout=10) as s:
            code, _ = s.ehlo("client.test")
            self.assertEqual(code, 250)
            self.assertIn(s.sock.version(), ("TLSv1.2", "TLSv1.3"))
        self.inst.assert_alive()

    def test_starttls_with_python_ssl(self):
        with smtplib.SMTP("localhost", self.inst.port("submission"), timeout=10) as s:
            s.ehlo("client.test")
            s.starttls(context=self.inst.tls_context())
            code, _ = s.ehlo("client.test")
            self.assertEqual(code, 250)

    def test_tls10_refused(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        except (ValueError, ssl.SSLError):
            self.skipTest("this OpenSSL cannot offer TLS 1.1")
        with self.assertRaises((ssl.SSLError, OSError)):
            with socket.create_connection(("127.0.0.1", self.inst.port("submissions")), 10) as raw:
                with ctx.wrap_socket(raw, server_hostname="localhost") as t:
                    t.recv(100)
        self.inst.assert_alive()

    def test_openssl_s_client(self):
        for args in (["-connect", "127.0.0.1:%d" % self.inst.port("submissions")],
                     ["-connect", "127.0.0.1:%d" % self.inst.port("smtp"),
                      "-starttls", "smtp"]):
            p = subprocess.run(["openssl", "s_client", "-CAfile", self.inst.cafile,
                                "-verify_return_error", "-verify_hostname", "localhost", "-ign_eof",
                                *args], input="QUIT\r\n", capture_output=True,
                               text=True, timeout=30)
            self.assertIn("Verify return code: 0 (ok)", p.stdout, p.stdout + p.stderr)
            self.assertIn("221", p.stdout)
        self.inst.assert_alive()

    def test_starttls_injection_discarded(self):
        s = self.connect("smtp")
        self.assertTrue(smtp_reply(s).startswith(b"220"))
        s.sendall(b"EHLO client.test\r\n")
        self.assertIn(b"STARTTLS", smtp_reply(s))
        # The injected command rides in the same packet as STARTTLS.
        s.sendall(b"STARTTLS\r\nMAIL FROM:<evil@example.com>\r\n")
        self.assertTrue(smtp_reply(s).startswith(b"220"))
        ctx = self.inst.tls_context()
        t = ctx.wrap_socket(s, server_hostname="localhost")
        t.sendall(b"EHLO client.test\r\n")
        first = smtp_reply(t)
        self.assertTrue(first.startswith(b"250"), first)
        # Had MAIL been executed, this second MAIL would be 503.
        t.sendall(b"MAIL FROM:<alice@lab.test>\r\n")
        self.assertTrue(smtp_reply(t).startswith(b"250"))
        t.sendall(b"QUIT\r\n")
        self.assertTrue(smtp_reply(t).startswith(b"221"))
        t.close()
        self.inst.assert_alive()

    def test_garbage_after_starttls(self):
        s = self.connect("smtp")
        smtp_reply(s)
        s.sendall(b"EHLO client.test\r\n")
        smtp_reply(s)
        s.sendall(b"STARTTLS\r\n")
        self.assertTrue(smtp_reply(s).startswith(b"220"))
        s.sendall(b"this is no ClientHello\r\n" * 10)
        s.settimeout(10)
        rest = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                rest += chunk
        except OSError:
            pass
        self.assertNotIn(b"250", rest)
        s.close()
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=10) as c:
            self.assertEqual(c.noop()[0], 250)


class Limits(LiveServer):
    config = {"max_connections_per_ip": "3", "timeout_smtp": "2"}

    def test_per_address_limit(self):
        socks = []
        for _ in range(3):
            s = self.connect()
            self.assertTrue(smtp_reply(s).startswith(b"220"))
            socks.append(s)
        extra = self.connect()
        reply = recv_until(extra, b"\r\n")
        self.assertTrue(reply.startswith(b"421"), reply)
        self.assertEqual(extra.recv(100), b"")  # closed by the server
        extra.close()
        socks.pop().close()
        time.sleep(0.3)
        again = self.connect()
        self.assertTrue(smtp_reply(again).startswith(b"220"))
        again.close()
        for s in socks:
            s.close()
        self.inst.assert_alive()

    def test_idle_timeout(self):
        s = self.connect()
        self.assertTrue(smtp_reply(s).startswith(b"220"))
        start = time.time()
        s.settimeout(15)
        rest = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            rest += chunk
        self.assertTrue(rest.startswith(b"421 4.4.2"), rest)
        self.assertLess(time.time() - start, 14)
        s.close()
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=10) as c:
            self.assertEqual(c.noop()[0], 250)


class Lifecycle(LiveServer):
    def test_sighup_reloads_without_dropping_sessions(self):
        old = smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=10)
        self.assertIn(b"localhost", old.ehlo("a.test")[1])
        self.inst.write_config({"hostname": "reloaded.test"})
        self.inst.reload()
        deadline = time.time() + 10
        while "reloaded" not in self.inst.log() and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn("reloaded", self.inst.log())
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=10) as new:
            self.assertIn(b"reloaded.test", new.ehlo("b.test")[1])
        self.assertEqual(old.noop()[0], 250)   # the old session lives on
        old.quit()
        self.inst.assert_alive()

    def served_cert(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", self.inst.port("submissions")), 10) as raw:
            with ctx.wrap_socket(raw) as t:
                return t.getpeercert(binary_form=True)

    def test_sighup_reloads_certificate(self):
        before = self.served_cert()
        other = os.path.join(self.inst.root, "other")
        run_cli("init", other, "--hostname", "localhost")
        for name in ("cert.pem", "key.pem"):
            shutil.copy(os.path.join(other, "tls", name),
                        os.path.join(self.inst.dir, "tls", name))
        with open(os.path.join(other, "tls", "cert.pem")) as f:
            want = ssl.PEM_cert_to_DER_cert(f.read())
        self.assertNotEqual(before, want)
        self.inst.reload()
        deadline = time.time() + 10
        while self.served_cert() != want and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.served_cert(), want)
        self.inst.assert_alive()

    def test_sighup_with_broken_config_keeps_running(self):
        with open(os.path.join(self.inst.dir, "maillab.conf"), "a") as f:
            f.write("bogus line without equals\n")
        self.inst.reload()
        time.sleep(0.5)
        self.assertIn("reload failed", self.inst.log())
        with smtplib.SMTP("127.0.0.1", self.inst.port("smtp"), timeout=10) as c:
            self.assertEqual(c.noop()[0], 250)

    def test_sigterm_tells_open_sessions_and_exits_0(self):
        s = self.connect()
        self.assertTrue(smtp_reply(s).startswith(b"220"))
        self.inst.proc.send_signal(15)
        s.settimeout(15)
        rest = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            rest += chunk
        self.assertTrue(rest.startswith(b"421"), rest)
        self.assertEqual(self.inst.proc.wait(timeout=15), 0)
        self.assertIn("stopped", self.inst.log())
        self.inst.stop()    # checks stderr for sanitizer reports, removes the instance

    def test_trace_records_dialogue_and_redacts_secrets(self):
        with smtplib.SMTP("127.0.0.1", self.inst.port("submission"), timeout=10) as c:
            c.ehlo("client.test")
            c.starttls(context=self.inst.tls_context())
            c.ehlo("client.test")
            c.login("alice", self.inst.password("alice"))
        time.sleep(0.2)
        traces = "\n".join(self.inst.traces().values())
        self.assertRegex(traces, r"C: (?i:ehlo) client\.test")
        self.assertRegex(traces, r"S: 250[- ]")
        self.assertIn("<redacted>", traces)
        self.assertNotIn(self.inst.password("alice"), traces)
        self.assertNotIn(self.inst.password("alice"), self.inst.log())


if __name__ == "__main__":
    unittest.main()
