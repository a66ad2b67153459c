#!/usr/bin/env python3
"""Writes the hand-made seeds of the fuzz corpora (tests/fuzz/corpus-NAME/
seed-*).  Inputs the fuzzer found (named by their SHA-1) and crashers
(crash-*) live next to them and are not touched.  Run from the repository
root: python3 tests/fuzz/make-seeds.py"""
import base64
import os

ROOT = 'tests/fuzz'


def b(s):
    return s.encode('latin-1') if isinstance(s, str) else s


def write(target, name, data):
    d = os.path.join(ROOT, 'corpus-' + target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'seed-' + name), 'wb') as f:
        f.write(b(data))


def b64(s):
    return base64.b64encode(b(s)).decode()


# ---- smtp-address: flags byte (1 null ok, 2 postmaster ok, 4 utf8) + text
addr = {
    'simple': '<alice@lab.test>',
    'null': '<>',
    'postmaster': '<Postmaster>',
    'quoted': '<"a b\\"c"@lab.test>',
    'route': '<@a.example,@b.example:alice@lab.test>',
    'ipv4': '<alice@[192.0.2.1]>',
    'ipv6': '<alice@[IPv6:2001:db8::1]>',
    'tag': '<alice@[x-tag:some-content]>',
    'utf8': '<j\u00f6rg@b\u00fccher.example>'.encode('utf-8'),
    'params': '<alice@lab.test> SIZE=1000 BODY=8BITMIME RET=HDRS '
              'ENVID=abc+2Bdef AUTH=<>',
    'rcpt-params': '<bob@lab.test> NOTIFY=SUCCESS,FAILURE '
                   'ORCPT=rfc822;bob+40lab.test',
    'long-local': '<' + 'l' * 65 + '@lab.test>',
    'long-domain': '<a@' + ('d' * 63 + '.') * 4 + 'x>',
    'no-close': '<alice@lab.test',
    'bad-xtext': '<a@b.c> ENVID=ab+2x',
}
for name, text in addr.items():
    write('smtp-address', name, bytes([7]) + b(text))
write('smtp-address', 'strict-null', b'\x00<>')
# issue 10: the pre-authentication stack overflow in smtp_path_parse, fixed
# on main; totals of 257..320 octets
for total in (257, 258, 264, 288, 300, 320):
    head = '<"' + 'q' * 60 + '"@[IPv7:5'
    n = total - len(head) - 2
    text = head + '(' * n + ']>'
    assert len(text) == total
    write('smtp-address', 'issue10-overflow-%d' % total, bytes([7]) + b(text))
    write('smtp-address', 'issue10-overflow-%d-strict' % total,
          bytes([0]) + b(text))

# ---- sasl: lines
sasl = {
    'plain-ir': 'PLAIN ' + b64('\0alice\0secret'),
    'plain-authzid': 'PLAIN ' + b64('alice\0alice\0secret'),
    'plain-empty-ir': 'PLAIN =',
    'plain-challenge': 'PLAIN\n' + b64('\0bob\0pw'),
    'login': 'LOGIN\n' + b64('alice') + '\n' + b64('secret'),
    'login-ir': 'LOGIN ' + b64('alice') + '\n' + b64('secret'),
    'cancel': 'LOGIN\n*',
    'bad-b64': 'PLAIN\nAG=h',
    'bad-pad': 'PLAIN AGFsaWNlAHNlY3JldA=',
    'no-nul': 'PLAIN ' + b64('alicesecret'),
    'unknown': 'CRAM-MD5\nPLAIN ' + b64('\0a\0b'),
    'long': 'PLAIN ' + b64('\0' + 'u' * 300 + '\0' + 'p' * 600),
    'two': 'PLAIN ' + b64('\0a\0b') + '\nlogin\n' + b64('x') + '\n' + b64('y'),
}
for name, text in sasl.items():
    write('sasl', name, text)

