/*
 * Banners, read at configuration time so that sending one costs no file
 * access on the connection path (xinetd opens the file per connection).
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "banner.h"

int
banner_load(struct banner *b, const char *path, char *err, size_t errlen)
{
	struct stat	 st;
	char		*data = NULL;
	ssize_t		 n;
	size_t		 len = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		(void)snprintf(err, errlen, "cannot read %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		(void)snprintf(err, errlen, "%s is not a regular file", path);
		goto fail;
	}
	if ((data = malloc(BANNER_MAX)) == NULL) {
		(void)snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	while (len < BANNER_MAX &&
	    (n = read(fd, data + len, BANNER_MAX - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			(void)snprintf(err, errlen, "cannot read %s: %s", path,
			    strerror(errno));
			goto fail;
		}
		len += (size_t)n;
	}
	(void)close(fd);
	banner_clear(b);
	if ((b->b_path = strdup(path)) == NULL) {
		free(data);
		(void)snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	b->b_data = data;
	b->b_len = len;
	return 0;
fail:
	free(data);
	if (fd != -1)
		(void)close(fd);
	return -1;
}

void
banner_clear(struct banner *b)
{
	free(b->b_path);
	free(b->b_data);
	memset(b, 0, sizeof(*b));
}

void
banner_send_fd(int fd, const struct banner *b)
{
	if (b->b_len > 0)
		(void)send(fd, b->b_data, b->b_len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

int
banner_queue(struct bufferevent *bev, const struct banner *b)
{
	if (b->b_len == 0)
		return 0;
	return bufferevent_write(bev, b->b_data, b->b_len);
}
