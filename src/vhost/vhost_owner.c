/* SPDX-License-Identifier: BSD-3-Clause */
/* One owner per port: the decisions (see vhost_owner.h). */
#include "vhost_owner.h"

void
vo_init(struct vo_port *p, bool takeover_newest)
{
	*p = (struct vo_port){
		.owner = -1, .last_owner = -1,
		.takeover_newest = takeover_newest,
	};
}

enum vo_verdict
vo_start(struct vo_port *p, int vid, int *old)
{
	*old = -1;
	if (p->owner < 0 || p->owner == vid)
		return VO_ACCEPT;
	if (!p->takeover_newest) {
		p->refused++;
		return VO_REFUSE;
	}
	*old = p->owner;
	p->takeovers++;
	return VO_TAKEOVER;
}

bool
vo_own(struct vo_port *p, int vid)
{
	bool change = p->last_owner >= 0 && p->last_owner != vid;

	p->owner = vid;
	p->last_owner = vid;
	if (change)
		p->owner_changes++;
	return change;
}

enum vo_verdict
vo_stop(struct vo_port *p, int vid)
{
	return p->owner >= 0 && p->owner == vid ? VO_RELEASE : VO_IGNORE;
}

void
vo_release(struct vo_port *p, int vid)
{
	if (p->owner == vid)
		p->owner = -1;
}

void
vo_empty(struct vo_port *p)
{
	if (p->owner < 0)
		p->last_owner = -1;
}