# ---- config
conf = {
    'empty': '',
    'comments': '# a comment\n\n   # indented\nhostname = mx.lab.test # trailing\n',
    'domains': 'domains = lab.test, example.org\n',
    'listen': 'listen = 127.0.0.1, ::1\n',
    'ports': 'ports = standard\n',
    'ports-unpriv': 'ports = unprivileged\n',
    'numbers': 'max_message_size = 25M\nmax_recipients = 100\n'
               'max_imap_line = 64k\nauth_fail_delay_ms = 0\n',
    'bools': 'smtp_vrfy = yes\nsmtp_expn = no\ntrace = true\n'
             'allow_plaintext_auth = off\n',
    'strings': 'run_as = maillab\ntls_cert = /x/cert.pem\n'
               'smtp_subaddress_separator = +\nlog_file = /tmp/x.log\n',
    'duplicate': 'hostname = a\nhostname = b\n',
    'unknown': 'no_such_key = 1\n',
    'no-eq': 'hostname\n',
    'crlf': 'hostname = mx.lab.test\r\nsmtp_vrfy = yes\r\n',
    'overflow': 'max_message_size = 99999999999999999999999G\n',
    'bad-host': 'hostname = -bad-.example\n',
}
for name, text in conf.items():
    write('config', name, text)

# ---- linereader / datareader: parameter bytes then the stream
lines = b'EHLO client.example\r\nMAIL FROM:<a@b>\r\nbare\nlf\r\nCR\rhere\r\n' \
        b'NUL\x00byte\r\n' + b'x' * 600 + b'\r\nend'
for i, params in enumerate([b'\xff\x00\x00\x00', b'\xff\x01\x00\x07',
                            b'\x07\x00\x01\x03', b'\x07\x81\x12\x34',
                            b'\x00\x00\x00\x01', b'\x10\x01\xff\xff']):
    write('linereader', 'mixed-%d' % i, params + lines)
write('linereader', 'split-crlf', b'\xff\x00\x00\x08' + b'a\r' + b'\nb\r\r\n')
body = b'Subject: x\r\n\r\n..leading dot\r\n.\r\n' \
       b'after terminator\r\n'
bodies = {
    'simple': body,
    'smuggle': b'a\r\n\n.\n\r\n.\rX\r\nb\r\n.\r\n',
    'dot-cr': b'.\rx\r\n.\r\n',
    'empty': b'.\r\n',
    'unfinished': b'line\r\n.',
    'eightbit': b'caf\xc3\xa9 \x00nul\r\n' + b'y' * 1200 + b'\r\n.\r\n',
    'bare-cr': b'a\rb\r\n\r\r\n.\r\n',
}
for name, data in bodies.items():
    write('datareader', name, b'\xff\xff\xff\x00\x00\x00' + data)
    write('datareader', name + '-chunked', b'\x02\x10\x03\x01\x02\x03' + data)

