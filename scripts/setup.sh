#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# setup.sh - make this Debian 12 machine ready to build, run and test vtoe.
# Idempotent: each step checks first and says what it did.
#
#   scripts/setup.sh [--werror] [--asan] [--fuzz] [--guest-kernel] [--no-build]
#
#   1. Debian packages: installs the missing ones (apt-get update only then).
#   2. Build: meson + ninja into build/ (--werror: -Dwerror=true; without it
#      a new build dir gets meson's default and an existing one keeps its own);
#      --asan also builds build-asan/ with ASan + UBSan; --fuzz the
#      libFuzzer targets alone in build-fuzz/ (clang, see scripts/fuzz.sh).
#   3. Hugepages (root only): at least VTOE_HUGEPAGES (1024) 2 MiB pages
#      reserved, hugetlbfs mounted at /dev/hugepages.
#   4. --guest-kernel: fetch the test guests' kernel into /var/cache/vtoe-test
#      (the guest tests and run-demo.sh would do it on first use anyway).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WERROR='' ASAN=0 FUZZ=0 GUEST_KERNEL=0 BUILD=1
for a in "$@"; do
	case $a in
	--werror) WERROR=-Dwerror=true ;;
	--asan) ASAN=1 ;;
	--fuzz) FUZZ=1 ;;
	--guest-kernel) GUEST_KERNEL=1 ;;
	--no-build) BUILD=0 ;;
	-h | --help) sed -n '3,16p' "$0"; exit 0 ;;
	*) echo "setup.sh: unknown option $a" >&2; exit 2 ;;
	esac
done
say() { echo "setup: $*"; }
AS_ROOT=; [ "$(id -u)" = 0 ] || AS_ROOT=sudo

# ---------------------------------------------------------------- packages
PKGS=(
	# build
	build-essential pkg-config meson ninja-build
	libdpdk-dev libyaml-dev libjansson-dev libcmocka-dev libnuma-dev libvirt-dev
	libxml2-dev libsodium-dev libcurl4-openssl-dev libpcap-dev
	# fuzz targets (libFuzzer with ASan/UBSan)
	clang libclang-rt-14-dev
	python3-pyelftools
	# DPDK drivers loaded at run time (Debian 12: ABI 23)
	librte-net-vhost23 librte-net-virtio23 librte-net-tap23 librte-net-pcap23
	librte-mempool-ring23 librte-bus-vdev23 librte-net-af-packet23
	# tests: dpdk-testpmd, real guests, tooling
	dpdk-dev qemu-system-x86 busybox-static cpio xz-utils zstd
	jq bc python3 iproute2 procps util-linux kmod iperf3 coreutils tcpdump
	wget curl tshark
	# the cluster directory: a real etcd (3.4) and its client
	etcd-server etcd-client
	libvirt-daemon libvirt-clients ethtool
	# the libvirt recipe with real domains: libvirtd, virtlogd, the QEMU driver
	libvirt-daemon-system
)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${#missing[@]} missing packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$AS_ROOT apt-get update -qq
	$AS_ROOT apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	say "packages installed"
else
	say "packages: all ${#PKGS[@]} already installed"
fi

# ---------------------------------------------------------------- build
# build_dir DIR MESON_OPTIONS...: configure (or reconfigure) and build.
build_dir() {
	local dir=$1; shift
	if [ -f "$ROOT/$dir/build.ninja" ]; then
		if ! meson configure "$ROOT/$dir" "$@" >/dev/null; then
			say "$dir: reconfigure failed, wiping it"
			meson setup --wipe "$ROOT/$dir" "$ROOT" "$@" >/dev/null
		fi
		say "$dir: reconfigured ($*)"
	else
		meson setup "$ROOT/$dir" "$ROOT" "$@" >/dev/null
		say "$dir: configured ($*)"
	fi
	ninja -C "$ROOT/$dir" >"$ROOT/$dir/setup-ninja.log" 2>&1 || {
		tail -40 "$ROOT/$dir/setup-ninja.log" >&2
		say "$dir: BUILD FAILED (full log: $dir/setup-ninja.log)"
		return 1
	}
	say "$dir: built ($(grep -c 'Linking target' "$ROOT/$dir/setup-ninja.log" || true) targets linked)"
}
if [ $BUILD = 1 ]; then
	build_dir build -Dtests=enabled $WERROR
	if [ $ASAN = 1 ]; then
		build_dir build-asan -Dtests=enabled $WERROR \
			-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
	fi
	if [ $FUZZ = 1 ]; then
		# the fuzz targets only, not the daemon (scripts/fuzz.sh runs them)
		[ -f "$ROOT/build-fuzz/build.ninja" ] ||
			CC=clang meson setup "$ROOT/build-fuzz" "$ROOT" -Dfuzz=true \
				-Dtests=disabled -Db_sanitize=address,undefined \
				-Db_lundef=false >/dev/null
		ninja -C "$ROOT/build-fuzz" fuzz >"$ROOT/build-fuzz/setup-ninja.log" 2>&1 || {
			tail -40 "$ROOT/build-fuzz/setup-ninja.log" >&2
			say "build-fuzz: BUILD FAILED (full log: build-fuzz/setup-ninja.log)"
			exit 1
		}
		say "build-fuzz: fuzz targets built"
	fi
fi

# ---------------------------------------------------------------- hugepages
WANT=${VTOE_HUGEPAGES:-1024}
if [ "$(id -u)" = 0 ]; then
	if ! grep -q '^Hugepagesize: *2048 kB' /proc/meminfo; then
		say "hugepages: default size is not 2 MiB; leaving them alone"
	else
		have=$(cat /proc/sys/vm/nr_hugepages)
		if [ "$have" -lt "$WANT" ]; then
			echo "$WANT" >/proc/sys/vm/nr_hugepages
			now=$(cat /proc/sys/vm/nr_hugepages)
			say "hugepages: reserved $now x 2 MiB (was $have)"
			[ "$now" -ge "$WANT" ] || say "hugepages: WARNING: wanted $WANT, the kernel gave $now"
		else
			say "hugepages: $have x 2 MiB already reserved"
		fi
	fi
	mkdir -p /dev/hugepages
	if mountpoint -q /dev/hugepages; then
		say "hugepages: /dev/hugepages already mounted"
	else
		mount -t hugetlbfs nodev /dev/hugepages
		say "hugepages: mounted hugetlbfs at /dev/hugepages"
	fi
else
	say "hugepages: not root, not touched (vtoed falls back to --no-huge)"
fi

# ---------------------------------------------------------------- guest kernel
if [ $GUEST_KERNEL = 1 ]; then
	(
		source "$ROOT/tests/integration/lib/common.sh"
		source "$ROOT/tests/integration/lib/guest.sh"
		guest_kernel || exit 1
		echo "setup: guest kernel: $GUEST_KBOOT"
	)
fi
say "done"
