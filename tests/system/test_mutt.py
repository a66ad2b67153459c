"""mutt against the IMAP server (issue 6): a real mail reader, driven
non-interactively.  mutt needs a terminal, so it runs under script(1) with
its keys pushed by -e 'push ...': it flags the first message, saves the
second to a new folder (COPY, then \\Deleted and EXPUNGE since delete=yes),
syncs and quits.  The result is checked over IMAP with imaplib and in the
Maildir.  Skipped when mutt or script is not installed."""
import os
import shutil
import unittest

from mutt_driver import SCRIPT, ReaderSession, reader_message

MUTT = shutil.which("mutt")


def message(n, subject):
    return reader_message("mutt", n, subject)


@unittest.skipUnless(MUTT and SCRIPT, "mutt or script(1) not installed")
class MuttTest(ReaderSession, unittest.TestCase):
    reader = "mutt"

    def test_flag_save_expunge(self):
        c = self.imap()
        for n, subject in enumerate(["first mutt", "second mutt"]):
            typ, _ = c.append("INBOX", None, None, message(n, subject))
            self.assertEqual(typ, "OK")
        c.logout()

        out = self.run_reader("<flag-message><next-entry>"
                              "<save-message>=Saved<enter>"
                              "<sync-mailbox><quit>")
        self.assertIn("first mutt", out)

        c = self.imap()
        typ, data = c.select("INBOX")
        self.assertEqual((typ, data), ("OK", [b"1"]), out[-2000:])
        typ, data = c.fetch("1", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(typ, "OK")
        self.assertIn(b"\\Flagged", data[0][0])
        self.assertEqual(data[0][1], b"Subject: first mutt\r\n\r\n")
        typ, data = c.select("Saved")
        self.assertEqual((typ, data), ("OK", [b"1"]))
        typ, data = c.fetch("1", "(BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0][1], message(1, "second mutt"))
        c.logout()
        # the flag is in the file name, where other Maildir readers see it
        cur = os.listdir(os.path.join(self.inst.maildir("alice"), "cur"))
        self.assertEqual(len(cur), 1)
        self.assertTrue(cur[0].endswith(":2,F"), cur)
        self.inst.assert_alive()


if __name__ == "__main__":
    unittest.main()
