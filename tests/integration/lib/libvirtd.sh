# SPDX-License-Identifier: BSD-3-Clause
# libvirtd.sh - a private libvirtd with only libvirt's built-in test driver
# (sourced after common.sh): its own unix socket in $LV, no host QEMU, no
# auth.  URI is the URI to give vtoed and virsh.
#
# libvirtd_start: (re)start it, wait for its socket.  libvirtd_kill:
# SIGKILL it (a daemon dying).  vsh ARGS: virsh on it.
LV=$WORK/lv LV_SOCK=$WORK/lv/libvirt-sock
URI="test+unix:///default?socket=$LV_SOCK"
mkdir -p "$LV/drivers"
cat >"$LV/libvirtd.conf" <<EOF2
unix_sock_dir = "$LV"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:$LV/libvirtd.log"
EOF2
LVD_PID=
libvirtd_start() {
	rm -f "$LV_SOCK"
	# An empty driver directory: only the built-in test driver, nothing
	# touches the host's QEMU.
	LIBVIRT_DRIVER_DIR=$LV/drivers taskset -c "$OTHER_CPUS" /usr/sbin/libvirtd \
		--config "$LV/libvirtd.conf" --pid-file "$LV/libvirtd.pid" >/dev/null 2>&1 &
	LVD_PID=$!; track $LVD_PID
	wait_for 15 test -S "$LV_SOCK"
}
libvirtd_kill() { kill -KILL "$LVD_PID" 2>/dev/null; wait "$LVD_PID" 2>/dev/null; LVD_PID=; }
vsh() { timeout 20 virsh -q -c "$URI" "$@"; }
