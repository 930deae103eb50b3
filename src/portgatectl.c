/*
 * portgatectl(8): ask the running portgate over its control socket.  One
 * request a connection: the verb and its arguments on one line; the
 * answer is one JSON object, printed as it is with -j or as text.  Exit
 * 0 when the daemon says ok (explain: the client would be admitted), 1
 * when it says no or cannot be reached, 2 for a bad command line.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "build-config.h"

#include "portgatectl.h"

#define CTL_WAIT_MS	70000	/* longer than the daemon keeps a client */
#define CTL_ANSWER_MAX	(64 * 1024 * 1024)

static const struct {
	const char	*name;
	int		 min, max;
	const char	*args;
} verbs[] = {
	{ "status", 0, 0, "" },
	{ "sessions", 0, 1, " [SERVICE]" },
	{ "bans", 0, 0, "" },
	{ "ban", 1, 2, " ADDRESS [SECONDS]" },
	{ "unban", 1, 1, " ADDRESS" },
	{ "disable", 1, 1, " SERVICE" },
	{ "enable", 1, 1, " SERVICE" },
	{ "reload", 0, 0, "" },
	{ "explain", 2, 4, " SERVICE ADDRESS [[DAY] HH:MM]" },
};

static void
usage(void)
{
	size_t	i;

	fprintf(stderr, "usage: portgatectl [-j] [-s socket] command "
	    "[argument ...]\ncommands:\n");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(stderr, "\t%s%s\n", verbs[i].name, verbs[i].args);
	exit(2);
}

/* Connect to <path>; the socket, or -1 after saying why. */
static int
ctl_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		fprintf(stderr, "portgatectl: %s: path too long\n", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "portgatectl: socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "portgatectl: cannot reach portgate at %s: "
		    "%s%s\n", path, strerror(errno), errno == ENOENT ||
		    errno == ECONNREFUSED ? " (is portgate running?)" : "");
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* Send <line>, read the answer until the daemon closes; NULL on failure. */
static char *
ctl_ask(int fd, const char *line, const char *path)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	size_t		 len = strlen(line), off = 0, cap = 0;
	char		*buf = NULL, *nb;
	ssize_t		 n;
	int		 rc;

	while (off < len) {
		if ((n = write(fd, line + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "portgatectl: %s: %s\n", path,
			    strerror(errno));
			return NULL;
		}
		off += (size_t)n;
	}
	off = 0;
	for (;;) {
		if ((rc = poll(&pfd, 1, CTL_WAIT_MS)) == -1 && errno == EINTR)
			continue;
		if (rc <= 0) {
			fprintf(stderr, "portgatectl: %s: no answer\n", path);
			break;
		}
		if (off + 4096 + 1 > cap) {
			if (cap >= CTL_ANSWER_MAX ||
			    (nb = realloc(buf, cap + 65536)) == NULL) {
				fprintf(stderr, "portgatectl: answer too "
				    "long\n");
				break;
			}
			buf = nb;
			cap += 65536;
		}
		if ((n = read(fd, buf + off, cap - off - 1)) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "portgatectl: %s: %s\n", path,
			    strerror(errno));
			break;
		}
		if (n == 0) {
			buf[off] = '\0';
			return buf;
		}
		off += (size_t)n;
	}
	free(buf);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct json_object	*ans, *ok;
	const char		*path = PORTGATE_CONTROL;
	char			 line[1100], *text;
	size_t			 i, len = 0;
	int			 c, json = 0, fd, nargs, rc;

	while ((c = getopt(argc, argv, "+js:h")) != -1)
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 's':
			path = optarg;
			break;
		default:
			usage();
		}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	nargs = argc - 1;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, argv[0]) == 0)
			break;
	if (i == sizeof(verbs) / sizeof(verbs[0])) {
		fprintf(stderr, "portgatectl: unknown command %s\n", argv[0]);
		usage();
	}
	if (nargs < verbs[i].min || nargs > verbs[i].max) {
		fprintf(stderr, "usage: portgatectl [-j] [-s socket] %s%s\n",
		    verbs[i].name, verbs[i].args);
		return 2;
	}
	for (c = 0; c < argc; c++) {
		for (i = 0; argv[c][i] != '\0'; i++)
			if ((unsigned char)argv[c][i] < 0x20 ||
			    (unsigned char)argv[c][i] == 0x7f) {
				fprintf(stderr, "portgatectl: an argument "
				    "holds a control character\n");
				return 2;
			}
		if (argv[c][0] == '\0' || strchr(argv[c], ' ') != NULL) {
			if (strcmp(argv[0], "explain") == 0 && c == 3)
				continue;	/* "DAY HH:MM" in one */
			fprintf(stderr, "portgatectl: '%s': an argument is one "
			    "word\n", argv[c]);
			return 2;
		}
	}
	for (c = 0; c < argc; c++) {
		rc = snprintf(line + len, sizeof(line) - len, "%s%s",
		    c > 0 ? " " : "", argv[c]);
		if (rc < 0 || (size_t)rc >= sizeof(line) - len - 1) {
			fprintf(stderr, "portgatectl: arguments too long\n");
			return 2;
		}
		len += (size_t)rc;
	}
	line[len++] = '\n';
	line[len] = '\0';
	if ((fd = ctl_connect(path)) == -1)
		return 1;
	text = ctl_ask(fd, line, path);
	(void)close(fd);
	if (text == NULL)
		return 1;
	if ((ans = json_tokener_parse(text)) == NULL ||
	    !json_object_is_type(ans, json_type_object) ||
	    !json_object_object_get_ex(ans, "ok", &ok)) {
		fprintf(stderr, "portgatectl: %s: not an answer of "
		    "portgate\n", path);
		free(text);
		json_object_put(ans);
		return 1;
	}
	free(text);
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(ans,
		    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		rc = json_object_get_boolean(ok) ? 0 : 1;
		if (rc == 0 && strcmp(argv[0], "explain") == 0)
			rc = pgctl_explain_rc(ans);
		if (rc == 0 && strcmp(argv[0], "reload") == 0)
			rc = pgctl_reload_rc(ans);
	} else
		rc = pgctl_print(argv[0], ans);
	json_object_put(ans);
	if (fflush(stdout) == EOF)
		return 1;
	return rc;
}
