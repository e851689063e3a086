/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tables for vtoectl: each known command has a renderer that picks the
 * fields it knows out of the daemon's result and lays them out in aligned
 * columns.  A result without the expected shape falls back to indented
 * JSON, so a newer or older daemon never makes vtoectl crash or lie.
 */
#include "vtoectl_render.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "toe_stack/toe_offload.h"

#define CELL_MAX 256
#define TABLE_COLS_MAX 16
#define RENDER_SHAPE_UNKNOWN 1  /* a renderer's "print it as JSON instead" */

struct table {
	size_t n_cols;
	const char *const *heads;
	const char *align;      /* per column: 'l' left or 'r' right */
	char **cells;           /* row-major, n_cols per row */
	size_t n_cells;
	size_t cap;
	bool oom;
};

#define TABLE_INIT(heads_, align_) {                                    \
	.n_cols = sizeof(heads_) / sizeof((heads_)[0]),                 \
	.heads = (heads_),                                              \
	.align = (align_),                                              \
}

/* The daemon's strings reach a terminal: no escape sequences. */
static void text_clean(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* Columns, not bytes: UTF-8 continuation bytes take no room. */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* Any JSON value as one line of text; missing or null is "-". */
static const char *value_text(const json_t *v, char *buf, size_t size)
{
	char *dump;

	if (v == NULL)
		return "-";
	switch (json_typeof(v)) {
	case JSON_NULL:
		return "-";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_INTEGER:
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		return buf;
	case JSON_REAL:
		snprintf(buf, size, "%g", json_real_value(v));
		return buf;
	case JSON_STRING:
		snprintf(buf, size, "%s", json_string_value(v));
		break;
	case JSON_OBJECT:
	case JSON_ARRAY:
		dump = json_dumps(v, JSON_COMPACT);
		snprintf(buf, size, "%s", dump != NULL ? dump : "?");
		free(dump);
		break;
	}
	text_clean(buf);
	return buf;
}

static void table_add(struct table *t, const char *text)
{
	if (t->oom)
		return;
	if (t->n_cells == t->cap) {
		size_t cap = t->cap == 0 ? 64 : 2 * t->cap;
		char **cells = realloc(t->cells, cap * sizeof(*cells));

		if (cells == NULL) {
			t->oom = true;
			return;
		}
		t->cells = cells;
		t->cap = cap;
	}
	t->cells[t->n_cells] = strdup(text);
	if (t->cells[t->n_cells] == NULL)
		t->oom = true;
	else
		t->n_cells++;
}

static void table_add_value(struct table *t, const json_t *v)
{
	char buf[CELL_MAX];

	table_add(t, value_text(v, buf, sizeof(buf)));
}

static void table_add_field(struct table *t, const json_t *obj,
			    const char *key)
{
	table_add_value(t, json_object_get(obj, key));
}

static void table_row_print(FILE *out, const struct table *t,
			    const size_t *widths, const char *const *row)
{
	for (size_t c = 0; c < t->n_cols; c++) {
		size_t pad = widths[c] - text_width(row[c]);
		bool last = c + 1 == t->n_cols;

		if (c > 0)
			fputs("  ", out);
		if (t->align[c] == 'r')
			fprintf(out, "%*s", (int)pad, "");
		fputs(row[c], out);
		if (t->align[c] != 'r' && !last)
			fprintf(out, "%*s", (int)pad, "");
	}
	fputc('\n', out);
}

/* Print the table and free its cells. */
static int table_print(struct table *t, FILE *out)
{
	size_t widths[TABLE_COLS_MAX];
	int rc = 0;

	if (t->oom || t->n_cols > TABLE_COLS_MAX ||
	    t->n_cells % t->n_cols != 0) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t c = 0; c < t->n_cols; c++)
		widths[c] = text_width(t->heads[c]);
	for (size_t i = 0; i < t->n_cells; i++) {
		size_t w = text_width(t->cells[i]);

		if (w > widths[i % t->n_cols])
			widths[i % t->n_cols] = w;
	}
	table_row_print(out, t, widths, t->heads);
	for (size_t i = 0; i < t->n_cells; i += t->n_cols)
		table_row_print(out, t, widths,
				(const char *const *)(t->cells + i));
out:
	for (size_t i = 0; i < t->n_cells; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->n_cells = t->cap = 0;
	return rc;
}

/* ---- one renderer per command ---- */

/* A VM port's owner in a word or three: "vid 2", "vid 2 +1 standby,
 * logging, -> /path"; "-" when the daemon sent none. */
static void owner_text(const json_t *owner, char *buf, size_t size)
{
	const json_t *vid = json_object_get(owner, "vid");
	const json_t *to = json_object_get(owner, "migrating_to");
	json_int_t standby = json_integer_value(json_object_get(owner, "standby"));
	size_t len;

	if (!json_is_object(owner)) {
		snprintf(buf, size, "-");
		return;
	}
	if (json_is_integer(vid))
		len = (size_t)snprintf(buf, size, "vid %" JSON_INTEGER_FORMAT,
				       json_integer_value(vid));
	else
		len = (size_t)snprintf(buf, size, "none");
	if (standby > 0 && len < size)
		len += (size_t)snprintf(buf + len, size - len,
					" +%" JSON_INTEGER_FORMAT " standby", standby);
	if (json_is_true(json_object_get(owner, "dirty_logging")) && len < size)
		len += (size_t)snprintf(buf + len, size - len, ", logging");
	if (json_is_string(to) && len < size)
		snprintf(buf + len, size - len, ", -> %.200s", json_string_value(to));
	text_clean(buf);
}

static int render_ports(FILE *out, json_t *args, json_t *result)
{
	static const char *const heads[] = {
		"NAME", "KIND", "VM", "ORIGIN", "LINK", "PATH", "NETWORK",
		"SECURITY", "MAC", "QUEUES", "WEIGHT", "UPLINK", "ENDPOINT",
		"OWNER",
	};
	struct table t = TABLE_INIT(heads, "lllllllllrrlll");
	char buf[CELL_MAX], mode[CELL_MAX], endpoint[CELL_MAX];
	json_t *port, *socket;
	size_t i;

	(void)args;
	if (!json_is_array(result))
		return RENDER_SHAPE_UNKNOWN;
	json_array_foreach(result, i, port) {
		table_add_field(&t, port, "name");
		table_add_field(&t, port, "kind");
		table_add_field(&t, port, "vm");
		table_add_field(&t, port, "origin");    /* config or libvirt */
		table_add_field(&t, port, "link");
		table_add_field(&t, port, "path");
		table_add_field(&t, port, "network");
		table_add_field(&t, port, "port_security");
		table_add_field(&t, port, "mac");
		table_add_field(&t, port, "queues");
		table_add_field(&t, port, "weight");
		table_add_field(&t, port, "uplink");
		/* a vhost port's socket, or an uplink's DPDK device */
		socket = json_object_get(port, "socket");
		if (socket != NULL && !json_is_null(socket)) {
			/* precision bounds: no truncation warning */
			snprintf(endpoint, sizeof(endpoint), "%.200s (%.32s)",
				 value_text(socket, buf, sizeof(buf)),
				 value_text(json_object_get(port, "mode"),
					    mode, sizeof(mode)));
			table_add(&t, endpoint);
		} else {
			table_add_field(&t, port, "device");
		}
		owner_text(json_object_get(port, "owner"), buf, sizeof(buf));
		table_add(&t, buf);
	}
	return table_print(&t, out);
}

/* "reason=count ..." for the nonzero drop reasons of one port. */
static bool drops_text(json_t *drops, char *buf, size_t size)
{
	char value[CELL_MAX];
	const char *reason;
	size_t len = 0;
	json_t *count;

	buf[0] = '\0';
	json_object_foreach(drops, reason, count) {
		if (json_is_null(count) ||
		    (json_is_integer(count) && json_integer_value(count) == 0))
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%s%s=%s",
					len > 0 ? " " : "", reason,
					value_text(count, value, sizeof(value)));
		if (len >= size)
			break;          /* cut: the table above has the total */
	}
	text_clean(buf);
	return buf[0] != '\0';
}

