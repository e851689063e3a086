/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control side of vhost-user ports: registers sockets with rte_vhost and
 * relays its device callbacks (run on the library's event thread) to the
 * port's owner.  Which socket a callback is about is found from the vid's
 * interface name, the socket path.  The feature set a socket offers is
 * fixed here, once, so a reconnecting guest always sees the same one.
 */
#include "vhost.h"
#include "vhost_direct.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_log.h>
#include <rte_vhost.h>

RTE_LOG_REGISTER(vhost_logtype, vtoe.vhost, INFO);
#define VHOST_LOG(level, ...) \
	rte_log(RTE_LOG_ ## level, vhost_logtype, "vhost: " __VA_ARGS__)

#define VHOST_SOCKETS_MAX 64

/*
 * Never offered: ECN-marked and UDP segmentation, which the software TOE
 * does not do.  Checksum and TCP segmentation are offered when the port
 * has offloads (the TOE segments and checksums in software for any peer
 * that did not negotiate them), and masked too otherwise.  The set is
 * fixed per socket at registration, so a reconnecting guest always sees
 * the same one.
 */
#define VHOST_FEATURES_NEVER ( \
	1ULL << VIRTIO_NET_F_GUEST_ECN | 1ULL << VIRTIO_NET_F_GUEST_UFO | \
	1ULL << VIRTIO_NET_F_HOST_ECN | 1ULL << VIRTIO_NET_F_HOST_UFO)
#define VHOST_FEATURES_OFFLOAD ( \
	1ULL << VIRTIO_NET_F_CSUM | 1ULL << VIRTIO_NET_F_GUEST_CSUM | \
	1ULL << VIRTIO_NET_F_GUEST_TSO4 | 1ULL << VIRTIO_NET_F_GUEST_TSO6 | \
	1ULL << VIRTIO_NET_F_HOST_TSO4 | 1ULL << VIRTIO_NET_F_HOST_TSO6)

struct vhost_socket {
	char path[108];
	uint16_t queues;
	const struct vhost_events *events;
	void *arg;
	struct vhost_direct *direct;    /* NULL: library path only */
};

/* Written by the main thread (open/close), read by the vhost thread. */
static pthread_mutex_t sockets_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vhost_socket sockets[VHOST_SOCKETS_MAX];

static struct vhost_socket *
socket_find_locked(const char *path)
{
	for (int i = 0; i < VHOST_SOCKETS_MAX; i++)
		if (sockets[i].path[0] != '\0' &&
		    strcmp(sockets[i].path, path) == 0)
			return &sockets[i];
	return NULL;
}

/* Copy out what a callback needs, so no lock is held while it runs. */
static int
socket_of_vid(int vid, struct vhost_socket *out)
{
	char path[108];
	struct vhost_socket *s;

	if (rte_vhost_get_ifname(vid, path, sizeof(path)) != 0)
		return -ENOENT;
	pthread_mutex_lock(&sockets_lock);
	s = socket_find_locked(path);
	if (s != NULL)
		*out = *s;
	pthread_mutex_unlock(&sockets_lock);
	return s != NULL ? 0 : -ENOENT;
}

static int
vhost_new_device(int vid)
{
	struct vhost_socket s;
	uint16_t vrings = rte_vhost_get_vring_num(vid);

	if (socket_of_vid(vid, &s) != 0)
		return -1;
	/* A guest with more queue pairs than we poll would have frames
	 * sit unseen in the extra rings: refuse it and say why. */
	if (vrings > 2 * s.queues) {
		VHOST_LOG(ERR, "%s: guest has %u queue pairs, port is configured for %u; refusing\n",
			  s.path, vrings / 2, s.queues);
		return -1;
	}
	/* Poll mode: the guest need not kick us. */
	for (uint16_t i = 0; i < vrings; i++)
		rte_vhost_enable_guest_notification(vid, i, 0);
	VHOST_LOG(INFO, "%s: guest connected (vid %d, %u queue pairs, features 0x%" PRIx64 ")\n",
		  s.path, vid, vrings / 2, vhost_features(vid));
	if (s.direct != NULL) {
		s.direct->running_vid = vid;
		vhost_direct_refresh(s.direct, vid);
	}
	if (s.events->up(s.arg, vid) != 0) {
		if (s.direct != NULL) {
			s.direct->running_vid = -1;
			vhost_direct_stop(s.direct);
		}
		return -1;
	}
	return 0;
}

