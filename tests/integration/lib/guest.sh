# SPDX-License-Identifier: BSD-3-Clause
# guest.sh - real Linux guests under QEMU/TCG on a vhost-user port (sourced
# after common.sh).
#
# The guest is Debian's own kernel (downloaded once with apt-get download into
# $VTOE_CACHE) plus a busybox initramfs whose /init is lib/guest-init.sh.  We
# boot the uncompressed vmlinux through PVH (~3 s to init under TCG; a bzImage
# through SeaBIOS takes ~10 s, decompressing xz in TCG).  The guest's serial
# console is a file; the guest reports with lines starting "E2E ".
#
# Settings (env): VTOE_CACHE (/var/cache/vtoe-test), VTOE_GUEST_MEM (256 MiB),
# VTOE_ACCEL (tcg: /dev/kvm may exist and hang), VTOE_BZIMAGE=1 (no PVH).
# GUEST_EXTRA_BINS (set by a test before guest_prepare): host binaries copied
# into the initramfs's /bin with the shared libraries ldd lists for them.

VTOE_CACHE=${VTOE_CACHE:-/var/cache/vtoe-test}
GUEST_MEM=${VTOE_GUEST_MEM:-256}
GUEST_ACCEL=${VTOE_ACCEL:-tcg}
GUEST_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GUEST_MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net"

guest_tools_present() {
	command -v qemu-system-x86_64 >/dev/null && command -v cpio >/dev/null &&
		command -v xz >/dev/null && [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1
}

# same trick as linux/scripts/extract-vmlinux: find the compressed payload
# by its magic, decompress, keep the first result that is an ELF file.
_try_decomp() {  # $1 img $2 out $3 magic(octal escapes) $4 tag(len(magic)-1 chars) $5.. decompressor
	local img=$1 out=$2 magic=$3 tag=$4 pos; shift 4
	command -v "$1" >/dev/null || return 1
	for pos in $(tr "$magic\n$tag" "\n$tag=" <"$img" | grep -abo "^$tag"); do
		pos=${pos%%:*}
		tail -c+"$pos" "$img" | "$@" >"$out.tmp" 2>/dev/null
		if [ "$(head -c4 "$out.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
			mv "$out.tmp" "$out"; return 0
		fi
	done
	rm -f "$out.tmp"; return 1
}
_extract_vmlinux() {  # $1 bzImage $2 out
	_try_decomp "$1" "$2" '\3757zXZ\000' abcde xz -dc ||
		_try_decomp "$1" "$2" '(\265/\375' xxx zstd -dc ||
		_try_decomp "$1" "$2" '\037\213\010' xy gzip -dc
}

# guest_kernel: make sure the cache holds a kernel and its virtio modules.
# Sets GUEST_KBOOT (what QEMU boots) and GUEST_MODSRC.  Takes a lock: two
# tests may prepare at the same time.
guest_kernel() {
	local kdir=$VTOE_CACHE/kernel kpkg
	mkdir -p "$VTOE_CACHE"
	exec 9>"$VTOE_CACHE/.lock"; flock 9
	if [ ! -f "$kdir/done" ]; then
		kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
		if [ -z "$kpkg" ]; then
			apt-get update -qq >/dev/null 2>&1
			kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
		fi
		[ -n "$kpkg" ] || { flock -u 9; log "cannot resolve linux-image-amd64"; return 1; }
		log "downloading $kpkg into $kdir (once)"
		rm -rf "$kdir"; mkdir -p "$kdir/dl" "$kdir/x"; chmod 777 "$kdir/dl"
		if ! (cd "$kdir/dl" && apt-get download -q "$kpkg" >/dev/null 2>&1); then
			log "apt-get download $kpkg failed; apt-get update and retry"
			apt-get update -qq >/dev/null 2>&1
			kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
			if ! (cd "$kdir/dl" && apt-get download -q "$kpkg" >/dev/null 2>&1); then
				flock -u 9; log "apt-get download $kpkg failed"; return 1
			fi
		fi
		dpkg-deb --fsys-tarfile "$kdir"/dl/*.deb | tar -x -C "$kdir/x" --wildcards \
			'./boot/vmlinuz-*' './*lib/modules/*/kernel/drivers/virtio/*' \
			'./*lib/modules/*/kernel/drivers/net/virtio_net.ko*' \
			'./*lib/modules/*/kernel/drivers/net/net_failover.ko*' \
			'./*lib/modules/*/kernel/net/core/failover.ko*' 2>/dev/null
		if ! ls "$kdir"/x/boot/vmlinuz-* >/dev/null 2>&1 || [ -z "$(find "$kdir/x" -name 'virtio_net.ko*')" ]; then
			flock -u 9; log "kernel extraction failed"; return 1
		fi
		rm -rf "$kdir/dl"; touch "$kdir/done"
	fi
	local kimg; kimg=$(ls "$kdir"/x/boot/vmlinuz-* | head -1)
	GUEST_MODSRC=$(dirname "$(find "$kdir/x" -name 'virtio_ring.ko*' | head -1)")/../..
	GUEST_KBOOT=$kimg
	if [ "${VTOE_BZIMAGE:-0}" != 1 ]; then
		local vml; vml=$VTOE_CACHE/vmlinux.$(md5sum <"$kimg" | cut -c1-12)
		[ -f "$vml" ] || _extract_vmlinux "$kimg" "$vml" || log "vmlinux extraction failed; booting bzImage (slower)"
		[ -f "$vml" ] && GUEST_KBOOT=$vml
	fi
	flock -u 9
	return 0
}

# guest_initrd OUT: busybox + virtio modules + lib/guest-init.sh as /init.
guest_initrd() {
	local out=$1 ir=$WORK/initrd m f
	rm -rf "$ir"; mkdir -p "$ir"/{bin,sbin,proc,sys,dev,tmp,lib/modules}
	cp /bin/busybox "$ir/bin/busybox"
	for m in $GUEST_MODULES; do
		f=$(find -L "$GUEST_MODSRC" -name "$m.ko*" | head -1)
		if [ -z "$f" ]; then
			[ "$m" = virtio_pci_legacy_dev ] && continue
			log "module $m not found under $GUEST_MODSRC"; return 1
		fi
		case $f in
		*.ko) cp "$f" "$ir/lib/modules/$m.ko" ;;
		*.ko.xz) xz -dc "$f" >"$ir/lib/modules/$m.ko" ;;
		*.ko.zst) zstd -dcq "$f" >"$ir/lib/modules/$m.ko" ;;
		*.ko.gz) gzip -dc "$f" >"$ir/lib/modules/$m.ko" ;;
		esac
	done
	for f in ${GUEST_EXTRA_BINS:-}; do
		[ -x "$f" ] || { log "extra binary $f missing"; return 1; }
		cp "$f" "$ir/bin/"
		for m in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*'); do
			mkdir -p "$ir$(dirname "$m")"; cp -L "$m" "$ir$m"
		done
	done
	install -m 755 "$GUEST_LIB/guest-init.sh" "$ir/init"
	(cd "$ir" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$out" || return 1
	rm -rf "$ir"
}