/* The software TOE's line for one port, when the daemon sent one. */
static void offload_print(FILE *out, const json_t *o)
{
	static const char *const counters[] = {
#define TOE_COUNTER_NAME(f, help) #f,
		TOE_COUNTERS(TOE_COUNTER_NAME)
#undef TOE_COUNTER_NAME
	};
	char buf[CELL_MAX], d[CELL_MAX];
	const json_t *caps = json_object_get(o, "egress_does"), *c;
	size_t i;

	if (!json_is_object(o))
		return;
	fprintf(out, "\noffloads: %s; the egress itself does: ",
		json_is_true(json_object_get(o, "enabled")) ? "on" : "off");
	if (!json_is_array(caps) || json_array_size(caps) == 0)
		fputs("nothing (all in software)", out);
	json_array_foreach(caps, i, c)
		fprintf(out, "%s%s", i ? "," : "", value_text(c, buf, sizeof(buf)));
	fputs("\n ", out);
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		fprintf(out, " %s=%s", counters[i],
			value_text(json_object_get(o, counters[i]), buf, sizeof(buf)));
	fputc('\n', out);
	if (json_is_object(json_object_get(o, "drops")) &&
	    drops_text(json_object_get(o, "drops"), d, sizeof(d)))
		fprintf(out, "  offload drops: %s\n", d);
}

