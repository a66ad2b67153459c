#ifndef IMAPD_EXPLAIN_H
#define IMAPD_EXPLAIN_H
#include "common/explain.h"

/* What every IMAP command and reply means (imapd/explain.c), for
 * `maillab trace show --explain`. */
extern const struct explainer imap_explainer;

#endif
