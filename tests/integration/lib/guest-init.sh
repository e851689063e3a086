#!/bin/busybox sh
# guest-init.sh - /init of the test guests' busybox initramfs.
#
# Kernel arguments: e2e.ip=A.B.C.D e2e.peer=A.B.C.D e2e.role=server|client|long
# e2e.kb=KiB (TCP echo size) e2e.secs=N (long mode) e2e.maxt=N (watchdog)
# e2e.linger=N (stay up N seconds after reporting, so the host can look at
# the switch's counters with the link still up) e2e.rxwatch=1 (while
# lingering, print "E2E RX packets=N" whenever eth0's receive counter
# changes, polled every 0.2 s: tells the host which frames reached the guest).
#   server: TCP echo server on port 5000 (persistent), then idles.
#   client: ping (5 replies) and an md5-checked TCP echo, once.
#   long:   rounds of (1 ping + md5-checked TCP echo) for e2e.secs seconds,
#           one "E2E ROUND" line each, so the host can tell which rounds
#           happened before and after it restarted the switch.
#   xfer:   one-way bulk transfers (test_offload.sh).  e2e.sink=1: a sink on
#           TCP port 5001 (listening before eth0 is up), one "E2E SINK md5=M"
#           line per connection.  e2e.send=IP[:MB][,IP[:MB]...]: to each in turn,
#           once it answers ping, MB (default e2e.mb) MiB (a 1 MiB /dev/urandom block repeated,
#           each copy preceded by its 8-digit number) through nc, then
#           "E2E SEND to=IP md5=M mb=N ms=T"; last "E2E XFER DONE".
#   iperf3: TCP throughput (benchmarks/tcp_bench.sh; the initramfs must carry
#           iperf3: GUEST_EXTRA_BINS in guest.sh).  e2e.iperf=server: iperf3 -s
#           on TCP 5201 (listening before eth0 is up), then idles.
#           e2e.iperf=client: once the peer answers ping, "E2E IPERF3 START",
#           `iperf3 -c PEER -J -t e2e.secs -O e2e.omit -P e2e.par` (retried
#           up to 3 times if it fails, e.g. before the server listens), its
#           JSON report as "E2E IPERF3J <line>" lines, then
#           "E2E IPERF3 DONE rc=N tries=N".
#   iperf3ping: iperf3 as above (benchmarks/sched_bench.sh; the server
#           side is the same) and, in the client, ping under that load:
#           e2e.omit seconds after iperf3 starts, "E2E LOAD BEGIN try=N",
#           `ping -i e2e.pingi -w e2e.secs PEER`, "E2E LOAD END try=N"; then
#           the JSON as "E2E IPERF3J" lines, busybox ping's summary as
#           "E2E PINGS" lines, every reply's RTT in ms as "E2E PINGT t t ..."
#           lines (50 a line), and "E2E IPERF3 DONE rc=N tries=N".
#   mig:    both directions at once, for live migration tests: a sink on TCP
#           5001 (as xfer), rounds of e2e.mb MiB (the xfer stream) sent to
#           e2e.peer for e2e.secs seconds, one "E2E SEND round=N rc=R md5=M
#           ms=T" line each (rc: nc's; non-zero when refused or cut), and
#           pings to the peer every e2e.pingi seconds (0.02) meanwhile; last
#           "E2E PINGS <busybox ping summary>", "E2E GAPS N@SEQ ...
#           interval=S" (runs of N >= 2 replies missing after reply SEQ)
#           and "E2E MIG DONE rounds=N".
#   probe:  reachability of e2e.peer, for isolation tests: after e2e.wait
#           seconds, ping (5 tries) and arping (3 requests);
#           "E2E PROBE ping=OK|FAIL arping=REPLIES", then
#           "E2E RESULT OK".
#   dhcp:   the guest's own configuration from the switch (the TOE
#           endpoint): busybox udhcpc gets eth0's address; its script
#           prints "E2E DHCP <event> ip=... subnet=... router=... dns=...
#           hostname=... mtu=... lease=... serverid=... staticroutes=..."
#           and applies them (classless routes included).  Then pings of
#           the router and 169.254.169.254, an IPv6 ping of fe80::a9fe:a9fe,
#           a TCP connection to 169.254.169.254:81 (refused: nothing
#           served there); "E2E TOE ping_gw=OK|FAIL ping_md=..
#           ping6_md=.. tcp=refused|other"; the instance metadata by wget:
#           "E2E IMDS instance_id=.. hostname=.. user_data_md5=..", with
#           /bin/iperf3 in the initramfs "E2E IPERF3 TOE rc=N <summary>"
#           against the endpoint's iperf3 server; then a
#           renewal (SIGUSR1) and a release (SIGUSR2); last "E2E RESULT OK".
# e2e.mtu=N: eth0's MTU (an overlay network's guests: what DHCP would say).
# e2e.ethtool=1: print `ethtool -k eth0` as "E2E ETHTOOL ..." lines once
# eth0 is up (the initramfs must carry ethtool: GUEST_EXTRA_BINS in guest.sh).
# Every report line starts with "E2E " on the serial console.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
up() { cut -d' ' -f1 /proc/uptime; }
upi() { cut -d. -f1 /proc/uptime; }
ms() { awk '{printf "%d", $1 * 1000}' /proc/uptime; }
echo "E2E INIT uptime=$(up)"
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net; do
	[ -f /lib/modules/$m.ko ] && insmod /lib/modules/$m.ko
