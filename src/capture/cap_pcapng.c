/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A pcapng file of one port's frames: section header, one interface, the
 * enhanced packet blocks rte_pcapng_copy formats, interface statistics.
 * Block layouts: the pcapng specification (little-endian host order, as
 * rte_pcapng writes its blocks).
 */
#include "capture/capture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_IDB 0x00000001u
#define PCAPNG_ISB 0x00000005u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_BOM 0x1A2B3C4Du

#define OPT_END 0
#define OPT_COMMENT 1
#define SHB_USERAPPL 4
#define IF_NAME 2
#define IF_DESCRIPTION 3
#define IF_TSRESOL 9
#define ISB_STARTTIME 2
#define ISB_ENDTIME 3
#define ISB_IFRECV 4
#define ISB_IFDROP 5

#define CAP_BLOCK_MAX 1024      /* bytes: the header blocks we write */
#define CAP_COMMENT_MAX 128

struct cap_file {
	FILE *out;
	uint64_t bytes;
	uint64_t start_ns;
	int error;              /* first errno, 0 */
};

struct blk {
	uint8_t b[CAP_BLOCK_MAX];
	uint32_t len;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
blk_put(struct blk *k, const void *p, uint32_t n)
{
	if (k->len + n > sizeof(k->b))
		return;         /* cannot happen with the bounded names */
	memcpy(k->b + k->len, p, n);
	k->len += n;
}

static void
blk_u16(struct blk *k, uint16_t v)
{
	blk_put(k, &v, 2);
}

static void
blk_u32(struct blk *k, uint32_t v)
{
	blk_put(k, &v, 4);
}

static void
blk_opt(struct blk *k, uint16_t code, const void *p, uint16_t n)
{
	static const uint8_t pad[4];

	blk_u16(k, code);
	blk_u16(k, n);
	blk_put(k, p, n);
	blk_put(k, pad, (4 - n % 4) % 4);
}

/* Close block k: end of options, the trailing length, the length at 4. */
static void
blk_end(struct blk *k, bool opts)
{
	if (opts)
		blk_opt(k, OPT_END, NULL, 0);
	k->len += 4;
	memcpy(k->b + 4, &k->len, 4);
	memcpy(k->b + k->len - 4, &k->len, 4);
}

static void
cap_out(struct cap_file *f, const void *p, size_t n)
{
	if (f->error != 0)
		return;
	if (fwrite(p, 1, n, f->out) != n)
		f->error = errno != 0 ? errno : EIO;
	else
		f->bytes += n;
}

static uint16_t
optlen(const char *s)
{
	size_t n = strlen(s);

	return (uint16_t)(n < 256 ? n : 256);
}

struct cap_file *
cap_file_open(int fd, const char *ifname, const char *ifdesc,
	      uint32_t snaplen, char *err, size_t err_size)
{
	static const char app[] = "vtoed " VTOE_VERSION;
	struct cap_file *f = calloc(1, sizeof(*f));
	struct blk k = { .len = 0 };
	uint8_t tsresol = 9;    /* nanoseconds, as rte_pcapng stamps */
	uint64_t section_len = UINT64_MAX;

	if (f == NULL) {
		snprintf(err, err_size, "capture: out of memory");
		close(fd);
		return NULL;
	}
	f->out = fdopen(fd, "w");
	if (f->out == NULL) {
		snprintf(err, err_size, "capture: the file: %s", strerror(errno));
		close(fd);
		free(f);
		return NULL;
	}
	setvbuf(f->out, NULL, _IOFBF, 256 << 10);
	f->start_ns = now_ns();

	blk_u32(&k, PCAPNG_SHB);
	blk_u32(&k, 0);
	blk_u32(&k, PCAPNG_BOM);
	blk_u16(&k, 1);
	blk_u16(&k, 0);
	blk_put(&k, &section_len, 8);
	blk_opt(&k, SHB_USERAPPL, app, optlen(app));
	blk_end(&k, true);
	cap_out(f, k.b, k.len);

	k.len = 0;
	blk_u32(&k, PCAPNG_IDB);
	blk_u32(&k, 0);
	blk_u16(&k, 1);         /* LINKTYPE_ETHERNET */
	blk_u16(&k, 0);
	blk_u32(&k, snaplen);
	blk_opt(&k, IF_NAME, ifname, optlen(ifname));
	blk_opt(&k, IF_DESCRIPTION, ifdesc, optlen(ifdesc));
	blk_opt(&k, IF_TSRESOL, &tsresol, 1);
	blk_end(&k, true);
	cap_out(f, k.b, k.len);
	if (f->error == 0 && fflush(f->out) != 0)
		f->error = errno;
	if (f->error != 0) {
		snprintf(err, err_size, "capture: writing the file: %s",
			 strerror(f->error));
		fclose(f->out);
		free(f);
		return NULL;
	}
	return f;
}

/* The enhanced packet block's fixed part (rte_pcapng_copy's layout). */
struct epb_head {
	uint32_t type, len, iface, ts_hi, ts_lo, cap_len, orig_len;
};

int
cap_file_write(struct cap_file *f, struct rte_mbuf *epb, uint32_t orig_len,
	       const char *comment)
{
	struct epb_head *h = rte_pktmbuf_mtod(epb, struct epb_head *);
	uint32_t len;

	if (rte_pktmbuf_data_len(epb) < sizeof(*h) + 4 ||
	    h->type != PCAPNG_EPB) {
		rte_pktmbuf_free(epb);
		return f->error != 0 ? -f->error : -EINVAL;
	}
	h->iface = 0;
	if (orig_len > h->orig_len)
		h->orig_len = orig_len;
	if (comment != NULL) {
		/* Options go before the trailing length: move it. */
		struct blk k = { .len = 0 };
		char *tail;

		blk_opt(&k, OPT_COMMENT, comment,
			(uint16_t)strnlen(comment, CAP_COMMENT_MAX));
		blk_opt(&k, OPT_END, NULL, 0);
		if (rte_pktmbuf_trim(epb, 4) == 0 &&
		    (tail = rte_pktmbuf_append(epb, (uint16_t)(k.len + 4))) != NULL)
			memcpy(tail, k.b, k.len);
	}
	len = rte_pktmbuf_pkt_len(epb);
	h->len = len;
	/* the trailing copy of the length, in the last segment */
	memcpy(rte_pktmbuf_mtod_offset(rte_pktmbuf_lastseg(epb), char *,
				       rte_pktmbuf_lastseg(epb)->data_len - 4),
	       &len, 4);
	for (struct rte_mbuf *s = epb; s != NULL; s = s->next)
		cap_out(f, rte_pktmbuf_mtod(s, void *), s->data_len);
	rte_pktmbuf_free(epb);
	return -f->error;
}

int
cap_file_flush(struct cap_file *f)
{
	if (f->error == 0 && fflush(f->out) != 0)
		f->error = errno;
	return -f->error;
}

uint64_t
cap_file_bytes(const struct cap_file *f)
{
	return f->bytes;
}

int
cap_file_close(struct cap_file *f, uint64_t seen, uint64_t lost)
{
	struct blk k = { .len = 0 };
	uint64_t end = now_ns();
	int rc;

	blk_u32(&k, PCAPNG_ISB);
	blk_u32(&k, 0);
	blk_u32(&k, 0);         /* the interface */
	blk_u32(&k, (uint32_t)(end >> 32));
	blk_u32(&k, (uint32_t)end);
	blk_opt(&k, ISB_STARTTIME, (uint32_t[]){ (uint32_t)(f->start_ns >> 32),
						 (uint32_t)f->start_ns }, 8);
	blk_opt(&k, ISB_ENDTIME, (uint32_t[]){ (uint32_t)(end >> 32),
					       (uint32_t)end }, 8);
	blk_opt(&k, ISB_IFRECV, &seen, 8);
	blk_opt(&k, ISB_IFDROP, &lost, 8);
	blk_end(&k, true);
	cap_out(f, k.b, k.len);
	if (fclose(f->out) != 0 && f->error == 0)
		f->error = errno;
	rc = -f->error;
	free(f);
	return rc;
}
