#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_sockets.sh - who may reach vtoed's vhost-user sockets: a front-end
# running as another user (as QEMU runs as libvirt-qemu under libvirt)
# attaches where the port map lets it and is kept out where it does not.
#
#   vtoe-inject as nobody:nogroup --> $WORK/run/vm1.0.sock  (group nogroup, 0660)
#                             -x-> $WORK/run/vm2.0.sock  (root's, as made)
#   nobody creates its own socket in $WORK/run (socket_dir: group nogroup,
#   0770), as QEMU does for a client-mode port
#
# Then a reload that closes vm1.0 to its group (perms 0600) re-creates the
# socket and the same front-end is refused.
source "$(dirname "$0")/lib/common.sh"

need_root
need_binaries "$VTOED" "$VTOECTL" "$VTOE_INJECT"
need_hugepages 128
command -v setpriv >/dev/null || die "setpriv missing (util-linux)"
getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
	skip_all "no user nobody / group nogroup on this host"

CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log RUN=$WORK/run
chmod 0755 "$WORK"
conf() {  # PERMS of vm1.0
	{
		config_head
		cat <<EOF
socket_dir: {path: $RUN, group: nogroup, mode: "0770"}
vms:
  - name: vm1
    ports:
      - {name: vm1.0, socket: $RUN/vm1.0.sock, mac: "$VM1_MAC", group: nogroup, perms: "$1"}
  - name: vm2
    ports:
      - {name: vm2.0, socket: $RUN/vm2.0.sock, mac: "$VM2_MAC"}
  - name: vm3
    ports:
      - {name: vm3.0, socket: $RUN/vm3.0.sock, mode: client, mac: "52:54:00:00:03:01"}
EOF
	} >"$CONF"
}
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
# attach SOCK: a DPDK front-end as nobody; 0 when its link came up
attach() {
	as_nobody timeout -k 5 60 "$VTOE_INJECT" -l "$MAIN_CPU" --no-pci -m 64 --in-memory --single-file-segments --iova-mode=va \
		--log-level=4 --vdev "net_virtio_user0,path=$1,mac=52:54:00:00:09:01" -- \
		--link-timeout 5 --wait 200 >"$WORK/attach.out" 2>"$WORK/attach.err"
}
connects() {  # SOCK: can nobody connect() to it at all?
	as_nobody /usr/bin/python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' "$1" 2>/dev/null
}

conf 0660
vtoed_start "$CONF" "$VLOG" 300 || die "vtoed did not start"

check "socket_dir is made with its group and mode ($(stat -c '%G %a' "$RUN"))" \
	[ "$(stat -c '%G %a' "$RUN")" = "nogroup 770" ]
check "vm1.0's socket has the group and mode of the port map ($(stat -c '%G %a' "$RUN/vm1.0.sock"))" \
	[ "$(stat -c '%G %a' "$RUN/vm1.0.sock")" = "nogroup 660" ]
check "vm2.0's socket is root's, as made ($(stat -c '%U %a' "$RUN/vm2.0.sock"))" \
	eval '[ "$(stat -c %U "$RUN/vm2.0.sock")" = root ] && ! connects "$RUN/vm2.0.sock"'
attach "$RUN/vm1.0.sock"; rc=$?
[ $rc = 0 ] || dump_log "$WORK/attach.err" 10
check "a front-end running as nobody attaches to vm1.0 (exit $rc)" [ $rc = 0 ]
check "... and vtoed saw it come up" grep -q "port vm1.0: link up" "$VLOG"
check "nobody cannot connect to vm2.0 at all" eval '! connects "$RUN/vm2.0.sock"'
as_nobody /usr/bin/python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$RUN/own.sock"
check "nobody can create its own socket in socket_dir (QEMU, client mode)" \
	[ "$(stat -c %U "$RUN/own.sock" 2>/dev/null)" = nobody ]

conf 0600
out=$(ctl reload 2>&1); rc=$?
check "reload with vm1.0's perms 0600 re-creates it ($(tr '\n' ' ' <<<"$out"))" \
	eval '[ $rc = 0 ] && grep -q "^changed *1: vm1.0" <<<"$out"'
check "vm1.0's socket is now 0600 ($(stat -c '%a' "$RUN/vm1.0.sock"))" \
	[ "$(stat -c '%a' "$RUN/vm1.0.sock")" = 600 ]
check "nobody can no longer connect to vm1.0" eval '! connects "$RUN/vm1.0.sock"'

sed -i 's/group: nogroup, perms/group: nosuchgroup-vtoe, perms/' "$CONF"
out=$(ctl reload 2>&1); rc=$?
check "an unknown group is refused with FILE:LINE:COL ($out)" \
	eval '[ $rc = 1 ] && grep -q "vtoed.yaml:[0-9]*:[0-9]*:.*group \"nosuchgroup-vtoe\" is no group of this host" <<<"$out"'
vtoed_stop TERM; rc=$?
check "vtoed exits 0 on SIGTERM (rc=$rc)" [ $rc = 0 ]
t_finish