static void features_print(FILE *out, const json_t *port)
{
	char buf[CELL_MAX], name[CELL_MAX];
	const json_t *names = json_object_get(port, "feature_names");
	json_t *feature;
	size_t i;

	fprintf(out, "  %s: ", value_text(json_object_get(port, "name"),
					  name, sizeof(name)));
	fputs(value_text(json_object_get(port, "features"), buf, sizeof(buf)),
	      out);
	if (json_is_array(names)) {
		json_array_foreach(names, i, feature)
			fprintf(out, "%s%s", i == 0 ? " (" : ", ",
				value_text(feature, buf, sizeof(buf)));
		if (json_array_size(names) > 0)
			fputc(')', out);
	}
	fputc('\n', out);
}

static int render_stats(FILE *out, json_t *args, json_t *result)
{
	static const char *const heads[] = {
		"NAME", "LINK", "RX_PKTS", "RX_BYTES", "RX_DIRECT", "TX_PKTS",
		"TX_BYTES", "DROPS",
	};
	struct table t = TABLE_INIT(heads, "llrrrrrr");
	char name[CELL_MAX], drops[1024];
	bool titled = false;
	json_t *ports, *port;
	size_t i;
	int rc;

	ports = json_is_array(result) ? result : json_object_get(result, "ports");
	if (!json_is_array(ports))
		return RENDER_SHAPE_UNKNOWN;
	json_array_foreach(ports, i, port) {
		table_add_field(&t, port, "name");
		table_add_field(&t, port, "link");
		table_add_field(&t, port, "rx_packets");
		table_add_field(&t, port, "rx_bytes");
		table_add_field(&t, port, "direct");
		table_add_field(&t, port, "tx_packets");
		table_add_field(&t, port, "tx_bytes");
		table_add_field(&t, port, "drops_total");
	}
	rc = table_print(&t, out);
	if (rc < 0)
		return rc;

	json_array_foreach(ports, i, port) {
		json_t *d = json_object_get(port, "drops");

		if (!json_is_object(d) || !drops_text(d, drops, sizeof(drops)))
			continue;
		if (!titled)
			fputs("\ndrops:\n", out);
		titled = true;
		fprintf(out, "  %s: %s\n", value_text(json_object_get(port,
			"name"), name, sizeof(name)), drops);
	}

	/* negotiated features: only worth the room for the port asked for */
	if (json_object_get(args, "port") == NULL)
		return 0;
	titled = false;
	json_array_foreach(ports, i, port) {
		if (json_object_get(port, "features") == NULL &&
		    json_object_get(port, "feature_names") == NULL)
			continue;
		if (!titled)
			fputs("\nfeatures:\n", out);
		titled = true;
		features_print(out, port);
	}
	json_array_foreach(ports, i, port) {
		const json_t *o = json_object_get(port, "owner");
		char who[CELL_MAX], v[5][CELL_MAX];

		if (!json_is_object(o))
			continue;
		owner_text(o, who, sizeof(who));
		fprintf(out, "\nowner: %s; owner changes %s, refused %s, takeovers %s, announces %s\n",
			who,
			value_text(json_object_get(o, "owner_changes"), v[0], sizeof(v[0])),
			value_text(json_object_get(o, "refused"), v[1], sizeof(v[1])),
			value_text(json_object_get(o, "takeovers"), v[2], sizeof(v[2])),
			value_text(json_object_get(o, "announces"), v[3], sizeof(v[3])));
	}
	json_array_foreach(ports, i, port)
		offload_print(out, json_object_get(port, "offload"));
	return 0;
}

/* A number with one decimal; anything else as it is. */
static void table_add_tenths(struct table *t, const json_t *v)
{
	char buf[CELL_MAX];

	if (!json_is_number(v)) {
		table_add_value(t, v);
		return;
	}
	snprintf(buf, sizeof(buf), "%.1f", json_number_value(v));
	table_add(t, buf);
}

/* The worker's share over the last window, or since start without one. */
static void table_add_share(struct table *t, json_t *lcore, const char *key)
{
	json_t *win = json_object_get(lcore, "window");

	if (json_is_object(win) &&
	    json_number_value(json_object_get(win, "seconds")) > 0)
		table_add_tenths(t, json_object_get(win, key));
	else
		table_add_tenths(t, json_object_get(lcore, key));
}

