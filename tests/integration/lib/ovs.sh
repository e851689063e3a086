# SPDX-License-Identifier: BSD-3-Clause
# ovs.sh - a private Open vSwitch with DPDK as the peer a test or benchmark
# compares vtoed with (sourced after common.sh): ovsdb-server and
# ovs-vswitchd in $OVS_DIR, the main thread on MAIN_CPU, the PMD on
# WORKER_CPU, bridge br0 (netdev datapath, action NORMAL).
#
# ovs_start SECS: start both daemons bounded to SECS seconds, add br0.
# ovs_vsctl ARGS: ovs-vsctl on that database (OVS_VSCTL_TIMEOUT s, default 15).
OVS_VSWITCHD=${OVS_VSWITCHD:-/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk}
OVS_DIR=${OVS_DIR:-$WORK/ovs}
ovs_available() { [ -x "$OVS_VSWITCHD" ] && command -v ovsdb-server >/dev/null; }
ovs_vsctl() {  # OVS_VSCTL_TIMEOUT: seconds to wait (default 15)
	local t=${OVS_VSCTL_TIMEOUT:-15}
	timeout $((t + 5)) ovs-vsctl --db="unix:$OVS_DIR/db.sock" --timeout="$t" "$@"
}
ovs_start() {
	local secs=$1
	ovs_available ||
		skip_all "Open vSwitch with DPDK missing (apt-get install openvswitch-switch-dpdk)"
	mkdir -p "$OVS_DIR"
	export OVS_RUNDIR=$OVS_DIR OVS_DBDIR=$OVS_DIR OVS_LOGDIR=$OVS_DIR OVS_SYSCONFDIR=$OVS_DIR
	ovsdb-tool create "$OVS_DIR/conf.db" /usr/share/openvswitch/vswitch.ovsschema || return 1
	timeout -k 5 "$secs" taskset -c "$MAIN_CPU" ovsdb-server "--remote=punix:$OVS_DIR/db.sock" \
		"--pidfile=$OVS_DIR/ovsdb-server.pid" "--unixctl=$OVS_DIR/ovsdb-server.ctl" \
		"--log-file=$OVS_DIR/ovsdb-server.log" "$OVS_DIR/conf.db" >"$OVS_DIR/ovsdb.out" 2>&1 &
	track $!
	wait_for 20 test -S "$OVS_DIR/db.sock" || return 1
	ovs_vsctl --no-wait init -- set Open_vSwitch . other_config:dpdk-init=true \
		"other_config:dpdk-lcore-mask=0x$(printf %x $((1 << MAIN_CPU)))" \
		"other_config:pmd-cpu-mask=0x$(printf %x $((1 << WORKER_CPU)))" \
		other_config:dpdk-socket-mem=1024 \
		"other_config:dpdk-extra=--file-prefix=$(dpdk_prefix ovs) --no-pci" || return 1
	timeout -k 5 "$secs" taskset -c "$MAIN_CPU" "$OVS_VSWITCHD" "unix:$OVS_DIR/db.sock" \
		"--pidfile=$OVS_DIR/ovs-vswitchd.pid" "--unixctl=$OVS_DIR/ovs-vswitchd.ctl" \
		"--log-file=$OVS_DIR/ovs-vswitchd.log" >"$OVS_DIR/vswitchd.out" 2>&1 &
	track $!
	wait_for 60 test -S "$OVS_DIR/ovs-vswitchd.ctl" || return 1
	ovs_vsctl add-br br0 -- set bridge br0 datapath_type=netdev
}
# ovs_stop: both daemons, and the bridge's tap devices they leave behind
ovs_stop() {
	timeout 10 ovs-appctl -t "$OVS_DIR/ovs-vswitchd.ctl" exit >/dev/null 2>&1
	timeout 5 ovs-appctl -t "$OVS_DIR/ovsdb-server.ctl" exit >/dev/null 2>&1
	ip link del br0 2>/dev/null; ip link del ovs-netdev 2>/dev/null
	unset OVS_RUNDIR OVS_DBDIR OVS_LOGDIR OVS_SYSCONFDIR
	return 0
}