done
IP= PEER= ROLE=none WAIT=0 MAXT=100 KB=1024 SECS=60 LINGER=0 RXWATCH=0 PINGI=0.02
SINK=0 SEND= MB=64 ETHTOOL=0 IPERF= OMIT=0 PAR=1
for w in $(cat /proc/cmdline); do
	case $w in
	e2e.ip=*) IP=${w#*=} ;; e2e.peer=*) PEER=${w#*=} ;; e2e.role=*) ROLE=${w#*=} ;;
	e2e.maxt=*) MAXT=${w#*=} ;; e2e.kb=*) KB=${w#*=} ;; e2e.secs=*) SECS=${w#*=} ;;
	e2e.linger=*) LINGER=${w#*=} ;; e2e.rxwatch=*) RXWATCH=${w#*=} ;;
	e2e.sink=*) SINK=${w#*=} ;; e2e.send=*) SEND=${w#*=} ;; e2e.mb=*) MB=${w#*=} ;;
	e2e.ethtool=*) ETHTOOL=${w#*=} ;;
	e2e.iperf=*) IPERF=${w#*=} ;; e2e.omit=*) OMIT=${w#*=} ;; e2e.par=*) PAR=${w#*=} ;;
	e2e.pingi=*) PINGI=${w#*=} ;; e2e.wait=*) WAIT=${w#*=} ;;
	e2e.mtu=*) MTU=${w#*=} ;;
	esac
done
(sleep $MAXT; echo "E2E RESULT FAIL guest watchdog after ${MAXT}s"; poweroff -f) &
ifconfig lo up
if { [ "$ROLE" = xfer ] && [ "$SINK" = 1 ]; } || [ "$ROLE" = mig ]; then
	# stdin: a FIFO opened read-write, so it never ends (nc would half-close)
	mkfifo /tmp/never
	(while :; do
		M=$(nc -l -p 5001 <>/tmp/never | md5sum | cut -d' ' -f1)
		echo "E2E SINK md5=$M uptime=$(up)"
	done) &
fi
if { [ "$ROLE" = iperf3 ] || [ "$ROLE" = iperf3ping ]; } && [ "$IPERF" = server ]; then
	iperf3 -s -p 5201 >/dev/null 2>&1 &
fi
if [ "$ROLE" = dhcp ]; then
	ifconfig eth0 up || { echo "E2E RESULT FAIL no eth0"; poweroff -f; }
elif ! ifconfig eth0 $IP netmask 255.255.255.0 ${MTU:+mtu $MTU} up; then echo "E2E RESULT FAIL no eth0"; poweroff -f; fi
echo "E2E ETH0 UP $IP uptime=$(up)"
if [ "$ETHTOOL" = 1 ]; then
	if [ -x /bin/ethtool ]; then
		ethtool -k eth0 2>&1 | sed 's/^[[:space:]]*/E2E ETHTOOL /'
	else
		echo "E2E ETHTOOL missing from the initramfs"
	fi
fi

# echo_once KiB TIMEOUT: send KiB random bytes to the peer's echo server,
# compare md5 of what came back.
echo_once() {
	dd if=/dev/urandom of=/tmp/tx bs=1024 count=$1 2>/dev/null
	rm -f /tmp/rx
	timeout $2 nc -w 3 $PEER 5000 </tmp/tx >/tmp/rx 2>/dev/null
	[ -s /tmp/rx ] && [ "$(md5sum </tmp/tx | cut -d' ' -f1)" = "$(md5sum </tmp/rx | cut -d' ' -f1)" ]
}
first_ping() {
	i=0
	while ! ping -c 1 -W 1 $PEER >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -ge 60 ] && break
	done
	echo "E2E FIRST PING after $i misses uptime=$(up)"
	if [ $i -ge 60 ]; then echo "E2E RESULT FAIL no ping reply from $PEER in 60 tries"; poweroff -f; fi
}

