#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# test_owner.sh - one owner per port: a second QEMU started on a running
# guest's vhost-user socket (vtoed as server) is refused; the guest keeps
# its traffic while the intruder runs and after it exits.
#
#   guest vm1 10.0.0.1 (rounds of ping + TCP echo)     guest vm2 10.0.0.2
#   intruder QEMU, MAC of its own, on vm1's socket  -> refused, then killed
#
# Checks: vm1's rounds go on through both phases; vtoectl shows vm1.0's
# owner vid unchanged, one refusal and no owner change; vtoed logs the
# refusal; the intruder's exit leaves vm1.0 up.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/guest.sh"

GUEST_SECS=${VTOE_GUEST_SECS:-200}
need_root
need_binaries "$VTOED" "$VTOECTL"
need_hugepages 256
guest_prepare

CONF=$WORK/vtoed.yaml
VLOG=$WORK/vtoed.log
write_config "$CONF" server
vtoed_start "$CONF" "$VLOG" $((GUEST_SECS + 30)) || die "vtoed did not start"
guest_start vm2 "$VM2_SOCK" "$VM2_MAC" 0 "$GUEST_SECS" e2e.ip=10.0.0.2 e2e.role=server
guest_start vm1 "$VM1_SOCK" "$VM1_MAC" 0 "$GUEST_SECS" e2e.ip=10.0.0.1 e2e.peer=10.0.0.2 \
	e2e.role=long e2e.kb=256 e2e.secs=70
on_fail_dump() { guest_show vm1; guest_show intruder; dump_log "$VLOG" 40; }

rounds_ok() { guest_log vm1 | grep -c '^E2E ROUND .* ping=ok tcp=ok'; }
ok_since() {  # N SECONDS: at least one more good round than N within SECONDS
	local n=$1 t=$(( $2 * 10 ))
	while [ $t -gt 0 ]; do
		[ "$(rounds_ok)" -gt "$n" ] && return 0
		sleep 0.1; t=$((t - 1))
	done
	return 1
}
owner() { jq -r "(.result? // .) | .[] | select(.name == \"vm1.0\") | .owner.$1" <<<"$(ctl --json ports)"; }

guest_wait vm1 '^E2E ROUND .* ping=ok tcp=ok' 120 || { on_fail_dump; die "vm1 never reached vm2"; }
VID=$(owner vid)
log "vm1.0 owned by vid $VID; starting an intruder on its socket"
check "vm1.0 has an owner" test -n "$VID" -a "$VID" != null

guest_start intruder "$VM1_SOCK" 52:54:00:00:66:66 0 60 e2e.ip=10.0.0.66 e2e.role=server
check "vtoed refuses the intruder and says so" wait_for 60 grep -q 'second front-end.*refused' "$VLOG"
n=$(rounds_ok)
check "vm1 keeps talking while the intruder runs" ok_since "$n" 30
check "vm1.0 is still owned by vid $VID" test "$(owner vid)" = "$VID"
check "vtoectl counts the refusal" test "$(owner refused)" -ge 1
check "vtoectl shows the intruder as a standby connection" test "$(owner standby)" -ge 1

guest_stop intruder
log "intruder killed"
n=$(rounds_ok)
check "vm1 keeps talking after the intruder exits" ok_since "$n" 30
check "vm1.0 is up, owned by vid $VID, no owner change" \
	test "$(port_stat vm1.0 .link)" = up -a "$(owner vid)" = "$VID" -a "$(owner owner_changes)" = 0
check "no standby left once the intruder is gone" wait_for 10 test "$(owner standby)" = 0
# migrate is for client-mode ports; hostile or wrong requests change nothing
out=$(ctl migrate vm1.0 --to "$WORK/elsewhere.sock" 2>&1)
check "migrate on a server-mode port is refused, saying why ($out)" grep -q 'server mode' <<<"$out"
out=$(ctl migrate nosuch --to "$WORK/x.sock" 2>&1)
check "migrate of an unknown port is refused ($out)" grep -q 'no port named' <<<"$out"
out=$(ctl raw '{"cmd":"migrate","args":{"port":"vm1.0","to":"relative.sock","cancel":true}}' 2>&1)
check "migrate with both --to and --cancel is a usage error ($out)" grep -q 'usage' <<<"$out"
out=$(ctl migrate vm1.0 --cancel 2>&1)
check "migrate --cancel with none under way says so ($out)" grep -q 'server mode\|no migration' <<<"$out"
check "vm1.0 still up after the refused requests" test "$(port_stat vm1.0 .link)" = up
bad=$(guest_log vm1 | grep -c '^E2E ROUND .*=fail')
log "vm1: $(rounds_ok) good rounds, $bad failed"
check "no round of vm1 failed" test "$bad" = 0
[ "$T_FAIL" -gt 0 ] && on_fail_dump
t_finish
