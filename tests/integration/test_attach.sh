#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_attach.sh - libvirt domains bring their own VM ports (membership
# attach: auto): no YAML for them, and a domain XML cannot point vtoed at
# a socket it was not given.
#
#   private libvirtd (test driver) --events--> vtoed (attach: auto,
#                                              sockets: [$WORK/att/])
#   vtoe-inject A on vm1.0 (a port of the YAML)  <---  vtoe-inject B, the
#   "QEMU" of domain dom-b: virtio-user server=1 on $WORK/att/b.sock
#
# Checked: dom-b's interface becomes port b-eth0 (its <target dev>, client
# mode since its QEMU listens, weight 4 from its <metadata>) that links up
# and forwards to vm1; a domain whose socket is outside $WORK/att/, or whose
# MAC is vm1.0's, gets no port and is counted; destroying the transient
# dom-b removes its port; a persistent domain's port (server mode: vtoed
# makes the socket, with defaults.perms) survives its shutdown and goes
# with its undefine.
source "$(dirname "$0")/lib/common.sh"

need_root
[ -x /usr/sbin/libvirtd ] || die "libvirtd missing (package libvirt-daemon; run scripts/setup.sh)"
command -v virsh >/dev/null || die "virsh missing (package libvirt-clients; run scripts/setup.sh)"
need_binaries "$VTOED" "$VTOECTL" "$VTOE_INJECT"
need_hugepages 256

source "$(dirname "$0")/lib/libvirtd.sh"
libvirtd_start || die "libvirtd did not start"

ATT=$WORK/att
mkdir -p "$ATT"
MAC_B=52:54:00:00:0b:01 MAC_C=52:54:00:00:0c:01 MAC_D=52:54:00:00:0d:01
# domain NAME UUID MAC SOCKET MODE [TARGET [METADATA]]
domain() {
	cat <<EOF
<domain type='test'><name>$1</name><uuid>$2</uuid>
  <memory unit='KiB'>1048576</memory>
  <memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>
  <os><type>hvm</type></os>
  ${7:-}
  <devices>
    <interface type='vhostuser'><mac address='$3'/>
      <source type='unix' path='$4' mode='$5'/>${6:+<target dev='$6'/>}<model type='virtio'/></interface>
  </devices>
</domain>
EOF
}
META_B="<metadata><vtoe:port xmlns:vtoe='urn:vtoe:libvirt:1' mac='$MAC_B' weight='4'/></metadata>"
domain dom-b 22222222-0000-0000-0000-00000000000b $MAC_B "$ATT/b.sock" server b-eth0 "$META_B" >"$WORK/b.xml"
domain dom-c 22222222-0000-0000-0000-00000000000c $MAC_C "$WORK/elsewhere.sock" client >"$WORK/c.xml"
domain dom-m 22222222-0000-0000-0000-0000000000aa "$VM1_MAC" "$ATT/m.sock" client >"$WORK/m.xml"
domain dom-d 22222222-0000-0000-0000-00000000000d $MAC_D "$ATT/d.sock" client >"$WORK/d.xml"
# vm1's own domain: its interface is the port map's vm1.0 (which it keeps
# serving), and it makes vm1 co-resident.
domain dom-a 22222222-0000-0000-0000-00000000000a "$VM1_MAC" "$VM1_SOCK" client >"$WORK/a.xml"

CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
{
	config_head
	cat <<EOF
membership: {source: libvirt, uri: "$URI", attach: auto, sockets: [$ATT],
             defaults: {weight: 3, perms: "0660"}}
vms:
  - name: vm1
    ports:
      - {name: vm1.0, socket: $VM1_SOCK, mac: "$VM1_MAC"}
EOF
} >"$CONF"
vtoed_start "$CONF" "$VLOG" 300 || die "vtoed did not start"
mjson() { ctl --json membership; }
attach_field() { jq -r "(.result? // .).attach.$1" <<<"$(mjson)"; }
port_field() { ctl --json ports | jq -r --arg p "$1" "(.result? // .)[] | select(.name == \$p) | .$2"; }
has_port() { [ -n "$(port_field "$1" name)" ]; }
refused_for() { jq -r --arg m "$1" '(.result? // .).attach.refused[] | select(.mac == $m) | .reason' <<<"$(mjson)"; }
wait_for 15 eval '[ "$(jq -r "(.result? // .).connected" <<<"$(mjson)")" = true ]' || die "vtoed did not reach libvirtd"

