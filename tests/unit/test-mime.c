/* The MIME tree, sections and the cache encoding, on the corpus of
 * real-world-shaped messages in mime-corpus.h. */
#include <fcntl.h>
#include <unistd.h>

#include "tests/unit/mime-corpus.h"

START_TEST(test_plain)
{
	struct msg m;
	const struct msg_envelope *e;
	const struct msg_part *root;

	msg_load(&m, plain_msg);
	ck_assert_uint_eq(m.p->nparts, 1);
	assert_tree(m.p, "(text/plain charset=us-ascii 7bit L2)");
	root = &m.p->parts[0];
	ck_assert_uint_eq(root->hdr_off, 0);
	ck_assert_uint_eq(root->hdr_size, offset_of(&m, "Hi Bob"));
	ck_assert_uint_eq(root->hdr_wire, root->hdr_size);
	assert_body(&m, 0, "", "Hi Bob,\nare we still on for Friday?\n");
	ck_assert_uint_eq(m.p->size, m.size);
	ck_assert_uint_eq(m.p->wire_size, m.size);
	ck_assert_uint_eq(root->flags, 0);

	ck_assert_uint_eq(root->envelope, 0);
	e = &m.p->envs[0];
	ck_assert_str_eq(S(m.p, e->date), "Fri, 21 Nov 2025 12:30:00 +0100");
	ck_assert_str_eq(S(m.p, e->subject), "Lunch on Friday?");
	ck_assert_str_eq(S(m.p, e->message_id), "<lunch.1@example.org>");
	ck_assert_str_eq(S(m.p, e->in_reply_to), "NIL");
	ck_assert_uint_eq(e->from.count, 1);
	assert_addr(m.p, e->from, 0, "Alice Example", "NIL", "alice",
		    "example.org");
	/* RFC 3501 7.4.2: sender and reply-to default to from */
	assert_addr(m.p, e->sender, 0, "Alice Example", "NIL", "alice",
		    "example.org");
	assert_addr(m.p, e->reply_to, 0, "Alice Example", "NIL", "alice",
		    "example.org");
	ck_assert_uint_eq(e->to.count, 2);
	assert_addr(m.p, e->to, 0, "Bob", "NIL", "bob", "example.net");
	assert_addr(m.p, e->to, 1, "Carol C.", "NIL", "carol", "example.com");
	ck_assert_uint_eq(e->cc.count, 0);
	ck_assert_uint_eq(e->bcc.count, 0);

	/* a non-multipart message has only part 1 */
	assert_section(&m, "1", "Hi Bob,\nare we still on for Friday?\n");
	assert_section(&m, "TEXT", "Hi Bob,\nare we still on for Friday?\n");
	assert_section(&m, "", plain_msg);
	assert_section(&m, "2", NULL);
	assert_section(&m, "1.1", NULL);
	assert_section(&m, "1.HEADER", NULL);
	msg_done(&m);
}
END_TEST

START_TEST(test_alternative)
{
	struct msg m;
	struct buf d = BUF_INIT(BUF_UNLIMITED);
	const struct msg_part *pt;

	msg_load(&m, alt_msg);
	assert_tree(m.p, "(multipart/alternative boundary==_alt_42 7bit L15 "
		    "(text/plain charset=utf-8 quoted-printable L0) "
		    "(text/html charset=utf-8 quoted-printable L1))");
	ck_assert_uint_eq(m.p->parts[0].flags, MSG_PART_MULTIPART);
	ck_assert_uint_eq(m.p->parts[0].nchildren, 2);
	/* the CRLF before a delimiter belongs to the delimiter */
	assert_body(&m, 1, "", "Caf=C3=A9 news");
	assert_body(&m, 2, "", "<p>Caf=C3=A9 news</p>\n");
	pt = &m.p->parts[1];
	ck_assert_uint_eq(pt->hdr_off, offset_of(&m, "Content-Type: text/plain"));
	ck_assert_uint_eq(pt->hdr_off + pt->hdr_size, pt->body_off);
	/* the root body runs to the end, epilogue included */
	ck_assert_uint_eq(m.p->parts[0].body_off,
			  offset_of(&m, "This is a multi"));
	ck_assert_uint_eq(m.p->parts[0].body_off + m.p->parts[0].body_size,
			  m.size);

	ck_assert_int_eq(mime_decode_body(m.data + pt->body_off, pt->body_size,
					  MIME_ENC_QP, "utf-8", &d), 0);
	ck_assert_str_eq(buf_cstr(&d), "Caf\xc3\xa9 news");
	assert_section(&m, "1", "Caf=C3=A9 news");
	assert_section(&m, "2.MIME", "Content-Type: text/html; "
		       "charset=\"utf-8\"\nContent-Transfer-Encoding: "
		       "quoted-printable\n\n");
	assert_section(&m, "3", NULL);
	assert_section(&m, "1.MIME.1", NULL);
	buf_free(&d);
	msg_done(&m);
}
END_TEST