# ---- imap-parser: options byte then commands
imap_cmds = {
    'login': b'a1 LOGIN alice "sec\\"ret"\r\n',
    'login-literal': b'a1 LOGIN {5}\r\nalice {6+}\r\nsecret\r\n',
    'select': b'a SELECT INBOX\r\nb EXAMINE "Sent"\r\nc SELECT &AMk-t&AOk-\r\n',
    'list': b'a LIST "" *\r\nb LSUB "" %\r\nc LIST "" "INBOX.%"\r\n',
    'fetch': b'a FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE ENVELOPE)\r\n'
             b'b UID FETCH 2,4:* (BODY.PEEK[HEADER.FIELDS (From To)]<0.100>'
             b' BODY[1.2.MIME] BODYSTRUCTURE)\r\nc FETCH *:3 ALL\r\n',
    'fetch-sections': b'a FETCH 1 (BODY[] BODY[TEXT] BODY[1] BODY[2.HEADER] '
                      b'BODY[HEADER.FIELDS.NOT (Subject)] RFC822.HEADER '
                      b'RFC822 RFC822.TEXT)\r\n',
    'search': b'a SEARCH CHARSET UTF-8 OR FROM "bob" NOT SEEN (SINCE 1-Jan-2020 '
              b'LARGER 100) UID 1:5 HEADER Subject {3}\r\nfoo\r\n',
    'search-all': b'a UID SEARCH ALL ANSWERED DELETED DRAFT FLAGGED NEW OLD '
                  b'RECENT UNSEEN KEYWORD foo UNKEYWORD bar BEFORE "2-Feb-2021" '
                  b'SENTON 3-Mar-2022 BODY x TEXT y TO z CC w BCC v SMALLER 5\r\n',
    'store': b'a STORE 1:2 +FLAGS (\\Seen \\Deleted kw)\r\n'
             b'b UID STORE 3 -FLAGS.SILENT \\Flagged\r\n',
    'append': b'a APPEND INBOX (\\Seen) "05-Dec-2026 12:00:00 +0100" {11}\r\n'
              b'Subject: x\n\r\n',
    'append-plain': b'a APPEND Drafts {4+}\r\nbody\r\n',
    'copy-rename': b'a COPY 1:3 Trash\r\nb RENAME Sent Old\r\n'
                   b'c STATUS INBOX (MESSAGES UIDNEXT)\r\n',
    'auth': b'a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n',
    'bad': b'a FETCH 0 (BODY[1.0])\r\n* NOOP\r\na+ X\r\na FETCH 1 (BODY[)\r\n'
           b'a {99999999999}\r\n',
    'nested': b'a SEARCH ' + b'(' * 70 + b'ALL' + b')' * 70 + b'\r\n',
    'condstore': b'a SELECT INBOX (CONDSTORE)\r\n'
                 b'b EXAMINE INBOX (QRESYNC (67890007 20050715194045000 '
                 b'41,43:211,214:541 (1:5,7 41,43:46,48)))\r\n'
                 b'c UID FETCH 300:500 (FLAGS MODSEQ) (CHANGEDSINCE 12 '
                 b'VANISHED)\r\nd STORE 1:* (UNCHANGEDSINCE 0) +FLAGS.SILENT '
                 b'(\\Deleted)\r\ne SEARCH MODSEQ "/flags/\\\\draft" all 620162338\r\n'
                 b'f FETCH 1 (FLAGS) (CHANGEDSINCE 9223372036854775808)\r\n'
                 b'g SELECT INBOX (QRESYNC (1 0 1:*))\r\n',
    'search-return': b'a SEARCH RETURN (MIN MAX ALL COUNT SAVE) CHARSET UTF-8 '
                     b'FROM x\r\nb UID SEARCH RETURN () UID $\r\n'
                     b'c FETCH $ (FLAGS)\r\nd UID STORE $ +FLAGS \\Seen\r\n'
                     b'e COPY $,1 X\r\nf SEARCH OR $ 2:3\r\n',
    'sort-thread': b'a SORT (REVERSE SUBJECT DATE) UTF-8 ALL\r\n'
                   b'b UID SORT RETURN (MIN) (DISPLAYFROM) US-ASCII 1:*\r\n'
                   b'c THREAD REFERENCES UTF-8 NOT DELETED\r\n'
                   b'd UID THREAD ORDEREDSUBJECT UTF-8 $\r\n',
    'sort-return': b'a SORT RETURN (UPDATE PARTIAL 9:2) (SUBJECT) UTF-8 ALL\r\n'
                   b'b UID SORT RETURN (MIN PARTIAL 1:1 COUNT) (DATE) UTF-8 '
                   b'ALL\r\nc SORT RETURN () (SIZE) UTF-8 ALL\r\n'
                   b'd SORT RETURN (PARTIAL 1:*) (ARRIVAL) UTF-8 ALL\r\n'
                   b'e SORT RETURN (PARTIAL 4294967295:1) (TO) UTF-8 ALL\r\n'
                   b'f SEARCH RETURN (ALL PARTIAL 1:2) ALL\r\n'
                   b'g SEARCH RETURN (PARTIAL 1:2:3) ALL\r\n',
}
for name, text in imap_cmds.items():
    write('imap-parser', name, b'\x28' + text)
    write('imap-parser', name + '-small', b'\x07' + text)

# ---- header
hdrs = {
    'simple': 'From: Bob <bob@lab.test>\r\nTo: alice@lab.test\r\n'
              'Subject: hi\r\nDate: Sat, 05 Dec 2026 12:00:00 +0100\r\n\r\nbody\r\n',
    'groups': 'To: Team: a@x, "B, C" <b@y>;, Empty:;\r\nCc: (comment) '
              '<@route,@r2:c@z>\r\nFrom: =?UTF-8?B?w6k=?= <e@x>\r\n\r\n',
    'folded': 'Subject: a\r\n folded\r\n\tline\r\nFrom:\r\n x@y\r\n\r\n',
    'obsolete-date': 'Date: 5 Dec 26 12:00 EST\r\nDate: Tue, 1 Jan 2030 '
                     '25:61:61 -9999\r\n\r\n',
    'date-comment': 'Date: (c) Sat (x), 5 (y) Dec 2026 12:00:00 (z) GMT\r\n\r\n',
    'content': 'Content-Type: text/plain; charset="us-ascii"; '
               'name*0*=utf-8\'\'a%20b; name*1=c\r\nContent-Disposition: '
               'attachment; filename="x.txt"\r\nContent-Language: en, fr\r\n'
               'Content-Transfer-Encoding: base64\r\n\r\nYWJj\r\n',
    'lf-only': 'From: a@b\nTo: c@d\nSubject: lf\n\nbody\n',
    'no-blank': 'From: a@b\r\nnot a field line\r\nTo: x\r\n',
    'bad-addresses': 'From: <>, @, "unterminated, <a@b, a@@b, (((\r\n'
                     'Reply-To: ;;;,,, <\r\nSender: a@[1.2.3.4]\r\n\r\n',
    'message-id': 'Message-ID: <x@y>\r\nIn-Reply-To: <a@b> <c@d>\r\n'
                  'Bcc:\r\n\r\n',
    'ws-name': 'From : a@b\r\nSUBJECT\t: x\r\n\r\n',
}
for name, text in hdrs.items():
    write('header', name, text)

