"""The layering of DESIGN.md "Layout", checked on the source tree: which
directory may include which, and that `cmd-` names only protocol command
handlers (issue 10, first item)."""
import os
import re
import unittest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# What each directory may include from the project, besides itself.
ALLOWED = {
    "common": set(),
    "maildir": {"common"},
    "smtpd": {"common", "maildir"},
    "pop3d": {"common", "maildir"},
    "imapd": {"common", "maildir"},
    "cli": {"common", "maildir", "smtpd", "pop3d", "imapd"},
}
PROTOCOLS = ("smtpd", "pop3d", "imapd")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z0-9_]+)/', re.M)


def sources(d):
    for name in sorted(os.listdir(os.path.join(TOP, d))):
        if name.endswith((".c", ".h")):
            yield name, os.path.join(TOP, d, name)


class Layers(unittest.TestCase):
    def test_no_layer_includes_one_above(self):
        bad = []
        for d, allowed in ALLOWED.items():
            for name, path in sources(d):
                with open(path, encoding="utf-8") as f:
                    for inc in INCLUDE.findall(f.read()):
                        if inc != d and inc not in allowed:
                            bad.append("%s/%s includes %s/" % (d, name, inc))
        self.assertEqual(bad, [])

    def test_cmd_prefix_only_in_protocol_directories(self):
        bad = [d + "/" + name for d in ALLOWED if d not in PROTOCOLS
               for name, _ in sources(d) if name.startswith("cmd-")]
        self.assertEqual(bad, [])

    def test_main_is_dispatch_only(self):
        with open(os.path.join(TOP, "main.c"), encoding="utf-8") as f:
            incs = set(INCLUDE.findall(f.read()))
        self.assertEqual(incs, {"cli"})


if __name__ == "__main__":
    unittest.main()
