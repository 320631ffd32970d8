#!/bin/sh
# Install what building and testing pulse needs on Debian 12 (bookworm).
# Run as root (or through sudo) from anywhere; running it again is harmless.
set -eu

PACKAGES="
	build-essential
	autoconf
	automake
	libtool
	pkg-config
	autoconf-archive
	libcurl4-openssl-dev
	libjson-c-dev
	libyaml-dev
	libbsd-dev
	libevent-dev
	libcmocka-dev
	libpcre2-dev
	libseccomp-dev
	libssl-dev
	nginx-light
	openssl
	prometheus
	prometheus-blackbox-exporter
	python3
	python3-yaml
	jq
	curl
	gcovr
	mandoc
	clang-format
	cppcheck
	clang
	libclang-rt-14-dev
	util-linux
	git
	ca-certificates
	iproute2
	procps
"

die() {
	echo "install-deps: $*" >&2
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
out=$(mktemp) || die "cannot create a temporary file"
trap 'rm -f "$out"' EXIT

# Keep apt quiet, but show everything it said when a step fails.
quiet() {
	if "$@" >"$out" 2>&1; then
		return 0
	fi
	cat "$out" >&2
	return 1
}

echo "install-deps: updating the package lists"
tries=0
until quiet apt-get -q update; do
	tries=$((tries + 1))
	if [ "$tries" -ge 3 ]; then
		# Stale lists may still do if everything is installed already.
		echo "install-deps: warning: apt-get update failed" >&2
		break
	fi
	sleep 5
done

# The list is split into words on purpose.
# shellcheck disable=SC2086
set -- $PACKAGES
echo "install-deps: installing $*"
quiet apt-get -q -y --no-install-recommends install "$@" ||
    die "apt-get install failed"

echo "install-deps: done"
