/* SPDX-License-Identifier: BSD-3-Clause */
/* Capture filters: libpcap compiles, rte_bpf converts, loads and runs. */
#define ALLOW_EXPERIMENTAL_API
#include <pcap/pcap.h>

#include "capture/capture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

struct cap_filter *
cap_filter_compile(const char *expr, uint32_t snaplen, char *err,
		   size_t err_size)
{
	struct bpf_program prog;
	struct rte_bpf_prm *prm;
	struct rte_bpf_jit jit;
	struct cap_filter *f;
	pcap_t *pcap;

	if (strnlen(expr, CAP_FILTER_MAX + 1) > CAP_FILTER_MAX) {
		snprintf(err, err_size, "filter: longer than %d bytes",
			 CAP_FILTER_MAX);
		return NULL;
	}
	pcap = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	if (pcap == NULL) {
		snprintf(err, err_size, "filter: out of memory");
		return NULL;
	}
	if (pcap_compile(pcap, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, err_size, "filter: %s", pcap_geterr(pcap));
		pcap_close(pcap);
		return NULL;
	}
	prm = rte_bpf_convert(&prog);
	pcap_freecode(&prog);
	pcap_close(pcap);
	if (prm == NULL) {
		snprintf(err, err_size, "filter: cannot convert to eBPF: %s",
			 rte_strerror(rte_errno));
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		rte_free(prm);
		snprintf(err, err_size, "filter: out of memory");
		return NULL;
	}
	f->bpf = rte_bpf_load(prm);
	rte_free(prm);
	if (f->bpf == NULL) {
		snprintf(err, err_size, "filter: the eBPF verifier refused it: %s",
			 rte_strerror(rte_errno));
		free(f);
		return NULL;
	}
	if (rte_bpf_get_jit(f->bpf, &jit) == 0 && jit.func != NULL)
		f->jit = jit.func;
	return f;
}

void
cap_filter_free(struct cap_filter *f)
{
	if (f == NULL)
		return;
	rte_bpf_destroy(f->bpf);
	free(f);
}