START_TEST(test_attachment)
{
	struct msg m;
	struct buf d = BUF_INIT(BUF_UNLIMITED);
	const struct msg_part *pt;

	msg_load(&m, attach_msg);
	assert_tree(m.p, "(multipart/mixed boundary=mixed-b 7bit L18 "
		    "(text/plain charset=iso-8859-1 8bit L0) "
		    "(application/pdf name=report.pdf base64 "
		    "id=<part2@example.org> desc=Quarterly report "
		    "disp=attachment;filename=report.pdf;size=12 "
		    "lang:en=NIL;de=NIL "
		    "loc=http://example.org/report.pdf "
		    "md5=Q2hlY2sgSW50ZWdyaXR5IQ== L1))");
	assert_body(&m, 1, "", "See attached. Gr\xfc\xdf" "e");
	assert_body(&m, 2, "", "JVBERi0xLjQK\nJSVFT0YK");
	ck_assert_str_eq(msg_part_param(m.p, 2, "NAME"), "report.pdf");
	ck_assert_ptr_null(msg_part_param(m.p, 2, "charset"));

	pt = &m.p->parts[1];
	ck_assert_int_eq(mime_decode_body(m.data + pt->body_off, pt->body_size,
		mime_encoding_of(S(m.p, pt->encoding)),
		msg_part_param(m.p, 1, "charset"), &d), 0);
	ck_assert_str_eq(buf_cstr(&d), "See attached. Gr\xc3\xbc\xc3\x9f" "e");
	buf_clear(&d);
	pt = &m.p->parts[2];
	ck_assert_int_eq(mime_encoding_of(S(m.p, pt->encoding)),
			 MIME_ENC_BASE64);
	ck_assert_int_eq(mime_decode_base64(m.data + pt->body_off,
					    pt->body_size, &d), 0);
	ck_assert_str_eq(buf_cstr(&d), "%PDF-1.4\n%%EOF\n");
	buf_free(&d);
	msg_done(&m);
}
END_TEST

