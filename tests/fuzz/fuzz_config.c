/*
 * libFuzzer target for the configuration reader: each input is written to
 * a scratch file and read with config_load(CONF_CHECK_ONLY), as
 * "portgate -t" reads a file; the configuration and every diagnostic are
 * freed before the next input, so that LeakSanitizer sees any leak.
 *
 * An input may include other files by relative name: they are looked up in
 * the scratch directory, which holds only the input itself.  Run it in a
 * network namespace of its own (unshare -n) so that the host names it
 * makes up never reach a resolver; tests/fuzz/run.sh does.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_diag.h"
#include "config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	fuzz_dir[] = "/tmp/fuzz_config.XXXXXX";
static char	fuzz_path[sizeof(fuzz_dir) + 16];

/* Remove the scratch files when the fuzzer exits. */
static void
fuzz_cleanup(void)
{
	(void)unlink(fuzz_path);
	(void)rmdir(fuzz_dir);
}

/* Make the scratch directory once. */
static int
fuzz_init(void)
{
	if (fuzz_path[0] != '\0')
		return 0;
	if (mkdtemp(fuzz_dir) == NULL) {
		perror("mkdtemp");
		return -1;
	}
	(void)snprintf(fuzz_path, sizeof(fuzz_path), "%s/input.conf",
	    fuzz_dir);
	(void)atexit(fuzz_cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_diag	 cd;
	struct config		*cf;
	FILE			*fp;

	if (fuzz_init() == -1)
		abort();
	if ((fp = fopen(fuzz_path, "w")) == NULL) {
		perror(fuzz_path);
		abort();
	}
	if (size > 0 && fwrite(data, 1, size, fp) != size) {
		perror(fuzz_path);
		abort();
	}
	if (fclose(fp) == EOF) {
		perror(fuzz_path);
		abort();
	}
	conf_diag_init(&cd);
	cf = config_load(fuzz_path, CONF_CHECK_ONLY, &cd);
	/* A configuration is returned exactly when there is no error. */
	if ((cf == NULL) != (cd.cd_errors > 0))
		abort();
	config_unref(cf);
	conf_diag_clear(&cd);
	return 0;
}
