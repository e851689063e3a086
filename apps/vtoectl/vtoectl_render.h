/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vtoectl_render: how vtoectl shows a daemon result to a person.  Known
 * result shapes (ports, stats, lcores, fdb, help, version) become aligned
 * tables; anything else, or a known command whose result does not have
 * the expected shape, is printed as indented JSON.  Never trusts the
 * result: missing fields print as "-".
 */
#ifndef VTOECTL_RENDER_H
#define VTOECTL_RENDER_H

#include <stdio.h>

struct json_t;

/*
 * Print the result of cmd to out.  args are the request's args (NULL
 * when none): "stats" shows a port's features when one port was asked.
 * Returns 0, or -errno when out could not be written or memory ran out.
 */
int render_result(FILE *out, const char *cmd, struct json_t *args,
		  struct json_t *result);

/* Print any JSON value indented, with a final newline. */
int render_json(FILE *out, const struct json_t *value);

#endif /* VTOECTL_RENDER_H */