# ---- sort: header blocks separated by NUL, one message each
sort_msgs = {
    'thread': 'Message-ID: <1@x>\r\nSubject: hello\r\n\0'
              'Message-ID: <2@x>\r\nReferences: <1@x> <3@x>\r\n'
              'Subject: Re: hello\r\n\0Message-ID: <3@x>\r\n'
              'In-Reply-To: <2@x>\r\nSubject: [list] Fwd: hello (fwd)\r\n\0'
              'Message-ID: <1@x>\r\nReferences: <gone@x>\r\n\0'
              'References: <gone@x>\r\nSubject: hello\r\n',
    'subjects': 'Subject: Re: [list] Fwd: Re[2]: x (fwd)\r\n\0'
                'Subject: =?utf-8?b?UmU6IGjDqQ==?=\r\n\0'
                'Subject: [fwd: [fwd: re: x]]\r\n\0Subject: [xyz]\r\n\0'
                'Subject: re:\r\n  \tfw: (fwd) (fwd)\r\n',
    'addresses': 'From: Zed <z@x>\r\nTo: g: a@b, c@d;\r\nCc: (c) <e (f)@ g>\r\n'
                 'Date: Fri, 22 Feb 2008 00:00:00 +0200\r\n\0'
                 'From: =?iso-8859-1?q?=C9mile?= <e@x>\r\nDate: garbage\r\n\0'
                 'From: d\r\nTo: <>\r\n',
    'loops': 'Message-ID: <a@b>\r\nReferences: <b@b> <a@b>\r\n\0'
             'Message-ID: <b@b>\r\nReferences: <a@b> <b@b> <a@b>\r\n\0'
             'Message-ID: <c@b>\r\nIn-Reply-To: <c@b>\r\n',
    'junk': '\0\0Subject\r\n\0: x\0Subject: [\0Subject: ]]][[[ re: \xff\xfe\r\n'
            '\0References: <<<@>>> <a@b <c@d>> (<e@f>\r\n',
}
for name, text in sort_msgs.items():
    write('sort', name, text)

# ---- sessions: options byte, two chunk-seed bytes, the client's bytes;
# 0x10 in the options puts the client on loopback (where plaintext logins
# are allowed), the seeds named -remote are not
def sess(target, name, text, opts=0x10, seed=(0, 0)):
    write(target, name, bytes([opts, seed[0], seed[1]]) + b(text))


def sess_all(target, name, text, opts=0x10):
    sess(target, name, text, opts)
    sess(target, name + '-chunked', text, opts, (0x12, 0x34))


