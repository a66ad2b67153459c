"""SIGHUP after the server dropped root (issue 12): relay_ca_file is read
again, so a next hop whose CA was just added to the file is trusted
without a restart; a certificate key only root may read was read at start
and still serves, the log says at start and at each reload that it cannot
be re-read and what to do, and once the run_as user may read it a reload
takes it again."""
import grp
import os
import pwd
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import unittest

from fixture import Instance, run_cli
from test_relay import LAB_TIMINGS, wait_for

MSG = b"From: alice@a.test\r\nSubject: reload\r\n\r\nhello\r\n"


def new_instance(config):
    a = Instance(tempfile.mkdtemp(prefix="maillab-sys-"))
    os.chmod(a.root, 0o711)
    a.create(config)
    return a


def tls_works(inst):
    ctx = ssl.create_default_context(cafile=inst.cafile)
    with socket.create_connection((inst.host, inst.port("submissions")), 10) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            return t.recv(100).startswith(b"220 ")


class RelayCaReload(unittest.TestCase):
    def test_ca_added_then_sighup(self):
        b = Instance.start(config={"domains": "b.test"})
        self.addCleanup(b.stop)
        a = new_instance(dict(LAB_TIMINGS, domains="a.test"))
        self.addCleanup(a.stop)
        # a CA file that does not hold b's certificate: one of another
        # subject, so that the failure cannot come from a name clash
        ca = os.path.join(a.root, "ca.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                        "-subj", "/CN=not-b", "-keyout", os.path.join(a.root, "k"),
                        "-out", ca], check=True, capture_output=True)
        os.chmod(ca, 0o644)
        a.write_config({"relay_ca_file": ca, "route b.test":
                        "127.0.0.1:%d tls=require" % b.port("smtp")})
        a.launch()
        with smtplib.SMTP(a.host, a.port("submission")) as c:
            c.starttls(context=a.tls_context())
            c.login("alice", a.password("alice"))
            c.sendmail("alice@a.test", ["bob@b.test"], MSG)
        wait_for("a deferral", lambda: "certificate verify failed" in
                 run_cli("queue", "list", "-d", a.dir).stdout)
        # the administrator adds b's CA to the file and sends SIGHUP
        with open(b.cafile) as f, open(ca, "a") as out:
            out.write(f.read())
        a.reload()
        wait_for("the reload", lambda: "certificate reloaded" in a.log())
        run_cli("queue", "flush", "-d", a.dir)
        wait_for("the delivery at b", lambda: [
            m for m in b.inbox_messages("bob") if m["Subject"] == "reload"])
        wait_for("an empty queue", lambda: "The queue is empty." in
                 run_cli("queue", "list", "-d", a.dir).stdout)
        self.assertNotIn("keeping the old relay CAs", a.log())
        a.assert_alive()


@unittest.skipUnless(os.geteuid() == 0, "needs root to drop to run_as")
class RootOnlyKey(unittest.TestCase):
    def test_key_readable_only_by_root(self):
        a = new_instance({})
        self.addCleanup(a.stop)
        private = os.path.join(a.root, "private")
        os.mkdir(private, 0o700)
        key = os.path.join(private, "key.pem")
        shutil.copy(os.path.join(a.dir, "tls", "key.pem"), key)
        os.chmod(key, 0o600)
        a.write_config({"tls_key": key})
        a.launch()
        self.assertTrue(tls_works(a))
        user = a.keys.get("run_as", "maillab")
        warning = "tls_key %s is not readable by user %s" % (key, user)
        wait_for("the warning at start", lambda: warning in a.log())
        self.assertIn("a reload (SIGHUP) cannot re-read it", a.log())
        # a reload keeps the certificate it has and says why
        a.reload()
        wait_for("the reload", lambda: "certificate reloaded" in a.log())
        self.assertIn("reload: " + warning, a.log())
        self.assertIn("keeping the old certificate; make it readable by " +
                      user, a.log())
        self.assertTrue(tls_works(a))
        # made readable by the run_as user's group: the next reload takes it
        gid = pwd.getpwnam(user).pw_gid
        os.chown(private, 0, gid)
        os.chmod(private, 0o750)
        os.chown(key, 0, gid)
        os.chmod(key, 0o640)
        before = a.log().count("not readable")
        a.reload()
        wait_for("the second reload",
                 lambda: a.log().count("certificate reloaded") == 2)
        self.assertEqual(a.log().count("not readable"), before)
        self.assertIn(grp.getgrgid(gid).gr_name, a.log())
        self.assertTrue(tls_works(a))
        a.assert_alive()


if __name__ == "__main__":
    unittest.main()
