/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame builder and reference reader for the TOE tests: Ethernet
 * (optionally one VLAN tag), IPv4 (optionally with options) or IPv6, TCP
 * with a timestamp option, UDP or ICMP, and a payload whose every byte is
 * known from its position in the stream, so reassembled payloads can be
 * compared.  Checksums are computed here in network byte order, one
 * 16-bit word at a time: slow, obvious, and independent of the library.
 */
#include "toe_frames.h"

#include <netinet/in.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>

/* gcc says __SANITIZE_ADDRESS__, clang (the fuzz build) __has_feature */
#if defined(__SANITIZE_ADDRESS__)
#define TF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TF_ASAN 1
#endif
#endif
#ifdef TF_ASAN
#include <sanitizer/asan_interface.h>
#define TF_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define TF_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define TF_POISON(p, n) ((void)(p), (void)(n))
#define TF_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static uint32_t
get16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t
get32(const uint8_t *p)
{
	return get16(p) << 16 | get16(p + 2);
}

uint8_t
tf_byte(uint32_t pos)
{
	return (uint8_t)(pos * 13u + (pos >> 8) * 7u + 1u);
}

uint16_t
tf_sum(const uint8_t *p, size_t len, uint32_t init)
{
	uint64_t sum = init;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Pseudo header of the IP header at ip, for l4_size bytes of proto. */
static uint32_t
pseudo_sum(const uint8_t *ip, int ipv, uint8_t proto, uint32_t l4_size)
{
	if (ipv == 4)
		return tf_sum(ip + 12, 8, 0) + proto + l4_size;
	return tf_sum(ip + 8, 32, 0) + proto + (l4_size >> 16) +
	       (l4_size & 0xffff);
}

size_t
tf_build(const struct tf_spec *s, uint8_t *buf)
{
	uint8_t proto = s->proto != 0 ? s->proto : IPPROTO_TCP;
	uint32_t l4_size_hdr, ip_hdr, l4_total;
	uint8_t *p = buf, *ip, *l4;
	uint32_t sum;
	uint16_t field;

	/* Ethernet: MACs per flow, optional VLAN 100. */
	memcpy(p, (const uint8_t[]){ 0x52, 0x54, 0, 0, 2, s->flow }, 6);
	memcpy(p + 6, (const uint8_t[]){ 0x52, 0x54, 0, 0, 1, s->flow }, 6);
	p += 12;
	if (s->vlan) {
		put16(p, 0x8100);
		put16(p + 2, 100);
		p += 4;
	}
	put16(p, s->ipv == 4 ? 0x0800 : 0x86dd);
	p += 2;

	if (proto == IPPROTO_TCP)
		l4_size_hdr = s->no_ts ? 20 : 32;
	else
		l4_size_hdr = 8;
	l4_total = l4_size_hdr + s->payload_len;

	ip = p;
	if (s->ipv == 4) {
		ip_hdr = 20u + 4u * s->ip_opt_words;
		memset(ip, 0, ip_hdr);
		ip[0] = (uint8_t)(0x40 | ip_hdr / 4);
		ip[1] = s->tos;
		put16(ip + 2, ip_hdr + l4_total);
		put16(ip + 4, s->ip_id);
		put16(ip + 6, (s->no_df ? 0 : 0x4000) | s->frag_off);
		ip[8] = s->ttl != 0 ? s->ttl : 64;
		ip[9] = proto;
		memcpy(ip + 12, (const uint8_t[]){ 10, 0, s->flow, 1 }, 4);
		memcpy(ip + 16, (const uint8_t[]){ 10, 0, s->flow, 2 }, 4);
		memset(ip + 20, 1, ip_hdr - 20);        /* NOP options */
		put16(ip + 10, (uint16_t)~tf_sum(ip, ip_hdr, 0));
	} else {
		ip_hdr = 40;
		memset(ip, 0, ip_hdr);
		ip[0] = (uint8_t)(0x60 | s->tos >> 4);
		ip[1] = (uint8_t)(s->tos << 4 | 0x1);   /* flow label 0x12345 */
		put16(ip + 2, 0x2345);
		put16(ip + 4, l4_total);
		ip[6] = proto;
		ip[7] = s->ttl != 0 ? s->ttl : 64;
		ip[8] = 0xfd;
		ip[23] = (uint8_t)(0x10 | s->flow);
		ip[24] = 0xfd;
		ip[39] = (uint8_t)(0x20 | s->flow);
	}
	l4 = ip + ip_hdr;
	memset(l4, 0, l4_size_hdr);
	put16(l4, 40000u + s->flow);
	put16(l4 + 2, 5001);
	if (proto == IPPROTO_TCP) {
		put32(l4 + 4, s->seq);
		put32(l4 + 8, s->ack);
		l4[12] = (uint8_t)(l4_size_hdr / 4 << 4);
		l4[13] = s->flags != 0 ? s->flags : TF_ACK;
		put16(l4 + 14, s->window != 0 ? s->window : 502);
		if (!s->no_ts) {
			/* NOP NOP TS(tsval, tsecr), RFC 7323 §3 */
			memcpy(l4 + 20, (const uint8_t[]){ 1, 1, 8, 10 }, 4);
			put32(l4 + 24, s->tsval);
			put32(l4 + 28, 0x01020304);
		}
	} else if (proto == IPPROTO_UDP) {
		put16(l4 + 4, l4_total);
	} else {
		l4[0] = 8;      /* ICMP echo request */
	}
	for (uint32_t j = 0; j < s->payload_len; j++)
		l4[l4_size_hdr + j] = tf_byte(s->payload_off + j);

	/* The L4 checksum field. */
	sum = proto == IPPROTO_ICMP ? 0 :
	      pseudo_sum(ip, s->ipv, proto, l4_total);
	if (s->csum_partial) {
		field = tf_sum(NULL, 0, sum);
	} else {
		field = (uint16_t)~tf_sum(l4, l4_total, sum);
		if (field == 0 && proto == IPPROTO_UDP)
			field = 0xffff;
	}
	if (s->csum_bad)
		field ^= 1;
	put16(l4 + (proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2),
	      field);
	return (size_t)(l4 + l4_total - buf);
}

struct rte_mbuf *
tf_mbuf(struct rte_mempool *mp, const uint8_t *buf, size_t len,
	uint32_t seg_size)
{
	struct rte_mbuf *head = NULL, *last = NULL;
	size_t done = 0;

	do {
		struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
		uint32_t chunk;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		TF_UNPOISON(m->buf_addr, m->buf_len);
		chunk = rte_pktmbuf_tailroom(m);
		if (seg_size != 0 && seg_size < chunk)
			chunk = seg_size;
		if (chunk > len - done)
			chunk = (uint32_t)(len - done);
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), buf + done, chunk);
		m->data_len = (uint16_t)chunk;
		m->pkt_len = chunk;
		if (head == NULL) {
			head = m;
		} else {
			last->next = m;
			head->nb_segs++;
			head->pkt_len += chunk;
		}
		last = m;
		done += chunk;
		/* Nothing but the data may be read: not the headroom, not
		 * the tailroom (a pool never reuses these for the library:
		 * it allocates from toe_t.pool). */
		TF_POISON(m->buf_addr, m->data_off);
		TF_POISON(rte_pktmbuf_mtod_offset(m, uint8_t *, chunk),
			  m->buf_len - m->data_off - chunk);
	} while (done < len);
	return head;
}