PLAIN = b64('\0alice\0secret')
smtp = {
    'delivery': 'EHLO client.example\r\nMAIL FROM:<bob@example.org> SIZE=100\r\n'
                'RCPT TO:<alice@lab.test>\r\nRCPT TO:<bob@lab.test>\r\nDATA\r\n'
                'Subject: x\r\n\r\n..dot\r\nbody\r\n.\r\nQUIT\r\n',
    'bdat': 'EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<alice+Sent@lab.test>\r\n'
            'BDAT 12\r\nSubject: x\r\nBDAT 6 LAST\r\n\r\nbody\r\nQUIT\r\n',
    'bdat-zero': 'EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@lab.test>\r\n'
                 'BDAT 0\r\nBDAT 0 LAST\r\nRSET\r\n',
    'auth-plain': 'EHLO c\r\nAUTH PLAIN ' + PLAIN + '\r\nMAIL FROM:<alice@lab.test>'
                  '\r\nRCPT TO:<bob@lab.test>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n',
    'auth-login': 'EHLO c\r\nAUTH LOGIN\r\n' + b64('alice') + '\r\n' +
                  b64('secret') + '\r\nAUTH LOGIN\r\n*\r\nQUIT\r\n',
    'starttls': 'EHLO c\r\nSTARTTLS\r\nMAIL FROM:<dropped@x>\r\nEHLO c\r\n'
                'AUTH PLAIN ' + PLAIN + '\r\nQUIT\r\n',
    'misc': 'HELO c\r\nVRFY alice\r\nEXPN list\r\nNOOP x\r\nHELP\r\nRSET\r\n'
            'XYZZY\r\nMAIL FROM:<a@b> BODY=8BITMIME SMTPUTF8\r\n'
            'RCPT TO:<Postmaster>\r\nRCPT TO:<nobody@lab.test>\r\n'
            'RCPT TO:<x@elsewhere.example>\r\nDATA\r\n.\r\nQUIT\r\n',
    'errors': 'MAIL FROM:<a@b>\r\nEHLO\r\n' + 'X' * 600 + '\r\nDATA\r\n'
              'EHLO c\r\nRCPT TO:<a@b>\r\nMAIL FROM:<a@b> SIZE=999999999\r\n'
              'MAIL FROM:a@b\r\nBDAT x\r\nAUTH FOO\r\n',
    'issue10': 'EHLO c\r\nMAIL FROM:<"' + 'q' * 60 + '"@[IPv7:5' + '(' * 200 +
               ']>\r\nMAIL FROM:<ok@lab.test>\r\nQUIT\r\n',
    'bare-lf': 'EHLO c\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@lab.test>\r\nDATA\r\n'
               'a\n.\nb\r\n.\r\n',
}
for name, text in smtp.items():
    sess_all('smtp-session', name, text)
sess('smtp-session', 'remote', smtp['auth-plain'], opts=0)
sess('smtp-session', 'submission', 'EHLO c\r\nSTARTTLS\r\nEHLO c\r\nAUTH PLAIN '
     + PLAIN + '\r\nMAIL FROM:<alice@lab.test>\r\nRCPT TO:<x@example.org>\r\n'
     'DATA\r\nhi\r\n.\r\n', opts=0x11)
sess('smtp-session', 'submissions-timeout', 'EHLO c\r\nAUTH PLAIN ' + PLAIN +
     '\r\nMAIL FROM:<alice@lab.test>\r\n', opts=0x12 | 4)
sess('smtp-session', 'shutdown', 'EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:'
     '<alice@lab.test>\r\nDATA\r\npartial', opts=0x18)

pop3 = {
    'retr': 'USER alice\r\nPASS secret\r\nSTAT\r\nLIST\r\nUIDL\r\nRETR 1\r\n'
            'TOP 2 1\r\nDELE 1\r\nRSET\r\nDELE 3\r\nQUIT\r\n',
    'auth': 'CAPA\r\nAUTH PLAIN ' + PLAIN + '\r\nLIST 2\r\nUIDL 3\r\nRETR 9\r\n'
            'NOOP\r\nQUIT\r\n',
    'auth-login': 'AUTH LOGIN\r\n' + b64('alice') + '\r\n' + b64('secret') +
                  '\r\nSTAT\r\nQUIT\r\n',
    'apop': 'APOP alice 0123456789abcdef0123456789abcdef\r\nUSER bob\r\n'
            'PASS wrong\r\nPASS secret\r\nQUIT\r\n',
    'stls': 'STLS\r\nUSER alice\r\nCAPA\r\nUSER alice\r\nPASS secret\r\nLAST\r\n'
            'RETR 2\r\nQUIT\r\n',
    'errors': 'RETR 1\r\nUSER\r\nPASS x\r\n' + 'A' * 300 + '\r\nTOP\r\n'
              'USER alice\r\nPASS secret\r\nTOP 1 -1\r\nDELE 0\r\nLIST 4294967296'
              '\r\nRETR 1 2\r\nXTND\r\n',
}
for name, text in pop3.items():
    sess_all('pop3-session', name, text)
sess('pop3-session', 'remote', pop3['retr'], opts=0)
sess('pop3-session', 'pop3s-timeout', 'USER alice\r\nPASS secret\r\nRETR 2\r\n',
     opts=0x11 | 4)

