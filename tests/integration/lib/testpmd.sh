# SPDX-License-Identifier: BSD-3-Clause
# testpmd.sh - dpdk-testpmd processes as simulated guests (net_virtio_user
# on a vhost-user socket), driven interactively (sourced after common.sh).
#
# tp_start NAME SOCK MAC [TESTPMD_ARGS]: interactive testpmd reading its
# commands from a fifo (fd TP_FD_<NAME>), output in $WORK/NAME.log.
# TP_QUEUES (default 1): queue pairs of its virtio-user port (pass
# --rxq/--txq to match); TP_CPU (default MAIN_CPU): the CPU it runs on.
tp_start() {
	local name=$1 sock=$2 mac=$3 queues=${TP_QUEUES:-1} cpu=${TP_CPU:-$MAIN_CPU}
	shift 3
	mkfifo "$WORK/$name.fifo"
	timeout -k 5 240 taskset -c "${TP_CPU:-$OTHER_CPUS}" stdbuf -oL dpdk-testpmd --lcores "0@$cpu,1@$cpu" --main-lcore 0 \
		--no-pci --no-huge -m 256 --file-prefix="$(dpdk_prefix "tp$name")" \
		--vdev "net_virtio_user0,path=$sock,mac=$mac,queues=$queues,queue_size=1024" -- -i --no-mlockall \
		--total-num-mbufs=8192 "$@" <"$WORK/$name.fifo" >"$WORK/$name.log" 2>&1 &
	track $!; eval "TP_PID_$name=$!"
	local fd; exec {fd}>"$WORK/$name.fifo"; eval "TP_FD_$name=$fd"
}
tp() {  # tp NAME COMMAND...: one interactive command
	local fd; eval "fd=\$TP_FD_$1"; shift
	echo "$*" >&"$fd"
}
# tp_counter NAME RX|TX: the port's own counter (NIC stats, ethdev opackets /
# ipackets), from a fresh "show port stats 0".
tp_counter() {
	local before; before=$(tp_nshow "$1")
	tp "$1" "show port stats 0"
	wait_for 10 tp_shown "$1" "$before" || return 1
	sleep 0.2
	sed -n "s/.*$2-packets: *\([0-9]*\).*/\1/p" "$WORK/$1.log" | tail -1
}
tp_nshow() { grep -c 'NIC statistics for port 0' "$WORK/$1.log"; }
tp_shown() { [ "$(tp_nshow "$1")" -gt "$2" ]; }  # NAME COUNT_BEFORE
tp_quit() {  # NAME: quit, wait for the process
	local pid fd; eval "pid=\$TP_PID_$1 fd=\$TP_FD_$1"
	tp "$1" quit; exec {fd}>&-
	wait_for 15 eval "! kill -0 $pid 2>/dev/null" || kill "$pid" 2>/dev/null
}