START_TEST(test_nested_rfc822)
{
	struct msg m;
	const struct msg_part *fwd, *emb;
	const struct msg_envelope *e;
	const char *const fields[] = { "subject", "FROM" };
	char *got;

	msg_load(&m, nested_msg);
	assert_tree(m.p, "(multipart/mixed boundary=outer 7bit L25 "
		    "(text/plain 7bit L0) "
		    "(message/rfc822 7bit desc=forwarded L15 "
		    "(multipart/alternative boundary=inner 7bit L8 "
		    "(text/plain 7bit L0) (text/html 7bit L0))))");
	fwd = &m.p->parts[2];
	emb = &m.p->parts[3];
	ck_assert_uint_eq(fwd->flags, MSG_PART_MESSAGE);
	ck_assert_uint_eq(fwd->nchildren, 1);
	ck_assert_uint_eq(emb->parent, 2);
	ck_assert_uint_eq(emb->hdr_off, fwd->body_off);
	ck_assert_uint_eq(emb->body_off + emb->body_size,
			  fwd->body_off + fwd->body_size);
	ck_assert_uint_eq(fwd->body_off, offset_of(&m, "From: Carol"));
	ck_assert_uint_eq(fwd->body_off + fwd->body_size,
			  offset_of(&m, "--inner--") + 9);
	ck_assert_uint_eq(fwd->envelope, MSG_NONE);
	ck_assert_uint_ne(emb->envelope, MSG_NONE);
	e = &m.p->envs[emb->envelope];
	ck_assert_str_eq(S(m.p, e->subject), "Lunch");
	ck_assert_str_eq(S(m.p, e->in_reply_to), "<x@y>");
	ck_assert_str_eq(S(m.p, e->message_id), "NIL");
	assert_addr(m.p, e->from, 0, "Carol", "NIL", "carol", "example.com");
	assert_addr(m.p, e->to, 0, "NIL", "NIL", "alice", "example.org");
	e = &m.p->envs[m.p->parts[0].envelope];
	ck_assert_str_eq(S(m.p, e->subject), "Fwd: Lunch");

	assert_body(&m, 4, "--inner", "Lunch?");
	assert_body(&m, 5, "--inner", "<b>Lunch?</b>");
	assert_section(&m, "1", "See below.");
	assert_section(&m, "2.MIME", "Content-Type: message/rfc822\n"
		       "Content-Description: forwarded\n\n");
	assert_section(&m, "2.HEADER", "From: Carol <carol@example.com>\n"
		       "To: alice@example.org\nSubject: Lunch\n"
		       "Date: Thu, 20 Nov 2025 09:00:00 -0500\n"
		       "In-Reply-To: <x@y>\n"
		       "Content-Type: multipart/alternative; boundary=inner\n\n");
	assert_section(&m, "2.1", "Lunch?");
	assert_section(&m, "2.2", "<b>Lunch?</b>");
	assert_section(&m, "2.2.MIME", "Content-Type: text/html\n\n");
	assert_section(&m, "2.TEXT", "--inner\nContent-Type: text/plain\n\n"
		       "Lunch?\n--inner\nContent-Type: text/html\n\n"
		       "<b>Lunch?</b>\n--inner--");
	assert_section(&m, "3", NULL);
	assert_section(&m, "1.1", NULL);
	assert_section(&m, "1.HEADER", NULL);
	assert_section(&m, "2.3", NULL);
	assert_section(&m, "2.1.1", NULL);
	assert_section(&m, "MIME", NULL);

	got = section(&m, "HEADER.FIELDS", fields, 2);
	ck_assert_str_eq(got, "From: alice@example.org\r\n"
			 "Subject: Fwd: Lunch\r\n\r\n");
	free(got);
	got = section(&m, "2.HEADER.FIELDS", fields + 1, 1);
	ck_assert_str_eq(got, "From: Carol <carol@example.com>\r\n\r\n");
	free(got);
	got = section(&m, "2.HEADER.FIELDS.NOT", fields, 2);
	ck_assert_str_eq(got, "To: alice@example.org\r\n"
			 "Date: Thu, 20 Nov 2025 09:00:00 -0500\r\n"
			 "In-Reply-To: <x@y>\r\n"
			 "Content-Type: multipart/alternative; "
			 "boundary=inner\r\n\r\n");
	free(got);
	msg_done(&m);
}
END_TEST

/* A base64 message/rfc822 (not allowed, seen anyway) still has an
 * embedded message, made of what is there. */
START_TEST(test_rfc822_encoded)
{
	struct msg m;

	msg_load(&m, "Content-Type: multipart/mixed; boundary=z\n\n"
		 "--z\nContent-Type: message/rfc822\n"
		 "Content-Transfer-Encoding: base64\n\n"
		 "U3ViamVjdDogaGkKCmJvZHkK\n--z--\n");
	assert_tree(m.p, "(multipart/mixed boundary=z 7bit L6 "
		    "(message/rfc822 base64 L0 "
		    "(text/plain charset=us-ascii 7bit L0)))");
	ck_assert_uint_eq(m.p->parts[1].flags, MSG_PART_MESSAGE);
	ck_assert_uint_eq(m.p->parts[2].hdr_size, 0);
	assert_body(&m, 2, "", "U3ViamVjdDogaGkKCmJvZHkK");
	ck_assert_str_eq(S(m.p, m.p->envs[m.p->parts[2].envelope].subject),
			 "NIL");
	msg_done(&m);
}
END_TEST