imap = {
    'select-fetch': 'a LOGIN alice secret\r\nb SELECT INBOX\r\nc FETCH 1:* '
                    '(FLAGS UID RFC822.SIZE ENVELOPE BODYSTRUCTURE)\r\n'
                    'd FETCH 2 (BODY[1] BODY.PEEK[2.HEADER] BODY[2.TEXT]<2.5> '
                    'BODY[HEADER.FIELDS (Subject)])\r\ne LOGOUT\r\n',
    'store-expunge': 'a LOGIN alice secret\r\nb SELECT INBOX\r\nc STORE 1 +FLAGS '
                     '(\\Deleted)\r\nd UID STORE 2:* FLAGS (\\Seen kw)\r\n'
                     'e EXPUNGE\r\nf CLOSE\r\ng LOGOUT\r\n',
    'append': 'a LOGIN alice secret\r\nb APPEND INBOX (\\Seen) {20}\r\n'
              'Subject: new\r\n\r\nhi\r\nc APPEND Drafts {3+}\r\nx\n\r\n'
              'd SELECT INBOX\r\ne FETCH 4 BODY[]\r\n',
    'folders': 'a LOGIN alice secret\r\nb CREATE Work/2026\r\nc LIST "" *\r\n'
               'd RENAME Work Play\r\ne LSUB "" %\r\nf SUBSCRIBE Play\r\n'
               'g STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)\r\n'
               'h DELETE Play/2026\r\ni UNSUBSCRIBE Sent\r\n',
    'search-copy': 'a LOGIN alice secret\r\nb EXAMINE INBOX\r\nc SEARCH OR '
                   'FROM bob SUBJECT caf\xc3\xa9\r\nd UID SEARCH 1:* NOT DELETED\r\n'
                   'e COPY 1:2 Trash\r\nf UID COPY 1 Sent\r\ng CHECK\r\n',
    'authenticate': 'a AUTHENTICATE PLAIN\r\n' + PLAIN + '\r\nb SELECT "INBOX"\r\n'
                    'c IDLE\r\nDONE\r\nd NOOP\r\n',
    'authenticate-ir': 'a CAPABILITY\r\nb AUTHENTICATE LOGIN ' + b64('alice') +
                       '\r\n' + b64('secret') + '\r\nc NAMESPACE\r\n',
    'starttls': 'a STARTTLS\r\nb LOGIN dropped x\r\nc LOGIN alice secret\r\n'
                'd SELECT INBOX\r\n',
    'list-extended': 'a LOGIN alice secret\r\nb CREATE Work/2026\r\n'
                     'c SUBSCRIBE Work/2026\r\nd SUBSCRIBE Gone/x\r\n'
                     'e LIST (SUBSCRIBED RECURSIVEMATCH) "" (% Work/%) RETURN '
                     '(CHILDREN STATUS (MESSAGES SIZE UNSEEN))\r\n'
                     'f LIST (REMOTE SPECIAL-USE) "" * RETURN (SUBSCRIBED)\r\n'
                     'g STATUS INBOX (SIZE)\r\nh LIST (RECURSIVEMATCH) "" %\r\n'
                     'i LIST "" ("" %\r\n',
    'binary-multiappend': 'a LOGIN alice secret\r\nb APPEND INBOX (\\Seen) {3+}\r\n'
                          'abc ~{4+}\r\nd\x00e\n {2}\r\nhi\r\nc SELECT INBOX\r\n'
                          'd FETCH 1:* (BINARY.SIZE[1] BINARY.PEEK[1]<1.2> '
                          'BINARY[] BINARY.SIZE[2.1])\r\ne FETCH 1 BINARY[1.\r\n',
    'catenate': 'a LOGIN alice secret\r\nb APPEND Sent CATENATE (URL '
                '"/INBOX/;UID=1/;SECTION=HEADER" TEXT {4+}\r\nhi\r\n URL '
                '"/INBOX;UIDVALIDITY=1/;UID=2/;PARTIAL=0.5") CATENATE (TEXT '
                '~{2}\r\nx\n)\r\nc APPEND Sent CATENATE (URL "/%2/;UID=1")\r\n',
    'errors': 'a LOGIN alice wrong\r\n* LOGIN\r\nb SELECT INBOX\r\n'
              'c LOGIN {999999}\r\nd LOGIN {3}\r\nbob {6}\r\nsecret\r\n'
              'e FETCH 1 BODY[\r\n' + 'f ' + 'X' * 5000 + '\r\nLOGOUT\r\n',
    'sort-thread': 'a LOGIN alice secret\r\nb SELECT INBOX\r\n'
                   'c SORT (REVERSE DATE SUBJECT) UTF-8 ALL\r\n'
                   'd UID SORT RETURN (MIN MAX ALL COUNT) (FROM DISPLAYTO) '
                   'US-ASCII NOT SEEN\r\ne THREAD REFERENCES UTF-8 ALL\r\n'
                   'f UID THREAD ORDEREDSUBJECT UTF-8 1:*\r\n'
                   'g SORT (NAME) UTF-8 ALL\r\nh THREAD JWZ UTF-8 ALL\r\n'
                   'i SORT (SIZE) KOI8-R ALL\r\nj SORT (SIZE) ALL\r\n',
    'esearch-searchres': 'a LOGIN alice secret\r\nb SELECT INBOX\r\n'
                         'c FETCH $ UID\r\nd SEARCH RETURN (SAVE) FROM alice\r\n'
                         'e SEARCH RETURN (MIN MAX COUNT ALL) $\r\n'
                         'f UID SEARCH RETURN () UID $\r\ng STORE $ +FLAGS '
                         '(\\Deleted)\r\nh EXPUNGE\r\ni UID FETCH $ FLAGS\r\n'
                         'j SEARCH RETURN (BOGUS SAVE) ALL\r\nk COPY $ Trash\r\n'
                         'l SORT RETURN (SAVE) (SUBJECT) UTF-8 ALL\r\n'
                         'm MOVE $ Trash\r\nn SEARCH FROM "bob@lab.test"\r\n',
}
imap['condstore'] = (
    'a LOGIN alice secret\r\nb ENABLE CONDSTORE QRESYNC\r\n'
    'c SELECT INBOX (CONDSTORE)\r\nd STORE 1 (UNCHANGEDSINCE 1) +FLAGS '
    '(\\Seen)\r\ne UID STORE 1:* (UNCHANGEDSINCE 0) FLAGS.SILENT (kw)\r\n'
    'f FETCH 1:* (FLAGS) (CHANGEDSINCE 1)\r\ng SEARCH MODSEQ 2\r\n'
    'h STORE 2 +FLAGS (\\Deleted)\r\ni EXPUNGE\r\n'
    'j UID FETCH 1:* (UID) (CHANGEDSINCE 1 VANISHED)\r\n'
    'k STATUS INBOX (HIGHESTMODSEQ)\r\n'
    'l SELECT INBOX (QRESYNC (1 1 1:9 (1:2 1:2)))\r\n')