case $ROLE in
dhcp)
	cat >/tmp/dhcp.sh <<'EOS'
#!/bin/sh
echo "E2E DHCP $1 ip=$ip subnet=$subnet router=$router dns=$dns hostname=$hostname mtu=$mtu lease=$lease serverid=$serverid staticroutes=$staticroutes"
case $1 in
bound|renew)
	ifconfig eth0 $ip netmask $subnet ${mtu:+mtu $mtu} up
	set -- $staticroutes
	while [ $# -ge 2 ]; do
		if [ "$2" = 0.0.0.0 ]; then ip route replace $1 dev eth0; else ip route replace $1 via $2; fi
		shift 2
	done
	[ -z "$staticroutes" ] && [ -n "$router" ] && ip route replace default via $router
	;;
deconfig) ifconfig eth0 0.0.0.0 ;;
esac
exit 0
EOS
	chmod +x /tmp/dhcp.sh
	udhcpc -i eth0 -s /tmp/dhcp.sh -t 10 -T 2 -O staticroutes -p /tmp/udhcpc.pid -f 2>/tmp/udhcpc.log &
	i=0
	while [ $i -lt 60 ] && ! ip -4 addr show eth0 | grep -q inet; do sleep 0.5; i=$((i + 1)); done
	ip -4 addr show eth0 | grep -q inet || { echo "E2E RESULT FAIL no lease"; poweroff -f; }
	GW=$(ip route | sed -n 's/^default via \([0-9.]*\).*/\1/p')
	echo "E2E ROUTES $(ip route | tr '\n' ';')"
	if ping -c 3 -W 2 "$GW" >/dev/null 2>&1; then P1=OK; else P1=FAIL; fi
	if ping -c 3 -W 2 169.254.169.254 >/dev/null 2>&1; then P2=OK; else P2=FAIL; fi
	if ping6 -c 3 -W 2 -I eth0 fe80::a9fe:a9fe >/dev/null 2>&1; then P3=OK; else P3=FAIL; fi
	if timeout 10 nc 169.254.169.254 81 </dev/null 2>&1 | grep -qi refused; then T=refused; else T=other; fi
	echo "E2E TOE ping_gw=$P1 ping_md=$P2 ping6_md=$P3 tcp=$T"
	# by path: busybox's shell prefers its own (crashing) applet
	W=wget; [ -x /bin/wget ] && W=/bin/wget
	ID=$($W -q -T 20 -O - http://169.254.169.254/latest/meta-data/instance-id 2>/dev/null)
	HN=$($W -q -T 20 -O - http://169.254.169.254/latest/meta-data/hostname 2>/dev/null)
	UD=$($W -q -T 60 -O - http://169.254.169.254/latest/user-data 2>/dev/null | md5sum | cut -d' ' -f1)
	echo "E2E IMDS instance_id=$ID hostname=$HN user_data_md5=$UD"
	if [ -x /bin/iperf3 ]; then
		timeout 60 /bin/iperf3 -c 169.254.169.254 -t 2 >/tmp/ip3 2>&1; rc=$?
		echo "E2E IPERF3 TOE rc=$rc $(grep -E 'receiver' /tmp/ip3 | tail -1)"
	fi
	kill -USR1 $(cat /tmp/udhcpc.pid)
	sleep 3
	kill -USR2 $(cat /tmp/udhcpc.pid)
	sleep 2
	echo "E2E RESULT OK uptime=$(up)"
	while :; do sleep 3600; done
	;;
probe)
	sleep $WAIT
	if ping -c 5 -W 2 $PEER >/dev/null 2>&1; then P=OK; else P=FAIL; fi
	A=$(arping -c 3 -w 4 -I eth0 $PEER 2>/dev/null | grep -ci 'reply from')
	echo "E2E PROBE ping=$P arping=$A uptime=$(up)"
	echo "E2E RESULT OK uptime=$(up)"
	while :; do sleep 3600; done
	;;
server)
	nc -ll -p 5000 -e cat &
	echo "E2E SERVER READY uptime=$(up)"
	while :; do sleep 3600; done
	;;
client)
	first_ping
	RES=OK WHY=
	if ping -c 5 -i 0.2 -W 2 $PEER; then echo "E2E PING OK"; else RES=FAIL; WHY="$WHY ping"; fi
	i=0
	while ! echo_once $KB 30; do i=$((i + 1)); [ $i -ge 10 ] && break; sleep 0.5; done
	A=$(md5sum </tmp/tx | cut -d' ' -f1); B=$(md5sum </tmp/rx 2>/dev/null | cut -d' ' -f1)
	echo "E2E TCP ECHO ${KB}KiB tx=$A rx=$B retries=$i"
	if [ "$A" = "$B" ]; then echo "E2E TCP OK"; else RES=FAIL; WHY="$WHY tcp"; fi
	echo "E2E RESULT $RES$WHY uptime=$(up)"
	;;
