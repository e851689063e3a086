#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_faults_libvirt.sh - libvirtd SIGKILLed and restarted in the middle
# of a churn of domain events; vtoed's table must end up equal to what
# libvirt says.
#
#   churn: virsh create/define/start/destroy/suspend/resume/undefine, at
#   random, on 6 domains, as fast as a virsh session goes (a private libvirtd, test
#   driver: it starts empty after a restart)
#        |  events                            vtoed (membership: libvirt,
#        v                                           attach: auto)
#   libvirtd  --SIGKILL at CHURN/3, started again at CHURN/2--
#
#   d1..d3: interfaces on the YAML's ports vm1.0..vm3.0 (co-residency:
#           a port is co-resident while its domain runs)
#   d4..d6: interfaces with sockets in $WORK/auto/: ports made from the
#           domains (attach: auto), there while the domain is in libvirt
#
# Once the churn stops (and within 30 s): every domain libvirt lists is in
# vtoed's table with libvirt's state and no other; vm1.0..vm3.0 are
# co-resident exactly when their domain runs; the ports made from domains
# are exactly those of d4..d6 that libvirt has.  vtoed saw the disconnect,
# resynced, and never stopped serving.  env: VTOE_FAULT_CHURN (seconds of
# churn, default 12).
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/faults.sh"

CHURN=${VTOE_FAULT_CHURN:-12}
need_root
[ -x /usr/sbin/libvirtd ] || skip_all "libvirtd missing (package libvirt-daemon; run scripts/setup.sh)"
command -v virsh >/dev/null || skip_all "virsh missing (package libvirt-clients; run scripts/setup.sh)"
command -v jq >/dev/null || die "jq missing"
need_binaries "$VTOED" "$VTOECTL"
need_hugepages 256
source "$(dirname "$0")/lib/libvirtd.sh"

AUTO=$WORK/auto
mkdir -p "$AUTO"
dom_sock() { if [ "$1" -le 3 ]; then echo "$WORK/vm$1.0.sock"; else echo "$AUTO/d$1.sock"; fi; }
dom_mac() { printf '52:54:00:00:%02x:01' "$1"; }
for i in 1 2 3 4 5 6; do
	printf "<domain type='test'><name>d%d</name><uuid>11111111-2222-3333-4444-%012d</uuid>%s%s" \
		"$i" "$i" "<memory unit='KiB'>524288</memory><os><type>hvm</type></os>" \
		"<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>" >"$WORK/d$i.xml"
	printf "<devices><interface type='vhostuser'><mac address='%s'/><source type='unix' path='%s' mode='client'/>%s</interface></devices></domain>\n" \
		"$(dom_mac "$i")" "$(dom_sock "$i")" "<target dev='d$i-0'/><model type='virtio'/>" >>"$WORK/d$i.xml"
done

CONF=$WORK/vtoed.yaml VLOG=$WORK/vtoed.log
{
	config_head
	echo "membership: {source: libvirt, uri: \"$URI\", attach: auto, sockets: [\"$AUTO/\"]}"
	echo "vms:"
	for i in 1 2 3; do
		echo "  - {name: vm$i, ports: [{name: vm$i.0, socket: $(dom_sock $i), mac: \"$(dom_mac $i)\"}]}"
	done
} >"$CONF"
libvirtd_start || { dump_log "$LV/libvirtd.log"; die "libvirtd did not start"; }
vtoed_start "$CONF" "$VLOG" $((CHURN + 120)) || die "vtoed did not start"
mjson() { ctl --json membership | jq '(.result? // .)'; }
connected() { [ "$(mjson | jq -r .connected)" = true ]; }
wait_for 20 connected || die "vtoed did not connect to the private libvirtd"

# What libvirt says, and what vtoed has: "NAME STATE" lines, sorted (the
# test driver's own domain "test" has no vhost-user interface: not ours).
lv_doms() {
	vsh list --all 2>/dev/null |
		awk '$2 ~ /^d[1-6]$/ { s = $3; if (s == "shut") s = "stopped"; print $2, s }' | sort
}
vt_doms() { mjson | jq -r '.vms[] | "\(.name) \(.state)"' | sort; }
# The ports it should have: vmK.0 co-resident iff dK runs; a port made
# from each of d4..d6 that libvirt has.
lv_ports() {
	local d s
	lv_doms | while read -r d s; do
		case $d in d[123]) [ "$s" = running ] && echo "vm${d#d}.0 coresident" ;;
		d[456]) echo "$(dom_sock "${d#d}") libvirt" ;; esac
	done | sort
}
vt_ports() {
	{ mjson | jq -r '.ports[] | select(.origin == "config" and .path == "coresident") | "\(.port) coresident"'
	  ctl --json ports | jq -r '(.result? // .)[] | select(.origin == "libvirt") | "\(.socket) libvirt"'; } | sort
}
converged() { [ "$(lv_doms)" = "$(vt_doms)" ] && [ "$(lv_ports)" = "$(vt_ports)" ]; }

