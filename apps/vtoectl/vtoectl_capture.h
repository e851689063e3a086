/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VTOECTL_CAPTURE_H
#define VTOECTL_CAPTURE_H

#include <stdbool.h>

/* vtoectl capture ARGS...: returns the exit status. */
int vtoectl_capture(const char *socket, double timeout_s, bool json_out,
		    int argc, char **argv);

#endif /* VTOECTL_CAPTURE_H */
