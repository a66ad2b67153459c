/* libFuzzer target for the config parser (common/config.h): the input is
 * the text of a maillab.conf.  config_parse must either fail with a
 * "NAME:LINE: message" and leave the configuration as it was, or succeed;
 * a text that parsed once parses again over its own result (each key once
 * per file, so the second parse is over a config already holding it;
 * with repeatable keys, route and dns, over the defaults).
 * tests/unit/test-fuzz-replay.c replays tests/fuzz/corpus-config/. */
#include <string.h>

#include "common/config.h"
#include "common/xalloc.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char err[512];
	char *text = xmalloc(size + 1);
	char *hostname;
	int ret;

	memcpy(text, data, size);
	text[size] = '\0';
	config_defaults(&cfg, "/nonexistent/fuzz");
	hostname = xstrdup(cfg.hostname);
	memset(err, 'x', sizeof(err));
	ret = config_parse(&cfg, "fuzz.conf", text, err, sizeof(err));
	FUZZ_CHECK(ret == 0 || ret == -1);
	if (ret < 0) {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		FUZZ_CHECK(strncmp(err, "fuzz.conf:", 10) == 0);
		/* a failed parse changes nothing */
		FUZZ_CHECK(strcmp(cfg.hostname, hostname) == 0);
		FUZZ_CHECK(strcmp(cfg.dir, "/nonexistent/fuzz") == 0);
	} else {
		FUZZ_CHECK(cfg.hostname != NULL && cfg.dir != NULL);
		/* repeatable keys (route, dns) would be there twice: those
		 * parse again over the defaults */
		if (cfg.n_routes > 0 || cfg.n_dns > 0) {
			config_free(&cfg);
			config_defaults(&cfg, "/nonexistent/fuzz");
		}
		FUZZ_CHECK(config_parse(&cfg, "again.conf", text, err,
					sizeof(err)) == 0);
		(void)config_is_local_domain(&cfg, cfg.hostname);
		(void)config_is_local_domain(&cfg, text);
	}
	free(hostname);
	config_free(&cfg);
	free(text);
	return 0;
}
