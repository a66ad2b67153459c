"""A stopping server (SIGTERM) finishes what is under way and begins nothing
new: RFC 5321 3.8's 421 to a new SMTP transaction, while a transaction that
has begun still gets its 250 during shutdown_grace."""
import os
import signal
import smtplib
import socket
import time
import unittest

from fixture import Instance, recv_until

MSG = b"From: alice@lab.test\r\nTo: bob@lab.test\r\nSubject: in flight\r\n\r\nbody\r\n"


class StopWithOpenSessions(unittest.TestCase):
    def test_new_transaction_gets_421_under_way_finishes(self):
        inst = Instance.start(config={"shutdown_grace": "5"})
        self.addCleanup(inst.stop)
        idle = socket.create_connection((inst.host, inst.port("smtp")))
        self.addCleanup(idle.close)
        recv_until(idle, b"\r\n")
        idle.sendall(b"EHLO idle.test\r\n")
        recv_until(idle, b"250 ")
        busy = smtplib.SMTP(inst.host, inst.port("smtp"))
        busy.ehlo("busy.test")
        self.assertEqual(busy.mail("alice@lab.test")[0], 250)
        self.assertEqual(busy.rcpt("bob@lab.test")[0], 250)

        inst.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        # a new transaction: 421 and the connection closes
        idle.sendall(b"MAIL FROM:<alice@lab.test>\r\n")
        reply = recv_until(idle, b"\r\n")
        self.assertTrue(reply.startswith(b"421 4.3.2 "), reply)
        self.assertEqual(recv_until(idle, b"never"), b"")
        # the transaction under way still gets its promise
        self.assertEqual(busy.data(MSG)[0], 250)
        busy.close()
        self.assertEqual(inst.proc.wait(timeout=10), 0)
        box = inst.maildir("bob")
        bodies = [open(os.path.join(box, sub, name), "rb").read()
                  for sub in ("new", "cur")
                  for name in os.listdir(os.path.join(box, sub))]
        self.assertTrue(any(b"Subject: in flight" in m for m in bodies))
        # no new connection is taken
        with self.assertRaises(OSError):
            socket.create_connection((inst.host, inst.port("smtp")), timeout=2)


if __name__ == "__main__":
    unittest.main()
