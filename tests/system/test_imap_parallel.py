"""Many IMAP sessions of one user at once against a live `maillab serve`
with a small worker pool: every SELECT must complete.  A SELECT keeps the
user's index lock until its snapshot is loaded by a later job; when more
SELECTs of the same user than workers waited for that lock, the job that
would release it was queued behind them, and the whole server hung (found
with 1,000 IDLE sessions in bench/bench-imap-idle)."""
import concurrent.futures
import imaplib
import unittest

from fixture import Instance

WORKERS = 2
SESSIONS = 12


class ParallelSelect(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = Instance.start(config={"workers": str(WORKERS),
                                          "trace": "off"})

    @classmethod
    def tearDownClass(cls):
        cls.inst.stop()

    def session(self, _):
        imap = imaplib.IMAP4(self.inst.host, self.inst.port("imap"),
                             timeout=30)
        try:
            imap.login("alice", self.inst.password("alice"))
            typ, data = imap.select("INBOX")
            self.assertEqual(typ, "OK")
            self.assertEqual(imap.noop()[0], "OK")
            return data[0]
        finally:
            try:
                imap.logout()
            except (imaplib.IMAP4.error, OSError):
                pass

    def test_selects_of_one_user_beyond_the_workers(self):
        imaplib.IMAP4(self.inst.host, self.inst.port("imap")).logout()
        with concurrent.futures.ThreadPoolExecutor(SESSIONS) as pool:
            for _ in range(3):
                counts = list(pool.map(self.session, range(SESSIONS)))
                self.assertEqual(len(set(counts)), 1, counts)
        self.inst.assert_alive()


if __name__ == "__main__":
    unittest.main()
