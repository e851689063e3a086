#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_libvirt.sh - the README's libvirt recipe, as written, with the real
# thing: libvirtd and virtlogd (libvirt-daemon-system, started here: there
# is no systemd), QEMU run by libvirt as libvirt-qemu, two TCG domains with
# memfd shared memory and direct kernel boot, started with `virsh start`,
# ping and exchange TCP through vtoed with no port of theirs in the YAML.
#
#   domain vtoe-a (QEMU listens: <source mode='server'>, its own socket in
#     socket_dir)  --vtoed connects-->  port vtoe-a.0
#   domain vtoe-b (QEMU connects: <source mode='client'>)  --> vtoed's
#     socket in socket_dir, group libvirt-qemu, perms 0660: port vtoe-b.0
#
# Both interfaces set vectors=0 through <qemu:override> (QEMU 7.2 + TCG +
# vhost-user needs INTx).  Bounded: ~60 s.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/guest.sh"

need_root
[ -x /usr/sbin/libvirtd ] && [ -x /usr/sbin/virtlogd ] ||
	skip_all "libvirt-daemon-system missing (run scripts/setup.sh)"
getent passwd libvirt-qemu >/dev/null || skip_all "no libvirt-qemu user (libvirt-daemon-system)"
need_binaries "$VTOED" "$VTOECTL"
need_hugepages 256
guest_prepare

# Our daemons, unless the host runs its own.
STARTED=()
if ! pgrep -x virtlogd >/dev/null; then
	/usr/sbin/virtlogd -d || die "virtlogd did not start"
	STARTED+=(virtlogd)
fi
if ! pgrep -x libvirtd >/dev/null; then
	/usr/sbin/libvirtd -d || die "libvirtd did not start"
	STARTED+=(libvirtd)
fi
stop_daemons() {
	local d
	for n in vtoe-a vtoe-b; do virsh -q destroy "$n-$$" >/dev/null 2>&1; virsh -q undefine "$n-$$" >/dev/null 2>&1; done
	for d in "${STARTED[@]}"; do pkill -x "$d"; done
}
trap 'stop_daemons; t_cleanup' EXIT
wait_for 20 eval 'virsh -q -c qemu:///system version >/dev/null 2>&1' || die "libvirtd does not answer"
vsh() { timeout 60 virsh -q -c qemu:///system "$@"; }

# libvirt-qemu reads the kernel and initrd and writes the serial logs.
chmod 0755 "$WORK"
SOCKS=$WORK/run
MAC_A=52:54:00:00:a1:01 MAC_B=52:54:00:00:b1:01
# domain NAME MAC SOCKET MODE ROLE_ARGS
domain() {
	cat <<EOF
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$1-$$</name>
  <memory unit='MiB'>$GUEST_MEM</memory>
  <vcpu>1</vcpu>
  <memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$GUEST_KBOOT</kernel>
    <initrd>$GUEST_INITRD</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 e2e.maxt=100 $5</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_crash>destroy</on_crash>
  <devices>
    <serial type='file'><source path='$WORK/$1.log'/></serial>
    <interface type='vhostuser'>
      <mac address='$2'/>
      <source type='unix' path='$3' mode='$4'/>
      <model type='virtio'/>
      <alias name='ua-net0'/>
    </interface>
  </devices>
  <qemu:override>
    <qemu:device alias='ua-net0'>
      <qemu:frontend><qemu:property name='vectors' type='unsigned' value='0'/></qemu:frontend>
    </qemu:device>
  </qemu:override>
</domain>
EOF
}
domain vtoe-a $MAC_A "$SOCKS/a.sock" server "e2e.ip=10.0.0.1 e2e.peer=10.0.0.2 e2e.role=client e2e.kb=256" >"$WORK/a.xml"
domain vtoe-b $MAC_B "$SOCKS/b.sock" client "e2e.ip=10.0.0.2 e2e.role=server" >"$WORK/b.xml"

# The README's recipe: socket_dir and the socket opened to QEMU's group,
# and (here) no VM in the YAML at all: the domains bring their ports.
CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
{
	config_head
	cat <<EOF
socket_dir: {path: $SOCKS, group: libvirt-qemu, mode: "0770"}
membership: {source: libvirt, uri: "qemu:///system", attach: auto, sockets: [$SOCKS],
             defaults: {group: libvirt-qemu, perms: "0660"}}
EOF
} >"$CONF"
vtoed_start "$CONF" "$VLOG" 200 || die "vtoed did not start"
mjson() { ctl --json membership; }
wait_for 20 eval '[ "$(jq -r "(.result? // .).connected" <<<"$(mjson)")" = true ]' || die "vtoed did not reach libvirtd"

vsh define "$WORK/a.xml" >/dev/null && vsh define "$WORK/b.xml" >/dev/null || die "virsh define"
vsh start "vtoe-b-$$" >/dev/null || { dump_log /var/log/libvirt/qemu/vtoe-b-$$.log 20; die "virsh start vtoe-b"; }
vsh start "vtoe-a-$$" >/dev/null || { dump_log /var/log/libvirt/qemu/vtoe-a-$$.log 20; die "virsh start vtoe-a"; }
port_of() { ctl --json ports | jq -r --arg m "$1" '(.result? // .)[] | select(.mac == $m) | "\(.name) \(.origin) \(.mode) \(.link)"'; }
check "vtoe-a's interface became a client-mode port from libvirt ($(port_of $MAC_A))" \
	wait_for 30 eval '[[ "$(port_of $MAC_A)" == *" libvirt client up" ]]'
check "vtoe-b's became a server-mode port, QEMU (libvirt-qemu) connected ($(port_of $MAC_B))" \
	wait_for 30 eval '[[ "$(port_of $MAC_B)" == *" libvirt server up" ]]'
check "vtoe-b's socket is libvirt-qemu's group, 0660 ($(stat -c '%G %a' "$SOCKS/b.sock" 2>/dev/null))" \
	[ "$(stat -c '%G %a' "$SOCKS/b.sock" 2>/dev/null)" = "libvirt-qemu 660" ]
result() { tr -d '\r' <"$WORK/vtoe-a.log" 2>/dev/null | grep -a '^E2E RESULT'; }
wait_for 90 eval '[ -n "$(result)" ]'
tr -d '\r' <"$WORK/vtoe-a.log" 2>/dev/null | grep -a '^E2E' | sed 's/^/    /' >&2
check "the two domains ping each other and echo TCP md5-exact through vtoed ($(result))" \
	eval 'result | grep -q "E2E RESULT OK"'
check "both ports are co-resident while their domains run" \
	eval '[ "$(jq -r "[(.result? // .).ports[] | select(.path == \"coresident\")] | length" <<<"$(mjson)")" = 2 ]'

vsh destroy "vtoe-a-$$" >/dev/null 2>&1; vsh undefine "vtoe-a-$$" >/dev/null
check "undefining vtoe-a removes its port" wait_for 15 eval '[ -z "$(port_of $MAC_A)" ]'
vtoed_stop TERM; rc=$?
check "vtoed exits 0 on SIGTERM (rc=$rc)" [ $rc = 0 ]
t_finish
