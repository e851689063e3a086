/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * capture: what a packet capture needs besides the dataplane's taps.
 *
 * Filters: a tcpdump expression compiled by libpcap to classic BPF,
 * converted and loaded by rte_bpf (JIT where it has one), run by workers on
 * an mbuf.  The file: pcapng, one interface (the captured port), its
 * enhanced packet blocks formatted by rte_pcapng_copy from the workers'
 * copies, a comment on the frames the switch dropped naming the reason,
 * and an interface statistics block at the end.  Only the main thread
 * compiles, opens, writes and closes.
 *
 * rte_pcapng's own file writer (22.11) knows ethdev ports only and gives
 * every other port an undefined interface: VM ports are not ethdevs, so
 * the section and interface blocks are written here.
 */
#ifndef VTOE_CAPTURE_H
#define VTOE_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_bpf.h>
#include <rte_mbuf.h>

#define CAP_SNAPLEN_MAX 65535u
#define CAP_FILTER_MAX 1024     /* bytes of expression */

struct cap_filter {
	struct rte_bpf *bpf;
	uint64_t (*jit)(void *);        /* NULL: interpreted */
};

/* Compile expr for Ethernet frames cut at snaplen.  NULL and a reason in
 * err (libpcap's words for a syntax error). */
struct cap_filter *cap_filter_compile(const char *expr, uint32_t snaplen,
				      char *err, size_t err_size);
void cap_filter_free(struct cap_filter *f);

/* Does frame m pass?  Any thread; f is read-only. */
static inline bool
cap_filter_match(const struct cap_filter *f, struct rte_mbuf *m)
{
	if (f->jit != NULL)
		return f->jit(m) != 0;
	return rte_bpf_exec(f->bpf, m) != 0;
}

struct cap_file;

/*
 * Start a pcapng file on fd (taken: closed by cap_file_close): the section
 * header and the one interface, named ifname and described by ifdesc.
 * NULL and a reason in err.
 */
struct cap_file *cap_file_open(int fd, const char *ifname,
			       const char *ifdesc, uint32_t snaplen,
			       char *err, size_t err_size);

/*
 * Write one block made by rte_pcapng_copy (freed here, written or not),
 * with the frame's length before any cut and, when not NULL, a comment.
 * Returns 0 or -errno (the file is then broken: stop writing).
 */
int cap_file_write(struct cap_file *f, struct rte_mbuf *epb,
		   uint32_t orig_len, const char *comment);

/* Push what is buffered to the file.  0 or -errno. */
int cap_file_flush(struct cap_file *f);

/* Bytes written so far. */
uint64_t cap_file_bytes(const struct cap_file *f);

/*
 * End the file with the interface's statistics (frames received by the
 * capture, frames it lost), flush and close.  Returns 0 or -errno of the
 * first failed write.
 */
int cap_file_close(struct cap_file *f, uint64_t seen, uint64_t lost);

#endif /* VTOE_CAPTURE_H */
