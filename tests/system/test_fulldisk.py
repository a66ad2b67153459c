"""A full mail filesystem (issue 10): the instance's mail root is a small
loop-mounted ext4 image that is filled up, over SMTP and with a filler file.
The server must stay up, SMTP must answer 4xx (never 250 for a message it
did not store), users must still log in, read and delete mail over IMAP and
POP3, and once space is freed UIDVALIDITY, the POP3 UIDLs and the keywords
must be what they were: a temporary error never rebuilds the index.

Mounting needs root and a loop device; where the attempt to mount fails the
tests are skipped with the reason."""
import errno
import imaplib
import os
import poplib
import re
import shutil
import signal
import smtplib
import subprocess
import tempfile
import unittest

from fixture import Instance

IMAGE_MB = 128
CHUNK = 1 << 20


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def mount_image(image, mountpoint):
    """Makes an ext4 image (no blocks reserved for root: the tests run as
    root) and mounts it.  Returns None, or why it could not."""
    if os.geteuid() != 0:
        return "mounting a loop image needs root"
    if shutil.which("mkfs.ext4") is None:
        return "mkfs.ext4 (e2fsprogs) not installed"
    with open(image, "wb") as f:
        f.truncate(IMAGE_MB << 20)
    p = run("mkfs.ext4", "-q", "-F", "-m", "0", "-b", "4096", image)
    if p.returncode != 0:
        return "mkfs.ext4 failed: " + p.stderr.strip()
    p = run("mount", "-o", "loop", image, mountpoint)
    if p.returncode != 0:
        return "mount -o loop not allowed here: " + p.stderr.strip()
    return None


def unmount(mountpoint):
    if run("umount", mountpoint).returncode != 0:
        run("umount", "-l", mountpoint)


