/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cfg: the lcores: section (the main lcore, the workers and the CPUs they
 * may run on, polling, the rebalancer).  Part of the schema walk in
 * cfg.c; a CPU is checked against those this process may run on.
 */
#include "cfg_priv.h"

#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const cfg_keys_lcores[] = { "main", "workers", "poll", "max_sleep", "rebalance", NULL };
static const char *const keys_rebalance[] = { "mode", "load", "period", "improvement", NULL };

/* Is cpu in /sys/devices/system/cpu/online ("0-3,8")? */
static bool cpu_online(unsigned int cpu)
{
	FILE *f = fopen("/sys/devices/system/cpu/online", "re");
	char line[4096];
	bool found = false;
	char *s, *end;

	if (f == NULL)
		return false;
	s = fgets(line, sizeof(line), f);
	while (s != NULL && !found) {
		unsigned long lo = strtoul(s, &end, 10), hi = lo;

		if (end == s)
			break;
		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		found = cpu >= lo && cpu <= hi;
		s = *end == ',' ? end + 1 : NULL;
	}
	fclose(f);
	return found;
}

/*
 * The CPUs this process may run on.  A worker pinned outside them either
 * fails (a cpuset cgroup) or takes a CPU the operator fenced off (taskset,
 * systemd CPUAffinity=).  The mask is CPU_SETSIZE bits; on a larger machine
 * sched_getaffinity fails with EINVAL and the online list is the best we know.
 */
bool cfg_cpu_usable(unsigned int cpu)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return cpu < CPU_SETSIZE && CPU_ISSET(cpu, &set);
	return cpu_online(cpu);
}

/* "0-3,8" for the error messages; only built when a CPU is refused. */
static const char *cpus_text(struct cfg_parser *p)
{
	size_t len = 0, size = sizeof(p->cpus_text);
	unsigned int cpu, first;

	if (p->cpus_text[0] != '\0')
		return p->cpus_text;
	for (cpu = 0; cpu < CPU_SETSIZE && len < size; cpu++) {
		if (!p->cpu_present(cpu))
			continue;
		first = cpu;
		while (cpu + 1 < CPU_SETSIZE && p->cpu_present(cpu + 1))
			cpu++;
		if (first == cpu)
			len += (size_t)snprintf(p->cpus_text + len, size - len,
						"%s%u", len ? "," : "", cpu);
		else
			len += (size_t)snprintf(p->cpus_text + len, size - len,
						"%s%u-%u", len ? "," : "",
						first, cpu);
	}
	if (len == 0)
		snprintf(p->cpus_text, size, "none");
	return p->cpus_text;
}

static void check_cpu(struct cfg_parser *p, const yaml_node_t *at,
		      const char *what, unsigned int cpu)
{
	if (!p->cpu_present(cpu))
		cfg_error(p, at, "lcores: %s %u is not a CPU this process may run on (usable: %s)",
			  what, cpu, cpus_text(p));
}

/* ------------------------------------------------------------------ */
/* Sections                                                           */

/*
 * A worker: lcore id == CPU (the normal case: one busy-polling worker per
 * CPU of its own), or "LCORE@CPU" to pin lcore LCORE to CPU, which may be
 * shared with other workers.  Shared CPUs make busy-polling workers
 * take turns (and a worker preempted inside a ring operation stalls the
 * others): for tests and small machines, never for speed.
 * main_ok: false when main was refused, so as not to compare with it.
 */
static void parse_worker(struct cfg_parser *p, const yaml_node_t *at,
			 unsigned int lcore, unsigned int cpu, bool main_ok)
{
	struct cfg *cfg = p->cfg;
	unsigned int i;

	check_cpu(p, at, "worker", cpu);
	if (main_ok && (lcore == cfg->main_lcore || cpu == cfg->main_lcore))
		cfg_error(p, at, "lcores: worker %u is also the main lcore (give workers CPUs of their own)",
			  lcore == cfg->main_lcore ? lcore : cpu);
	if (lcore >= CFG_MAX_LCORE_ID) {
		cfg_error(p, at, "lcores: lcore id %u is too large (max %d)",
			  lcore, CFG_MAX_LCORE_ID - 1);
		return;
	}
	for (i = 0; i < cfg->n_workers; i++)
		if (cfg->workers[i] == lcore) {
			cfg_error(p, at, "lcores: worker %u is listed twice", lcore);
			return;
		}
	cfg->worker_cpus[cfg->n_workers] = cpu;
	cfg->workers[cfg->n_workers++] = lcore;
}

