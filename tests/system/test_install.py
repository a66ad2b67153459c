"""`make install` (issue 10, "installable like a real server"): the binary,
maillab(8) and the systemd unit land under PREFIX and DESTDIR; the man page
renders without a warning and covers every subcommand; the unit passes
`systemd-analyze verify` where that tool exists."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from fixture import binary

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def make_env():
    """The environment without the calling make's job server and flags."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    env["LC_ALL"] = "C.UTF-8"
    return env


def build_flags():
    """Install the binary under test: build-san/ is `make SAN=1`'s."""
    d = os.path.basename(os.path.dirname(binary()))
    return {"build-san": ["SAN=1"], "build-fuzz": ["FUZZ=1"]}.get(d, [])


def make_install(*args):
    p = subprocess.run(["make", "-s", "-C", TOP, "install", *build_flags(), *args],
                       capture_output=True, text=True, timeout=600, env=make_env())
    if p.returncode != 0:
        raise AssertionError("make install %s: exit %d\n%s%s" %
                             (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def subcommands():
    """The subcommands `maillab help` lists."""
    out = subprocess.run([binary(), "help"], capture_output=True, text=True,
                         timeout=30).stdout
    return re.findall(r"^\s+maillab (\S+)", out, re.M)


class MakeInstall(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="maillab-install-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_destdir_and_prefix(self):
        dest = os.path.join(self.tmp, "dest")
        make_install("DESTDIR=" + dest, "PREFIX=/usr")
        files = sorted(os.path.relpath(os.path.join(d, f), dest)
                       for d, _, names in os.walk(dest) for f in names)
        self.assertEqual(files, ["usr/lib/systemd/system/maillab.service",
                                 "usr/lib/sysusers.d/maillab.conf",
                                 "usr/sbin/maillab",
                                 "usr/share/man/man8/maillab.8"])
        exe = os.path.join(dest, "usr/sbin/maillab")
        self.assertEqual(os.stat(exe).st_mode & 0o777, 0o755)
        out = subprocess.run([exe, "version"], capture_output=True, text=True,
                             timeout=30)
        self.assertEqual(out.returncode, 0)
        self.assertRegex(out.stdout, r"^maillab \d+\.\d+")
        for f in files[:2] + files[3:]:
            self.assertEqual(os.stat(os.path.join(dest, f)).st_mode & 0o777, 0o644, f)
        with open(os.path.join(dest, "usr/lib/systemd/system/maillab.service")) as f:
            unit = f.read()
        self.assertIn("\nExecStart=/usr/sbin/maillab serve -d /var/lib/maillab\n", unit)
        self.assertNotIn("@", unit.replace("$MAINPID", ""))
        for line in ("Type=simple", "User=maillab", "ProtectSystem=strict",
                     "ReadWritePaths=/var/lib/maillab", "NoNewPrivileges=yes",
                     "PrivateTmp=yes", "AmbientCapabilities=CAP_NET_BIND_SERVICE",
                     "ExecReload=/bin/kill -HUP $MAINPID"):
            self.assertIn("\n" + line + "\n", unit)
        with open(os.path.join(dest, "usr/lib/sysusers.d/maillab.conf")) as f:
            self.assertRegex(f.read(), r"(?m)^u maillab - ")

    def test_default_prefix_is_usr_local(self):
        dest = os.path.join(self.tmp, "dest")
        make_install("DESTDIR=" + dest)
        self.assertTrue(os.access(os.path.join(dest, "usr/local/sbin/maillab"), os.X_OK))
        self.assertTrue(os.path.isfile(os.path.join(dest, "usr/local/share/man/man8/maillab.8")))
        with open(os.path.join(dest, "usr/local/lib/systemd/system/maillab.service")) as f:
            self.assertIn("ExecStart=/usr/local/sbin/maillab serve", f.read())

    @unittest.skipUnless(shutil.which("man"), "man (man-db) is not installed; run make deps")
    def test_man_page_renders_without_warnings_and_covers_every_subcommand(self):
        dest = os.path.join(self.tmp, "dest")
        make_install("DESTDIR=" + dest, "PREFIX=/usr")
        page = os.path.join(dest, "usr/share/man/man8/maillab.8")
        env = dict(make_env(), MANWIDTH="80", MAN_KEEP_FORMATTING="0")
        p = subprocess.run(["man", "--warnings", "-l", page], capture_output=True,
                           text=True, timeout=60, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        text = re.sub(r".\x08", "", p.stdout)
        for section in ("NAME", "SYNOPSIS", "COMMANDS", "OPTIONS", "SIGNALS",
                        "FILES", "PRIVILEGES", "EXIT STATUS"):
            self.assertRegex(text, r"(?m)^%s$" % section)
        names = subcommands()
        self.assertIn("serve", names)
        for name in names:
            self.assertRegex(text, r"(?m)^ {7}maillab %s\b" % name, name)
            self.assertRegex(text, r"(?m)^ {7}%s\b" % name, name)
        self.assertRegex(text, r"(?m)^ {7}SIGHUP +Reloads")
        self.assertRegex(text, r"(?m)^ {7}SIGTERM, SIGINT$")
        for option in ("--domain", "--hostname", "--demo", "--password-stdin",
                       "--yes", "-d DIR"):
            self.assertIn(option, text)

    def test_systemd_unit_verifies(self):
        if not shutil.which("systemd-analyze"):
            self.skipTest("systemd-analyze is not installed: the unit is not verified")
        # Installed for real under a temporary PREFIX, so that the unit's
        # ExecStart and its man: documentation link exist for the check.
        prefix = os.path.join(self.tmp, "prefix")
        make_install("PREFIX=" + prefix)
        unit = os.path.join(prefix, "lib/systemd/system/maillab.service")
        env = dict(make_env(), MANPATH=os.path.join(prefix, "share/man"))
        p = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True,
                           text=True, timeout=120, env=env, cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(p.stdout + p.stderr, "")


if __name__ == "__main__":
    unittest.main()