inject() {  # NAME ARGS...
	local name=$1; shift
	timeout -k 5 120 taskset -c "$OTHER_CPUS" "$VTOE_INJECT" -l "$MAIN_CPU" --no-pci --no-huge -m 64 \
		--file-prefix="$(dpdk_prefix "$name")" --log-level=4 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
}
inject A --vdev "net_virtio_user0,path=$VM1_SOCK,mac=$VM1_MAC" -- --wait 600000
PID_A=$!; track $PID_A
wait_for 20 ports_up vm1.0 || die "vm1.0 did not come up"
vsh create "$WORK/a.xml" >/dev/null || die "virsh create dom-a"
check "vm1's domain is served by the port map's vm1.0: no port made, nothing refused" \
	wait_for 10 eval '[ "$(jq -r "(.result? // .).ports[] | select(.port == \"vm1.0\") | .path" <<<"$(mjson)")" = coresident ] && [ "$(attach_field refused_total)" = 0 ] && [ "$(attach_field added)" = 0 ]'
# dom-b's "QEMU": listens on its socket, sends once vtoed connects.
inject B --vdev "net_virtio_user0,path=$ATT/b.sock,mac=$MAC_B,server=1" -- \
	--link-timeout 60 --send 64:200 --pps 400 --dst "$VM1_MAC" --wait 1000
PID_B=$!; track $PID_B
wait_for 10 test -S "$ATT/b.sock" || die "the generator did not make dom-b's socket"

vsh create "$WORK/b.xml" >/dev/null || die "virsh create dom-b"
check "dom-b's interface becomes port b-eth0 by itself" wait_for 10 has_port b-eth0
check "... made from libvirt, client mode (its QEMU listens), weight 4 from its metadata" \
	eval '[ "$(port_field b-eth0 origin)" = libvirt ] && [ "$(port_field b-eth0 mode)" = client ] && [ "$(port_field b-eth0 weight)" = 4 ] && [ "$(port_field b-eth0 vm)" = dom-b ]'
check "b-eth0 links up" wait_for 15 ports_up b-eth0
wait $PID_B; rc=$?
check "dom-b's generator sent its 200 frames (exit $rc)" [ $rc = 0 ]
check "b-eth0 forwarded them to vm1.0" wait_for 5 eval '[ "$(port_stat vm1.0 .tx_packets)" -ge 200 ]'
check "vtoectl ports shows where each port came from" \
	eval 'ctl ports | grep -q "^b-eth0 .*libvirt" && ctl ports | grep -q "^vm1.0 .*config"'

vsh create "$WORK/c.xml" >/dev/null || die "virsh create dom-c"
vsh create "$WORK/m.xml" >/dev/null || die "virsh create dom-m"
check "a socket outside the allowed directories is refused" \
	wait_for 10 eval '[ "$(refused_for $MAC_C)" = socket_outside ]'
check "... and vtoed made nothing there" eval '[ ! -e "$WORK/elsewhere.sock" ] && ! has_port dom-c.0'
check "a domain with vm1.0's MAC gets no port" \
	eval '[ "$(refused_for $VM1_MAC)" = mac_taken ] && ! has_port dom-m.0 && [ "$(port_field vm1.0 link)" = up ]'
check "refusals are counted ($(attach_field refused_total))" [ "$(attach_field refused_total)" -ge 2 ]

vsh destroy dom-b >/dev/null || die "virsh destroy dom-b"
check "destroying the transient dom-b removes b-eth0" wait_for 10 eval '! has_port b-eth0'

vsh define "$WORK/d.xml" >/dev/null && vsh start dom-d >/dev/null || die "virsh define/start dom-d"
# No <target dev> in dom-d's XML: libvirt names the interface itself.
name_d() { ctl --json ports | jq -r --arg m "$MAC_D" '(.result? // .)[] | select(.mac == $m) | .name'; }
check "persistent dom-d gets a port, server mode, vtoed's socket with defaults.perms" \
	wait_for 10 eval '[ -n "$(name_d)" ] && [ "$(port_field "$(name_d)" mode)" = server ] && [ "$(stat -c %a "$ATT/d.sock" 2>/dev/null)" = 660 ]'
PD=$(name_d); log "dom-d's port: $PD"
vsh destroy dom-d >/dev/null
sleep 1
check "$PD stays while dom-d is only shut off" has_port "$PD"
vsh undefine dom-d >/dev/null
check "undefining dom-d removes $PD and its socket" \
	wait_for 10 eval '! has_port "$PD" && [ ! -e "$ATT/d.sock" ]'
check "added and removed are counted ($(attach_field added) / $(attach_field removed))" \
	eval '[ "$(attach_field added)" = 2 ] && [ "$(attach_field removed)" = 2 ]'
check "vm1.0 was never disturbed" eval '[ "$(port_field vm1.0 link)" = up ]'

kill -INT "$(pgrep -P $PID_A | head -1)" 2>/dev/null; wait $PID_A
vtoed_stop TERM; rc=$?
check "vtoed exits 0 on SIGTERM (rc=$rc)" [ $rc = 0 ]
t_finish
