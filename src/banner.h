/*
 * Banners: the files of banner, banner_success and banner_fail, read once
 * when the configuration is loaded and sent to clients from memory.
 */
#ifndef PORTGATE_BANNER_H
#define PORTGATE_BANNER_H

#include <stddef.h>

#define BANNER_MAX	65536	/* the most of a file that is sent */

struct bufferevent;

struct banner {
	char	*b_path;
	char	*b_data;
	size_t	 b_len;
};

/* Read <path> into <b>; 0, or -1 with a message in <err>. */
int	banner_load(struct banner *b, const char *path, char *err,
	    size_t errlen);
void	banner_clear(struct banner *b);
/*
 * Write <b> to the non-blocking socket <fd> of a client that is about to
 * be closed: one write, whatever fits in the socket buffer.
 */
void	banner_send_fd(int fd, const struct banner *b);
/* Queue <b> on <bev>; 0 or -1. */
int	banner_queue(struct bufferevent *bev, const struct banner *b);

#endif
