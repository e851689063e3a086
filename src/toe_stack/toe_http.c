/* SPDX-License-Identifier: BSD-3-Clause */
/* The services' HTTP/1.1 request parser (toe_http.h). */
#include "toe_http.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *
toe_http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

/* RFC 9110 5.6.2: tchar. */
static bool
is_tchar(uint8_t c)
{
	return isalnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The end of the line starting at p (its LF), or NULL; a CR anywhere but
 * before the LF is refused (*bad). */
static const uint8_t *
line_end(const uint8_t *p, const uint8_t *end, bool *bad)
{
	for (const uint8_t *q = p; q < end; q++) {
		if (*q == '\n')
			return q;
		if (*q == '\r' && (q + 1 >= end ? false : q[1] != '\n')) {
			*bad = true;
			return NULL;
		}
	}
	return NULL;
}

static bool
set_bad(int *status, int code)
{
	*status = code;
	return false;
}

/* "GET /path HTTP/1.1" */
static bool
request_line(const uint8_t *p, const uint8_t *e, struct toe_http_req *r,
	     int *status)
{
	const uint8_t *sp1, *sp2;
	size_t n;

	if (e > p && e[-1] == '\r')
		e--;
	for (sp1 = p; sp1 < e && is_tchar(*sp1); sp1++)
		;
	n = (size_t)(sp1 - p);
	if (sp1 == e || *sp1 != ' ' || n == 0 || n >= sizeof(r->method))
		return set_bad(status, 400);
	memcpy(r->method, p, n);
	r->method[n] = '\0';
	for (sp2 = sp1 + 1; sp2 < e && *sp2 != ' '; sp2++)
		if (*sp2 <= ' ' || *sp2 == 0x7f)
			return set_bad(status, 400);
	if (sp2 == e || e - sp2 != 9)
		return set_bad(status, 400);
	if (memcmp(sp2 + 1, "HTTP/1.", 7) != 0 || !isdigit(sp2[8]))
		return set_bad(status, memcmp(sp2 + 1, "HTTP/", 5) == 0 ? 505 : 400);
	if (sp2[8] > '1')
		return set_bad(status, 505);
	r->minor = (uint8_t)(sp2[8] - '0');
	p = sp1 + 1;
	n = (size_t)(sp2 - p);
	/* absolute-form (RFC 9112 3.2.2): the path after the authority */
	if (n > 7 && strncasecmp((const char *)p, "http://", 7) == 0) {
		const uint8_t *slash = memchr(p + 7, '/', n - 7);

		if (slash == NULL) {
			p = (const uint8_t *)"/";
			n = 1;
		} else {
			n -= (size_t)(slash - p);
			p = slash;
		}
	}
	if (n == 0 || (*p != '/' && !(n == 1 && *p == '*')))
		return set_bad(status, 400);
	if (n > TOE_HTTP_TARGET_MAX)
		return set_bad(status, 414);
	memcpy(r->target, p, n);
	r->target[n] = '\0';
	/* the query is no part of the path the services look at */
	{
		char *q = strchr(r->target, '?');

		if (q != NULL)
			*q = '\0';
	}
	return true;
}

static bool
field_is(const uint8_t *name, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp((const char *)name, want, n) == 0;
}

/* Whether a comma-separated value lists token (case-insensitive). */
static bool
list_has(const uint8_t *v, size_t n, const char *token)
{
	size_t tl = strlen(token), i = 0;

	while (i < n) {
		size_t s, e;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp((const char *)v + s, token, tl) == 0)
			return true;
	}
	return false;
}

static bool
digits(const uint8_t *v, size_t n, unsigned long long max,
       unsigned long long *out)
{
	unsigned long long x = 0;

	if (n == 0 || n > 19)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit(v[i]))
			return false;
		x = x * 10 + (unsigned long long)(v[i] - '0');
	}
	if (x > max)
		return false;
	*out = x;
	return true;
}

