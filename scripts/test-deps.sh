#!/usr/bin/env bash
# Installs, through apt-get, the programs the integration tests need
# (`make test` runs this first; `make deps` runs only this).
#
# Idempotent: when everything is present it only runs a few checks and exits.
# `apt-get update` runs at most once, and only when something is missing.
# Services are never started by the installation (policy-rc.d), the tests
# start their own private instances.
set -euo pipefail

# One line per dependency:
#   <Debian package>  <check> [<check>...]
# The package counts as present when any check succeeds:
#   cmd:NAME   NAME is found in PATH
#   path:GLOB  some file matches GLOB and is executable
#   file:GLOB  some file matches GLOB
DEPS=(
	"make                cmd:make"
	"ca-certificates     file:/etc/ssl/certs/ca-certificates.crt"
	"postgresql          cmd:initdb path:/usr/lib/postgresql/*/bin/initdb"
	"chromium            cmd:chromium"
	"apache2             cmd:apache2ctl path:/usr/sbin/apache2"
	"php-fpm             path:/usr/sbin/php-fpm*"
	"bind9-utils         cmd:named-checkzone"
	"bind9               path:/usr/sbin/named"
	"webalizer           cmd:webalizer"
	"mariadb-server      path:/usr/sbin/mariadbd cmd:mariadbd"
	"cron                path:/usr/sbin/cron"
	"quota               path:/usr/sbin/setquota cmd:setquota"
	"openssh-server      path:/usr/sbin/sshd cmd:sshd"
	"acl                 cmd:setfacl cmd:getfacl"
	"bind9-dnsutils      cmd:dig"
	"procps              cmd:pkill"
)

check() {
	local kind=${1%%:*} arg=${1#*:} f
	case $kind in
	cmd) command -v "$arg" >/dev/null 2>&1 ;;
	path | file)
		# Unquoted on purpose: the glob must expand.
		for f in $arg; do
			if [[ $kind == file && -e $f ]] || [[ -f $f && -x $f ]]; then
				return 0
			fi
		done
		return 1
		;;
	*)
		echo "test-deps: unknown check '$1'" >&2
		exit 2
		;;
	esac
}

present() { # present "<package> <check>..."
	local -a words
	read -r -a words <<<"$1"
	local c
	for c in "${words[@]:1}"; do
		if check "$c"; then
			return 0
		fi
	done
	return 1
}

missing=()
for dep in "${DEPS[@]}"; do
	if ! present "$dep"; then
		missing+=("${dep%% *}")
	fi
done

if ((${#missing[@]} == 0)); then
	echo "test-deps: nothing is missing"
	exit 0
fi

echo "test-deps: installing ${missing[*]}"

SUDO=()
if [[ $(id -u) != 0 ]]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=(sudo)
	else
		echo "test-deps: missing ${missing[*]}; run as root (or install sudo) to install them" >&2
		exit 1
	fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "test-deps: missing ${missing[*]} and apt-get is not available; install them by hand" >&2
	exit 1
fi

# Keep maintainer scripts from starting services (e.g. PostgreSQL's "main"
# cluster on port 5432) during the installation. An existing policy-rc.d
# (Docker images have one) is left alone.
POLICY=/usr/sbin/policy-rc.d
policy_added=
if [[ ! -e $POLICY ]]; then
	printf '#!/bin/sh\n# Added by kontor scripts/test-deps.sh during apt-get install.\nexit 101\n' |
		"${SUDO[@]}" tee "$POLICY" >/dev/null
	"${SUDO[@]}" chmod 755 "$POLICY"
	policy_added=1
fi
cleanup() {
	if [[ -n $policy_added ]]; then
		"${SUDO[@]}" rm -f "$POLICY"
	fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	"${missing[@]}"

still=()
for dep in "${DEPS[@]}"; do
	if ! present "$dep"; then
		still+=("${dep%% *}")
	fi
done
if ((${#still[@]} > 0)); then
	echo "test-deps: still missing after installation: ${still[*]}" >&2
	exit 1
fi
echo "test-deps: installed ${missing[*]}"
