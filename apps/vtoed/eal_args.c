/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Turns the config into EAL arguments: the lcores, the file prefix,
 * hugepages or not (memory: hugepages: auto uses them when enough are
 * free and mounted, else runs without), and the uplink devices (vdevs by
 * --vdev, PCI functions by -a; no PCI scan at all when there are none, so
 * vtoed never grabs a NIC it was not given).
 */
#include "eal_args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config/cfg.h"

#define MBUF_FOOTPRINT 2560     /* bytes per mbuf incl. headroom + header */
#define MEM_BASE_MB 256         /* rings, hash tables, vhost, telemetry */

static int
push(struct eal_args *a, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (a->argc + 1 >= EAL_ARGS_MAX)
		return -E2BIG;
	va_start(ap, fmt);
	n = vsnprintf(a->store + a->used, sizeof(a->store) - a->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(a->store) - a->used)
		return -E2BIG;
	a->argv[a->argc++] = a->store + a->used;
	a->argv[a->argc] = NULL;
	a->used += (unsigned int)n + 1;
	return 0;
}

static unsigned long
meminfo_value(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long v = 0;
	size_t klen = strlen(key);

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			sscanf(line + klen + 1, "%lu", &v);
			break;
		}
	fclose(f);
	return v;
}

static bool
hugetlbfs_mounted(void)
{
	FILE *f = fopen("/proc/mounts", "r");
	char line[512];
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, " hugetlbfs ") != NULL;
	fclose(f);
	return found;
}

static bool
is_vdev(const char *devargs)
{
	return strncmp(devargs, "net_", 4) == 0 || strncmp(devargs, "eth_", 4) == 0;
}

int
eal_args_build(const struct cfg *cfg, const char *prog, struct eal_args *a)
{
	unsigned long need_mb = MEM_BASE_MB +
		(unsigned long)cfg->mbufs * MBUF_FOOTPRINT / (1024 * 1024);
	unsigned long free_mb = meminfo_value("HugePages_Free") *
				meminfo_value("Hugepagesize") / 1024;
	char lcores[512];
	size_t off;
	bool pci = false, huge = true, single_file = false;
	int rc = 0;

	memset(a, 0, sizeof(*a));
	/* --lcores LCORE@CPU,...: a worker's lcore id need not be its CPU. */
	off = (size_t)snprintf(lcores, sizeof(lcores), "%u@%u", cfg->main_lcore,
			       cfg->main_lcore);
	for (unsigned int i = 0; i < cfg->n_workers && off < sizeof(lcores); i++)
		off += (size_t)snprintf(lcores + off, sizeof(lcores) - off,
					",%u@%u", cfg->workers[i],
					cfg->worker_cpus[i]);
	if (off >= sizeof(lcores))
		return -E2BIG;

	rc |= push(a, "%s", prog);
	rc |= push(a, "--lcores");
	rc |= push(a, "%s", lcores);
	rc |= push(a, "--main-lcore=%u", cfg->main_lcore);
	rc |= push(a, "--file-prefix=%s", cfg->eal_file_prefix);
	if (cfg->hugepages == CFG_HUGEPAGES_NONE || !hugetlbfs_mounted() ||
	    free_mb < need_mb) {
		rc |= push(a, "--no-huge");
		huge = false;
	}
	/* With hugepages too: memory reserved at start is never handed back,
	 * so the external buffers rte_vhost allocates for super-frames are
	 * carved from it, not from pages faulted in (and zeroed by the
	 * kernel) and released again frame after frame. */
	rc |= push(a, "-m");
	rc |= push(a, "%lu", need_mb);
	for (unsigned int u = 0; u < cfg->n_uplinks; u++) {
		const char *dev = cfg->uplinks[u].device;

		/* A virtio-user uplink shares all of vtoed's memory with the
		 * device behind it, one region per file: with a file per
		 * hugepage that is past vhost-user's 8 regions, and the
		 * device never starts. */
		if (huge && !single_file &&
		    strncmp(dev, "net_virtio_user", 15) == 0) {
			rc |= push(a, "--single-file-segments");
			single_file = true;
		}
		if (is_vdev(dev)) {
			rc |= push(a, "--vdev=%s", dev);
		} else {
			rc |= push(a, "-a");
			rc |= push(a, "%s", dev);
			pci = true;
		}
	}
	if (!pci)
		rc |= push(a, "--no-pci");
	for (unsigned int i = 0; i < cfg->n_eal_args; i++)
		rc |= push(a, "%s", cfg->eal_args[i]);
	return rc != 0 ? -E2BIG : 0;
}
