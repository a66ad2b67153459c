#ifndef COMMON_DEADLINE_H
#define COMMON_DEADLINE_H
#include <stdbool.h>
#include <stdint.h>

/* The deadline of one unit of input (a command line, a literal, a message
 * body) from its first byte.  The idle timeout restarts on every byte, so
 * without it a client sending one byte a second holds its slot forever.
 * Pure arithmetic; common/conn.c owns the timer. */

struct input_deadline {
	uint64_t start_ms;	/* monotonic milliseconds of the first byte */
	uint64_t bytes;		/* taken so far */
	bool bulk;		/* a literal or body, not a line */
	bool active;		/* a unit is being read */
};

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t deadline_now_ms(void);

void deadline_begin(struct input_deadline *d, bool bulk, uint64_t now_ms);

/* When the unit must be complete: a line `line_s` seconds after its first
 * byte; a bulk unit as long again plus one second per `rate` bytes taken
 * (as Postfix's smtpd_min_data_rate), or never (false) when rate is 0. */
bool deadline_at(const struct input_deadline *d, unsigned int line_s,
		 unsigned int rate, uint64_t *at_ms_r);

#endif
