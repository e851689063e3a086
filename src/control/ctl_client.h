/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl_client: the client side of the control socket (ctl.h), for vtoectl
 * and tests.  Transport only: a request line goes out, one response line
 * comes back; parsing the JSON is the caller's business.
 */
#ifndef VTOE_CTL_CLIENT_H
#define VTOE_CTL_CLIENT_H

#include <stddef.h>

#define CTL_RESPONSE_MAX (64u << 20)   /* bytes: a sanity bound, not a limit
					* the daemon knows of */

/* Connect to the socket at path.  Returns the fd or -errno. */
int ctl_client_connect(const char *path);

/*
 * Send line (len bytes, a newline is appended) on fd and read one response
 * line within timeout_ms (< 0: no limit).  Returns 0 and *response, a
 * malloc'd NUL-terminated string without the newline; or -errno:
 * -ETIMEDOUT, -ECONNRESET when the daemon closed without a full line,
 * -EMSGSIZE past CTL_RESPONSE_MAX.
 */
int ctl_client_call(int fd, const char *line, size_t len, int timeout_ms,
		    char **response);

/* The same, passing descriptor pass_fd (SCM_RIGHTS) with the request;
 * -1: none.  The caller keeps its copy. */
int ctl_client_call_fd(int fd, const char *line, size_t len, int timeout_ms,
		       char **response, int pass_fd);

#endif /* VTOE_CTL_CLIENT_H */