static void
ext_free(void *addr, void *opaque)
{
	rte_free(addr);
	(*(int *)opaque)++;
}

struct rte_mbuf *
tf_mbuf_ext(struct rte_mempool *mp, const uint8_t *buf, size_t len,
	    int *freed)
{
	uint16_t buf_len = UINT16_MAX;
	struct rte_mbuf_ext_shared_info *shinfo;
	struct rte_mbuf *m;
	void *ext;

	ext = rte_malloc(NULL, buf_len, RTE_CACHE_LINE_SIZE);
	if (ext == NULL)
		return NULL;
	shinfo = rte_pktmbuf_ext_shinfo_init_helper(ext, &buf_len, ext_free,
						    freed);
	m = rte_pktmbuf_alloc(mp);
	if (shinfo == NULL || m == NULL ||
	    buf_len < len + RTE_PKTMBUF_HEADROOM) {
		rte_pktmbuf_free(m);
		rte_free(ext);
		return NULL;
	}
	rte_pktmbuf_attach_extbuf(m, ext, rte_malloc_virt2iova(ext), buf_len,
				  shinfo);
	rte_pktmbuf_reset_headroom(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), buf, len);
	return m;
}

void
tf_headroom_open(struct rte_mbuf *m)
{
	TF_UNPOISON(m->buf_addr, m->data_off);
}