/* A message/rfc822 message on its own: part 1 is the embedded message. */
START_TEST(test_rfc822_root)
{
	struct msg m;

	msg_load(&m, "Content-Type: message/rfc822\n\n"
		 "Subject: inside\n\nbody\n");
	assert_tree(m.p, "(message/rfc822 7bit L3 "
		    "(text/plain charset=us-ascii 7bit L1))");
	assert_section(&m, "1", "Subject: inside\n\nbody\n");
	assert_section(&m, "1.HEADER", "Subject: inside\n\n");
	assert_section(&m, "1.TEXT", "body\n");
	assert_section(&m, "1.1", "body\n");
	assert_section(&m, "1.2", NULL);
	assert_section(&m, "HEADER", "Content-Type: message/rfc822\n\n");
	ck_assert_str_eq(S(m.p, m.p->envs[m.p->parts[1].envelope].subject),
			 "inside");
	msg_done(&m);
}
END_TEST

START_TEST(test_digest)
{
	struct msg m;

	msg_load(&m, "Content-Type: multipart/digest; boundary=d\n\n"
		 "--d\n\nSubject: one\n\nfirst\n"
		 "--d\nContent-Type: text/plain\n\nnot a message\n--d--\n");
	/* RFC 2046 5.1.5: parts of a digest default to message/rfc822 */
	assert_tree(m.p, "(multipart/digest boundary=d 7bit L10 "
		    "(message/rfc822 7bit L2 "
		    "(text/plain charset=us-ascii 7bit L0)) "
		    "(text/plain 7bit L0))");
	assert_section(&m, "1.HEADER", "Subject: one\n\n");
	assert_section(&m, "1.1", "first");
	msg_done(&m);
}
END_TEST

START_TEST(test_lf_only)
{
	struct msg_parse *p = msg_parse(alt_msg, strlen(alt_msg));
	struct msg crm;
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	struct msg_section s;
	struct msg_range r;
	uint32_t nums[4];
	uint32_t i;

	msg_load(&crm, alt_msg);
	ck_assert(msg_parse_valid(p, strlen(alt_msg)));
	ck_assert_uint_eq(p->nparts, crm.p->nparts);
	ck_assert_uint_eq(p->size, strlen(alt_msg));
	ck_assert_uint_eq(p->wire_size, crm.size);
	/* the same tree; wire sizes and lines equal the CRLF copy's */
	for (i = 0; i < p->nparts; i++) {
		const struct msg_part *a = &p->parts[i], *b = &crm.p->parts[i];

		ck_assert_uint_eq(a->hdr_wire, b->hdr_size);
		ck_assert_uint_eq(a->body_wire, b->body_size);
		ck_assert_uint_eq(a->body_lines, b->body_lines);
		ck_assert_uint_eq(a->nparams, b->nparams);
		ck_assert_uint_le(a->body_size, b->body_size);
	}
	ck_assert_int_eq(msg_wire_append(alt_msg, 0, strlen(alt_msg), 0,
					 (size_t)-1, &out), 0);
	ck_assert_str_eq(buf_cstr(&out), crm.data);
	/* partial fetch: wire octets 38..47 of part 2's MIME header */
	msg_section_parse("2.MIME", 6, &s, nums, 4);
	ck_assert_int_eq(msg_section_find(p, alt_msg, &s, &r, NULL), 0);
	ck_assert_uint_eq(r.wire_len, crm.p->parts[2].hdr_size);
	buf_clear(&out);
	msg_wire_append(alt_msg, r.off, r.len, 38, 10, &out);
	ck_assert_str_eq(buf_cstr(&out), "8\"\r\nConten");
	buf_free(&out);
	msg_parse_free(&p);
	msg_done(&crm);
}
END_TEST