xfer)
	# xfer_gen: MB copies of /tmp/blk, each preceded by its number
	xfer_gen() { j=0; while [ $j -lt $MB ]; do printf '%08d' $j; cat /tmp/blk; j=$((j + 1)); done; }
	MB0=$MB
	[ -n "$SEND" ] && dd if=/dev/urandom of=/tmp/blk bs=1024 count=1024 2>/dev/null
	for PEER in $(echo "$SEND" | tr , ' '); do
		MB=$MB0; case $PEER in *:*) MB=${PEER#*:}; PEER=${PEER%%:*} ;; esac
		first_ping
		A=$(xfer_gen | md5sum | cut -d' ' -f1)
		t0=$(ms)
		xfer_gen | timeout $((MAXT - 10)) nc $PEER 5001 >/dev/null
		t1=$(ms)
		echo "E2E SEND to=$PEER md5=$A mb=$MB ms=$((t1 - t0)) uptime=$(up)"
	done
	echo "E2E XFER DONE uptime=$(up)"
	[ "$LINGER" = 0 ] && while :; do sleep 3600; done
	;;
iperf3)
	if [ "$IPERF" = client ]; then
		first_ping
		echo "E2E IPERF3 START uptime=$(up)"
		i=1
		while :; do
			iperf3 -c $PEER -p 5201 -J -t $SECS -O $OMIT -P $PAR >/tmp/iperf3.json 2>&1
			rc=$?
			if [ $rc = 0 ] || [ $i -ge 3 ]; then break; fi
			i=$((i + 1)); sleep 1
		done
		sed 's/^/E2E IPERF3J /' /tmp/iperf3.json
		echo "E2E IPERF3 DONE rc=$rc tries=$i uptime=$(up)"
	else
		echo "E2E IPERF3 SERVER READY uptime=$(up)"
	fi
	[ "$LINGER" = 0 ] && while :; do sleep 3600; done
	;;
