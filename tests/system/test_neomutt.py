"""neomutt against the IMAP server (issue 11): save-message moves a message
into a folder that does not exist yet (TRYCREATE, CREATE, retry, COPYUID).
Newer neomutt releases do the move with UID MOVE (RFC 6851) when the server
advertises MOVE; the one in Debian 12 (20220429) has no MOVE support at all
(its binary has no "UID MOVE"), so it copies, sets \Deleted and expunges,
and the test that needs MOVE is skipped for it.  Driven like test_mutt.py
(under script(1), keys pushed with -e).  The protocol trace shows which
commands it used; the result is checked with imaplib.  Skipped when
neomutt or script is not installed."""
import imaplib
import shutil
import unittest

from mutt_driver import SCRIPT, ReaderSession, reader_message

NEOMUTT = shutil.which("neomutt")


def neomutt_knows_move():
    """Whether this neomutt build can send UID MOVE at all."""
    try:
        with open(NEOMUTT, "rb") as f:
            return b"UID MOVE" in f.read()
    except (OSError, TypeError):
        return False


def message(n, subject):
    return reader_message("neomutt", n, subject)


@unittest.skipUnless(NEOMUTT and SCRIPT, "neomutt or script(1) not installed")
class NeomuttTest(ReaderSession, unittest.TestCase):
    reader = "neomutt"

    def imap_trace(self):
        return "".join(t for name, t in self.inst.traces().items()
                       if name.startswith("imap"))

    def append_messages(self, subjects):
        c = self.imap()
        for n, subject in enumerate(subjects):
            self.assertEqual(c.append("INBOX", None, None,
                                      message(n, subject))[0], "OK")
        return c

    def test_save_to_new_folder(self):
        self.append_messages(["first neo", "second neo"]).logout()
        out = self.run_reader("<next-entry><save-message>=Moved<enter>"
                              "<quit>")
        self.assertIn("first neo", out)
        traces = self.imap_trace()
        # the target did not exist: TRYCREATE, CREATE, then the copy or move
        self.assertIn("[TRYCREATE]", traces)
        self.assertIn('CREATE "Moved"', traces)
        self.assertIn("[COPYUID ", traces)
        c = self.imap()
        typ, data = c.select("Moved")
        self.assertEqual((typ, data), ("OK", [b"1"]), out[-2000:])
        typ, data = c.fetch("1", "(BODY.PEEK[])")
        self.assertEqual(data[0][1], message(1, "second neo"))
        typ, data = c.select("INBOX")
        self.assertEqual(data, [b"1"], traces[-3000:])
        c.logout()
        self.inst.assert_alive()

    @unittest.skipUnless(neomutt_knows_move(),
                         "this neomutt has no MOVE support (Debian 12: 20220429)")
    def test_save_uses_move(self):
        c = self.append_messages(["first neo", "second neo", "third neo"])
        # a message the user marked \Deleted, which a COPY + EXPUNGE
        # fallback would take with it
        c.select("INBOX")
        c.store("3", "+FLAGS", r"(\Deleted)")
        c.create("Moved")
        c.logout()
        self.run_reader("<next-entry><save-message>=Moved<enter><quit>")
        traces = self.imap_trace()
        self.assertIn(" UID MOVE ", traces)
        self.assertNotIn(" UID COPY ", traces)
        c = self.imap()
        typ, data = c.select("INBOX")
        self.assertEqual(data, [b"2"], traces[-3000:])
        c.logout()


if __name__ == "__main__":
    unittest.main()