START_TEST(test_rfc2231)
{
	struct msg m;
	struct buf d = BUF_INIT(BUF_UNLIMITED);

	msg_load(&m, "Content-Type: application/octet-stream;\n"
		 " name*0=\"very long \"; name*1=\"name.txt\";\n"
		 " title*0*=us-ascii'en'This%20is%20; title*1=\"even more \";\n"
		 " title*2*=%2A%2A%2Afun%2A%2A%2A\n"
		 "Content-Disposition: attachment;\n"
		 " filename*=UTF-8''%E2%82%AC%20rates.txt\n\nxx\n");
	assert_tree(m.p, "(application/octet-stream name=very long name.txt;"
		    "title*=us-ascii'en'This%20is%20even%20more%20"
		    "%2A%2A%2Afun%2A%2A%2A 7bit "
		    "disp=attachment;filename*=UTF-8''%E2%82%AC%20rates.txt L1)");
	ck_assert_int_eq(mime_decode_param(msg_part_param(m.p, 0, "title*"),
					   &d), 0);
	ck_assert_str_eq(buf_cstr(&d), "This is even more ***fun***");
	buf_clear(&d);
	ck_assert_int_eq(mime_decode_param(S(m.p, m.p->params[
		m.p->parts[0].disp_params].value), &d), 0);
	ck_assert_str_eq(buf_cstr(&d), "\xe2\x82\xac rates.txt");
	msg_done(&m);

	/* comments with ';' inside, a plain first section then an extended
	 * one, garbage after a value, a duplicate section ignored */
	msg_load(&m, "Content-Type: text/plain (c; d) ; charset=\"us-ascii\" "
		 "(x) ; format=flowed; n*0=a b; n*1*=%41; n*1=zz\n\nx\n");
	assert_tree(m.p, "(text/plain charset=us-ascii;format=flowed;"
		    "n*=''a%41 7bit L1)");
	buf_clear(&d);
	mime_decode_param(msg_part_param(m.p, 0, "n*"), &d);
	ck_assert_str_eq(buf_cstr(&d), "aA");
	buf_free(&d);
	msg_done(&m);
}
END_TEST

START_TEST(test_cache_roundtrip)
{
	const char *corpus[] = { plain_msg, alt_msg, attach_msg, nested_msg };
	struct buf ser = BUF_INIT(BUF_UNLIMITED);
	struct msg m;
	struct msg_parse *q;
	char *a, *b;
	size_t i, k;

	for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		msg_load(&m, corpus[i]);
		buf_clear(&ser);
		ck_assert_int_eq(msg_parse_serialize(m.p, &ser), 0);
		q = msg_parse_deserialize(ser.data, ser.len, m.size);
		ck_assert_ptr_nonnull(q);
		a = dump(m.p);
		b = dump(q);
		ck_assert_str_eq(a, b);
		free(a);
		free(b);
		ck_assert_uint_eq(q->nparts, m.p->nparts);
		ck_assert_int_eq(memcmp(q->parts, m.p->parts,
					m.p->nparts * sizeof(*q->parts)), 0);
		ck_assert_int_eq(memcmp(q->envs, m.p->envs,
					m.p->nenvs * sizeof(*q->envs)), 0);
		ck_assert_int_eq(memcmp(q->addrs, m.p->addrs,
					m.p->naddrs * sizeof(*q->addrs)), 0);
		ck_assert_uint_eq(q->wire_size, m.p->wire_size);
		msg_parse_free(&q);
		/* the wrong message size, truncation, a damaged byte */
		ck_assert_ptr_null(msg_parse_deserialize(ser.data, ser.len,
							 m.size + 1));
		for (k = 0; k < ser.len; k++)
			ck_assert_ptr_null(msg_parse_deserialize(ser.data, k,
								 m.size));
		for (k = 0; k < ser.len; k++) {
			ser.data[k] ^= 0x41;
			q = msg_parse_deserialize(ser.data, ser.len, m.size);
			if (q != NULL)
				ck_assert(msg_parse_valid(q, m.size));
			msg_parse_free(&q);
			ser.data[k] ^= 0x41;
		}
		msg_done(&m);
	}
	/* small: the plain message's structure in under 300 bytes */
	msg_load(&m, plain_msg);
	buf_clear(&ser);
	msg_parse_serialize(m.p, &ser);
	ck_assert_uint_lt(ser.len, 300);
	msg_done(&m);
	buf_free(&ser);
}
END_TEST

