/* SPDX-License-Identifier: BSD-3-Clause */
/* Commands kept in their own files, for the table in mgmt_api.c. */
#ifndef VTOE_MGMT_PRIV_H
#define VTOE_MGMT_PRIV_H

#include <stddef.h>

#include <jansson.h>

json_t *mgmt_api_capture(void *ctx, json_t *args, char *err, size_t err_size);

#endif /* VTOE_MGMT_PRIV_H */
