#ifndef SMTPD_EXPLAIN_H
#define SMTPD_EXPLAIN_H
#include "common/explain.h"

/* What every SMTP command and reply means (smtpd/explain.c), for
 * `maillab trace show --explain`. */
extern const struct explainer smtp_explainer;

#endif