static void
vhost_destroy_device(int vid)
{
	struct vhost_socket s;

	if (socket_of_vid(vid, &s) != 0)
		return;
	VHOST_LOG(INFO, "%s: guest gone (vid %d)\n", s.path, vid);
	/* No worker is inside a direct burst once this returns. */
	if (s.direct != NULL && s.direct->running_vid == vid) {
		s.direct->running_vid = -1;
		vhost_direct_stop(s.direct);
	}
	s.events->down(s.arg, vid);
}

/*
 * Around every vhost-user message (memory table, ring addresses, features,
 * GET_VRING_BASE, ...): the library has locked the device's queues for its
 * own burst calls; these stop the direct path before the message is
 * handled and rebuild it after (see vhost_direct.h).  Neither claims the
 * message.
 */
static enum rte_vhost_msg_result
vhost_pre_msg(int vid, void *msg)
{
	struct vhost_socket s;

	(void)msg;
	if (socket_of_vid(vid, &s) == 0 && s.direct != NULL &&
	    s.direct->running_vid == vid)
		vhost_direct_stop(s.direct);
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static enum rte_vhost_msg_result
vhost_post_msg(int vid, void *msg)
{
	struct vhost_socket s;

	(void)msg;
	if (socket_of_vid(vid, &s) == 0 && s.direct != NULL &&
	    s.direct->running_vid == vid)
		vhost_direct_refresh(s.direct, vid);
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static const struct rte_vhost_user_extern_ops vhost_extern_ops = {
	.pre_msg_handle = vhost_pre_msg,
	.post_msg_handle = vhost_post_msg,
};

static int
vhost_new_connection(int vid)
{
	struct vhost_socket s;

	if (socket_of_vid(vid, &s) != 0 || s.direct == NULL)
		return 0;
	if (rte_vhost_extern_callback_register(vid, &vhost_extern_ops,
					       NULL) != 0) {
		/* Without the hooks the direct path could not be kept in
		 * step with the library: refuse the guest rather than
		 * run it unsafely. */
		VHOST_LOG(ERR, "%s: cannot hook vhost-user messages (vid %d)\n",
			  s.path, vid);
		return -1;
	}
	return 0;
}

static int
vhost_vring_state_changed(int vid, uint16_t vring, int enable)
{
	struct vhost_socket s;

	if (socket_of_vid(vid, &s) != 0)
		return 0;
	s.events->queue(s.arg, vid, vring, enable != 0);
	return 0;
}

static const struct rte_vhost_device_ops vhost_ops = {
	.new_device = vhost_new_device,
	.destroy_device = vhost_destroy_device,
	.vring_state_changed = vhost_vring_state_changed,
	.new_connection = vhost_new_connection,
};

/* mkdir -p of the directory holding path (0755, as /run/vtoe would be). */
static int
vhost_parent_dir_make(const char *path)
{
	char dir[108];

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

/* A server socket path left behind by a crash is removed; anything else
 * in the way is an error rather than something to delete. */
static int
vhost_server_path_prepare(const char *path)
{
	struct stat st;
	int rc = vhost_parent_dir_make(path);

	if (rc != 0)
		return rc;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	return unlink(path) == 0 ? 0 : -errno;
}

int
vhost_port_open(const struct vhost_port_conf *conf)
{
	/* A frame larger than an mbuf (a 64 KB super-frame) is dequeued into
	 * one external buffer rather than a chain of ~33 mbufs: every later
	 * step (validation, forwarding, enqueue, segmentation, the NIC) then
	 * walks one segment. */
	uint64_t flags = RTE_VHOST_USER_NET_COMPLIANT_OL_FLAGS |
			 RTE_VHOST_USER_EXTBUF_SUPPORT;
	struct vhost_socket *slot = NULL;
	int rc;

	if (conf->queues == 0 || conf->queues > VHOST_QUEUES_MAX ||
	    strlen(conf->path) >= sizeof(slot->path))
		return -EINVAL;
	if (conf->client) {
		flags |= RTE_VHOST_USER_CLIENT; /* reconnect is the default */
	} else {
		rc = vhost_server_path_prepare(conf->path);
		if (rc != 0)
			return rc;
	}

	pthread_mutex_lock(&sockets_lock);
	if (socket_find_locked(conf->path) != NULL) {
		pthread_mutex_unlock(&sockets_lock);
		return -EEXIST;
	}
	for (int i = 0; i < VHOST_SOCKETS_MAX && slot == NULL; i++)
		if (sockets[i].path[0] == '\0')
			slot = &sockets[i];
	if (slot != NULL) {
		strcpy(slot->path, conf->path);
		slot->queues = conf->queues;
		slot->events = conf->events;
		slot->arg = conf->arg;
		slot->direct = conf->direct;
		if (conf->direct != NULL)
			vhost_direct_init(conf->direct);
	}
	pthread_mutex_unlock(&sockets_lock);
	if (slot == NULL)
		return -ENOSPC;

	if (rte_vhost_driver_register(conf->path, flags) != 0) {
		rc = -EIO;
		goto err_slot;
	}
	if (rte_vhost_driver_disable_features(conf->path, VHOST_FEATURES_NEVER |
			(conf->offloads ? 0 : VHOST_FEATURES_OFFLOAD)) != 0 ||
	    rte_vhost_driver_callback_register(conf->path, &vhost_ops) != 0) {
		rc = -EIO;
		goto err_register;
	}
	if (rte_vhost_driver_start(conf->path) != 0) {
		rc = -EIO;
		goto err_register;
	}
	VHOST_LOG(INFO, "%s: %s, %u queue pair(s)\n", conf->path,
		  conf->client ? "connecting (client mode)" : "listening",
		  conf->queues);
	return 0;

err_register:
	rte_vhost_driver_unregister(conf->path);
err_slot:
	pthread_mutex_lock(&sockets_lock);
	slot->path[0] = '\0';
	pthread_mutex_unlock(&sockets_lock);
	return rc;
}

void
vhost_port_close(const char *path)
{
	struct vhost_socket *s;

	pthread_mutex_lock(&sockets_lock);
	s = socket_find_locked(path);
	pthread_mutex_unlock(&sockets_lock);
	if (s == NULL)
		return;
	/* Calls destroy_device for a connected guest, which needs the slot
	 * to find its owner: clear it only afterwards. */
	rte_vhost_driver_unregister(path);
	pthread_mutex_lock(&sockets_lock);
	s->path[0] = '\0';
	pthread_mutex_unlock(&sockets_lock);
}

uint64_t
vhost_features(int vid)
{
	uint64_t features = 0;

	if (vid < 0 || rte_vhost_get_negotiated_features(vid, &features) != 0)
		return 0;
	return features;
}

const char *
vhost_feature_name(unsigned int bit)
{
	switch (bit) {
	case VIRTIO_NET_F_CSUM: return "CSUM";
	case VIRTIO_NET_F_GUEST_CSUM: return "GUEST_CSUM";
	case VIRTIO_NET_F_CTRL_GUEST_OFFLOADS: return "CTRL_GUEST_OFFLOADS";
	case VIRTIO_NET_F_MTU: return "MTU";
	case VIRTIO_NET_F_MAC: return "MAC";
	case VIRTIO_NET_F_GUEST_TSO4: return "GUEST_TSO4";
	case VIRTIO_NET_F_GUEST_TSO6: return "GUEST_TSO6";
	case VIRTIO_NET_F_GUEST_ECN: return "GUEST_ECN";
	case VIRTIO_NET_F_GUEST_UFO: return "GUEST_UFO";
	case VIRTIO_NET_F_HOST_TSO4: return "HOST_TSO4";
	case VIRTIO_NET_F_HOST_TSO6: return "HOST_TSO6";
	case VIRTIO_NET_F_HOST_ECN: return "HOST_ECN";
	case VIRTIO_NET_F_HOST_UFO: return "HOST_UFO";
	case VIRTIO_NET_F_MRG_RXBUF: return "MRG_RXBUF";
	case VIRTIO_NET_F_STATUS: return "STATUS";
	case VIRTIO_NET_F_CTRL_VQ: return "CTRL_VQ";
	case VIRTIO_NET_F_CTRL_RX: return "CTRL_RX";
	case VIRTIO_NET_F_CTRL_VLAN: return "CTRL_VLAN";
	case VIRTIO_NET_F_GUEST_ANNOUNCE: return "GUEST_ANNOUNCE";
	case VIRTIO_NET_F_MQ: return "MQ";
	case VIRTIO_F_NOTIFY_ON_EMPTY: return "NOTIFY_ON_EMPTY";
	case VIRTIO_F_ANY_LAYOUT: return "ANY_LAYOUT";
	case VIRTIO_RING_F_INDIRECT_DESC: return "RING_INDIRECT_DESC";
	case VIRTIO_RING_F_EVENT_IDX: return "RING_EVENT_IDX";
	case VHOST_USER_F_PROTOCOL_FEATURES: return "PROTOCOL_FEATURES";
	case VIRTIO_F_VERSION_1: return "VERSION_1";
	case VIRTIO_F_IOMMU_PLATFORM: return "IOMMU_PLATFORM";
	case VIRTIO_F_RING_PACKED: return "RING_PACKED";
	case VIRTIO_F_IN_ORDER: return "IN_ORDER";
	default: return NULL;
	}
}