/* "2@1" -> lcore 2 on CPU 1; false if it is not that shape. */
static bool parse_lcore_at(const char *s, unsigned int *lcore, unsigned int *cpu)
{
	unsigned long l, c;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	l = strtoul(s, &end, 10);
	if (*end != '@' || end[1] < '0' || end[1] > '9')
		return false;
	c = strtoul(end + 1, &end, 10);
	if (*end != '\0' || l > UINT_MAX || c > UINT_MAX)
		return false;
	*lcore = (unsigned int)l;
	*cpu = (unsigned int)c;
	return true;
}


/* A whole number with no unit or the unit small, or with the unit big
 * (times mult): the number in small units, 0 for anything else. */
static unsigned long long scaled_number(const char *s, const char *small,
					const char *big, unsigned int mult)
{
	unsigned long long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return 0;
	v = strtoull(s, &end, 10);
	if (strcmp(end, big) == 0)
		return v > ULLONG_MAX / mult ? 0 : v * mult;
	return *end == '\0' || strcmp(end, small) == 0 ? v : 0;
}

/* "250us", "1ms", or a number of microseconds. */
static void parse_max_sleep(struct cfg_parser *p, const yaml_node_t *n,
			    const char *ctx)
{
	const char *s = cfg_get_scalar(p, n, ctx, "max_sleep");
	unsigned long long v;

	if (s == NULL)
		return;
	v = scaled_number(s, "us", "ms", 1000);
	if (v == 0 || v > CFG_MAX_SLEEP_US_MAX) {
		cfg_error(p, n, "%smax_sleep \"%s\" is not a duration from 1us to 10ms (like 250us or 1ms)",
			  ctx, s);
		return;
	}
	p->cfg->max_sleep_us = (uint32_t)v;
}

const char *
cfg_poll_name(enum cfg_poll mode)
{
	static const char *const names[] = {
#define CFG_POLL_NAME(sym, name) [sym] = name,
		CFG_POLL_MODES(CFG_POLL_NAME)
#undef CFG_POLL_NAME
	};

	return mode < CFG_POLL_MAX ? names[mode] : "?";
}

