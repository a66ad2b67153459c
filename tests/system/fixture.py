"""A live maillab for system tests.

    from fixture import Instance
    inst = Instance.start()              # temporary instance, free ports
    inst.port("smtp")                    # smtp submission submissions pop3 pop3s imap imaps
    inst.host                            # "127.0.0.1"
    inst.password("alice")               # demo users alice and bob
    inst.maildir("alice")                # DIR/mail/alice
    inst.cafile                          # the instance's self-signed cert
    inst.tls_context()                   # ssl.SSLContext that trusts it
    inst.log()                           # DIR/log/maillab.log so far
    inst.traces()                        # {file name: text} of DIR/log/trace
    inst.reload()                        # SIGHUP
    inst.assert_alive()                  # fails if the server died or a
                                         # sanitizer reported something
    inst.stop()                          # SIGTERM, expects exit 0 and no
                                         # sanitizer report; returns stderr

Instance.start(config={"max_connections_per_ip": "3"}) adds keys to
maillab.conf.  Every instance lives in its own temporary directory, removed by
stop() unless MAILLAB_KEEP=1.  The binary is $MAILLAB_BIN (run.py sets it).
"""
import email
import imaplib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

SERVICES = ["smtp", "submission", "submissions", "pop3", "pop3s", "imap", "imaps"]
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                   "UndefinedBehaviorSanitizer")


def binary():
    return os.path.abspath(os.environ.get("MAILLAB_BIN", "build/maillab"))


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def run_cli(*args, stdin=None, check=True, cwd=None):
    """Runs `maillab ARGS`; returns the CompletedProcess."""
    p = subprocess.run([binary(), *args], input=stdin, capture_output=True,
                       text=True, timeout=60, cwd=cwd)
    if check and p.returncode != 0:
        raise AssertionError("maillab %s exited %d: %s" % (" ".join(args),
                             p.returncode, p.stderr))
    return p


class Instance:
    host = "127.0.0.1"

    def __init__(self, root):
        self.root = root
        self.dir = os.path.join(root, "inst")
        self.proc = None
        self.ports = {}
        self.passwords = {}
        self.stderr_path = os.path.join(root, "stderr.txt")
        self.stdout_path = os.path.join(root, "stdout.txt")

    @classmethod
    def start(cls, config=None, services=None):
        inst = cls(tempfile.mkdtemp(prefix="maillab-sys-"))
        # As root the server hands the instance to its run_as user and
        # becomes that user, who must be able to reach it (mkdtemp is 0700).
        os.chmod(inst.root, 0o711)
        inst.create(config or {})
        inst.launch(services)
        return inst

    def create(self, config):
        run_cli("init", self.dir, "--demo", "--domain", "lab.test",
                "--hostname", "localhost")
        with open(os.path.join(self.dir, "credentials.txt")) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2 and not line.startswith("#"):
                    self.passwords[parts[0]] = parts[1]
        self.ports = dict(zip(SERVICES, free_ports(len(SERVICES))))
        keys = {"port_" + s: str(p) for s, p in self.ports.items()}
        keys.update({"trace": "on", "shutdown_grace": "1"})
        keys.update(config)
        self.write_config(keys)

    def write_config(self, keys):
        """Appends keys to maillab.conf (later keys are not allowed to
        repeat, so this rewrites the block it added before)."""
        path = os.path.join(self.dir, "maillab.conf")
        with open(path) as f:
            text = f.read().split("# --- system test ---\n")[0]
        self.keys = dict(getattr(self, "keys", {}), **keys)
        # A key may be set once: drop the template's active line for it.
        text = "".join(l for l in text.splitlines(True)
                       if l.split("=")[0].strip() not in self.keys)
        text += "# --- system test ---\n"
        text += "".join("%s = %s\n" % kv for kv in self.keys.items())
        with open(path, "w") as f:
            f.write(text)
        # the server refuses a password in a file others may read
        if any("auth=" in v for v in self.keys.values()):
            os.chmod(path, 0o600)

    def launch(self, services=None):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        self.proc = subprocess.Popen(
            [binary(), "serve", "-d", self.dir],
            stdout=open(self.stdout_path, "w"), stderr=open(self.stderr_path, "w"),
            stdin=subprocess.DEVNULL, env=env)
        self.wait_listening(services)

    def listening_services(self):
        """The services the server says it listens on (from its stdout)."""
        with open(self.stdout_path) as f:
            return [l.split()[1] for l in f if l.strip().startswith("listening:")]

    def wait_listening(self, services=None, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("maillab serve exited %d:\n%s" %
                                     (self.proc.returncode, self.stderr()))
            names = self.listening_services()
            if names and all(self.accepts(n) for n in (services or names)):
                # Let the server see the probes go, so that they do not
                # count against connection limits.
                time.sleep(0.3)
                return
            time.sleep(0.05)
        raise AssertionError("maillab serve did not start listening:\n" + self.stderr())

    def accepts(self, service):
        try:
            socket.create_connection((self.host, self.ports[service]), 1).close()
            return True
        except OSError:
            return False

    def port(self, service):
        return self.ports[service]

    def password(self, user):
        return self.passwords[user]

    def maildir(self, user):
        return os.path.join(self.dir, "mail", user)

    def inbox_messages(self, user):
        """Every message in USER's INBOX, read over IMAP, as email objects."""
        m = imaplib.IMAP4(self.host, self.port("imap"))
        try:
            m.login(user, self.password(user))
            m.select("INBOX")
            return [email.message_from_bytes(m.fetch(num, "(RFC822)")[1][0][1])
                    for num in m.search(None, "ALL")[1][0].split()]
        finally:
            m.logout()

    @property
    def cafile(self):
        return os.path.join(self.dir, "tls", "cert.pem")

    def tls_context(self):
        ctx = ssl.create_default_context(cafile=self.cafile)
        ctx.check_hostname = True
        return ctx

    def stderr(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def log(self):
        with open(os.path.join(self.dir, "log", "maillab.log"), errors="replace") as f:
            return f.read()

    def traces(self):
        d = os.path.join(self.dir, "log", "trace")
        out = {}
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name), errors="replace") as f:
                out[name] = f.read()
        return out

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)

    def assert_alive(self):
        if self.proc.poll() is not None:
            raise AssertionError("maillab serve died (exit %s):\n%s" %
                                 (self.proc.returncode, self.stderr()))
        self.assert_no_sanitizer_report()

    def assert_no_sanitizer_report(self):
        err = self.stderr()
        for mark in SANITIZER_MARKS:
            if mark in err:
                raise AssertionError("sanitizer report:\n" + err)

    def stop(self, expect_code=0):
        """SIGTERM and wait; asserts the exit code and a clean stderr."""
        if self.proc is None:
            return ""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("maillab serve did not stop on SIGTERM")
        self.proc = None
        err = self.stderr()
        try:
            if expect_code is not None and code != expect_code:
                raise AssertionError("maillab serve exited %d:\n%s" % (code, err))
            for mark in SANITIZER_MARKS:
                if mark in err:
                    raise AssertionError("sanitizer report:\n" + err)
        finally:
            if os.environ.get("MAILLAB_KEEP") != "1":
                shutil.rmtree(self.root, ignore_errors=True)
        return err


def recv_until(sock, marker, limit=1 << 20, timeout=10):
    """Reads from a socket until `marker` (bytes) has arrived; returns all."""
    sock.settimeout(timeout)
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        if len(data) > limit:
            break
    return data
