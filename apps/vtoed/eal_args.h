/* SPDX-License-Identifier: BSD-3-Clause */
/* The EAL command line vtoed derives from its config. */
#ifndef VTOED_EAL_ARGS_H
#define VTOED_EAL_ARGS_H

struct cfg;

#define EAL_ARGS_MAX 64

struct eal_args {
	int argc;
	char *argv[EAL_ARGS_MAX];
	char store[4096];       /* the strings argv points into */
	unsigned int used;
};

/* Fill args from cfg.  0, or -E2BIG when it does not fit. */
int eal_args_build(const struct cfg *cfg, const char *prog,
		   struct eal_args *args);

#endif /* VTOED_EAL_ARGS_H */
