/*
 * portgate --import inetd: translate an inetd.conf into portgate services.
 */
#include <stddef.h>

#include "import.h"

int
import_inetd(const char *text, const char *file, struct import_result *ir)
{
	(void)text;
	import_error(ir, file, 0, "the inetd importer is not written yet");
	return -1;
}
