"""`make interop`: Dovecot's imaptest scripted test groups against a fresh
maillab instance.

    python3 tests/interop/run.py --binary build/maillab --imaptest PATH [--stress]

Starts a temporary instance on free ports (tests/system/fixture.py), adds
the scratch user `imaptest` (every group deletes and recreates its
`imaptest*` folders), then runs tests/interop/run-compliance.sh, which prints
PASS/FAIL/SKIP per group and `imaptest: P/T groups passed`.  With --stress it
runs imaptest's stress mode instead (clients=10 secs=30 unless STRESS_ARGS
says otherwise) and prints imaptest's own totals.  Environment variables of
run-compliance.sh (ONLY, DETAILS, RAWLOG, OUT) pass through; per-group logs
go to build-interop/results/ unless OUT says otherwise.
"""
import argparse
import os
import secrets
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "system"))
import fixture  # noqa: E402

USER = "imaptest"


def add_user(inst, name):
    password = secrets.token_hex(12)
    fixture.run_cli("user", "add", "-d", inst.dir, name, "--password-stdin",
                    stdin=password + "\n")
    return password


def run_compliance(imaptest, inst, password):
    env = dict(os.environ)
    env.setdefault("OUT", os.path.abspath("build-interop/results"))
    return subprocess.call(["bash", os.path.join(HERE, "run-compliance.sh"),
                            imaptest, inst.host, str(inst.port("imap")),
                            USER, password], env=env)


def run_stress(imaptest, inst, password):
    args = os.environ.get("STRESS_ARGS", "clients=10 secs=30").split()
    cmd = [imaptest, "host=" + inst.host, "port=%d" % inst.port("imap"),
           "user=" + USER, "pass=" + password, "mbox=" +
           os.path.join(os.path.dirname(imaptest), "tests", "default.mbox"), *args]
    shown = [a if not a.startswith("pass=") else "pass=..." for a in cmd]
    print("# " + " ".join(shown), flush=True)
    return subprocess.call(cmd, cwd=inst.root)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="build/maillab")
    ap.add_argument("--imaptest", required=True)
    ap.add_argument("--stress", action="store_true")
    args = ap.parse_args()
    os.environ["MAILLAB_BIN"] = os.path.abspath(args.binary)
    inst = fixture.Instance.start(config={"trace": "off"})
    try:
        password = add_user(inst, USER)
        if args.stress:
            rc = run_stress(os.path.abspath(args.imaptest), inst, password)
        else:
            rc = run_compliance(os.path.abspath(args.imaptest), inst, password)
        inst.assert_alive()
    finally:
        inst.stop()
    return rc


if __name__ == "__main__":
    sys.exit(main())
