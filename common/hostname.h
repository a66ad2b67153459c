#ifndef COMMON_HOSTNAME_H
#define COMMON_HOSTNAME_H
#include <stdbool.h>
#include <stddef.h>

/* The machine's name for the `hostname` default (common/config.c), found
 * without the DNS: a server that starts, or any `maillab` command that
 * reads maillab.conf, must send no query off loopback.  This is what
 * glibc's getaddrinfo(AI_CANONNAME) answers from its "files" source alone:
 * the first name of the first hosts(5) line that lists the name. */

/* Looks `name` up in hosts file `path` (hosts(5): an address, the
 * canonical name, aliases; '#' comments), comparing without regard to
 * case.  True with the line's canonical name in out[0..outlen) when a
 * line lists it and the name fits; false otherwise (no such line, or the
 * file cannot be read). */
bool hostname_from_hosts(const char *path, const char *name, char *out,
			 size_t outlen);

/* The default hostname: gethostname(); when that has no dot, its
 * canonical name from hosts file `hosts_path` if that one has a dot; a
 * name that is not a valid DNS name falls back to "localhost".  Malloc'd. */
char *hostname_default(const char *hosts_path);

#endif
