/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * toe_http: the HTTP/1.1 request parser of the endpoint's services
 * (RFC 9110, RFC 9112), pure and bounded.  It reads one request from the
 * front of a buffer: the request line, the header fields the services
 * use, and a Content-Length body (skipped), and says how many bytes the
 * request took, so that pipelined requests are answered in turn.
 *
 * Refusals, with the status the service answers before it closes:
 *  - 400: a malformed request line or field (no version, a bare CR, a
 *    space before the colon, obsolete line folding, a control character),
 *    HTTP/1.1 without Host (RFC 9112 3.2), conflicting Content-Lengths;
 *  - 414: a request target longer than TOE_HTTP_TARGET_MAX;
 *  - 431: a header section longer than TOE_HTTP_HEAD_MAX;
 *  - 413: a body longer than TOE_HTTP_BODY_MAX;
 *  - 501: Transfer-Encoding (no service takes a chunked body);
 *  - 505: an HTTP version other than 1.0 and 1.1.
 */
#ifndef VTOE_TOE_HTTP_H
#define VTOE_TOE_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#define TOE_HTTP_HEAD_MAX 8192
#define TOE_HTTP_TARGET_MAX 1024
#define TOE_HTTP_BODY_MAX 1024
#define TOE_HTTP_TOKEN_MAX 128

struct toe_http_req {
	char method[16];
	char target[TOE_HTTP_TARGET_MAX + 1];   /* the path, origin-form */
	uint8_t minor;                  /* HTTP/1.minor */
	bool keep_alive;                /* the connection stays after it */
	bool has_host;
	bool forwarded;                 /* X-Forwarded-For present */
	bool has_token;                 /* X-aws-ec2-metadata-token */
	char token[TOE_HTTP_TOKEN_MAX + 1];
	bool has_ttl;                   /* ...-token-ttl-seconds */
	long ttl;                       /* -1 when not a number */
	uint32_t content_length;
	uint32_t size;                  /* bytes of the whole request */
};

enum toe_http_result {
	TOE_HTTP_MORE,                  /* the request is not whole yet */
	TOE_HTTP_DONE,                  /* *req filled, req->size bytes */
	TOE_HTTP_BAD,                   /* *status says which refusal */
};

/* Parse the request at the front of len bytes. */
enum toe_http_result toe_http_parse(const uint8_t *buf, uint32_t len,
				    struct toe_http_req *req, int *status);

/* "OK", "Not Found", ...; "Unknown" for others. */
const char *toe_http_reason(int status);

#endif /* VTOE_TOE_HTTP_H */
