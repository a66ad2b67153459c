"""MX routing (RFC 5321 5.1, RFC 7505) through a DNS server on loopback:
dnsmasq (Debian's dnsmasq-base) serves a test zone, instance a looks it up
(`dns_server`) and relays to instance b, whose MX port stands in for port 25
(`relay_port`).  b.test has two MX hosts, the preferred one unreachable;
plain.test has no MX but an address; null.test has a null MX; nosuch.test
does not exist.  big.test has 60 MX records, more than fit in 2 KiB (so
the answer comes over TCP) and more than the 10 a lookup keeps, its one
reachable host the most preferred and the last in the answer."""
import os
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
import unittest

from fixture import Instance
from test_relay import LAB_TIMINGS, wait_for


def dnsmasq_binary():
    path = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    if not os.path.exists(path):
        raise AssertionError("dnsmasq is missing: run sh tests/deps.sh")
    return path


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_dns(port, proc=None, timeout=20):
    """Waits until the server on port answers a query (an MX query for
    b.test): under load dnsmasq may start after the first lookup, which
    must not be what the test measures.  Returns False at once when proc
    (dnsmasq) has exited: its port was taken meanwhile."""
    query = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
             b"\x01b\x04test\x00\x00\x0f\x00\x01")
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.5)
        try:
            s.sendto(query, ("127.0.0.1", port))
            if s.recv(512)[:2] == b"\x12\x34":
                return True
        except OSError:
            time.sleep(0.1)
        finally:
            s.close()
    raise AssertionError("dnsmasq did not answer on port %d" % port)


# 60 MX hosts without an address, then the one that has one (RFC 5321
# 5.1: the most preferred is tried first, wherever the answer lists it)
BIG_MX = ["--mx-host=big.test,mx-%02d.with-a-rather-long-name-to-fill-the-"
          "answer.big.test,%d" % (i, 20 + i) for i in range(60)] + \
    ["--mx-host=big.test,good.big.test,5"]


class MxRouting(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="maillab-dns-")
        # free_udp_port only looks: another test run on the machine may
        # take the port before dnsmasq binds it, and then dnsmasq exits
        for _ in range(5):
            self.dns_port = free_udp_port()
            self.dns = self.start_dnsmasq()
            if wait_dns(self.dns_port, self.dns):
                break
            self.dns.wait(timeout=10)
        else:
            raise AssertionError("dnsmasq did not start: %s" %
                                 self.dns.stderr.read().decode(errors="replace"))
        self.b = Instance.start(config={"domains": "b.test, plain.test, big.test"})
        self.a = Instance.start(config=dict(
            LAB_TIMINGS, domains="a.test",
            dns_server="127.0.0.1:%d" % self.dns_port,
            relay_port=str(self.b.port("smtp"))))

    def start_dnsmasq(self):
        return subprocess.Popen([
            dnsmasq_binary(), "--keep-in-foreground", "--port=%d" % self.dns_port,
            "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv",
            "--no-hosts", "--conf-file=/dev/null", "--pid-file=",
            "--log-facility=" + os.path.join(self.tmp, "dnsmasq.log"),
            # names under .test that are not below do not exist
            "--local=/test/",
            "--mx-host=b.test,mx2.b.test,20", "--mx-host=b.test,mx1.b.test,10",
            "--host-record=mx1.b.test,127.0.0.2",
            "--host-record=mx2.b.test,127.0.0.1",
            "--host-record=plain.test,127.0.0.1",
            # RFC 7505: preference 0, the root as exchange
            "--dns-rr=null.test,15,000000",
        ] + BIG_MX + ["--host-record=good.big.test,127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def tearDown(self):
        self.a.stop()
        self.b.stop()
        self.dns.terminate()
        self.dns.wait(timeout=10)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def inbox(self, inst, user):
        return inst.inbox_messages(user)

    def test_mx_preference_fallback_null_mx_nxdomain(self):
        a = self.a
        rcpts = ["bob@b.test", "bob@plain.test", "x@null.test", "y@nosuch.test"]
        msg = "From: alice@a.test\r\nSubject: via dns\r\n\r\nhello\r\n"
        with smtplib.SMTP(a.host, a.port("submission")) as c:
            c.starttls(context=a.tls_context())
            c.login("alice", a.password("alice"))
            self.assertEqual(c.sendmail("alice@a.test", rcpts, msg.encode()), {})
        # b.test through its second MX, plain.test through its address
        got = wait_for("both deliveries at b", lambda: (
            lambda ms: ms if len(ms) == 2 else None)(
                [m for m in self.inbox(self.b, "bob") if m["Subject"] == "via dns"]))
        self.assertEqual(sorted(m["Received"].split("for <")[1].split(">")[0]
                                for m in got), ["bob@b.test", "bob@plain.test"])
        log = a.log()
        # the preferred MX (pref 10) was tried first, then the next one
        first = log.index("mx1.b.test[127.0.0.2]")
        sent = log.index("to=<bob@b.test> attempts=1 status=sent (mx2.b.test[127.0.0.1]")
        self.assertLess(first, sent)
        # null MX and a domain that does not exist: returned at once
        report = wait_for("the bounce", lambda: [
            m for m in self.inbox(a, "alice")
            if m.get_content_type() == "multipart/report"])
        self.assertEqual(len(report), 1)
        groups = report[0].get_payload()[1].get_payload()[1:]
        status = {g["Final-Recipient"]: g["Status"] for g in groups}
        self.assertEqual(status, {"rfc822; x@null.test": "5.1.10",
                                  "rfc822; y@nosuch.test": "5.1.2"})
        self.assertIn("null MX", report[0].get_payload()[0].get_payload())
        self.a.assert_alive()

    def test_large_mx_answer_over_tcp(self):
        a = self.a
        msg = "From: alice@a.test\r\nSubject: many mx\r\n\r\nhello\r\n"
        with smtplib.SMTP(a.host, a.port("submission")) as c:
            c.starttls(context=a.tls_context())
            c.login("alice", a.password("alice"))
            self.assertEqual(c.sendmail("alice@a.test", ["bob@big.test"],
                                        msg.encode()), {})
        wait_for("the delivery at b", lambda: [
            m for m in self.inbox(self.b, "bob") if m["Subject"] == "many mx"])
        self.assertIn("to=<bob@big.test> attempts=1 status=sent "
                      "(good.big.test[127.0.0.1]", a.log())
        self.a.assert_alive()


if __name__ == "__main__":
    unittest.main()
