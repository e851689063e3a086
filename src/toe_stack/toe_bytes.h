/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * toe_bytes: network-order reads and writes and the RFC 1071 sum, on
 * plain bytes, for layer 2's pure code (layer 1 has its mbuf versions in
 * toe_csum.c).
 */
#ifndef VTOE_TOE_BYTES_H
#define VTOE_TOE_BYTES_H

#include <stdint.h>

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

/* RFC 1071: the one's complement sum of len bytes, added to sum (an odd
 * last byte counts as its high half). */
static inline uint32_t
sum16(const uint8_t *p, uint32_t len, uint32_t sum)
{
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += rd16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static inline uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

#endif /* VTOE_TOE_BYTES_H */
