/* The deadline of one unit of input (common/deadline.h). */
#include <time.h>

#include "common/deadline.h"

uint64_t deadline_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void deadline_begin(struct input_deadline *d, bool bulk, uint64_t now_ms)
{
	d->start_ms = now_ms;
	d->bytes = 0;
	d->bulk = bulk;
	d->active = true;
}

bool deadline_at(const struct input_deadline *d, unsigned int line_s,
		 unsigned int rate, uint64_t *at_ms_r)
{
	*at_ms_r = d->start_ms + (uint64_t)line_s * 1000;
	if (!d->bulk)
		return true;
	if (rate == 0)
		return false;
	/* bytes < 2^64 / 1000 always: at most a few GiB per unit */
	*at_ms_r += d->bytes * 1000 / rate;
	return true;
}
