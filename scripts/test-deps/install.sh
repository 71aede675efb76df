#!/usr/bin/env bash
# Install step (npm ci → postinstall): the Debian packages the tests need (browser, CJK and emoji
# fonts, redis-server), listed in packages.txt. As root they are installed when missing; otherwise
# one line says what to install (npm test then stops with the same line), and the install goes on.
set -euo pipefail
cd "$(dirname "$0")"
PREFIX='[test-deps]'
[ "${MOIM_SKIP_TEST_DEPS:-}" = 1 ] && { echo "$PREFIX MOIM_SKIP_TEST_DEPS=1: not checking"; exit 0; }
missing=()
while read -r pkg proof _; do
	case "$pkg" in '' | '#'*) continue ;; esac
	[ -e "$proof" ] || missing+=("$pkg")
done <packages.txt
if [ "${#missing[@]}" -eq 0 ]; then
	echo "$PREFIX present: $(grep -v '^#' packages.txt | cut -d' ' -f1 | tr '\n' ' ')"
	exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "$PREFIX the tests need Debian packages; as root run: apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 0
fi
echo "$PREFIX installing Debian packages: ${missing[*]}"
log="${TMPDIR:-/tmp}/moim-test-deps-apt.log"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get -o DPkg::Lock::Timeout=300 update && apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}"; } </dev/null >"$log" 2>&1; then
	tail -n 30 "$log" >&2 || true
	echo "$PREFIX apt-get install failed (full log: $log)" >&2
	exit 1
fi
echo "$PREFIX installed: ${missing[*]}"
