/* THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256 sections 3 and 4,
 * steps numbered as there).  The threads are a forest of nodes in one
 * array under a root node of its own; every walk is iterative, since a
 * chain of replies may be as deep as the mailbox is large. */
#include <search.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "imapd/thread.h"

#define NONE UINT32_MAX

struct node {
	struct imap_msg_keys *msg;	/* NULL: a dummy */
	uint32_t parent, child, last, next;	/* first and last child,
						   next sibling */
	uint32_t nchild;
	int64_t date;			/* ordering: the message's sent date
					   and number, or for a dummy those
					   of its first child */
	uint32_t seq;
};

struct forest {
	struct node *v;
	uint32_t n, cap;
	uint32_t root;
};

static uint32_t node_new(struct forest *f, struct imap_msg_keys *msg)
{
	struct node *x;

	if (f->n == f->cap) {
		f->cap = f->cap == 0 ? 64 : f->cap * 2;
		f->v = xreallocarray(f->v, f->cap, sizeof(*f->v));
	}
	x = &f->v[f->n];
	memset(x, 0, sizeof(*x));
	x->msg = msg;
	x->parent = x->child = x->last = x->next = NONE;
	return f->n++;
}

static void add_child(struct forest *f, uint32_t parent, uint32_t c)
{
	struct node *p = &f->v[parent];

	f->v[c].parent = parent;
	f->v[c].next = NONE;
	if (p->last == NONE)
		p->child = c;
	else
		f->v[p->last].next = c;
	p->last = c;
	p->nchild++;
}

static void unlink_node(struct forest *f, uint32_t c)
{
	uint32_t parent = f->v[c].parent, prev = NONE;
	struct node *p;

	if (parent == NONE)
		return;
	p = &f->v[parent];
	for (uint32_t k = p->child; k != c; k = f->v[k].next)
		prev = k;
	if (prev == NONE)
		p->child = f->v[c].next;
	else
		f->v[prev].next = f->v[c].next;
	if (p->last == c)
		p->last = prev;
	p->nchild--;
	f->v[c].parent = f->v[c].next = NONE;
}

/* Whether a is x or one of x's ancestors.  A node without children is
 * nobody's ancestor: the common case costs no walk. */
static bool is_ancestor(const struct forest *f, uint32_t a, uint32_t x)
{
	if (a != x && f->v[a].child == NONE)
		return false;
	for (; x != NONE; x = f->v[x].parent)
		if (x == a)
			return true;
	return false;
}

/* The nodes under (and with) `top` in pre-order: parents before their
 * children, so the reverse visits children first.  *n_r how many. */
static uint32_t *pre_order(const struct forest *f, uint32_t top, uint32_t *n_r)
{
	uint32_t *out = xreallocarray(NULL, f->n, sizeof(*out));
	uint32_t *stack = xreallocarray(NULL, f->n, sizeof(*stack));
	uint32_t n = 0, sp = 0;

	stack[sp++] = top;
	while (sp > 0) {
		uint32_t x = stack[--sp];

		out[n++] = x;
		for (uint32_t c = f->v[x].child; c != NONE; c = f->v[c].next)
			stack[sp++] = c;
	}
	free(stack);
	*n_r = n;
	return out;
}

/* ---- ordering siblings by sent date (steps 5 and 7) ---- */