static int render_lcores(FILE *out, json_t *args, json_t *result)
{
	static const char *const heads[] = {
		"LCORE", "ROLE", "BUSY%", "IDLE%", "SLEEP%", "WAKEUPS",
		"LOOP_MAX_US", "QUEUES",
	};
	static const char *const qheads[] = {
		"QUEUE", "LCORE", "LOAD%", "FRAMES/S", "PINNED",
	};
	struct table t = TABLE_INIT(heads, "rlrrrrrl");
	struct table qt = TABLE_INIT(qheads, "lrrrl");
	char buf[CELL_MAX], queue[CELL_MAX];
	json_t *lcore, *v, *reb = NULL, *poll = NULL;
	size_t i, k;
	bool any_q = false;
	int rc;

	(void)args;
	if (!json_is_array(result))
		return RENDER_SHAPE_UNKNOWN;
	json_array_foreach(result, i, lcore) {
		if (json_object_get(lcore, "rebalance") != NULL)
			reb = json_object_get(lcore, "rebalance");
		if (json_object_get(lcore, "poll") != NULL)
			poll = json_object_get(lcore, "poll");
		table_add_field(&t, lcore, "lcore");
		table_add_field(&t, lcore, "role");
		table_add_share(&t, lcore, "busy_pct");
		table_add_share(&t, lcore, "idle_pct");
		table_add_share(&t, lcore, "sleep_pct");
		table_add_field(&t, lcore, "wakeups");
		table_add_tenths(&t, json_object_get(lcore, "loop_max_us"));
		v = json_object_get(lcore, "queues");
		if (json_is_array(v) && json_array_size(v) > 0) {
			json_t *q;
			size_t len = 0;

			json_array_foreach(v, k, q) {
				len += (size_t)snprintf(buf + len,
					sizeof(buf) - len, "%s%s",
					k > 0 ? "," : "",
					value_text(q, queue, sizeof(queue)));
				if (len >= sizeof(buf))
					break;  /* snprintf left it cut */
			}
			table_add(&t, buf);
		} else {
			table_add_value(&t, json_is_array(v) ? NULL : v);
		}
		v = json_object_get(lcore, "queue_load");
		if (!json_is_array(v))
			continue;
		json_array_foreach(v, k, lcore) {
			table_add_field(&qt, lcore, "queue");
			table_add_value(&qt, json_object_get(json_array_get(result, i), "lcore"));
			table_add_tenths(&qt, json_object_get(lcore, "load_pct"));
			snprintf(buf, sizeof(buf), "%.0f",
				 json_number_value(json_object_get(lcore, "frames_per_s")));
			table_add(&qt, buf);
			table_add(&qt, json_is_true(json_object_get(lcore, "pinned")) ?
				  "yes" : "no");
			any_q = true;
		}
	}
	rc = table_print(&t, out);
	if (rc != 0 || !any_q)
		return rc;
	fputs("\n", out);
	rc = table_print(&qt, out);
	if (rc == 0 && json_is_object(reb))
		fprintf(out, "\nshares and loads over the last 10 s; poll: %s; rebalance: %s (a worker >= %" JSON_INTEGER_FORMAT "%% busy for %" JSON_INTEGER_FORMAT " s, variance %" JSON_INTEGER_FORMAT "%% better): %" JSON_INTEGER_FORMAT " proposal(s), %" JSON_INTEGER_FORMAT " taken, %" JSON_INTEGER_FORMAT " queue move(s)\n",
			value_text(poll, buf, sizeof(buf)),
			value_text(json_object_get(reb, "mode"), queue, sizeof(queue)),
			json_integer_value(json_object_get(reb, "load_pct")),
			json_integer_value(json_object_get(reb, "period_s")),
			json_integer_value(json_object_get(reb, "improvement_pct")),
			json_integer_value(json_object_get(reb, "checks")),
			json_integer_value(json_object_get(reb, "taken")),
			json_integer_value(json_object_get(reb, "queues_moved")));
	return rc;
}

static int render_fdb(FILE *out, json_t *args, json_t *result)
{
	static const char *const heads[] = { "NETWORK", "MAC", "PORT", "TYPE",
					     "AGE_S" };
	struct table t = TABLE_INIT(heads, "llllr");
	json_t *entry;
	size_t i;

	(void)args;
	if (!json_is_array(result))
		return RENDER_SHAPE_UNKNOWN;
	json_array_foreach(result, i, entry) {
		table_add_field(&t, entry, "network");
		table_add_field(&t, entry, "mac");
		table_add_field(&t, entry, "port");
		table_add_field(&t, entry, "type");
		table_add_field(&t, entry, "age_s");
	}
	return table_print(&t, out);
}

/* A list's strings joined by sep, "-" when empty. */
static const char *list_text(const json_t *list, const char *sep, char *buf,
			     size_t size)
{
	char v[CELL_MAX];
	size_t i, len = 0;
	json_t *e;

	buf[0] = '\0';
	json_array_foreach(list, i, e)
		if (len < size)
			len += (size_t)snprintf(buf + len, size - len, "%s%s",
						i ? sep : "",
						value_text(e, v, sizeof(v)));
	return buf[0] != '\0' ? buf : "-";
}