static void
unpoison_chunk(struct rte_mempool *mp, void *opaque,
	       struct rte_mempool_memhdr *memhdr, unsigned int mem_idx)
{
	(void)mp;
	(void)opaque;
	(void)mem_idx;
	TF_UNPOISON(memhdr->addr, memhdr->len);
}

void
tf_pool_unpoison(struct rte_mempool *mp)
{
	rte_mempool_mem_iter(mp, unpoison_chunk, NULL);
}

struct rte_mbuf *
tf_mbuf_spec(struct rte_mempool *mp, const struct tf_spec *s,
	     uint32_t seg_size)
{
	static uint8_t buf[TF_FRAME_MAX];

	return tf_mbuf(mp, buf, tf_build(s, buf), seg_size);
}

size_t
tf_linear(const struct rte_mbuf *m, uint8_t *buf)
{
	size_t len = 0;

	for (; m != NULL; m = m->next) {
		memcpy(buf + len, rte_pktmbuf_mtod(m, const uint8_t *),
		       m->data_len);
		len += m->data_len;
	}
	return len;
}

void
tf_view(const uint8_t *buf, size_t len, struct tf_view *v)
{
	const uint8_t *ip, *l4;
	uint32_t type;

	memset(v, 0, sizeof(*v));
	v->l2 = 14;
	type = get16(buf + 12);
	if (type == 0x8100) {
		v->l2 = 18;
		type = get16(buf + 16);
	}
	ip = buf + v->l2;
	if (type == 0x0800) {
		v->ipv = 4;
		v->l3 = (ip[0] & 0xfu) * 4;
		v->ip_len = get16(ip + 2);
		v->ip_id = (uint16_t)get16(ip + 4);
		v->proto = ip[9];
	} else {
		v->ipv = 6;
		v->l3 = 40;
		v->ip_len = get16(ip + 4);
		v->proto = ip[6];
	}
	l4 = ip + v->l3;
	if (v->proto == IPPROTO_TCP) {
		v->l4 = (uint32_t)(l4[12] >> 4) * 4;
		v->seq = get32(l4 + 4);
		v->ack = get32(l4 + 8);
		v->flags = l4[13];
		v->window = (uint16_t)get16(l4 + 14);
		v->l4_csum = (uint16_t)get16(l4 + 16);
	} else {
		v->l4 = 8;
		v->l4_csum = (uint16_t)get16(l4 + 6);
	}
	v->payload_off = v->l2 + v->l3 + v->l4;
	v->payload_len = (v->ipv == 4 ? v->ip_len - v->l3 : v->ip_len) - v->l4;
	(void)len;
}

bool
tf_ipv4_csum_ok(const uint8_t *buf, const struct tf_view *v)
{
	return tf_sum(buf + v->l2, v->l3, 0) == 0xffff;
}

static uint32_t
view_l4_size(const struct tf_view *v)
{
	return v->ipv == 4 ? v->ip_len - v->l3 : v->ip_len;
}

bool
tf_l4_csum_ok(const uint8_t *buf, const struct tf_view *v)
{
	const uint8_t *ip = buf + v->l2;
	uint32_t size = view_l4_size(v);

	return tf_sum(ip + v->l3, size,
		      pseudo_sum(ip, v->ipv, v->proto, size)) == 0xffff;
}

uint16_t
tf_pseudo(const uint8_t *buf, const struct tf_view *v)
{
	return tf_sum(NULL, 0,
		      pseudo_sum(buf + v->l2, v->ipv, v->proto, view_l4_size(v)));
}
