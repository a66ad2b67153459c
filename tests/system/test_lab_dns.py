"""The lab DNS (`dns NAME = TYPE DATA` in maillab.conf): MX routing
(RFC 5321 5.1, RFC 7505) with no DNS server at all.  Instance a knows b.test
(two MX hosts, the preferred one unreachable), plain.test (no MX, an
address), null.test (a null MX) from its own records and relays to instance
b, whose MX port stands in for port 25 (`relay_port`); nosuch.b.test, under
a lab name, does not exist; elsewhere.test is not the lab's and goes to the
real resolver, here `dns_server` on a closed loopback port (a temporary
failure: the message waits).  Nothing leaves loopback."""
import os
import smtplib
import socket
import tempfile
import unittest

from fixture import Instance, run_cli
from test_relay import LAB_TIMINGS, wait_for

RECORDS = """\
dns b.test = MX 20 mx2.b.test
dns b.test = MX 10 mx1.b.test
dns mx1.b.test = A 127.0.0.2
dns mx2.b.test = A 127.0.0.1
dns plain.test = A 127.0.0.1
dns null.test = MX 0 .
dns b.test = TXT "v=spf1 ip4:127.0.0.1 -all"
"""


def closed_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_with_lines(config, lines):
    """Instance.start with raw maillab.conf lines added (a repeatable key
    appears several times, which a dict of keys cannot hold)."""
    inst = Instance(tempfile.mkdtemp(prefix="maillab-sys-"))
    os.chmod(inst.root, 0o711)
    inst.create(config)
    with open(os.path.join(inst.dir, "maillab.conf"), "a") as f:
        f.write(lines)
    inst.launch()
    return inst


class LabDns(unittest.TestCase):
    def setUp(self):
        self.b = Instance.start(config={"domains": "b.test, plain.test"})
        self.a = start_with_lines(dict(
            LAB_TIMINGS, domains="a.test",
            dns_server="127.0.0.1:%d" % closed_udp_port(),
            relay_port=str(self.b.port("smtp"))), RECORDS)

    def tearDown(self):
        self.a.stop()
        self.b.stop()

    def inbox(self, inst, user):
        return inst.inbox_messages(user)

    def test_mx_preference_fallback_null_mx_nxdomain_and_real_dns(self):
        a = self.a
        rcpts = ["bob@b.test", "bob@plain.test", "x@null.test",
                 "y@nosuch.b.test", "z@elsewhere.test"]
        msg = "From: alice@a.test\r\nSubject: via lab dns\r\n\r\nhello\r\n"
        with smtplib.SMTP(a.host, a.port("submission")) as c:
            c.starttls(context=a.tls_context())
            c.login("alice", a.password("alice"))
            self.assertEqual(c.sendmail("alice@a.test", rcpts, msg.encode()), {})
        got = wait_for("both deliveries at b", lambda: (
            lambda ms: ms if len(ms) == 2 else None)(
                [m for m in self.inbox(self.b, "bob")
                 if m["Subject"] == "via lab dns"]))
        self.assertEqual(sorted(m["Received"].split("for <")[1].split(">")[0]
                                for m in got), ["bob@b.test", "bob@plain.test"])
        log = a.log()
        # the preferred MX (pref 10) was tried first, then the next one
        first = log.index("mx1.b.test[127.0.0.2]")
        sent = log.index("to=<bob@b.test> attempts=1 status=sent (mx2.b.test[127.0.0.1]")
        self.assertLess(first, sent)
        report = wait_for("the bounce", lambda: [
            m for m in self.inbox(a, "alice")
            if m.get_content_type() == "multipart/report"])
        self.assertEqual(len(report), 1)
        groups = report[0].get_payload()[1].get_payload()[1:]
        status = {g["Final-Recipient"]: g["Status"] for g in groups}
        self.assertEqual(status, {"rfc822; x@null.test": "5.1.10",
                                  "rfc822; y@nosuch.b.test": "5.1.2"})
        # not the lab's: the resolver failed, the recipient waits
        listing = run_cli("queue", "list", "-d", a.dir).stdout
        self.assertIn("<z@elsewhere.test> pending", listing)
        self.assertIn("4.4.3 DNS lookup of elsewhere.test failed", listing)
        self.a.assert_alive()

    def test_bad_record_is_refused_on_reload(self):
        path = os.path.join(self.a.dir, "maillab.conf")
        with open(path) as f:
            good = f.read()
        line = good.count("\n") + 1
        with open(path, "a") as f:
            f.write("dns null.test = MX 10 mx.null.test\n")
        self.a.reload()
        wait_for("the reload error in the log", lambda:
                 "maillab.conf:%d: dns null.test: a null MX (MX 0 .) must be the name's only "
                 "MX record (RFC 7505 3)" % line in self.a.log())
        with open(path, "w") as f:
            f.write(good)
        self.assertIn("reload failed, keeping the old configuration", self.a.log())
        self.a.assert_alive()


if __name__ == "__main__":
    unittest.main()