/* The metadata service's line and the connections' table. */
static void toe_services_print(FILE *out, json_t *port)
{
	static const char *const heads[] = { "STATE", "LOCAL", "REMOTE", "CWND",
		"SRTT_MS", "RTO_MS", "SND_Q", "RCV_Q", "BYTES_IN", "BYTES_OUT",
		"RETRANS" };
	json_t *md = json_object_get(port, "metadata_service");
	json_t *tcp = json_object_get(port, "tcp"), *conn;
	char a[CELL_MAX], b[CELL_MAX], c[CELL_MAX], d[CELL_MAX];
	const char *name;
	json_t *v;
	size_t i;

	if (json_is_object(md)) {
		fprintf(out, "  metadata service: imds %s, user data %s bytes\n ",
			value_text(json_object_get(md, "imds"), a, sizeof(a)),
			value_text(json_object_get(md, "user_data_bytes"), b, sizeof(b)));
		json_object_foreach(md, name, v)
			if (strcmp(name, "imds") != 0 && strcmp(name, "user_data_bytes") != 0)
				fprintf(out, " %s=%s", name, value_text(v, a, sizeof(a)));
		fputc('\n', out);
	}
	if (json_array_size(json_object_get(port, "neighbours")) > 0) {
		fputs("  neighbours (ARP answered for):", out);
		json_array_foreach(json_object_get(port, "neighbours"), i, v)
			fprintf(out, " %s=%s@%s%s",
				value_text(json_object_get(v, "port"), a, sizeof(a)),
				value_text(json_object_get(v, "ip"), b, sizeof(b)),
				value_text(json_object_get(v, "mac"), c, sizeof(c)),
				json_is_true(json_object_get(v, "up")) ? "" : " (down)");
		fputc('\n', out);
	}
	md = json_object_get(port, "iperf3_service");
	if (json_is_object(md)) {
		fputs("  iperf3 service:", out);
		json_object_foreach(md, name, v)
			if (strcmp(name, "errors") != 0)
				fprintf(out, " %s=%s", name, value_text(v, a, sizeof(a)));
		if (drops_text(json_object_get(md, "errors"), b, sizeof(b)))
			fprintf(out, "; ended early: %s", b);
		fputc('\n', out);
	}
	if (!json_is_object(tcp))
		return;
	fprintf(out, "  tcp (%s): %s connection(s), %s in TIME_WAIT, %s buffer bytes\n",
		value_text(json_object_get(tcp, "congestion"), c, sizeof(c)),
		value_text(json_object_get(tcp, "connections"), a, sizeof(a)),
		value_text(json_object_get(tcp, "time_wait"), d, sizeof(d)),
		value_text(json_object_get(tcp, "buffer_bytes"), b, sizeof(b)));
	if (json_array_size(json_object_get(tcp, "list")) > 0) {
		struct table t = TABLE_INIT(heads, "lllrrrrrrrr");

		json_array_foreach(json_object_get(tcp, "list"), i, conn) {
			table_add_field(&t, conn, "state");
			table_add_field(&t, conn, "local");
			table_add_field(&t, conn, "remote");
			table_add_field(&t, conn, "cwnd");
			table_add_field(&t, conn, "srtt_ms");
			table_add_field(&t, conn, "rto_ms");
			table_add_field(&t, conn, "snd_queued");
			table_add_field(&t, conn, "rcv_queued");
			table_add_field(&t, conn, "bytes_in");
			table_add_field(&t, conn, "bytes_out");
			table_add_field(&t, conn, "retransmits");
		}
		table_print(&t, out);
	}
}

/* One block per port's TOE endpoint. */
static int render_toe(FILE *out, json_t *args, json_t *result)
{
	char a[CELL_MAX], b[CELL_MAX], c[CELL_MAX], d[CELL_MAX], e[CELL_MAX];
	json_t *port, *lease, *counters, *count;
	const char *name;
	size_t i;

	(void)args;
	if (!json_is_array(result))
		return RENDER_SHAPE_UNKNOWN;
	if (json_array_size(result) == 0)
		fputs("no port has a TOE endpoint (a port needs an IPv4 ip: and toe: dhcp or metadata on)\n", out);
	json_array_foreach(result, i, port) {
#define F(key, buf) value_text(json_object_get(port, key), buf, sizeof(buf))
		fprintf(out, "%s%s (vm %s)  mac %s  ip %s  gateway %s\n",
			i ? "\n" : "", F("port", a), F("vm", b), F("mac", c),
			F("ip", d), F("gateway", e));
		fprintf(out, "  dhcp %s  metadata %s  hostname %s  instance_id %s  dns %s\n",
			json_is_true(json_object_get(port, "dhcp")) ? "on" : "off",
			json_is_true(json_object_get(port, "metadata")) ? "on" : "off",
			F("hostname", a), F("instance_id", b),
			list_text(json_object_get(port, "dns"), ",", c, sizeof(c)));
		fprintf(out, "  answers %s as %s\n",
			list_text(json_object_get(port, "answers"), " ", a, sizeof(a)),
			F("endpoint_mac", b));
#undef F
		lease = json_object_get(port, "lease");
#define L(key, buf) value_text(json_object_get(lease, key), buf, sizeof(buf))
		fprintf(out, "  lease %s", L("state", a));
		if (!json_is_null(json_object_get(lease, "ip")))
			fprintf(out, " %s xid %s, changed %s s ago",
				L("ip", a), L("xid", b), L("age_s", c));
		if (json_is_integer(json_object_get(lease, "expires_in_s")))
			fprintf(out, ", expires in %s s", L("expires_in_s", d));
#undef L
		fputs("\n ", out);
		counters = json_object_get(port, "counters");
		json_object_foreach(counters, name, count)
			fprintf(out, " %s=%s", name, value_text(count, a, sizeof(a)));
		fputc('\n', out);
		if (drops_text(json_object_get(port, "drops"), a, sizeof(a)))
			fprintf(out, "  drops: %s\n", a);
		else
			fputs("  drops: none\n", out);
		toe_services_print(out, port);
	}
	return 0;
}