START_TEST(test_section_parse)
{
	struct msg_section s;
	uint32_t nums[3];

	ck_assert_int_eq(msg_section_parse("", 0, &s, nums, 3), 0);
	ck_assert_uint_eq(s.nparts, 0);
	ck_assert_int_eq(s.kind, MSG_SECT_BODY);
	ck_assert_int_eq(msg_section_parse("1.22.3", 6, &s, nums, 3), 0);
	ck_assert_uint_eq(s.nparts, 3);
	ck_assert_uint_eq(nums[1], 22);
	ck_assert_int_eq(msg_section_parse("4.header.fields.not", 19, &s,
					   nums, 3), 0);
	ck_assert_int_eq(s.kind, MSG_SECT_FIELDS_NOT);
	ck_assert_uint_eq(s.nparts, 1);
	ck_assert_int_eq(msg_section_parse("1.MIME", 6, &s, nums, 3), 0);
	ck_assert_int_eq(s.kind, MSG_SECT_MIME);
	ck_assert_int_eq(msg_section_parse("MIME", 4, &s, nums, 3), -1);
	ck_assert_int_eq(msg_section_parse("0", 1, &s, nums, 3), -1);
	ck_assert_int_eq(msg_section_parse("01", 2, &s, nums, 3), -1);
	ck_assert_int_eq(msg_section_parse("1.", 2, &s, nums, 3), -1);
	ck_assert_int_eq(msg_section_parse("1..2", 4, &s, nums, 3), -1);
	ck_assert_int_eq(msg_section_parse("1.2.3.4", 7, &s, nums, 3), -1);
	ck_assert_int_eq(msg_section_parse("4294967296", 10, &s, nums, 3), -1);
	ck_assert_int_eq(msg_section_parse("HEADERS", 7, &s, nums, 3), -1);
	ck_assert_int_eq(msg_section_parse("1.TEXT.1", 8, &s, nums, 3), -1);
}
END_TEST

START_TEST(test_wire_partial)
{
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	const char *d = "ab\ncd\r\nef\n";

	/* wire form: "ab\r\ncd\r\nef\r\n" (12 octets) */
	msg_wire_append(d, 0, strlen(d), 0, (size_t)-1, &out);
	ck_assert_str_eq(buf_cstr(&out), "ab\r\ncd\r\nef\r\n");
	buf_clear(&out);
	msg_wire_append(d, 0, strlen(d), 3, 3, &out);
	ck_assert_str_eq(buf_cstr(&out), "\ncd");
	buf_clear(&out);
	msg_wire_append(d, 0, strlen(d), 2, 1, &out);
	ck_assert_str_eq(buf_cstr(&out), "\r");
	buf_clear(&out);
	msg_wire_append(d, 0, strlen(d), 12, 5, &out);
	ck_assert_uint_eq(out.len, 0);
	msg_wire_append(d, 0, strlen(d), 11, (size_t)-1, &out);
	ck_assert_str_eq(buf_cstr(&out), "\n");
	buf_free(&out);
}
END_TEST

/* Every seek position and chunk size gives the same bytes as the whole
 * conversion. */
START_TEST(test_wire_cursor)
{
	const char *d = "\nab\ncd\r\n\n\r\ne\rf\n";
	struct buf whole = BUF_INIT(BUF_UNLIMITED);
	struct buf got = BUF_INIT(BUF_UNLIMITED);
	struct msg_wire_cursor c;
	size_t len = strlen(d), skip, chunk, n;

	msg_wire_append(d, 0, len, 0, (size_t)-1, &whole);
	ck_assert_str_eq(buf_cstr(&whole), "\r\nab\r\ncd\r\n\r\n\r\ne\rf\r\n");
	for (skip = 0; skip <= whole.len + 1; skip++) {
		for (chunk = 1; chunk <= whole.len + 1; chunk++) {
			buf_clear(&got);
			msg_wire_seek(&c, d, 0, len, skip);
			while ((n = msg_wire_read(&c, d, chunk, &got)) > 0)
				ck_assert_uint_le(n, chunk);
			ck_assert_uint_eq(got.len, skip < whole.len ?
					  whole.len - skip : 0);
			ck_assert_int_eq(memcmp(got.data, whole.data + skip,
						got.len), 0);
		}
	}
	/* a range inside the message */
	buf_clear(&got);
	msg_wire_seek(&c, d, 3, 5, 1);
	while (msg_wire_read(&c, d, 2, &got) > 0)
		;
	ck_assert_str_eq(buf_cstr(&got), "\ncd\r\n");
	buf_free(&whole);
	buf_free(&got);
}
END_TEST

