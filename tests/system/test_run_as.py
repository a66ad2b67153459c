"""Started as root, maillab binds, hands the instance to an unprivileged
user and becomes that user (issue 10, "started as root, it stays root");
and `maillab serve` names the users it has."""
import imaplib
import os
import pwd
import shutil
import smtplib
import stat
import tempfile
import unittest

from fixture import Instance, SERVICES, free_ports, run_cli

IS_ROOT = os.geteuid() == 0


def ids_of(pid):
    """The real, effective, saved and filesystem uids and gids of pid."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid"):
                out[key] = [int(v) for v in value.split()]
            elif key == "Groups":
                out[key] = [int(v) for v in value.split()]
    return out


def owners(top):
    """{path: (uid, gid, mode)} of top and everything below it."""
    out = {}
    for d, dirs, files in os.walk(top):
        for name in [""] + dirs + files:
            p = os.path.join(d, name) if name else d
            st = os.lstat(p)
            out[p] = (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))
    return out


def chown_tree(top, uid, gid):
    for p in owners(top):
        os.lchown(p, uid, gid)


def message(subject):
    return ("From: bob@lab.test\r\nTo: alice@lab.test\r\nSubject: %s\r\n\r\n"
            "hello from the run_as test\r\n" % subject)


class Base(unittest.TestCase):
    def setUp(self):
        self.inst = None

    def tearDown(self):
        if self.inst is not None:
            self.inst.stop()

    def new_instance(self, config=None, before_launch=None):
        """Like Instance.start, with a hook between init and serve."""
        inst = Instance(tempfile.mkdtemp(prefix="maillab-runas-"))
        os.chmod(inst.root, 0o711)
        self.inst = inst
        inst.create(config or {})
        if before_launch is not None:
            before_launch(inst)
        inst.launch()
        return inst

    def assert_owned_by(self, top, pw):
        for path, (uid, gid, _) in owners(top).items():
            self.assertEqual((uid, gid), (pw.pw_uid, pw.pw_gid), path)

    def assert_not_root(self, pid, pw):
        ids = ids_of(pid)
        self.assertEqual(ids["Uid"], [pw.pw_uid] * 4, ids)
        self.assertEqual(ids["Gid"], [pw.pw_gid] * 4, ids)
        self.assertNotIn(0, ids["Groups"], ids)

    def deliver_and_read(self, inst, subject):
        with smtplib.SMTP(inst.host, inst.port("smtp"), timeout=10) as s:
            s.sendmail("bob@lab.test", ["alice@lab.test"], message(subject))
        c = imaplib.IMAP4(inst.host, inst.port("imap"), timeout=10)
        try:
            c.starttls(inst.tls_context())
            self.assertEqual(c.login("alice", inst.password("alice"))[0], "OK")
            self.assertEqual(c.select("INBOX")[0], "OK")
            typ, data = c.search(None, "SUBJECT", '"%s"' % subject)
            self.assertEqual(typ, "OK")
            self.assertEqual(len(data[0].split()), 1, data)
            typ, data = c.fetch(data[0].split()[0], "(BODY.PEEK[TEXT])")
            self.assertIn(b"hello from the run_as test", data[0][1])
        finally:
            c.logout()


@unittest.skipUnless(IS_ROOT, "runs only as root: the privilege drop happens only then")
class StartedAsRoot(Base):
    def test_serve_drops_to_the_maillab_account(self):
        inst = self.new_instance()
        pw = pwd.getpwnam("maillab")
        self.assertNotEqual(pw.pw_uid, 0)
        self.assert_not_root(inst.proc.pid, pw)
        self.deliver_and_read(inst, "dropped")
        self.assert_owned_by(inst.dir, pw)
        modes = owners(inst.dir)
        for secret in ("tls/key.pem", "credentials.txt"):
            self.assertEqual(modes[os.path.join(inst.dir, secret)][2], 0o600, secret)
        self.assertEqual(modes[inst.dir][2], 0o700)
        inst.assert_alive()

    def test_init_hands_the_instance_over_keeping_modes(self):
        d = os.path.join(tempfile.mkdtemp(prefix="maillab-runas-"), "i")
        try:
            run_cli("init", d, "--demo")
            pw = pwd.getpwnam("maillab")
            self.assert_owned_by(d, pw)
            modes = owners(d)
            self.assertEqual(modes[os.path.join(d, "tls/key.pem")][2], 0o600)
            self.assertEqual(modes[os.path.join(d, "credentials.txt")][2], 0o600)
            self.assertEqual(modes[os.path.join(d, "tls/cert.pem")][2], 0o644)
            self.assertEqual(modes[os.path.join(d, "mail/alice/new")][2], 0o700)
        finally:
            shutil.rmtree(os.path.dirname(d))

    def test_run_as_nobody_with_the_instance_handed_over(self):
        # An instance that root made and still owns goes to run_as.
        inst = self.new_instance({"run_as": "nobody"},
                                 lambda i: chown_tree(i.dir, 0, 0))
        pw = pwd.getpwnam("nobody")
        self.assert_not_root(inst.proc.pid, pw)
        self.deliver_and_read(inst, "as nobody")
        self.assert_owned_by(inst.dir, pw)

    def test_user_and_alias_commands_as_root_keep_the_files_usable(self):
        inst = self.new_instance()
        pw = pwd.getpwnam("maillab")
        run_cli("user", "add", "-d", inst.dir, "carol", "--password-stdin",
                stdin="carol's password\n")
        run_cli("alias", "add", "-d", inst.dir, "postmaster", "carol")
        self.assert_owned_by(inst.dir, pw)
        with smtplib.SMTP(inst.host, inst.port("smtp"), timeout=10) as s:
            s.sendmail("bob@lab.test", ["postmaster@lab.test"], message("to carol"))
        c = imaplib.IMAP4(inst.host, inst.port("imap"), timeout=10)
        c.starttls(inst.tls_context())
        self.assertEqual(c.login("carol", "carol's password")[0], "OK")
        self.assertEqual(c.select("INBOX"), ("OK", [b"1"]))
        c.logout()
        inst.assert_alive()

    def refused(self, config, before=None):
        """serve with config must exit 1 with one line, and listen nowhere."""
        inst = Instance(tempfile.mkdtemp(prefix="maillab-runas-"))
        os.chmod(inst.root, 0o711)
        try:
            inst.create(config)
            if before is not None:
                before(inst)
            p = run_cli("serve", "-d", inst.dir, check=False)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertNotIn("listening:", p.stdout)
            return p.stderr, owners(inst.dir)
        finally:
            shutil.rmtree(inst.root)

    def test_refuses_run_as_root(self):
        err, _ = self.refused({"run_as": "root"})
        self.assertIn("refusing to run as root", err)

    def test_refuses_an_unknown_run_as_user(self):
        err, _ = self.refused({"run_as": "no-such-maillab-user"})
        self.assertIn("no user 'no-such-maillab-user'", err)
        self.assertIn("refusing to run as root", err)

    def test_refuses_an_empty_run_as_on_a_root_owned_instance(self):
        err, _ = self.refused({"run_as": ""}, lambda i: chown_tree(i.dir, 0, 0))
        self.assertIn("refusing to run as root", err)

    def test_refuses_to_move_an_instance_between_users(self):
        # The run_as user can edit maillab.conf: naming another account must
        # not make root give the instance (and the server) to it.
        pw = pwd.getpwnam("maillab")
        err, after = self.refused({"run_as": "nobody"})
        self.assertIn("belongs to maillab", err)
        self.assertTrue(all((u, g) == (pw.pw_uid, pw.pw_gid)
                            for u, g, _ in after.values()))

    def test_refuses_an_unreachable_instance(self):
        # The instance's parent is 0700 root: the dropped server cannot
        # reach it, and says so instead of failing somewhere in the database.
        err, _ = self.refused({}, lambda i: os.chmod(i.root, 0o700))
        self.assertIn("Permission denied for user maillab", err)


class UsersLine(Base):
    """`maillab serve` printed "users none" when there was no
    credentials.txt, even with users in the database."""

    def test_serve_names_the_users_without_a_credentials_file(self):
        inst = Instance(tempfile.mkdtemp(prefix="maillab-runas-"))
        os.chmod(inst.root, 0o711)
        self.inst = inst
        run_cli("init", inst.dir, "--domain", "lab.test", "--hostname", "localhost")
        out = run_cli("user", "list", "-d", inst.dir).stdout
        self.assertEqual(out.strip(), "")
        for name in ("dave", "carol"):
            run_cli("user", "add", "-d", inst.dir, name, "--password-stdin",
                    stdin="pw of %s\n" % name)
        self.assertFalse(os.path.exists(os.path.join(inst.dir, "credentials.txt")))
        inst.ports = dict(zip(SERVICES, free_ports(len(SERVICES))))
        inst.write_config({"port_" + s: str(p) for s, p in inst.ports.items()})
        inst.launch()
        with open(inst.stdout_path) as f:
            banner = f.read()
        self.assertNotIn("none; add one", banner)
        self.assertRegex(banner, r"\n  users +2: carol, dave\n")

    def test_serve_says_none_when_there_are_none(self):
        inst = Instance(tempfile.mkdtemp(prefix="maillab-runas-"))
        os.chmod(inst.root, 0o711)
        self.inst = inst
        run_cli("init", inst.dir, "--hostname", "localhost")
        inst.ports = dict(zip(SERVICES, free_ports(len(SERVICES))))
        inst.write_config({"port_" + s: str(p) for s, p in inst.ports.items()})
        inst.launch()
        with open(inst.stdout_path) as f:
            banner = f.read()
        self.assertRegex(banner, r"\n  users +none; add one with: maillab user add -d ")


if __name__ == "__main__":
    unittest.main()