static int render_help(FILE *out, json_t *args, json_t *result)
{
	static const char *const heads[] = { "COMMAND", "DESCRIPTION" };
	struct table t = TABLE_INIT(heads, "ll");
	json_t *cmd;
	size_t i;

	(void)args;
	if (!json_is_array(result))
		return RENDER_SHAPE_UNKNOWN;
	json_array_foreach(result, i, cmd) {
		table_add_field(&t, cmd, "name");
		table_add_field(&t, cmd, "help");
	}
	return table_print(&t, out);
}

/* A flat object as "key  value" lines, as for "version". */
static int render_fields(FILE *out, json_t *args, json_t *result)
{
	size_t width = 0;
	char name[CELL_MAX], buf[CELL_MAX];
	const char *key;
	json_t *v;

	(void)args;
	if (!json_is_object(result))
		return RENDER_SHAPE_UNKNOWN;
	json_object_foreach(result, key, v) {
		if (text_width(key) > width)
			width = text_width(key);
	}
	json_object_foreach(result, key, v) {
		snprintf(name, sizeof(name), "%s", key);
		text_clean(name);
		fprintf(out, "%s:%*s %s\n", name,
			(int)(width - text_width(name)), "",
			value_text(v, buf, sizeof(buf)));
	}
	return 0;
}

/* "reload": the file, then what became of the ports, one line each. */
static int render_reload(FILE *out, json_t *args, json_t *result)
{
	static const char *const lists[] = {
		"added", "removed", "changed", "unchanged",
	};
	const char *file = json_string_value(json_object_get(result, "file"));
	char buf[CELL_MAX];

	(void)args;
	if (file == NULL)
		return RENDER_SHAPE_UNKNOWN;
	snprintf(buf, sizeof(buf), "%s", file);
	text_clean(buf);
	fprintf(out, "reloaded %s\n", buf);
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		json_t *names = json_object_get(result, lists[i]), *n;
		size_t j;

		if (!json_is_array(names))
			continue;
		fprintf(out, "%-10s %zu", lists[i], json_array_size(names));
		json_array_foreach(names, j, n) {
			snprintf(buf, sizeof(buf), "%s",
				 json_is_string(n) ? json_string_value(n) : "?");
			text_clean(buf);
			fprintf(out, "%s%s", j == 0 ? ": " : ", ", buf);
		}
		fputc('\n', out);
	}
	return 0;
}

/* "qos show": per uplink a heading line, then one row per class;
 * "qos set" answers with a flat object. */
static int render_qos(FILE *out, json_t *args, json_t *result)
{
	static const char *const heads[] = {
		"PORT", "WEIGHT", "SHARE%", "SENT_PKTS", "SENT_BYTES", "BACKLOG",
		"DEFICIT", "DROPS",
	};
	json_t *uplinks = json_object_get(result, "uplinks"), *up, *cls, *v;
	char name[CELL_MAX], quantum[CELL_MAX], queued[CELL_MAX];
	char buf[CELL_MAX], rate[CELL_MAX];
	size_t i, k;
	int rc = 0;

	if (!json_is_array(uplinks))
		return json_is_object(result) && json_object_get(result, "weight") ?
			render_fields(out, args, result) : RENDER_SHAPE_UNKNOWN;
	json_array_foreach(uplinks, i, up) {
		struct table t = TABLE_INIT(heads, "lrrrrrrr");

		v = json_object_get(up, "rate_bps");
		if (json_is_integer(v) && json_integer_value(v) > 0)
			snprintf(rate, sizeof(rate), "%.3f Mbit/s",
				 (double)json_integer_value(v) / 1e6);
		else
			snprintf(rate, sizeof(rate), "unlimited");
		fprintf(out, "%suplink %s: rate %s, quantum %s B x weight, %s frames queued\n",
			i > 0 ? "\n" : "",
			value_text(json_object_get(up, "uplink"), name, sizeof(name)),
			rate,
			value_text(json_object_get(up, "base_quantum"), quantum,
				   sizeof(quantum)),
			value_text(json_object_get(up, "queued"), queued,
				   sizeof(queued)));
		json_array_foreach(json_object_get(up, "classes"), k, cls) {
			table_add_field(&t, cls, "port");
			table_add_field(&t, cls, "weight");
			v = json_object_get(cls, "share");
			if (json_is_number(v)) {
				snprintf(buf, sizeof(buf), "%.1f",
					 100.0 * json_number_value(v));
				table_add(&t, buf);
			} else {
				table_add_value(&t, v);
			}
			table_add_field(&t, cls, "sent_packets");
			table_add_field(&t, cls, "sent_bytes");
			table_add_field(&t, cls, "backlog_packets");
			table_add_field(&t, cls, "deficit");
			table_add_field(&t, cls, "dropped_packets");
		}
		rc = table_print(&t, out);
		if (rc != 0)
			break;
	}
	return rc;
}

