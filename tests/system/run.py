"""Runs every tests/system/test_*.py and prints `SYSTEM: N passed, N failed`."""
import argparse
import os
import sys
import unittest


class CountingResult(unittest.TextTestResult):
    pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default="build/maillab")
    ap.add_argument("pattern", nargs="?", default="test_*.py")
    args = ap.parse_args()
    os.environ["MAILLAB_BIN"] = os.path.abspath(args.binary)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    suite = unittest.defaultTestLoader.discover(here, pattern=args.pattern,
                                                top_level_dir=here)
    runner = unittest.TextTestRunner(verbosity=2, resultclass=CountingResult,
                                     stream=sys.stderr)
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    # Errors in class or module set-up are not counted in testsRun.
    passed = max(0, result.testsRun - failed - len(result.skipped))
    print("SYSTEM: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