imap['qresync-bad'] = (
    'a LOGIN alice secret\r\nb SELECT INBOX (QRESYNC (1 1))\r\n'
    'c FETCH 1 (FLAGS) (CHANGEDSINCE 0)\r\nd ENABLE QRESYNC\r\n'
    'e SELECT INBOX (QRESYNC (1 9223372036854775808))\r\n'
    'f SELECT INBOX (QRESYNC (1 1 1:3 (1:2 1)))\r\n'
    'g UID FETCH 1:* (FLAGS) (VANISHED)\r\nh NOOP\r\n')
imap['context-search'] = (
    'a LOGIN alice secret\r\nb SELECT INBOX\r\n'
    'c SEARCH RETURN (UPDATE) SEEN\r\nd UID SEARCH RETURN (UPDATE ALL) ALL\r\n'
    'e STORE 1:2 +FLAGS (\\Seen)\r\nf STORE 1 +FLAGS (\\Deleted)\r\n'
    'g EXPUNGE\r\nh CANCELUPDATE "c" "zz"\r\ni CANCELUPDATE "d"\r\n'
    'j SEARCH RETURN (PARTIAL 2:1) ALL\r\nk SEARCH RETURN (PARTIAL 1:*) ALL\r\n'
    'l SEARCH RETURN (PARTIAL 0:4294967295 COUNT) ALL\r\n'
    'm SEARCH RETURN (UPDATE SAVE) ALL\r\nn UNSELECT\r\no CANCELUPDATE "d"\r\n')
imap['context-sort'] = (
    'a LOGIN alice secret\r\nb SELECT INBOX\r\n'
    'c SORT RETURN (UPDATE) (REVERSE SUBJECT SIZE) UTF-8 SEEN\r\n'
    'd UID SORT RETURN (UPDATE PARTIAL 3:1) (ARRIVAL) UTF-8 ALL\r\n'
    'e STORE 1:2 +FLAGS (\\Seen)\r\n'
    'f APPEND INBOX (\\Seen) {20+}\r\nSubject: a\r\n\r\nbody\r\n\r\n'
    'g NOOP\r\nh STORE 1 +FLAGS (\\Deleted)\r\ni EXPUNGE\r\n'
    'j CANCELUPDATE "c" "d"\r\nk SORT RETURN (PARTIAL 2:9) (DATE) UTF-8 ALL\r\n'
    'l SORT RETURN (PARTIAL 1:*) (DATE) UTF-8 ALL\r\n'
    'm SORT RETURN (PARTIAL 0:4294967295 COUNT) (TO) UTF-8 ALL\r\n'
    'n SORT RETURN (UPDATE SAVE) (CC) UTF-8 ALL\r\n'
    'o SORT RETURN (ALL PARTIAL 1:2) (FROM) UTF-8 ALL\r\n'
    'p UNSELECT\r\nq CANCELUPDATE "d"\r\n')