/* "changed" is seconds since the epoch: shown as an age. */
static void age_add(struct table *t, const json_t *when, double now)
{
	char buf[CELL_MAX];

	if (!json_is_number(when)) {
		table_add_value(t, when);
		return;
	}
	snprintf(buf, sizeof(buf), "%.1fs ago",
		 now - json_number_value(when) > 0 ?
		 now - json_number_value(when) : 0.0);
	table_add(t, buf);
}

/* "membership": where it comes from, the VMs, and each VM port's path. */
static int render_membership(FILE *out, json_t *args, json_t *result)
{
	static const char *const vm_heads[] = {
		"VM", "STATE", "CHANGED", "INTERFACES", "UUID",
	};
	static const char *const port_heads[] = {
		"PORT", "VM", "PATH", "CHANGED", "RING", "DRAINED",
	};
	struct table vt = TABLE_INIT(vm_heads, "lllll");
	struct table pt = TABLE_INIT(port_heads, "llllrr");
	json_t *vms = json_object_get(result, "vms");
	json_t *ports = json_object_get(result, "ports"), *vm, *ifc, *p;
	char buf[CELL_MAX], a[CELL_MAX], b[CELL_MAX], c[CELL_MAX];
	char d[CELL_MAX];
	struct timespec ts;
	double now;
	size_t i, k;
	int rc;

	(void)args;
	if (!json_is_array(vms) || !json_is_array(ports))
		return RENDER_SHAPE_UNKNOWN;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if (json_is_string(json_object_get(result, "uri")))
		fprintf(out, "source libvirt %s (%s), %s, %s events, %s resyncs, %s disconnects\n",
			value_text(json_object_get(result, "uri"), buf, sizeof(buf)),
			value_text(json_object_get(result, "mode"), a, sizeof(a)),
			json_is_true(json_object_get(result, "connected")) ?
				"connected" : "NOT CONNECTED (retrying)",
			value_text(json_object_get(result, "events"), b, sizeof(b)),
			value_text(json_object_get(result, "resyncs"), c, sizeof(c)),
			value_text(json_object_get(result, "disconnects"), d,
				   sizeof(d)));
	else
		fprintf(out, "source static: the port map is the table\n");
	json_array_foreach(vms, i, vm) {
		size_t len = 0;

		table_add_field(&vt, vm, "name");
		table_add_field(&vt, vm, "state");
		age_add(&vt, json_object_get(vm, "changed"), now);
		buf[0] = '\0';
		json_array_foreach(json_object_get(vm, "interfaces"), k, ifc) {
			const json_t *port = json_object_get(ifc, "port");

			len += (size_t)snprintf(buf + len, len < sizeof(buf) ?
						sizeof(buf) - len : 0,
				"%s%.17s->%.31s%s%s", k > 0 ? " " : "",
				value_text(json_object_get(ifc, "mac"), a, sizeof(a)),
				json_is_string(port) ? json_string_value(port) :
						       "(no port)",
				json_is_true(json_object_get(ifc, "refused")) ?
					" REFUSED" : "",
				json_is_false(json_object_get(ifc, "mac_matches_port")) &&
					json_is_string(port) ? " MAC-MISMATCH" : "");
		}
		table_add(&vt, buf);
		table_add_field(&vt, vm, "uuid");
	}
	rc = table_print(&vt, out);
	if (rc != 0)
		return rc;
	fputc('\n', out);
	json_array_foreach(ports, i, p) {
		table_add_field(&pt, p, "port");
		table_add_field(&pt, p, "vm");
		table_add_field(&pt, p, "path");
		age_add(&pt, json_object_get(p, "changed"), now);
		table_add_field(&pt, p, "ring_queued");
		table_add_field(&pt, p, "drained");
	}
	return table_print(&pt, out);
}

/* "cluster": this host's tunnel endpoint, the directory session, the
 * other hosts and their VM ports. */