class FullDisk(unittest.TestCase):
    def setUp(self):
        self.inst = Instance(tempfile.mkdtemp(prefix="maillab-sys-"))
        self.addCleanup(shutil.rmtree, self.inst.root, True)
        # the server, as root, becomes its run_as user, who must reach it
        os.chmod(self.inst.root, 0o711)
        self.inst.create({})
        mail = os.path.join(self.inst.dir, "mail")
        saved = mail + ".orig"
        os.rename(mail, saved)
        os.mkdir(mail, 0o700)
        why = mount_image(os.path.join(self.inst.root, "mail.img"), mail)
        if why is not None:
            self.skipTest(why)
        self.addCleanup(unmount, mail)
        shutil.copytree(saved, mail, symlinks=True, dirs_exist_ok=True)
        self.mail = mail
        self.filler = os.path.join(mail, "filler")
        self.filler_n = 0
        self.inst.launch()
        self.addCleanup(self.stop_server)

    def stop_server(self):
        if self.inst.proc is not None:
            self.inst.proc.send_signal(signal.SIGTERM)
            code = self.inst.proc.wait(timeout=20)
            self.inst.proc = None
            self.assertEqual(code, 0, self.inst.stderr())
            self.inst.assert_no_sanitizer_report()

    def restart_server(self):
        self.stop_server()
        self.inst.launch()

    # --- filling and freeing ---

    def free_bytes(self):
        st = os.statvfs(self.mail)
        return st.f_bavail * st.f_frsize

    def fill_file(self, leave):
        """Writes filler files until at most `leave` bytes are free (0: until
        the file system refuses a single block)."""
        chunk = b"\0" * CHUNK
        while True:
            self.filler_n += 1
            path = "%s.%d" % (self.filler, self.filler_n)
            try:
                with open(path, "wb") as f:
                    while self.free_bytes() > leave + CHUNK:
                        f.write(chunk)
                        f.flush()
                    small = b"\0" * 4096
                    while leave == 0 or self.free_bytes() > leave:
                        f.write(small)
                        f.flush()
                        os.fsync(f.fileno())
            except OSError as e:
                self.assertEqual(e.errno, errno.ENOSPC)
            if leave > 0 or self.free_bytes() < 4096:
                return

    def free_space(self):
        for name in os.listdir(self.mail):
            if name.startswith("filler."):
                os.unlink(os.path.join(self.mail, name))

    # --- clients ---

    def send(self, to, subject, body_size=200):
        """Sends one message; returns the SMTP reply code of its end."""
        body = ("x" * 76 + "\r\n") * (body_size // 78 + 1)
        msg = ("From: carol@example.org\r\nTo: %s@lab.test\r\n"
               "Subject: %s\r\n\r\n%s" % (to, subject, body))
        with smtplib.SMTP(self.inst.host, self.inst.port("smtp"),
                          timeout=30) as s:
            try:
                s.sendmail("carol@example.org", ["%s@lab.test" % to], msg)
                return 250
            except smtplib.SMTPRecipientsRefused as e:
                return list(e.recipients.values())[0][0]
            except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as e:
                return e.smtp_code

    def imap(self, user):
        i = imaplib.IMAP4(self.inst.host, self.inst.port("imap"), timeout=30)
        self.addCleanup(self.close_quietly, i)
        return i

    @staticmethod
    def close_quietly(i):
        try:
            i.shutdown()
        except OSError:
            pass

    def imap_login(self, user):
        i = self.imap(user)
        typ, data = i.login(user, self.inst.password(user))
        self.assertEqual(typ, "OK", data)
        return i

    def select(self, i, box="INBOX"):
        typ, data = i.select(box)
        self.assertEqual(typ, "OK", data)
        uidvalidity = int(i.untagged_responses["UIDVALIDITY"][0])
        flags = i.untagged_responses["FLAGS"][0].decode()
        return int(data[0]), uidvalidity, flags

    def pop3(self):
        p = poplib.POP3(self.inst.host, self.inst.port("pop3"), timeout=30)
        self.addCleanup(self.close_quietly_pop, p)
        return p

    @staticmethod
    def close_quietly_pop(p):
        try:
            p.close()
        except OSError:
            pass

    def pop3_login(self, user):
        p = self.pop3()
        p.user(user)
        p.pass_(self.inst.password(user))
        return p

    def uidls(self, user):
        p = self.pop3_login(user)
        lines = p.uidl()[1]
        p.quit()
        return dict(l.decode().split() for l in lines)

    def messages_in(self, user):
        """Subjects of the message files in user's INBOX."""
        out = []
        for sub in ("new", "cur"):
            d = os.path.join(self.mail, user, sub)
            for name in os.listdir(d):
                with open(os.path.join(d, name), "rb") as f:
                    m = re.search(rb"^Subject: (.*?)\r?$", f.read(4096), re.M)
                    out.append(m.group(1).decode() if m else None)
        return out

    def prepare(self):
        """Mail for alice and bob, a keyword in alice's INBOX; returns what
        must survive: alice's UIDVALIDITY and bob's UIDLs."""
        for n in range(3):
            self.assertEqual(self.send("alice", "a%d" % n), 250)
            self.assertEqual(self.send("bob", "b%d" % n), 250)
        i = self.imap_login("alice")
        exists, uidvalidity, _ = self.select(i)
        self.assertEqual(exists, 3)
        self.assertEqual(i.store("1", "+FLAGS", "($Work)")[0], "OK")
        i.logout()
        return uidvalidity, self.uidls("bob")

    def assert_kept(self, uidvalidity, bob_uidls):
        i = self.imap_login("alice")
        _, now, flags = self.select(i)
        self.assertEqual(now, uidvalidity)
        self.assertIn("$Work", flags)
        typ, data = i.fetch("1", "(FLAGS)")
        self.assertIn(b"$Work", data[0])
        i.logout()
        self.assertEqual(set(self.uidls("bob").values()),
                         set(bob_uidls.values()), "bob's UIDLs changed")
        log = self.inst.log()
        self.assertNotIn("rebuilding", log)
        # a failed open is not checkpointed
        self.assertNotIn("BDB1566", log)

    # --- the tests ---

    def test_fill_over_smtp_then_read_and_delete(self):
        uidvalidity, bob_uidls = self.prepare()
        # Leave a little room, then fill it over SMTP until 4xx.
        self.fill_file(2 << 20)
        accepted, refused = [], []
        for n in range(60):
            subject = "fill%d" % n
            code = self.send("alice", subject, body_size=256 * 1024)
            if code == 250:
                accepted.append(subject)
            else:
                self.assertEqual(code // 100, 4, "SMTP must say 4xx: %d" % code)
                refused.append(subject)
                if len(refused) >= 3:
                    break
        self.assertTrue(refused, "the disk never filled up")
        self.fill_file(0)
        self.inst.assert_alive()
        stored = self.messages_in("alice")
        for subject in accepted:
            self.assertIn(subject, stored, "250 for a message not stored")
        for subject in refused:
            self.assertNotIn(subject, stored)
        code = self.send("bob", "when full")
        self.assertEqual(code // 100, 4, "SMTP must say 4xx: %d" % code)

        # IMAP: read, then delete to free space; APPEND cannot be stored.
        i = self.imap_login("alice")
        exists, now, flags = self.select(i)
        self.assertEqual(now, uidvalidity)
        self.assertIn("$Work", flags)
        typ, data = i.fetch("1", "(BODY[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(typ, "OK", data)
        self.assertIn(b"Subject: a0", data[0][1])
        typ, data = i.append("INBOX", None, None,
                             b"Subject: big\r\n\r\n" + b"y" * (512 * 1024))
        self.assertEqual(typ, "NO", data)
        self.assertRegex(data[0], rb"^\[(UNAVAILABLE|OVERQUOTA|LIMIT)\]")
        typ, data = i.select("INBOX", readonly=True)
        self.assertEqual(typ, "OK", data)
        self.assertEqual(int(i.untagged_responses["UIDVALIDITY"][0]),
                         uidvalidity)
        self.select(i)
        last = str(exists).encode()
        typ, data = i.store(last, "+FLAGS", r"(\Deleted)")
        self.assertEqual(typ, "OK", data)
        typ, data = i.expunge()
        self.assertEqual(typ, "OK", data)
        self.assertEqual(data, [last])
        i.logout()

        # POP3: read and delete.
        p = self.pop3_login("bob")
        count = p.stat()[0]
        self.assertEqual(count, 3)
        self.assertIn(b"Subject: b0", b"\n".join(p.retr(1)[1]))
        self.assertEqual(dict(l.decode().split() for l in p.uidl()[1]),
                         bob_uidls)
        p.dele(1)
        self.assertTrue(p.quit().startswith(b"+OK"))
        self.assertEqual(len(self.uidls("bob")), 2)
        self.inst.assert_alive()

        self.free_space()
        self.assertEqual(self.send("alice", "after"), 250)
        del bob_uidls["1"]
        self.assert_kept(uidvalidity, bob_uidls)

    def test_index_opened_on_full_disk(self):
        """The SIGBUS reproducer: the server starts on a full disk, alice's
        index environment must be created anew (its region files are gone)
        and bob's joined."""
        uidvalidity, bob_uidls = self.prepare()
        self.stop_server()
        index = os.path.join(self.mail, "alice", "maillab-index")
        for name in os.listdir(index):
            if name.startswith("__db.0"):
                os.unlink(os.path.join(index, name))
        self.fill_file(0)
        self.inst.launch()

        i = self.imap("alice")
        with self.assertRaises(imaplib.IMAP4.error) as e:
            i.login("alice", self.inst.password("alice"))
        self.assertIn("[UNAVAILABLE]", str(e.exception))
        self.inst.assert_alive()
        p = self.pop3()
        p.user("alice")
        with self.assertRaises(poplib.error_proto) as e:
            p.pass_(self.inst.password("alice"))
        self.assertTrue(str(e.exception).startswith("b'-ERR [SYS/TEMP]"),
                        e.exception)
        self.inst.assert_alive()

        # bob's environment is whole: he reads and deletes.
        p = self.pop3_login("bob")
        self.assertEqual(dict(l.decode().split() for l in p.uidl()[1]),
                         bob_uidls)
        self.assertIn(b"Subject: b1", b"\n".join(p.retr(2)[1]))
        p.dele(2)
        self.assertTrue(p.quit().startswith(b"+OK"))
        self.inst.assert_alive()
        log = self.inst.log()
        self.assertIn("index of alice not opened", log)
        self.assertIn("kept, not rebuilt", log)

        self.free_space()
        del bob_uidls["2"]
        self.assert_kept(uidvalidity, bob_uidls)


if __name__ == "__main__":
    unittest.main()