for name, text in imap.items():
    sess_all('imap-session', name, text)
sess('imap-session', 'remote', imap['select-fetch'], opts=0)
sess('imap-session', 'imaps-shutdown', 'a LOGIN alice secret\r\nb SELECT INBOX\r\n'
     'c FETCH 1:* FULL\r\n', opts=0x11 | 8)

# ---- config-dns: lines "NAME = TYPE DATA" (the `dns` key of maillab.conf)
dnsconf = {
    'readme': 'b.test = MX 10 mx.b.test\nb.test = MX 20 backup.b.test\n'
              'mx.b.test = A 127.0.0.1\nmx.b.test = AAAA ::1\n'
              'b.test = TXT "v=spf1 ip4:127.0.0.1 -all"\n'
              'nomail.test = MX 0 .\n',
    'case-dot': 'B.Test. = mx 5 MX.B.TEST\nb.test = a 192.0.2.1\n',
    'txt-escapes': 'c.test = TXT "a \\"quoted\\" \\\\ text"\nc.test = TXT bare text\n',
    'bad': 'x = MX\n-a.test = A 1.2.3.4\na.test = CNAME b.test\n'
           'a.test = MX 70000 h.test\nn.test = MX 0 .\nn.test = MX 10 h.test\n'
           'a.test = AAAA 1.2.3.4\na.test = TXT "open\n',
    'below': 'lab.test = A 127.0.0.1\nsub.lab.test = MX 1 lab.test\n',
}
for name, text in dnsconf.items():
    write('config-dns', name, text)


# ---- dns-answer: DNS responses (RFC 1035 4.1) as the resolver returns them
def dns_name(name):
    out = b''
    for label in name.split('.'):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b'\0'


def dns_msg(qname, qtype, answers, flags=0x8180):
    """answers: (type, rdata) for the question's name (pointer 0xc00c)."""
    head = (0x1234).to_bytes(2, 'big') + flags.to_bytes(2, 'big') + \
        (1).to_bytes(2, 'big') + len(answers).to_bytes(2, 'big') + bytes(4)
    body = dns_name(qname) + qtype.to_bytes(2, 'big') + b'\0\1'
    for rtype, rdata in answers:
        body += b'\xc0\x0c' + rtype.to_bytes(2, 'big') + b'\0\1' + \
            (300).to_bytes(4, 'big') + len(rdata).to_bytes(2, 'big') + rdata
    return head + body


def mx_rdata(pref, host):
    return pref.to_bytes(2, 'big') + dns_name(host)


MX, A, AAAA, CNAME = 15, 1, 28, 5
write('dns-answer', 'mx-two', dns_msg('b.test', MX, [
    (MX, mx_rdata(20, 'backup.b.test')), (MX, mx_rdata(10, 'mx.b.test'))]))
write('dns-answer', 'mx-null', dns_msg('nomail.test', MX, [(MX, mx_rdata(0, ''))]))
# the exchange compressed: a pointer to the question's name
write('dns-answer', 'mx-compressed', dns_msg('b.test', MX, [
    (MX, (10).to_bytes(2, 'big') + b'\x02mx\xc0\x0c')]))
write('dns-answer', 'mx-cname', dns_msg('alias.test', MX, [
    (CNAME, dns_name('b.test')), (MX, mx_rdata(5, 'mx.b.test'))]))
write('dns-answer', 'a-two', dns_msg('mx.b.test', A, [
    (A, bytes([127, 0, 0, 1])), (A, bytes([192, 0, 2, 1]))]))
write('dns-answer', 'aaaa', dns_msg('mx.b.test', AAAA, [(AAAA, bytes(15) + b'\1')]))
write('dns-answer', 'nodata', dns_msg('b.test', MX, []))
write('dns-answer', 'truncated', dns_msg('b.test', MX, [
    (MX, mx_rdata(10, 'mx.b.test'))])[:-5])