/* HEADER.FIELDS straight from the bytes, as a FETCH of many headers does */
START_TEST(test_header_fields_unparsed)
{
	const char *const fields[] = { "Subject", "date", "x-none" };
	struct buf out = BUF_INIT(BUF_UNLIMITED);
	size_t hend = hdr_block_end(plain_msg, 0, strlen(plain_msg));

	ck_assert_uint_eq(hend, strstr(plain_msg, "Hi Bob") - plain_msg);
	ck_assert_int_eq(msg_header_fields(plain_msg, 0, hend, fields, 3,
					   false, &out), 0);
	ck_assert_str_eq(buf_cstr(&out), "Subject: Lunch on Friday?\r\n"
			 "Date: Fri, 21 Nov 2025 12:30:00 +0100\r\n\r\n");
	buf_clear(&out);
	ck_assert_int_eq(msg_header_fields(plain_msg, 0, hend, fields, 2,
					   true, &out), 0);
	ck_assert_str_eq(buf_cstr(&out),
			 "From: \"Alice Example\" <alice@example.org>\r\n"
			 "To: Bob <bob@example.net>, carol@example.com "
			 "(Carol C.)\r\n"
			 "Message-ID: <lunch.1@example.org>\r\n\r\n");
	buf_clear(&out);
	/* nothing matches: just the empty line */
	ck_assert_int_eq(msg_header_fields(plain_msg, 0, hend, fields + 2, 1,
					   false, &out), 0);
	ck_assert_str_eq(buf_cstr(&out), "\r\n");
	buf_free(&out);
	buf_init(&out, 10);
	ck_assert_int_eq(msg_header_fields(plain_msg, 0, hend, fields, 3,
					   false, &out), -1);
	buf_free(&out);

	ck_assert_uint_eq(msg_wire_size(plain_msg, strlen(plain_msg)),
			  strlen(plain_msg) + 8);
	ck_assert_uint_eq(msg_wire_size("\na\r\nb\n", 7), 9);
	ck_assert_uint_eq(msg_wire_size("", 0), 0);
}
END_TEST

START_TEST(test_map_fd)
{
	char *dir = unit_tmpdir();
	char path[4200], err[128];
	struct msg_map map;
	struct msg_parse *p;
	size_t len;
	char *data = crlf(nested_msg, &len);
	int fd;

	snprintf(path, sizeof(path), "%s/msg", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(msg_map_fd(fd, len, &map, err, sizeof(err)), 0);
	close(fd);
	p = msg_parse(map.data, map.size);
	ck_assert_uint_eq(p->nparts, 6);
	ck_assert_int_eq(memcmp(map.data, data, len), 0);
	msg_parse_free(&p);
	msg_unmap(&map);
	msg_unmap(&map);
	ck_assert_int_eq(msg_map_fd(-1, 0, &map, err, sizeof(err)), 0);
	ck_assert_uint_eq(map.size, 0);
	ck_assert_int_eq(msg_map_fd(-1, 10, &map, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "mmap"));
	free(data);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

Suite *unit_suite(void)
{
	Suite *s = suite_create("mime");
	TCase *tc = tcase_create("corpus");

	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_alternative);
	tcase_add_test(tc, test_attachment);
	tcase_add_test(tc, test_nested_rfc822);
	tcase_add_test(tc, test_rfc822_root);
	tcase_add_test(tc, test_rfc822_encoded);
	tcase_add_test(tc, test_digest);
	tcase_add_test(tc, test_lf_only);
	tcase_add_test(tc, test_rfc2231);
	tcase_add_test(tc, test_section_parse);
	tcase_add_test(tc, test_wire_partial);
	tcase_add_test(tc, test_wire_cursor);
	tcase_add_test(tc, test_header_fields_unparsed);
	tcase_add_test(tc, test_map_fd);
	tcase_add_test(tc, test_cache_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}
