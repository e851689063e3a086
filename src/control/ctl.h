/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl: the Unix control socket of vtoed.  Newline-delimited JSON requests
 * {"cmd": "...", "args": {...}} and responses {"ok": true, "result": ...} /
 * {"ok": false, "error": "..."}.  The server runs on the main lcore inside
 * the daemon's event loop; it knows nothing of the dataplane: commands are
 * a table of handlers given at creation.  No DPDK types: unit-tested
 * without an EAL.
 */
#ifndef VTOE_CTL_H
#define VTOE_CTL_H

#include <stddef.h>
#include <stdint.h>

struct json_t;

#define CTL_REQUEST_MAX 65536   /* bytes per request line, incl. newline */
#define CTL_CLIENTS_MAX 32      /* concurrent connections */

/*
 * A command handler.  args is the request's "args" object (never NULL: an
 * empty object when absent).  Returns a new reference to the result, or
 * NULL after writing a one-line reason into err.
 */
typedef struct json_t *(*ctl_cmd_fn)(void *ctx, struct json_t *args,
				     char *err, size_t err_size);

struct ctl_cmd {
	const char *name;
	const char *help;       /* one line, shown by "help" */
	ctl_cmd_fn fn;
};

struct ctl_server;

/*
 * Create the listening socket at path (parent directory created if missing,
 * stale socket replaced), chmod to mode.  cmds must outlive the server.
 * Returns NULL + errno.
 */
struct ctl_server *ctl_server_create(const char *path, uint32_t mode,
				     const struct ctl_cmd *cmds, size_t n_cmds,
				     void *ctx);
/* The epoll fd to wait on (readable when ctl_server_poll has work). */
int ctl_server_fd(const struct ctl_server *srv);
/* Accept, read and answer whatever is ready; waits at most timeout_ms.
 * Returns 0 or -errno (-EINTR when a signal interrupted the wait). */
int ctl_server_poll(struct ctl_server *srv, int timeout_ms);
/* Close every connection, close and unlink the socket.  Accepts NULL. */
void ctl_server_destroy(struct ctl_server *srv);

/*
 * In a command handler: the descriptor the client passed (SCM_RIGHTS) with
 * this request, now the handler's to close; -1 when none.  One that is
 * not taken is closed after the handler.
 */
int ctl_take_fd(void);

/*
 * Answer one request line (without its newline): returns a malloc'd JSON
 * response (without newline).  Never NULL except on allocation failure.
 * Exposed for the unit tests.
 */
char *ctl_handle_request(const struct ctl_cmd *cmds, size_t n_cmds, void *ctx,
			 const char *line, size_t len);

#endif /* VTOE_CTL_H */