iperf3ping)
	if [ "$IPERF" = client ]; then
		first_ping
		echo "E2E IPERF3 START uptime=$(up)"
		i=1
		while :; do
			iperf3 -c $PEER -p 5201 -J -t $SECS -O $OMIT -P $PAR >/tmp/iperf3.json 2>&1 &
			IP3=$!
			sleep $OMIT
			# ping only while iperf3 runs (it fails at once if the server is not up yet)
			if kill -0 $IP3 2>/dev/null; then
				echo "E2E LOAD BEGIN try=$i uptime=$(up)"
				ping -i $PINGI -w $SECS $PEER >/tmp/pings 2>&1
				echo "E2E LOAD END try=$i uptime=$(up)"
			fi
			wait $IP3
			rc=$?
			if [ $rc = 0 ] || [ $i -ge 3 ]; then break; fi
			i=$((i + 1)); sleep 1
		done
		sed 's/^/E2E IPERF3J /' /tmp/iperf3.json
		grep -E 'transmitted|round-trip' /tmp/pings 2>/dev/null | sed 's/^/E2E PINGS /'
		sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' /tmp/pings 2>/dev/null |
			awk '{ printf "%s%s", (NR % 50 == 1) ? "E2E PINGT" : "", " " $1; if (NR % 50 == 0) printf "\n" }
				END { if (NR % 50) printf "\n" }'
		echo "E2E IPERF3 DONE rc=$rc tries=$i uptime=$(up)"
	else
		echo "E2E IPERF3 SERVER READY uptime=$(up)"
	fi
	[ "$LINGER" = 0 ] && while :; do sleep 3600; done
	;;
mig)
	xfer_gen() { j=0; while [ $j -lt $MB ]; do printf '%08d' $j; cat /tmp/blk; j=$((j + 1)); done; }
	dd if=/dev/urandom of=/tmp/blk bs=1024 count=1024 2>/dev/null
	A=$(xfer_gen | md5sum | cut -d' ' -f1)
	first_ping
	ping -i $PINGI -W 1 $PEER >/tmp/pings 2>&1 &
	PP=$!
	end=$(( $(upi) + SECS )) n=0
	while [ $(upi) -lt $end ]; do
		n=$((n + 1)) t0=$(ms)
		xfer_gen | timeout 60 nc $PEER 5001 >/dev/null
		rc=$?
		echo "E2E SEND round=$n rc=$rc md5=$A ms=$(( $(ms) - t0 )) uptime=$(up)"
		# refused: the sink is between two connections
		[ $rc = 0 ] || sleep 0.2
	done
	kill -INT $PP; wait $PP
	grep -E 'transmitted|round-trip' /tmp/pings | sed 's/^/E2E PINGS /'
	# runs of 2+ replies missing in a row, and where (seq before)
	awk -F'seq=' '/seq=/ { split($2, a, " "); s = a[1] + 0
		if (s > last + 2) printf "%d@%d ", s - last - 1, last
		if (s > last) last = s } END { printf "\n" }' /tmp/pings |
		sed 's/^/E2E GAPS /; s/$/ interval='"$PINGI"'/'
	echo "E2E MIG DONE rounds=$n uptime=$(up)"
	while :; do sleep 3600; done
	;;
long)
	first_ping
	end=$(( $(upi) + SECS )) n=0 ok=0 runs=0 prev=fail
	while [ $(upi) -lt $end ]; do
		n=$((n + 1)) p=fail t=fail
		ping -c 1 -W 1 $PEER >/dev/null 2>&1 && p=ok
		echo_once $KB 10 && t=ok
		echo "E2E ROUND $n ping=$p tcp=$t uptime=$(up)"
		if [ $p = ok ] && [ $t = ok ]; then
			ok=$((ok + 1)); [ $prev = fail ] && runs=$((runs + 1)); prev=ok
		else
			prev=fail; sleep 0.5
		fi
		sleep 0.3
	done
	echo "E2E LONG DONE rounds=$n ok=$ok ok_runs=$runs"
	;;
esac
if [ "$RXWATCH" = 1 ]; then
	end=$(( $(upi) + LINGER )) last=
	while [ $(upi) -lt $end ]; do
		n=$(cat /sys/class/net/eth0/statistics/rx_packets)
		[ "$n" != "$last" ] && echo "E2E RX packets=$n uptime=$(up)" && last=$n
		sleep 0.2
	done
else
	sleep $LINGER
fi
poweroff -f
