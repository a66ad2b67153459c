"""Hardening of the shared layer (issue 10): TLS 1.2 cipher suites, the
STARTTLS stall, slow clients and brute force across connections."""
import subprocess
import unittest

from fixture import Instance


def s_client(inst, service, *args, starttls=None):
    stdin = "a LOGOUT\r\n" if service.startswith("imap") else "QUIT\r\n"
    cmd = ["openssl", "s_client", "-CAfile", inst.cafile,
           "-connect", "127.0.0.1:%d" % inst.port(service), "-ign_eof", *args]
    if starttls:
        cmd += ["-starttls", starttls]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                          timeout=30)


class Tls12Ciphers(unittest.TestCase):
    """TLS 1.2 offers only ECDHE with AES-GCM or ChaCha20-Poly1305 (the
    Mozilla "intermediate" profile); TLS 1.3 keeps OpenSSL's suites."""

    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start(config={"trace": "off"})

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def negotiated(self, p):
        for line in p.stdout.splitlines():
            if line.strip().startswith("Cipher is") or "Cipher    :" in line:
                return line.split()[-1]
        return None

    def test_cbc_and_sha1_suites_refused(self):
        for suite in ("ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384",
                      "ECDHE-RSA-AES128-SHA", "AES128-SHA", "AES256-GCM-SHA384",
                      "DHE-RSA-AES128-GCM-SHA256"):
            for service, starttls in (("submissions", None), ("imap", "imap")):
                p = s_client(self.inst, service, "-tls1_2", "-cipher", suite,
                             starttls=starttls)
                self.assertNotEqual(p.returncode, 0, (suite, p.stdout))
                self.assertIn(self.negotiated(p), (None, "(NONE)", "0000"),
                              (suite, p.stdout))
        self.inst.assert_alive()

    def test_ecdhe_aead_suites_work(self):
        for suite in ("ECDHE-ECDSA-AES128-GCM-SHA256",
                      "ECDHE-ECDSA-AES256-GCM-SHA384",
                      "ECDHE-ECDSA-CHACHA20-POLY1305"):
            for service, starttls in (("submissions", None), ("smtp", "smtp"),
                                      ("pop3s", None), ("imap", "imap")):
                p = s_client(self.inst, service, "-tls1_2", "-cipher", suite,
                             starttls=starttls)
                self.assertEqual(self.negotiated(p), suite,
                                 (suite, service, p.stdout, p.stderr))
        self.inst.assert_alive()

    def test_tls13_default_suites(self):
        p = s_client(self.inst, "submissions", "-tls1_3")
        self.assertEqual(self.negotiated(p), "TLS_AES_256_GCM_SHA384", p.stdout)
        self.assertIn("221", p.stdout)
