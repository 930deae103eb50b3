/* A tiny inetd-style server: writes one line on its standard output (the
 * client's socket) and exits. */
#include <unistd.h>

int
main(void)
{
	static const char	line[] = "hello from tiny_server\n";

	return write(1, line, sizeof(line) - 1) == sizeof(line) - 1 ? 0 : 1;
}