enum toe_http_result
toe_http_parse(const uint8_t *buf, uint32_t len, struct toe_http_req *r,
	       int *status)
{
	const uint8_t *p = buf, *end, *e;
	bool bad = false, has_cl = false, conn_close = false, conn_keep = false;
	bool te = false;
	uint32_t head_len;

	memset(r, 0, sizeof(*r));
	r->ttl = -1;
	*status = 0;
	/* RFC 9112 2.2: empty lines before the request line are ignored. */
	while (p < buf + len && (*p == '\r' || *p == '\n'))
		p++;
	end = buf + (len < TOE_HTTP_HEAD_MAX ? len : TOE_HTTP_HEAD_MAX);
	e = line_end(p, end, &bad);
	if (bad) {
		*status = 400;
		return TOE_HTTP_BAD;
	}
	if (e == NULL) {
		if (len >= TOE_HTTP_HEAD_MAX) {
			*status = end - p > TOE_HTTP_TARGET_MAX ? 414 : 431;
			return TOE_HTTP_BAD;
		}
		return TOE_HTTP_MORE;
	}
	if (!request_line(p, e, r, status))
		return TOE_HTTP_BAD;
	p = e + 1;
	for (;;) {
		const uint8_t *colon, *v, *ve;
		size_t n;

		e = line_end(p, end, &bad);
		if (bad) {
			*status = 400;
			return TOE_HTTP_BAD;
		}
		if (e == NULL) {
			if (len >= TOE_HTTP_HEAD_MAX) {
				*status = 431;
				return TOE_HTTP_BAD;
			}
			return TOE_HTTP_MORE;
		}
		ve = e > p && e[-1] == '\r' ? e - 1 : e;
		if (ve == p) {                  /* the empty line */
			p = e + 1;
			break;
		}
		/* RFC 9112 5.2: obsolete line folding is refused. */
		if (*p == ' ' || *p == '\t') {
			*status = 400;
			return TOE_HTTP_BAD;
		}
		for (colon = p; colon < ve && is_tchar(*colon); colon++)
			;
		n = (size_t)(colon - p);
		/* RFC 9112 5.1: no whitespace between name and colon */
		if (colon == ve || *colon != ':' || n == 0) {
			*status = 400;
			return TOE_HTTP_BAD;
		}
		for (v = colon + 1; v < ve && (*v == ' ' || *v == '\t'); v++)
			;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (const uint8_t *c = v; c < ve; c++)
			if ((*c < ' ' && *c != '\t') || *c == 0x7f) {
				*status = 400;
				return TOE_HTTP_BAD;
			}
		if (field_is(p, n, "Host")) {
			if (r->has_host) {
				*status = 400;  /* RFC 9112 3.2: one Host */
				return TOE_HTTP_BAD;
			}
			r->has_host = true;
		} else if (field_is(p, n, "Content-Length")) {
			unsigned long long cl;

			if (!digits(v, (size_t)(ve - v), UINT32_MAX, &cl) ||
			    (has_cl && cl != r->content_length)) {
				*status = 400;
				return TOE_HTTP_BAD;
			}
			has_cl = true;
			r->content_length = (uint32_t)cl;
		} else if (field_is(p, n, "Transfer-Encoding")) {
			te = true;
		} else if (field_is(p, n, "Connection")) {
			conn_close |= list_has(v, (size_t)(ve - v), "close");
			conn_keep |= list_has(v, (size_t)(ve - v), "keep-alive");
		} else if (field_is(p, n, "X-Forwarded-For")) {
			r->forwarded = true;
		} else if (field_is(p, n, "X-aws-ec2-metadata-token")) {
			size_t tl = (size_t)(ve - v);

			r->has_token = true;
			if (tl > TOE_HTTP_TOKEN_MAX)
				tl = TOE_HTTP_TOKEN_MAX;        /* invalid anyway */
			memcpy(r->token, v, tl);
			r->token[tl] = '\0';
		} else if (field_is(p, n, "X-aws-ec2-metadata-token-ttl-seconds")) {
			unsigned long long t;

			r->has_ttl = true;
			r->ttl = digits(v, (size_t)(ve - v), 1000000, &t) ? (long)t : -1;
		}
		p = e + 1;
	}
	head_len = (uint32_t)(p - buf);
	if (te) {
		*status = 501;
		return TOE_HTTP_BAD;
	}
	if (r->minor == 1 && !r->has_host) {
		*status = 400;
		return TOE_HTTP_BAD;
	}
	if (r->content_length > TOE_HTTP_BODY_MAX) {
		*status = 413;
		return TOE_HTTP_BAD;
	}
	/* RFC 9112 9.3: 1.1 persists unless "close"; 1.0 only with
	 * "keep-alive". */
	r->keep_alive = r->minor >= 1 ? !conn_close : conn_keep && !conn_close;
	if (len - head_len < r->content_length)
		return TOE_HTTP_MORE;
	r->size = head_len + r->content_length;
	return TOE_HTTP_DONE;
}
