#ifndef POP3D_EXPLAIN_H
#define POP3D_EXPLAIN_H
#include "common/explain.h"

/* What every POP3 command and reply means (pop3d/explain.c), for
 * `maillab trace show --explain`. */
extern const struct explainer pop3_explainer;

#endif
