/* The machine's name from gethostname() and hosts(5) (common/hostname.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/config-int.h"
#include "common/hostname.h"
#include "common/xalloc.h"

#define HOSTS_SEP " \t\r\n"

/* Whether the hosts line (comment already cut) lists name; its canonical
 * name (the first after the address) into out. */
static bool line_lists(char *line, const char *name, char *out, size_t outlen)
{
	char *save = NULL, *canon, *word;

	if (strtok_r(line, HOSTS_SEP, &save) == NULL)	/* the address */
		return false;
	canon = strtok_r(NULL, HOSTS_SEP, &save);
	for (word = canon; word != NULL; word = strtok_r(NULL, HOSTS_SEP, &save)) {
		if (strcasecmp(word, name) != 0)
			continue;
		if (strlen(canon) >= outlen)
			return false;
		memcpy(out, canon, strlen(canon) + 1);
		return true;
	}
	return false;
}

bool hostname_from_hosts(const char *path, const char *name, char *out,
			 size_t outlen)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && getline(&line, &cap, f) >= 0) {
		line[strcspn(line, "#")] = '\0';
		found = line_lists(line, name, out, outlen);
	}
	free(line);
	fclose(f);
	return found;
}

char *hostname_default(const char *hosts_path)
{
	char name[256], canon[256];

	if (gethostname(name, sizeof(name)) < 0 || name[0] == '\0')
		return xstrdup("localhost");
	name[sizeof(name) - 1] = '\0';
	if (strchr(name, '.') == NULL &&
	    hostname_from_hosts(hosts_path, name, canon, sizeof(canon)) &&
	    strchr(canon, '.') != NULL && config_valid_dns_name(canon))
		return xstrdup(canon);
	return xstrdup(config_valid_dns_name(name) ? name : "localhost");
}