static int render_cluster(FILE *out, json_t *args, json_t *result)
{
	static const char *const host_heads[] = {
		"HOST", "VTEP", "PORTS", "LEARNED", "NEXT HOP", "NEXT HOP MAC",
	};
	static const char *const vm_heads[] = {
		"HOST", "NETWORK", "VNI", "MAC", "IPS", "PORT", "LEARNED",
	};
	struct table ht = TABLE_INIT(host_heads, "llrlll");
	struct table rt = TABLE_INIT(vm_heads, "llrllll");
	json_t *dir = json_object_get(result, "directory");
	json_t *hosts = json_object_get(result, "hosts");
	json_t *remotes = json_object_get(result, "remotes"), *h, *v;
	char a[CELL_MAX], b[CELL_MAX], c[CELL_MAX], d[CELL_MAX], e[CELL_MAX];
	char f[CELL_MAX];
	const char *name;
	struct timespec ts;
	double now;
	size_t i;
	int rc;

	(void)args;
	if (!json_is_object(dir) || !json_is_array(hosts) || !json_is_array(remotes))
		return RENDER_SHAPE_UNKNOWN;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
#define F(o, key, buf) value_text(json_object_get(o, key), buf, sizeof(buf))
	fprintf(out, "host %s  vtep %s:%s on %s  guest MTU %s  networks",
		F(result, "host", a), F(result, "vtep", b),
		F(result, "udp_port", c), F(result, "uplink", d),
		F(result, "guest_mtu", e));
	json_array_foreach(json_object_get(result, "networks"), i, v)
		fprintf(out, " %s=%s", F(v, "name", a), F(v, "vni", b));
	fprintf(out, "\ndirectory %s%s via %s  lease %s (ttl %s s)  revision %s  published %s",
		F(dir, "state", a),
		json_is_true(json_object_get(dir, "stale")) ? " STALE" : "",
		F(dir, "endpoint", b), F(dir, "lease", c), F(dir, "ttl", d),
		F(dir, "revision", e), value_text(json_object_get(dir, "published"), f, sizeof(f)));
	v = json_object_get(dir, "synced");
	if (json_is_number(v))
		fprintf(out, "  in sync %.1fs ago", now - json_number_value(v) > 0 ?
			now - json_number_value(v) : 0.0);
	v = json_object_get(dir, "last_error");
	if (json_is_string(v) && json_string_length(v) > 0)
		fprintf(out, "\n  last error: %s", json_string_value(v));
	fputs("\n ", out);
	json_object_foreach(json_object_get(dir, "counters"), name, v)
		fprintf(out, " %s=%s", name, value_text(v, a, sizeof(a)));
	fputs("\noverlay", out);
	json_object_foreach(json_object_get(result, "counters"), name, v)
		if (!json_is_object(v))
			fprintf(out, " %s=%s", name, value_text(v, a, sizeof(a)));
	if (drops_text(json_object_get(json_object_get(result, "counters"),
				       "vxlan_drops"), a, sizeof(a)))
		fprintf(out, "\n  vxlan drops: %s", a);
	fputs("\n\n", out);
	json_array_foreach(hosts, i, h) {
		table_add_field(&ht, h, "name");
		table_add_field(&ht, h, "vtep");
		table_add_field(&ht, h, "ports");
		age_add(&ht, json_object_get(h, "learned"), now);
		table_add_field(&ht, h, "next_hop");
		table_add_field(&ht, h, "next_hop_mac");
	}
	rc = table_print(&ht, out);
	if (rc != 0)
		return rc;
	fputc('\n', out);
	json_array_foreach(remotes, i, h) {
		table_add_field(&rt, h, "host");
		table_add_field(&rt, h, "network");
		table_add_field(&rt, h, "vni");
		table_add_field(&rt, h, "mac");
		table_add(&rt, list_text(json_object_get(h, "ips"), ",", a, sizeof(a)));
		table_add_field(&rt, h, "port");
		age_add(&rt, json_object_get(h, "learned"), now);
	}
#undef F
	return table_print(&rt, out);
}

static const struct renderer {
	const char *cmd;
	int (*fn)(FILE *out, json_t *args, json_t *result);
} renderers[] = {
	{ "cluster", render_cluster },
	{ "fdb", render_fdb },
	{ "help", render_help },
	{ "lcores", render_lcores },
	{ "membership", render_membership },
	{ "ports", render_ports },
	{ "qos", render_qos },
	{ "reload", render_reload },
	{ "stats", render_stats },
	{ "toe", render_toe },
	{ "version", render_fields },
};

int render_json(FILE *out, const json_t *value)
{
	char *dump = json_dumps(value != NULL ? value : json_null(),
				JSON_INDENT(2) | JSON_ENCODE_ANY);

	if (dump == NULL)
		return -ENOMEM;
	fprintf(out, "%s\n", dump);
	free(dump);
	return ferror(out) ? -EIO : 0;
}

int render_result(FILE *out, const char *cmd, json_t *args, json_t *result)
{
	for (size_t i = 0; i < sizeof(renderers) / sizeof(renderers[0]); i++) {
		int rc;

		if (strcmp(renderers[i].cmd, cmd) != 0)
			continue;
		rc = renderers[i].fn(out, args, result);
		if (rc == RENDER_SHAPE_UNKNOWN)
			break;
		if (rc == 0 && ferror(out))
			rc = -EIO;
		return rc;
	}
	return render_json(out, result);
}
