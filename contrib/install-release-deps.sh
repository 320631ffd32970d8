#!/bin/sh
# Install what contrib/release, "make release-check" and "make deb-check"
# need on Debian 12 (bookworm), beside what contrib/install-deps.sh
# installs: the arm64 cross compiler and arm64 libraries, qemu to run the
# arm64 binary, and the Debian packaging tools.  Run as root (or through
# sudo); running it again is harmless.
#
# The arm64 libraries are installed with dpkg's multiarch support, except
# libevent-dev: Debian 12 does not make it co-installable with the amd64
# copy that building pulse needs (it is not "Multi-Arch: same").  Its
# arm64 files are unpacked under $PULSE_CROSS_DIR instead (default
# /opt/pulse-cross/aarch64-linux-gnu), where contrib/release looks first.
set -eu

NATIVE="
	gcc-aarch64-linux-gnu
	binutils-aarch64-linux-gnu
	qemu-user-static
	debhelper
	lintian
	fakeroot
	dpkg-dev
	git
	file
	jq
	python3
"

ARM64="
	libc6-dev:arm64
	libcurl4-openssl-dev:arm64
	libjson-c-dev:arm64
	libyaml-dev:arm64
	libbsd-dev:arm64
	libpcre2-dev:arm64
	libseccomp-dev:arm64
	libssl-dev:arm64
	libevent-2.1-7:arm64
"

# Unpacked, not installed: see above.
UNPACKED="libevent-dev:arm64 libevent-2.1-7:arm64"

cross=${PULSE_CROSS_DIR:-/opt/pulse-cross/aarch64-linux-gnu}

die() {
	echo "install-release-deps: $*" >&2
	exit 1
}

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		exec sudo -- /bin/sh "$0" "$@"
	fi
	die "must run as root (and sudo is not installed)"
fi

command -v apt-get >/dev/null 2>&1 ||
    die "apt-get not found: this script is for Debian 12"

export DEBIAN_FRONTEND=noninteractive
tmp=$(mktemp -d) || die "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT
# apt fetches as user _apt where it can.
chmod 755 "$tmp"
out=$tmp/apt.out

# Keep apt quiet, but show everything it said when a step fails.
quiet() {
	if "$@" >"$out" 2>&1; then
		return 0
	fi
	cat "$out" >&2
	return 1
}

if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	echo "install-release-deps: adding the arm64 architecture"
	dpkg --add-architecture arm64
fi

echo "install-release-deps: updating the package lists"
tries=0
until quiet apt-get -q update; do
	tries=$((tries + 1))
	if [ "$tries" -ge 3 ]; then
		echo "install-release-deps: warning: apt-get update failed" >&2
		break
	fi
	sleep 5
done

# A mirror without arm64 gives no candidate for the arm64 libraries.
apt-cache policy libc6:arm64 2>/dev/null | grep -q 'Candidate: [0-9]' ||
    die "the apt mirror serves no arm64 packages"

# The lists are split into words on purpose.
# shellcheck disable=SC2086
set -- $NATIVE $ARM64
echo "install-release-deps: installing $*"
quiet apt-get -q -y --no-install-recommends install "$@" ||
    die "apt-get install failed"

echo "install-release-deps: unpacking $UNPACKED into $cross"
# shellcheck disable=SC2086
(cd "$tmp" && quiet apt-get -q download $UNPACKED) ||
    die "apt-get download failed"
rm -rf "$cross.new"
mkdir -p "$cross.new"
for deb in "$tmp"/*.deb; do
	dpkg-deb -x "$deb" "$cross.new" || die "cannot unpack $deb"
done
rm -rf "$cross"
mv "$cross.new" "$cross"

echo "install-release-deps: done"