# churn_cmds N: N random lifecycle commands for a virsh session (many
# fail harmlessly: the domain is not in the state they need).
churn_cmds() {
	local i
	for _ in $(seq 1 "$1"); do
		i=$((RANDOM % 6 + 1))
		case $((RANDOM % 8)) in
		0) echo "create $WORK/d$i.xml" ;;
		1) echo "define $WORK/d$i.xml" ;;
		2) echo "start d$i" ;;
		3 | 4) echo "destroy d$i" ;;
		5) echo "suspend d$i" ;;
		6) echo "resume d$i" ;;
		7) echo "undefine d$i" ;;
		esac
	done
}
churn() {  # SECONDS: batches of commands in virsh sessions until then; commands sent on stdout
	local end=$((SECONDS + $1)) n=0
	while [ "$SECONDS" -lt "$end" ]; do
		churn_cmds 50 | timeout 20 virsh -q -c "$URI" >/dev/null 2>&1 || sleep 0.1
		n=$((n + 50))
	done
	echo "$n"
}

ev0=$(mjson | jq .events) rs0=$(mjson | jq .resyncs)
churn "$CHURN" >"$WORK/churn.n" &
CH=$!; track $CH
sleep $((CHURN / 3))
log "e: libvirtd SIGKILLed mid-churn ($(mjson | jq .events) events so far; libvirt has $(lv_doms | wc -l) domains)"
libvirtd_kill
check "e: vtoed notices libvirtd died" wait_for 10 eval '! connected'
check "e: vtoed serves while libvirtd is gone" vtoed_ready
sleep $((CHURN / 2 - CHURN / 3))
libvirtd_start || die "libvirtd did not restart"
log "e: libvirtd started again (empty: test driver); the churn goes on"
check "e: vtoed reconnects without a restart" wait_for 30 connected
wait "$CH"
steps=$(cat "$WORK/churn.n")
t0=$(date +%s%N)
if wait_secs 30 converged; then
	pass "e: the table converged to libvirt's truth $(( ($(date +%s%N) - t0) / 1000000 )) ms after the churn stopped ($(lv_doms | wc -l) domains: $(lv_doms | tr '\n' ',' ))"
else
	fail "e: the table did not converge in 30 s: libvirt [$(lv_doms | tr '\n' ',')] vtoed [$(vt_doms | tr '\n' ',')]; ports expected [$(lv_ports | tr '\n' ',')] got [$(vt_ports | tr '\n' ',')]"
fi
m=$(mjson)
log "e: $steps churn commands, $(( $(jq .events <<<"$m") - ev0 )) events seen, resyncs $(jq .resyncs <<<"$m"), disconnects $(jq .disconnects <<<"$m"), refused [$(jq -c '.reasons | with_entries(select(.value != 0))' <<<"$m")]"
check "e: the reconnect resynced the table (resyncs $rs0 -> $(jq .resyncs <<<"$m"), disconnects $(jq .disconnects <<<"$m"))" \
	test "$(jq .resyncs <<<"$m")" -gt "$rs0" -a "$(jq .disconnects <<<"$m")" -ge 1
# Events after the storm still move the table: every domain to a known state.
for i in 1 2 3 4 5 6; do vsh destroy "d$i"; vsh undefine "d$i"; done >/dev/null 2>&1
vsh create "$WORK/d1.xml" >/dev/null; vsh define "$WORK/d4.xml" >/dev/null; vsh create "$WORK/d5.xml" >/dev/null
vsh suspend d5 >/dev/null
check "e: later events are followed (d1 running, d4 stopped, d5 paused: $(vt_doms | tr '\n' ','))" \
	wait_secs 10 eval 'converged && [ "$(vt_doms | tr "\n" ,)" = "d1 running,d4 stopped,d5 paused," ]'
check "e: the books balance ($(books_line))" books_balanced
vtoed_stop TERM; rc=$?
check "vtoed exits 0 on SIGTERM (got $rc)" test $rc = 0
[ "$T_FAIL" -gt 0 ] && { dump_log "$VLOG" 60; dump_log "$LV/libvirtd.log" 20; }
t_finish