# guest_prepare: kernel + initramfs, once per test.  Sets GUEST_INITRD.
guest_prepare() {
	guest_tools_present || skip_all "qemu-system-x86_64 / cpio / xz / busybox-static missing (run scripts/setup.sh)"
	guest_kernel || die "no guest kernel (apt-get download linux-image-amd64 failed?)"
	GUEST_INITRD=$WORK/initrd.gz
	guest_initrd "$GUEST_INITRD" || die "initramfs build failed"
}

# guest_start NAME SOCK MAC QEMU_IS_SERVER(0|1) SECONDS KERNEL_ARGS...
# Boots a guest in the background on the vhost-user socket SOCK, serial
# console in $WORK/NAME.log; QEMU is killed after SECONDS.  With
# QEMU_IS_SERVER=1 QEMU creates the socket and waits for the backend.
# Sets GUEST_PID_<NAME>.  GUEST_QEMU_ARGS (env): more QEMU arguments, split
# on spaces (a QMP monitor, -incoming for a migration destination).
#
# vectors=0 (INTx instead of MSI-X) is REQUIRED with QEMU 7.2 + TCG +
# vhost-user: with MSI-X QEMU segfaults in msix_set_vector_notifiers() (from
# vhost_net_start) when the guest's virtio_net driver sets DRIVER_OK.
# Guest memory must be shared with the backend: memfd, share=on.
guest_start() {
	local name=$1 sock=$2 mac=$3 srv=$4 secs=$5; shift 5
	local chr="socket,id=c0,path=$sock" pid
	[ "$srv" = 1 ] && chr="$chr,server=on,wait=on"
	timeout -k 5 "$secs" taskset -c "$OTHER_CPUS" qemu-system-x86_64 \
		-accel "$GUEST_ACCEL" -M q35 -m "$GUEST_MEM" -smp 1 \
		-nodefaults -no-user-config -vga none -display none -no-reboot \
		-serial "file:$WORK/$name.log" \
		-object "memory-backend-memfd,id=mem,size=${GUEST_MEM}M,share=on" -numa node,memdev=mem \
		-chardev "$chr" -netdev vhost-user,id=n0,chardev=c0 \
		-device "virtio-net-pci,netdev=n0,mac=$mac,vectors=0" \
		-kernel "$GUEST_KBOOT" -initrd "$GUEST_INITRD" \
		-append "console=ttyS0 quiet panic=-1 e2e.maxt=$((secs - 5)) $*" \
		${GUEST_QEMU_ARGS:-} </dev/null >"$WORK/$name.qemu.log" 2>&1 &
	pid=$!; track "$pid"
	eval "GUEST_PID_${name//[^A-Za-z0-9_]/_}=$pid"
}

guest_pid() { eval "echo \${GUEST_PID_${1//[^A-Za-z0-9_]/_}:-}"; }
# guest_log NAME: the guest's "E2E " lines, CRs stripped.
guest_log() { tr -d '\r' 2>/dev/null <"$WORK/$1.log" | grep -a '^E2E '; }
guest_has() { guest_log "$1" | grep -qE "$2"; }  # NAME REGEX
# guest_wait NAME REGEX SECONDS: until the guest prints a matching line
# (fails early when QEMU exits).
guest_wait() {
	local name=$1 re=$2 n=$(( $3 * 10 )) pid; pid=$(guest_pid "$1")
	while [ $n -gt 0 ]; do
		guest_has "$name" "$re" && return 0
		kill -0 "$pid" 2>/dev/null || { guest_has "$name" "$re"; return; }
		sleep 0.1; n=$((n - 1))
	done
	return 1
}
guest_stop() {  # NAME: power off by killing QEMU (the guest has nothing to save)
	local pid; pid=$(guest_pid "$1")
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
	return 0
}
guest_show() {  # NAME: its report, indented, on stderr
	guest_log "$1" | sed "s/^/    [$1] /" >&2
	if [ -s "$WORK/$1.qemu.log" ]; then sed "s/^/    [$1 qemu] /" "$WORK/$1.qemu.log" | tail -5 >&2; fi
}