/* "95%" or 95: a whole percentage from lo to 100. */
static bool parse_pct(struct cfg_parser *p, const yaml_node_t *n,
		      const char *ctx, const char *key, unsigned long lo,
		      uint32_t *out)
{
	const char *s = cfg_get_scalar(p, n, ctx, key);
	unsigned long v;
	char *end;

	if (s == NULL)
		return false;
	v = strtoul(s, &end, 10);
	if (end == s || (*end != '\0' && strcmp(end, "%") != 0) || v < lo ||
	    v > 100) {
		cfg_error(p, n, "%s%s \"%s\" is not a percentage from %lu%% to 100%%",
			  ctx, key, s, lo);
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

/* "60s", "2m", or a number of seconds: 1s to an hour. */
static void parse_period(struct cfg_parser *p, const yaml_node_t *n,
			 const char *ctx)
{
	const char *s = cfg_get_scalar(p, n, ctx, "period");
	unsigned long long v;

	if (s == NULL)
		return;
	v = scaled_number(s, "s", "m", 60);
	if (v == 0 || v > CFG_REBALANCE_PERIOD_MAX) {
		cfg_error(p, n, "%srebalance period \"%s\" is not a duration from 1s to 60m (like 60s or 2m)",
			  ctx, s);
		return;
	}
	p->cfg->rebalance_period_s = (uint32_t)v;
}

/* rebalance: off | auto | {mode: off|auto, load, period, improvement} */
static void parse_rebalance(struct cfg_parser *p, const yaml_node_t *n,
			    const char *ctx)
{
	struct cfg *cfg = p->cfg;
	yaml_node_t *v;
	bool on;

	if (n->type != YAML_MAPPING_NODE) {
		if (cfg_get_either(p, n, ctx, "rebalance", "off", "auto", &on))
			cfg->rebalance_auto = on;
		return;
	}
	cfg_map_check(p, n, "lcores: rebalance: ", keys_rebalance);
	cfg->rebalance_auto = true;
	if ((v = cfg_map_get(p, n, "mode")) != NULL &&
	    cfg_get_either(p, v, ctx, "rebalance mode", "off", "auto", &on))
		cfg->rebalance_auto = on;
	if ((v = cfg_map_get(p, n, "load")) != NULL)
		parse_pct(p, v, ctx, "rebalance load", 10, &cfg->rebalance_load_pct);
	if ((v = cfg_map_get(p, n, "period")) != NULL)
		parse_period(p, v, ctx);
	if ((v = cfg_map_get(p, n, "improvement")) != NULL)
		parse_pct(p, v, ctx, "rebalance improvement", 1,
			  &cfg->rebalance_improvement_pct);
}

/* at: where to report problems with the defaults (no lcores: section). */
void cfg_parse_lcores(struct cfg_parser *p, const yaml_node_t *map,
		      const yaml_node_t *at)
{
	static const char ctx[] = "lcores: ";
	struct cfg *cfg = p->cfg;
	yaml_node_t *main_n = NULL, *workers = NULL;
	unsigned long long v;
	bool main_ok = true;
	size_t i;

	if (map != NULL) {
		yaml_node_t *n;
		const char *s;

		cfg_map_check(p, map, ctx, cfg_keys_lcores);
		main_n = cfg_map_get(p, map, "main");
		workers = cfg_map_get(p, map, "workers");
		at = map;
		if ((n = cfg_map_get(p, map, "poll")) != NULL &&
		    (s = cfg_get_scalar(p, n, ctx, "poll")) != NULL) {
			int m = 0;

			while (m < CFG_POLL_MAX &&
			       strcmp(s, cfg_poll_name((enum cfg_poll)m)) != 0)
				m++;
			if (m < CFG_POLL_MAX)
				cfg->poll = (enum cfg_poll)m;
			else
				cfg_error(p, n, "%spoll \"%s\" is not adaptive, busy or interrupt",
					  ctx, s);
		}
		if ((n = cfg_map_get(p, map, "max_sleep")) != NULL)
			parse_max_sleep(p, n, ctx);
		if ((n = cfg_map_get(p, map, "rebalance")) != NULL)
			parse_rebalance(p, n, ctx);
	}
	if (main_n == NULL)
		check_cpu(p, at, "main", cfg->main_lcore);
	else if (cfg_get_uint(p, main_n, ctx, "main", 0, UINT_MAX, &v)) {
		cfg->main_lcore = (unsigned int)v;
		check_cpu(p, main_n, "main", cfg->main_lcore);
	} else {
		main_ok = false;
	}

	if (workers == NULL) {
		parse_worker(p, at, 1, 1, main_ok);
		return;
	}
	if (!cfg_want(p, workers, YAML_SEQUENCE_NODE, ctx, "workers",
		      "a list of CPU numbers like [1, 2]"))
		return;
	if (cfg_list_len(workers) == 0)
		cfg_error(p, workers, "lcores: workers is empty (want at least one worker CPU)");
	for (i = 0; i < cfg_list_len(workers); i++) {
		yaml_node_t *n = cfg_list_item(p, workers, i);

		if (i == CFG_MAX_WORKERS) {
			cfg_error(p, n, "lcores: too many workers (max %d)",
				  CFG_MAX_WORKERS);
			break;
		}
		if (n->type == YAML_SCALAR_NODE &&
		    strchr((const char *)n->data.scalar.value, '@') != NULL) {
			unsigned int lcore, cpu;

			if (parse_lcore_at((const char *)n->data.scalar.value,
					   &lcore, &cpu))
				parse_worker(p, n, lcore, cpu, main_ok);
			else
				cfg_error(p, n, "lcores: worker \"%s\" is not a CPU number or LCORE@CPU (like 2@1)",
					  (const char *)n->data.scalar.value);
			continue;
		}
		if (cfg_get_uint(p, n, ctx, "worker", 0, UINT_MAX, &v))
			parse_worker(p, n, (unsigned int)v, (unsigned int)v,
				     main_ok);
	}
}