static int cmp_nodes(const void *x, const void *y, void *arg)
{
	const struct forest *f = arg;
	const struct node *a = &f->v[*(const uint32_t *)x];
	const struct node *b = &f->v[*(const uint32_t *)y];

	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void sort_children(struct forest *f, uint32_t x, uint32_t *tmp)
{
	struct node *p = &f->v[x];
	uint32_t n = 0;

	for (uint32_t c = p->child; c != NONE; c = f->v[c].next)
		tmp[n++] = c;
	if (n > 1)
		qsort_r(tmp, n, sizeof(*tmp), cmp_nodes, f);
	p->child = p->last = NONE;
	p->nchild = 0;
	for (uint32_t i = 0; i < n; i++)
		add_child(f, x, tmp[i]);
}

/* Every set of siblings, the youngest generation first; a dummy takes
 * the date of its first child once its children are sorted. */
static void sort_all(struct forest *f)
{
	uint32_t n, *order = pre_order(f, f->root, &n);
	uint32_t *tmp = xreallocarray(NULL, f->n, sizeof(*tmp));

	for (uint32_t i = n; i-- > 0; ) {
		struct node *x = &f->v[order[i]];

		sort_children(f, order[i], tmp);
		if (x->msg != NULL) {
			x->date = x->msg->date;
			x->seq = x->msg->seq;
		} else if (x->child != NONE) {
			x->date = f->v[x->child].date;
			x->seq = f->v[x->child].seq;
		}
	}
	free(tmp);
	free(order);
}

/* ---- REFERENCES ---- */

/* The container of message-id `id` (step 1), made as a dummy if new. */
static uint32_t container(struct forest *f, struct hsearch_data *ids,
			  const char *id)
{
	ENTRY e = { (char *)id, NULL }, *found;

	if (hsearch_r(e, FIND, &found, ids) != 0)
		return (uint32_t)(uintptr_t)found->data;
	e.data = (void *)(uintptr_t)node_new(f, NULL);
	if (hsearch_r(e, ENTER, &found, ids) == 0)
		return (uint32_t)(uintptr_t)e.data;	/* table full: unlinked */
	return (uint32_t)(uintptr_t)found->data;
}

/* Step 1: links from References (or In-Reply-To), in sequence order. */
static void link_references(struct forest *f, struct imap_msg_keys **msgs,
			    size_t n, struct hsearch_data *ids)
{
	for (size_t i = 0; i < n; i++) {
		struct imap_msg_keys *m = msgs[i];
		uint32_t self = NONE, prev = NONE, c;

		/* a missing or duplicate id: the message gets a unique one */
		if (m->message_id[0] != '\0') {
			c = container(f, ids, m->message_id);
			if (f->v[c].msg == NULL) {
				f->v[c].msg = m;
				self = c;
			}
		}
		if (self == NONE)
			self = node_new(f, m);
		/* (A) each reference the parent of the next, unless linked
		 * already or a loop would be made */
		for (size_t r = 0; r < m->nrefs; r++) {
			c = container(f, ids, m->refs[r]);
			if (prev != NONE && c != prev &&
			    f->v[c].parent == NONE && !is_ancestor(f, c, prev))
				add_child(f, prev, c);
			prev = c;
		}
		/* (B) the last reference is the parent: an older link goes */
		unlink_node(f, self);
		if (prev != NONE && !is_ancestor(f, self, prev))
			add_child(f, prev, self);
	}
}

/* Step 4: dummies without children go; a dummy's children take its
 * place, except at the top when there are several of them. */
static void prune_dummies(struct forest *f)
{
	uint32_t n, *order = pre_order(f, f->root, &n);

	for (uint32_t i = n; i-- > 0; ) {
		uint32_t x = order[i], c = f->v[x].child, next;
		bool top = x == f->root;

		f->v[x].child = f->v[x].last = NONE;
		f->v[x].nchild = 0;
		for (; c != NONE; c = next) {
			next = f->v[c].next;
			if (f->v[c].msg == NULL &&
			    (!top || f->v[c].nchild <= 1)) {
				uint32_t g = f->v[c].child, gnext;

				for (; g != NONE; g = gnext) {
					gnext = f->v[g].next;
					add_child(f, x, g);
				}
				f->v[c].child = f->v[c].last = NONE;
				f->v[c].nchild = 0;
				continue;
			}
			add_child(f, x, c);
		}
	}
	free(order);
}

/* The message that speaks for a top-level node: itself, or a dummy's
 * first child. */
static const struct imap_msg_keys *subject_msg(const struct forest *f,
					       uint32_t x)
{
	while (f->v[x].msg == NULL && f->v[x].child != NONE)
		x = f->v[x].child;
	return f->v[x].msg;
}

static const char *top_subject(const struct forest *f, uint32_t x)
{
	const struct imap_msg_keys *m = subject_msg(f, x);

	return m != NULL ? m->subject : "";
}

static bool is_dummy(const struct forest *f, uint32_t x)
{
	return f->v[x].msg == NULL;
}

static bool is_reply(const struct forest *f, uint32_t x)
{
	return !is_dummy(f, x) && f->v[x].msg->subject_reply;
}

/* Step 6 (C): which top-level node the table keeps for a subject. */
static bool table_prefers(const struct forest *f, uint32_t cur, uint32_t old)
{
	if (is_dummy(f, cur))
		return !is_dummy(f, old);
	return !is_dummy(f, old) && is_reply(f, old) && !is_reply(f, cur);
}

/* Step 6 (D): merges top-level node top[i] into the table's top[t]. */
static void merge_top(struct forest *f, uint32_t *top, size_t i, size_t t)
{
	uint32_t cur = top[i], old = top[t], d, c, next;

	if (is_dummy(f, cur) && is_dummy(f, old)) {
		for (c = f->v[cur].child; c != NONE; c = next) {
			next = f->v[c].next;
			add_child(f, old, c);
		}
	} else if (is_dummy(f, old) && !is_dummy(f, cur)) {
		add_child(f, old, cur);
	} else if (is_reply(f, cur) && !is_reply(f, old)) {
		add_child(f, old, cur);
	} else {
		d = node_new(f, NULL);
		add_child(f, d, old);
		add_child(f, d, cur);
		top[t] = d;
	}
	top[i] = NONE;
}

/* Step 6: top-level threads with the same base subject are joined. */
static void group_by_subject(struct forest *f)
{
	uint32_t nt = f->v[f->root].nchild, i = 0;
	uint32_t *top = xreallocarray(NULL, nt, sizeof(*top));
	struct hsearch_data subjects;
	ENTRY e, *found;

	for (uint32_t c = f->v[f->root].child; c != NONE; c = f->v[c].next) {
		top[i++] = c;
		f->v[c].parent = NONE;
	}
	memset(&subjects, 0, sizeof(subjects));
	if (hcreate_r((size_t)nt * 2 + 16, &subjects) == 0)
		abort();
	for (i = 0; i < nt; i++) {
		e.key = (char *)top_subject(f, top[i]);
		e.data = (void *)(uintptr_t)i;
		if (e.key[0] == '\0' || hsearch_r(e, ENTER, &found, &subjects) == 0)
			continue;
		if (table_prefers(f, top[i], top[(uintptr_t)found->data]))
			found->data = e.data;
	}
	for (i = 0; i < nt; i++) {
		e.key = (char *)top_subject(f, top[i]);
		if (e.key[0] == '\0' || hsearch_r(e, FIND, &found, &subjects) == 0 ||
		    (uintptr_t)found->data == i)
			continue;
		merge_top(f, top, i, (uintptr_t)found->data);
	}
	hdestroy_r(&subjects);
	f->v[f->root].child = f->v[f->root].last = NONE;
	f->v[f->root].nchild = 0;
	for (i = 0; i < nt; i++)
		if (top[i] != NONE)
			add_child(f, f->root, top[i]);
	free(top);
}

static void thread_references(struct forest *f, struct imap_msg_keys **msgs,
			      size_t n)
{
	struct hsearch_data ids;
	size_t nids = n;

	for (size_t i = 0; i < n; i++)
		nids += msgs[i]->nrefs;
	memset(&ids, 0, sizeof(ids));
	if (hcreate_r(nids * 2 + 16, &ids) == 0)
		abort();
	link_references(f, msgs, n, &ids);
	hdestroy_r(&ids);		/* step 3 */
	f->root = node_new(f, NULL);	/* step 2: the root set */
	for (uint32_t x = 0; x < f->root; x++)
		if (f->v[x].parent == NONE)
			add_child(f, f->root, x);
	prune_dummies(f);		/* step 4 */
	sort_all(f);			/* step 5 */
	group_by_subject(f);		/* step 6 */
	sort_all(f);			/* step 7 */
}

/* ---- ORDEREDSUBJECT ---- */

static int cmp_subject_date(const void *x, const void *y)
{
	const struct imap_msg_keys *a = *(struct imap_msg_keys *const *)x;
	const struct imap_msg_keys *b = *(struct imap_msg_keys *const *)y;
	int r = strcmp(a->subject, b->subject);

	if (r != 0)
		return r;
	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Section 3: sorted by base subject and sent date; the first message of
 * each subject is the parent of the others; threads by their first
 * message's sent date. */
static void thread_orderedsubject(struct forest *f,
				  struct imap_msg_keys **msgs, size_t n)
{
	uint32_t first = NONE, *tmp;

	qsort(msgs, n, sizeof(*msgs), cmp_subject_date);
	f->root = node_new(f, NULL);
	for (size_t i = 0; i < n; i++) {
		uint32_t x = node_new(f, msgs[i]);

		f->v[x].date = msgs[i]->date;
		f->v[x].seq = msgs[i]->seq;
		if (first != NONE &&
		    strcmp(f->v[first].msg->subject, msgs[i]->subject) == 0) {
			add_child(f, first, x);
		} else {
			add_child(f, f->root, x);
			first = x;
		}
	}
	tmp = xreallocarray(NULL, f->n, sizeof(*tmp));
	sort_children(f, f->root, tmp);
	free(tmp);
}

/* ---- the response (RFC 5256 section 5) ---- */

enum { EMIT_NODE, EMIT_WRAPPED, EMIT_CLOSE };

struct emit {
	uint32_t node;
	int what;
};

/* Pushes x's children, each to be written in parentheses, so that they
 * come off the stack in order. */
static void push_children(const struct forest *f, uint32_t x,
			  struct emit *stack, size_t *sp)
{
	size_t k = *sp + f->v[x].nchild;

	*sp = k;
	for (uint32_t c = f->v[x].child; c != NONE; c = f->v[c].next)
		stack[--k] = (struct emit){ c, EMIT_WRAPPED };
}

/* A message's number, then its only child's text after a space, or each
 * of its children in parentheses: "(3 6 (4 23)(44 7 96))"; a dummy writes
 * only its children: "((3)(5))". */
static void write_threads(const struct forest *f, bool uid, struct buf *out)
{
	struct emit *stack = xreallocarray(NULL, (size_t)f->n * 2 + 2,
					   sizeof(*stack));
	size_t sp = 0;

	push_children(f, f->root, stack, &sp);
	while (sp > 0) {
		struct emit e = stack[--sp];
		const struct node *x = &f->v[e.node];

		if (e.what == EMIT_CLOSE) {
			buf_putc(out, ')');
			continue;
		}
		if (e.what == EMIT_WRAPPED) {
			buf_putc(out, '(');
			stack[sp++] = (struct emit){ e.node, EMIT_CLOSE };
		}
		if (x->msg != NULL) {
			buf_printf(out, "%u", uid ? x->msg->uid : x->msg->seq);
			if (x->nchild > 0)
				buf_putc(out, ' ');
		}
		if (x->nchild == 1)
			stack[sp++] = (struct emit){ x->child, EMIT_NODE };
		else
			push_children(f, e.node, stack, &sp);
	}
	free(stack);
}

unsigned imap_thread_keys_needed(enum imap_thread_alg alg)
{
	return IMAP_KEYS_SUBJECT | IMAP_KEYS_DATE |
	       (alg == IMAP_THREAD_REFERENCES ? IMAP_KEYS_IDS : 0);
}

void imap_thread(struct imap_msg_keys **msgs, size_t n,
		 enum imap_thread_alg alg, bool uid, struct buf *out)
{
	struct forest f;

	memset(&f, 0, sizeof(f));
	if (n > UINT32_MAX / 4)
		n = UINT32_MAX / 4;
	if (alg == IMAP_THREAD_REFERENCES)
		thread_references(&f, msgs, n);
	else
		thread_orderedsubject(&f, msgs, n);
	write_threads(&f, uid, out);
	free(f.v);
}
