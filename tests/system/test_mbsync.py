"""mbsync (Debian isync) syncs a local Maildir with maillab over IMAP
STARTTLS, both ways: flags, new mail and deletes travel in each direction,
and a run with nothing changed changes nothing (issue 11, Clients)."""
import imaplib
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from fixture import Instance

MSG = ("From: Bob <bob@lab.test>\r\n"
       "To: alice@lab.test\r\n"
       "Subject: %s\r\n"
       "Message-ID: <%s@lab.test>\r\n"
       "\r\n"
       "body of %s\r\n")


def mbsync_config(inst, root):
    local = os.path.join(root, "local")
    os.makedirs(local)
    path = os.path.join(root, "mbsyncrc")
    with open(path, "w") as f:
        f.write("""IMAPAccount lab
Host 127.0.0.1
Port %d
User alice
Pass %s
SSLType STARTTLS
CertificateFile %s
AuthMechs LOGIN
Timeout 20

IMAPStore remote
Account lab

MaildirStore local
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel lab
Far :remote:
Near :local:
Patterns INBOX Work
Create Both
Expunge Both
Sync All
SyncState *
""" % (inst.port("imap"), inst.password("alice"), inst.cafile, local, local))
    return path, local


def local_messages(folder):
    """{subject: maildir flag letters} of a local Maildir folder."""
    out = {}
    for sub in ("cur", "new"):
        d = os.path.join(folder, sub)
        for name in os.listdir(d):
            with open(os.path.join(d, name), errors="replace") as f:
                subject = re.search(r"^Subject: (.*)$", f.read(), re.M).group(1)
            out[subject.strip()] = name.split(":2,")[1] if ":2," in name else ""
    return out


class MbsyncTest(unittest.TestCase):
    def setUp(self):
        self.assertIsNotNone(shutil.which("mbsync"),
                             "mbsync missing: tests/deps.sh installs isync")
        self.inst = Instance.start()
        self.root = tempfile.mkdtemp(prefix="maillab-mbsync-")
        self.conf, self.local = mbsync_config(self.inst, self.root)

    def tearDown(self):
        try:
            self.inst.assert_alive()
        finally:
            self.inst.stop()
            shutil.rmtree(self.root, ignore_errors=True)

    def imap(self):
        m = imaplib.IMAP4(self.inst.host, self.inst.port("imap"))
        m.login("alice", self.inst.password("alice"))
        return m

    def server_messages(self, folder):
        """{subject: set of flags} of a folder on the server."""
        m = self.imap()
        try:
            typ, count = m.select(folder, readonly=True)
            self.assertEqual(typ, "OK")
            out = {}
            if count[0] == b"0":
                return out
            typ, data = m.fetch("1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            for item in data:
                if not isinstance(item, tuple):
                    continue
                flags = re.search(rb"FLAGS \(([^)]*)\)", item[0]).group(1)
                subject = item[1].decode().split(":", 1)[1].strip()
                out[subject] = set(flags.decode().split()) - {"\\Recent"}
            return out
        finally:
            m.logout()

    def server_state(self):
        """UIDs, flags and UIDNEXT of both folders: what a no-op keeps."""
        m = self.imap()
        try:
            state = []
            for folder in ("INBOX", "Work"):
                typ, data = m.status(folder, "(UIDNEXT MESSAGES)")
                state.append(data[0])
                typ, count = m.select(folder, readonly=True)
                if count[0] != b"0":
                    state.append(m.uid("FETCH", "1:*", "(FLAGS)")[1])
            return state
        finally:
            m.logout()

    def sync(self):
        p = subprocess.run(["mbsync", "-c", self.conf, "-a"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return p.stdout + p.stderr

    def local_tree(self):
        return sorted(os.path.relpath(os.path.join(d, f), self.local)
                      for d, _, files in os.walk(self.local) for f in files
                      if not f.startswith(".mbsync"))

    def test_two_way_sync(self):
        m = self.imap()
        m.create("Work")
        for subject, folder, flags in (("a", "INBOX", None),
                                       ("b", "INBOX", "(\\Flagged)"),
                                       ("c", "Work", "(\\Seen)")):
            typ, _ = m.append(folder, flags, None,
                              (MSG % (subject, subject, subject)).encode())
            self.assertEqual(typ, "OK")
        m.logout()

        # first run: everything comes down, with its flags
        self.sync()
        inbox = os.path.join(self.local, "INBOX")
        work = os.path.join(self.local, "Work")
        self.assertEqual(local_messages(inbox), {"a": "", "b": "F"})
        self.assertEqual(local_messages(work), {"c": "S"})

        # changes on both sides
        for name in os.listdir(os.path.join(inbox, "cur")) + \
                os.listdir(os.path.join(inbox, "new")):
            sub = "cur" if name in os.listdir(os.path.join(inbox, "cur")) else "new"
            path = os.path.join(inbox, sub, name)
            with open(path) as f:
                is_a = "Subject: a" in f.read()
            if is_a:    # a read here: \Seen goes up
                base = name.split(":2,")[0]
                os.rename(path, os.path.join(inbox, "cur", base + ":2,S"))
        for name in os.listdir(os.path.join(work, "cur")):
            os.unlink(os.path.join(work, "cur", name))   # c deleted here
        with open(os.path.join(inbox, "new", "1764950000.local1.host"), "w") as f:
            f.write(MSG % ("d", "d", "d"))                # d written here
        m = self.imap()
        m.select("INBOX")
        typ, data = m.search(None, "FLAGGED")
        m.store(data[0].decode(), "+FLAGS", "(\\Answered)")  # b answered there
        m.append("INBOX", None, None, (MSG % ("e", "e", "e")).encode())
        m.logout()

        # second run: each side gets the other's changes
        self.sync()
        self.assertEqual(self.server_messages("INBOX"),
                         {"a": {"\\Seen"}, "b": {"\\Flagged", "\\Answered"},
                          "d": set(), "e": set()})
        self.assertEqual(self.server_messages("Work"), {})
        self.assertEqual(local_messages(inbox),
                         {"a": "S", "b": "FR", "d": "", "e": ""})
        self.assertEqual(local_messages(work), {})

        # a run with nothing changed changes nothing on either side
        before = (self.server_state(), self.local_tree())
        self.sync()
        self.assertEqual((self.server_state(), self.local_tree()), before)
        # and the server still serves an ordinary client
        m = self.imap()
        self.assertEqual(m.select("INBOX")[0], "OK")
        self.assertEqual(m.noop()[0], "OK")
        m.logout()


if __name__ == "__main__":
    unittest.main()
