#!/usr/bin/env bash
# Provides node_modules/mediasoup/worker/out/Release/mediasoup-worker, where
# mediasoup looks for its C++ worker by default (no env var needed at run time).
#
# Called from the root package.json "postinstall" (cwd = repo root) after
# `npm ci`, with mediasoup's own postinstall blocked
# ("allowScripts": { "mediasoup": false }): that script downloads a prebuilt
# worker from GitHub and otherwise builds with meson wraps that download sources
# from GitHub/wrapdb, none of which is reachable on our machines.
#
# Order of attempts:
#   1. MEDIASOUP_WORKER_BIN set to an existing file      -> nothing to do.
#   2. binary present + stamp matches                      -> nothing to do.
#   3. cache hit ($MOIM_CACHE_DIR, default ~/.cache/moim)   -> copy in.
#   4. GitHub reachable -> mediasoup's own postinstall (prebuilt download).
#   5. Local build against Debian's libraries (Debian 12 and 13), with the stub
#      meson subprojects in scripts/mediasoup/subprojects/ (system libuv,
#      OpenSSL, libsrtp 2 + libsrtp3 API shim, flatbuffers, Abseil, and a
#      std-based unordered_dense header), plus the DTLS fix in
#      worker/src/RTC/DtlsTransport.cpp (see /work/shared/MEDIASOUP.md item 10).
#      libsrtp 2 is built from Debian's source tarball with OpenSSL and linked
#      statically (Debian's libsrtp2-1 uses NSS: ~1.4x the worker CPU per
#      AES_CM SRTP packet);
#      on any failure there, the system libsrtp2 with a warning.
#
# Environment knobs:
#   MOIM_CACHE_DIR                cache root (default: $HOME/.cache/moim)
#   MOIM_MEDIASOUP_DIR            mediasoup package dir (default: ./node_modules/mediasoup)
#   MOIM_MEDIASOUP_LOCAL_BUILD=1  skip the GitHub prebuilt attempt
#   MOIM_PREBUILT_PROBE_URL       URL probed to decide on that attempt (default https://github.com;
#                                 with MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL for a mirror)
#   MOIM_MEDIASOUP_FORCE=1        ignore stamp and cache, rebuild
#   MOIM_BUILD_JOBS               parallel compile jobs (default: 2)
#   MOIM_MESON_ARGS               extra `meson setup` arguments
#   MOIM_KEEP_BUILD=1             keep the build dir / pip dir after success
#   MOIM_LIBSRTP_SYSTEM=1         link the system libsrtp2 instead of building libsrtp with OpenSSL
#   MOIM_LIBSRTP_TARBALL          local copy of libsrtp2_2.5.0.orig.tar.gz (sha256-checked; offline)
set -euo pipefail

TESTED_MEDIASOUP_VERSION="3.27.1"
PREFIX="[mediasoup-worker]"

log() { printf '%s %s\n' "$PREFIX" "$*"; }
warn() { printf '%s WARNING: %s\n' "$PREFIX" "$*" >&2; }
die() {
	printf '%s ERROR: %s\n' "$PREFIX" "$*" >&2
	exit 1
}

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STUBS_DIR="$SCRIPT_DIR/subprojects"
START_TS=$(date +%s)

# --- 1. User-provided worker binary ----------------------------------------------
if [ -n "${MEDIASOUP_WORKER_BIN:-}" ]; then
	if [ -f "$MEDIASOUP_WORKER_BIN" ]; then
		log "MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN exists: using it, nothing to build"
		exit 0
	fi
	if [ "$MEDIASOUP_WORKER_BIN" = skip ]; then
		log "MEDIASOUP_WORKER_BIN=skip (used to stop mediasoup's own postinstall): ignored here; do not set it at run time"
	else
		warn "MEDIASOUP_WORKER_BIN='$MEDIASOUP_WORKER_BIN' is not a file: ignoring it here (unset it at run time, mediasoup would try to run it)"
	fi
fi

# --- Locate mediasoup ----------------------------------------------------------------
MS_DIR="${MOIM_MEDIASOUP_DIR:-$PWD/node_modules/mediasoup}"
if [ ! -f "$MS_DIR/package.json" ]; then
	log "no mediasoup package at $MS_DIR (not installed?): nothing to do"
	exit 0
fi
MS_DIR="$(cd "$MS_DIR" && pwd)"
MS_VERSION="$(sed -n 's/^[[:space:]]*"version"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$MS_DIR/package.json" | head -n 1)"
[ -n "$MS_VERSION" ] || die "cannot read the version from $MS_DIR/package.json"

WORKER_DIR="$MS_DIR/worker"
OUT_DIR="$WORKER_DIR/out"
RELEASE_DIR="$OUT_DIR/Release"
BIN="$RELEASE_DIR/mediasoup-worker"
STAMP="$RELEASE_DIR/mediasoup-worker.moim-stamp"
BUILD_DIR="$OUT_DIR/moim-build"
PIP_DIR="$OUT_DIR/moim-pip"
LOG="$OUT_DIR/moim-build.log"
JOBS="${MOIM_BUILD_JOBS:-2}"

# --- Cache key: mediasoup version + this script + support files + OS/arch ----------
OS_TAG="unknown"
if [ -r /etc/os-release ]; then
	OS_TAG="$(. /etc/os-release && printf '%s-%s' "${ID:-linux}" "${VERSION_ID:-${VERSION_CODENAME:-unknown}}")"
fi
ARCH="$(uname -m)"

key_material() {
	printf 'mediasoup %s\nos %s\narch %s\n' "$MS_VERSION" "$OS_TAG" "$ARCH"
	(
		cd "$SCRIPT_DIR"
		{
			echo build-worker.sh
			find subprojects -type f
		} | LC_ALL=C sort | while IFS= read -r f; do
			printf '%s %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "$f"
		done
	)
}
KEY="$(key_material | sha256sum | cut -d' ' -f1)"
STAMP_TEXT="$(printf 'mediasoup %s\nkey %s' "$MS_VERSION" "$KEY")"
CACHE_ROOT="${MOIM_CACHE_DIR:-${HOME:-/root}/.cache/moim}/mediasoup-worker"
CACHE_DIR="$CACHE_ROOT/$MS_VERSION-${KEY:0:16}"
CACHE_BIN="$CACHE_DIR/mediasoup-worker"

# mediasoup-worker run without MEDIASOUP_VERSION exits with 41 (worker/src/main.cpp):
# the check mediasoup itself uses to see that a binary runs on this host.
bin_runs() {
	local rc=0
	env -i "$1" </dev/null >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 41 ]
}

write_stamp() { printf '%s\n' "$STAMP_TEXT" >"$STAMP"; }

store_in_cache() {
	if mkdir -p "$CACHE_DIR" 2>/dev/null &&
		cp "$BIN" "$CACHE_DIR/.mediasoup-worker.tmp.$$" &&
		mv -f "$CACHE_DIR/.mediasoup-worker.tmp.$$" "$CACHE_BIN"; then
		{
			printf '%s\n' "$STAMP_TEXT"
			printf 'source %s\nos %s\narch %s\ncreated %s\n' "$1" "$OS_TAG" "$ARCH" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
		} >"$CACHE_DIR/info.txt"
		log "stored in cache: $CACHE_BIN"
	else
		rm -f "$CACHE_DIR/.mediasoup-worker.tmp.$$" 2>/dev/null || true
		warn "could not write the cache at $CACHE_DIR (continuing)"
	fi
}

# --- 2. Already done ----------------------------------------------------------------------
if [ "${MOIM_MEDIASOUP_FORCE:-0}" != 1 ] && [ -x "$BIN" ] && [ -f "$STAMP" ] &&
	[ "$(cat "$STAMP")" = "$STAMP_TEXT" ] && bin_runs "$BIN"; then
	log "mediasoup $MS_VERSION worker already in place (stamp matches): nothing to do"
	exit 0
fi

if [ "$MS_VERSION" != "$TESTED_MEDIASOUP_VERSION" ]; then
	warn "mediasoup $MS_VERSION: this build step was written and tested for $TESTED_MEDIASOUP_VERSION (re-check the stubs against worker/meson.build)"
fi

mkdir -p "$RELEASE_DIR"

# --- 3. Cache -------------------------------------------------------------------------------
if [ "${MOIM_MEDIASOUP_FORCE:-0}" != 1 ] && [ -f "$CACHE_BIN" ]; then
	if bin_runs "$CACHE_BIN"; then
		cp "$CACHE_BIN" "$BIN.tmp.$$"
		chmod 0755 "$BIN.tmp.$$"
		mv -f "$BIN.tmp.$$" "$BIN"
		write_stamp
		log "cache hit: copied $CACHE_BIN -> ${BIN#"$PWD"/}"
		exit 0
	fi
	warn "cached binary $CACHE_BIN does not run on this host: ignoring it"
fi

# --- 4. Prebuilt download when GitHub is reachable -----------------------------------------
if [ "${MOIM_MEDIASOUP_LOCAL_BUILD:-0}" != 1 ] && command -v curl >/dev/null 2>&1 &&
	command -v node >/dev/null 2>&1 && curl -sS -m 4 -o /dev/null "${MOIM_PREBUILT_PROBE_URL:-https://github.com}" 2>/dev/null; then
	log "github.com reachable: trying mediasoup's own postinstall (prebuilt worker download)"
	rm -f "$BIN" "$STAMP"
	if (cd "$MS_DIR" && env -u MEDIASOUP_WORKER_BIN node npm-scripts.mjs postinstall </dev/null) &&
		[ -x "$BIN" ] && bin_runs "$BIN"; then
		write_stamp
		store_in_cache "mediasoup postinstall (prebuilt or its own build)"
		log "done in $(($(date +%s) - START_TS)) s"
		exit 0
	fi
	warn "mediasoup's own postinstall did not give a working worker: building locally"
else
	log "github.com not reachable (or local build forced): building the worker locally"
fi

# --- 5. Local build ------------------------------------------------------------------------------
[ -f "$WORKER_DIR/meson.build" ] || die "$WORKER_DIR/meson.build missing: is the mediasoup package complete?"

# 5a. DTLS fix (MEDIASOUP.md item 10): with an OpenSSL built with kTLS (Debian's),
# the BIO callback must return `ret` for every post-call (BIO_CB_RETURN bit set),
# not only for exactly BIO_CB_RETURN, or libssl sees BIO_get_ktls_send() == 1 and
# the worker crashes on the first DTLS flight.
DTLS_SRC="$WORKER_DIR/src/RTC/DtlsTransport.cpp"
[ -f "$DTLS_SRC" ] || die "$DTLS_SRC not found: cannot apply the DTLS fix"
if grep -qF '(operationType == BIO_CB_RETURN)' "$DTLS_SRC"; then
	sed -i 's/(operationType == BIO_CB_RETURN)/(operationType \& BIO_CB_RETURN)/g' "$DTLS_SRC"
	log "applied DTLS fix to worker/src/RTC/DtlsTransport.cpp (operationType & BIO_CB_RETURN)"
fi
if ! grep -qF '(operationType & BIO_CB_RETURN)' "$DTLS_SRC" || grep -qF '(operationType == BIO_CB_RETURN)' "$DTLS_SRC"; then
	die "DTLS fix not in place in $DTLS_SRC: onSslBioOut must test '(operationType & BIO_CB_RETURN)'. mediasoup $MS_VERSION changed that code; re-check MEDIASOUP.md item 10 and update scripts/mediasoup/build-worker.sh"
fi

# 5a'. Probation fix (issue 15): every RTC::RTP::ProbationGenerator (one per transport
# that estimates bandwidth) wraps its probe packet around one buffer shared by the whole
# worker (`static thread_local ProbationPacketBuffer`), so the probe stream (SSRC 1234) of
# every transport takes the sequence number another transport wrote last, and each new
# generator resets it to a random value. An SRTP transport whose probe sequence is thereby
# sent 1,024-32,768 behind what it sent before is refused by libsrtp
# ("srtp_protect() failed: replay check failed (index too old)") and those probes are lost.
# Each generator gets its own buffer (a member), as its own sequence number requires.
PROBE_SRC="$WORKER_DIR/src/RTC/RTP/ProbationGenerator.cpp"
PROBE_HDR="$WORKER_DIR/include/RTC/RTP/ProbationGenerator.hpp"
[ -f "$PROBE_SRC" ] && [ -f "$PROBE_HDR" ] || die "$PROBE_SRC or its header not found: cannot apply the probation fix"
if grep -qF 'RTP::Packet::Factory(ProbationPacketBuffer, sizeof(ProbationPacketBuffer))' "$PROBE_SRC"; then
	sed -i 's/RTP::Packet::Factory(ProbationPacketBuffer, sizeof(ProbationPacketBuffer))/RTP::Packet::Factory(this->packetBuffer, sizeof(this->packetBuffer))/' "$PROBE_SRC"
	log "applied probation fix to worker/src/RTC/RTP/ProbationGenerator.cpp (one packet buffer per generator)"
fi
if ! grep -qF 'uint8_t packetBuffer[' "$PROBE_HDR"; then
	sed -i 's|^\([[:space:]]*\)// Allocated by this\.$|\1// moim: this generator'"'"'s own packet buffer (see scripts/mediasoup/build-worker.sh).\n\1uint8_t packetBuffer[ProbationPacketMaxLength]{};\n&|' "$PROBE_HDR"
fi
if ! grep -qF 'Factory(this->packetBuffer, sizeof(this->packetBuffer))' "$PROBE_SRC" || ! grep -qF 'uint8_t packetBuffer[ProbationPacketMaxLength]{};' "$PROBE_HDR"; then
	die "probation fix not in place in $PROBE_SRC / $PROBE_HDR: mediasoup $MS_VERSION changed that code; re-check it and update scripts/mediasoup/build-worker.sh"
fi

# 5b. Debian packages.
have_python_pip() { command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; }
PKGS=(g++ make pkg-config libssl-dev libuv1-dev libsrtp2-dev libabsl-dev libflatbuffers-dev flatbuffers-compiler)
if ! have_python_pip; then
	PKGS+=(python3 python3-pip)
fi

apt_install() {
	# $@: packages
	local apt_log="$OUT_DIR/moim-apt.log"
	log "installing Debian packages: $*"
	export DEBIAN_FRONTEND=noninteractive
	# Wait for another apt/dpkg run (unattended upgrades, a parallel install) instead of failing.
	if ! { apt-get -o DPkg::Lock::Timeout=300 update && apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "$@"; } </dev/null >"$apt_log" 2>&1; then
		tail -n 30 "$apt_log" >&2 || true
		die "apt-get install failed (full log: $apt_log)"
	fi
}

if command -v dpkg-query >/dev/null 2>&1; then
	MISSING=()
	for p in "${PKGS[@]}"; do
		status="$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)"
		case "$status" in
		ii*) ;;
		*) MISSING+=("$p") ;;
		esac
	done
	if [ "${#MISSING[@]}" -gt 0 ]; then
		if [ "$(id -u)" -eq 0 ]; then
			apt_install "${MISSING[@]}"
		else
			printf '%s ERROR: missing Debian packages to build the mediasoup worker. Run as root:\n' "$PREFIX" >&2
			printf '    apt-get update && apt-get install -y --no-install-recommends %s\n' "${MISSING[*]}" >&2
			printf '%s then run: bash scripts/mediasoup/build-worker.sh\n' "$PREFIX" >&2
			exit 1
		fi
	else
		log "Debian packages present: ${PKGS[*]}"
	fi
else
	warn "dpkg-query not found (not Debian?): not installing packages; needs a C++20 compiler, pkg-config, flatc and the pkg-config modules below"
fi

PC_MODULES=(libuv libssl libcrypto libsrtp2 flatbuffers absl_strings absl_optional absl_flat_hash_map)
for m in "${PC_MODULES[@]}"; do
	pkg-config --exists "$m" || die "pkg-config module '$m' not found (Debian packages: ${PKGS[*]})"
done
command -v flatc >/dev/null 2>&1 || die "flatc not found (Debian package flatbuffers-compiler)"
log "system libraries: libuv $(pkg-config --modversion libuv), OpenSSL $(pkg-config --modversion openssl), libsrtp2 $(pkg-config --modversion libsrtp2), flatbuffers $(pkg-config --modversion flatbuffers) ($(flatc --version 2>/dev/null | tr -d '\n')), Abseil $(pkg-config --modversion absl_strings)"

# 5b'. libsrtp 2 with OpenSSL, static. Debian's libsrtp2-1 is built on NSS (a PK11
# context per packet): with it the worker spends ~15.5-18 ms CPU per 1,000
# AES_CM_128_HMAC_SHA1_80 packets, with this build ~11-12.5 ms (~9 ms for plain RTP;
# bench:sfu, 2026-11-25, shared machine). AEAD_AES_256_GCM, what Chromium negotiates,
# costs ~11-12 ms on either. libsrtp's OpenSSL backend uses OpenSSL's EVP AES-CTR/GCM
# (AES-NI, PCLMUL) and HMAC. Source: Debian's orig tarball (same bytes as Debian's
# package source), sha256-pinned; download and build cached under $CACHE_ROOT/libsrtp2.
# Any failure -> warning, and the worker links the system libsrtp2 as before.
LIBSRTP_VERSION="2.5.0"
LIBSRTP_TARBALL="libsrtp2_${LIBSRTP_VERSION}.orig.tar.gz"
LIBSRTP_SHA256="8a43ef8e9ae2b665292591af62aa1a4ae41e468b6d98d8258f91478735da4e09"
LIBSRTP_URLS=(
	"https://deb.debian.org/debian/pool/main/libs/libsrtp2/$LIBSRTP_TARBALL"
	"http://deb.debian.org/debian/pool/main/libs/libsrtp2/$LIBSRTP_TARBALL"
)
LIBSRTP_CONFIGURE_ARGS=(--enable-openssl --disable-pcap --disable-debug-logging)
LIBSRTP_CACHE="$CACHE_ROOT/libsrtp2"
LIBSRTP_WORK="$OUT_DIR/moim-libsrtp2"
SRTP_PREFIX=""
SRTP_DESC=""

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

fetch_libsrtp_tarball() {
	# Prints the path of a verified tarball: MOIM_LIBSRTP_TARBALL, the cache, or a download.
	local f
	if [ -n "${MOIM_LIBSRTP_TARBALL:-}" ]; then
		[ -f "$MOIM_LIBSRTP_TARBALL" ] || {
			warn "MOIM_LIBSRTP_TARBALL=$MOIM_LIBSRTP_TARBALL is not a file"
			return 1
		}
		[ "$(sha256_of "$MOIM_LIBSRTP_TARBALL")" = "$LIBSRTP_SHA256" ] || {
			warn "MOIM_LIBSRTP_TARBALL=$MOIM_LIBSRTP_TARBALL: sha256 is not $LIBSRTP_SHA256"
			return 1
		}
		printf '%s\n' "$MOIM_LIBSRTP_TARBALL"
		return 0
	fi
	f="$LIBSRTP_CACHE/$LIBSRTP_TARBALL"
	if [ -f "$f" ] && [ "$(sha256_of "$f")" = "$LIBSRTP_SHA256" ]; then
		printf '%s\n' "$f"
		return 0
	fi
	mkdir -p "$LIBSRTP_CACHE" 2>/dev/null || f="$LIBSRTP_WORK/$LIBSRTP_TARBALL"
	mkdir -p "$(dirname "$f")"
	local url tmp="$f.tmp.$$"
	for url in "${LIBSRTP_URLS[@]}"; do
		rm -f "$tmp"
		if command -v curl >/dev/null 2>&1; then
			curl -fsSL --connect-timeout 5 -m 60 -o "$tmp" "$url" 2>>"$LOG" || continue
		elif command -v wget >/dev/null 2>&1; then
			wget -q -T 10 -O "$tmp" "$url" 2>>"$LOG" || continue
		else
			warn "neither curl nor wget: cannot download $LIBSRTP_TARBALL"
			return 1
		fi
		if [ "$(sha256_of "$tmp")" = "$LIBSRTP_SHA256" ]; then
			mv -f "$tmp" "$f"
			printf '%s\n' "$f"
			return 0
		fi
		warn "$url: sha256 $(sha256_of "$tmp") is not the pinned $LIBSRTP_SHA256 (ignored)"
	done
	rm -f "$tmp"
	warn "could not download $LIBSRTP_TARBALL (tried: ${LIBSRTP_URLS[*]})"
	return 1
}

build_libsrtp() {
	# Sets SRTP_PREFIX (lib/libsrtp2.a + include/srtp2/) or returns 1.
	local key dir tarball src prefix
	key="$({
		printf 'libsrtp %s %s\nconfigure %s\nos %s\narch %s\nopenssl %s\n' "$LIBSRTP_VERSION" "$LIBSRTP_SHA256" \
			"${LIBSRTP_CONFIGURE_ARGS[*]}" "$OS_TAG" "$ARCH" "$(pkg-config --modversion libcrypto)"
		cc --version 2>/dev/null | head -n 1
	} | sha256sum | cut -d' ' -f1)"
	dir="$LIBSRTP_CACHE/$LIBSRTP_VERSION-openssl-${key:0:16}"
	if [ "${MOIM_MEDIASOUP_FORCE:-0}" != 1 ] && [ -f "$dir/lib/libsrtp2.a" ] && [ -f "$dir/include/srtp2/srtp.h" ]; then
		SRTP_PREFIX="$dir"
		log "libsrtp $LIBSRTP_VERSION (OpenSSL) from the cache: $dir"
		return 0
	fi
	tarball="$(fetch_libsrtp_tarball)" || return 1
	log "building libsrtp $LIBSRTP_VERSION with OpenSSL $(pkg-config --modversion libcrypto) (static, ~10 s)"
	rm -rf "$LIBSRTP_WORK/src" "$LIBSRTP_WORK/prefix"
	mkdir -p "$LIBSRTP_WORK/src"
	tar -xzf "$tarball" -C "$LIBSRTP_WORK/src" --strip-components=1 2>>"$LOG" || return 1
	src="$LIBSRTP_WORK/src"
	prefix="$LIBSRTP_WORK/prefix"
	printf '\n===== libsrtp %s: configure %s\n' "$LIBSRTP_VERSION" "${LIBSRTP_CONFIGURE_ARGS[*]}" >>"$LOG"
	(
		cd "$src" &&
			# crypto_*: libcrypto's flags for a shared link. Left to itself, configure also
			# links libcrypto's Libs.private (Debian 13: -lz -lzstd, often not installed).
			./configure "${LIBSRTP_CONFIGURE_ARGS[@]}" --prefix="$prefix" \
				crypto_CFLAGS="$(pkg-config --cflags libcrypto)" crypto_LIBS="$(pkg-config --libs libcrypto)" &&
			grep -q '^#define OPENSSL 1' crypto/include/config.h &&
			grep -q '^#define GCM 1' crypto/include/config.h &&
			make -j"$JOBS" libsrtp2.a test/srtp_driver &&
			./test/srtp_driver -v &&
			make install
	) </dev/null >>"$LOG" 2>&1 || {
		warn "libsrtp $LIBSRTP_VERSION build failed (see $LOG)"
		return 1
	}
	[ -f "$prefix/lib/libsrtp2.a" ] && [ -f "$prefix/include/srtp2/srtp.h" ] || {
		warn "libsrtp build gave no $prefix/lib/libsrtp2.a"
		return 1
	}
	rm -rf "$prefix/lib/pkgconfig" "$prefix/lib/"*.so*
	SRTP_PREFIX="$prefix"
	# Into the cache (atomically); on failure use the copy in worker/out for this build.
	if mkdir -p "$LIBSRTP_CACHE" 2>/dev/null && rm -rf "$dir.tmp.$$" && cp -R "$prefix" "$dir.tmp.$$" 2>/dev/null; then
		printf 'libsrtp %s (sha256 %s)\nconfigure %s\nos %s\narch %s\nopenssl %s\ncreated %s\n' "$LIBSRTP_VERSION" "$LIBSRTP_SHA256" \
			"${LIBSRTP_CONFIGURE_ARGS[*]}" "$OS_TAG" "$ARCH" "$(pkg-config --modversion libcrypto)" \
			"$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$dir.tmp.$$/info.txt"
		rm -rf "$dir" && mv "$dir.tmp.$$" "$dir" && SRTP_PREFIX="$dir"
	fi
	rm -rf "$dir.tmp.$$" 2>/dev/null || true
	log "libsrtp $LIBSRTP_VERSION (OpenSSL) built: $SRTP_PREFIX"
	return 0
}

mkdir -p "$OUT_DIR"
: >"$LOG"
if [ "${MOIM_LIBSRTP_SYSTEM:-0}" = 1 ]; then
	SRTP_DESC="system libsrtp2 $(pkg-config --modversion libsrtp2) (MOIM_LIBSRTP_SYSTEM=1)"
	warn "MOIM_LIBSRTP_SYSTEM=1: linking the system libsrtp2 (Debian's uses NSS: ~1.4x the worker CPU per AES_CM SRTP packet)"
elif build_libsrtp; then
	SRTP_DESC="libsrtp $LIBSRTP_VERSION static with OpenSSL $(pkg-config --modversion libcrypto)"
else
	SRTP_PREFIX=""
	SRTP_DESC="system libsrtp2 $(pkg-config --modversion libsrtp2) (fallback)"
	warn "falling back to the system libsrtp2 $(pkg-config --modversion libsrtp2): the worker works, but Debian's libsrtp2 is built on NSS and costs the worker ~1.4x the CPU per AES_CM_128_HMAC_SHA1_80 packet (re-run with network access to deb.debian.org to get the OpenSSL build)"
fi

# 5c. meson (>= 1.1) and ninja from pip into worker/out, as mediasoup does. These
# machines have a local wheel index; use it first (PyPI is not reachable and pip
# would waste time on retries).
MESON=""
NINJA_BIN=""
if [ -x "$PIP_DIR/bin/meson" ] && [ -x "$PIP_DIR/bin/ninja" ]; then
	MESON="$PIP_DIR/bin/meson"
	NINJA_BIN="$PIP_DIR/bin/ninja"
elif have_python_pip; then
	log "installing meson and ninja with pip into ${PIP_DIR#"$PWD"/}"
	rm -rf "$PIP_DIR"
	PIP_ARGS=(install --no-user --disable-pip-version-check --target "$PIP_DIR" 'meson>=1.1,<2' ninja)
	ok=0
	if [ -d /opt/pypi/simple ]; then
		python3 -m pip "${PIP_ARGS[@]}" --index-url file:///opt/pypi/simple </dev/null >>"$LOG" 2>&1 && ok=1
	fi
	if [ "$ok" = 0 ]; then
		rm -rf "$PIP_DIR"
		python3 -m pip "${PIP_ARGS[@]}" --timeout 15 --retries 2 </dev/null >>"$LOG" 2>&1 && ok=1
	fi
	if [ "$ok" = 1 ] && [ -x "$PIP_DIR/bin/meson" ] && [ -x "$PIP_DIR/bin/ninja" ]; then
		MESON="$PIP_DIR/bin/meson"
		NINJA_BIN="$PIP_DIR/bin/ninja"
	else
		warn "pip could not install meson/ninja (see $LOG)"
	fi
fi
if [ -z "$MESON" ]; then
	# Fallback: Debian's meson if it is new enough (Debian 13: 1.7; Debian 12's 1.0 is too old).
	if ! command -v meson >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && command -v apt-cache >/dev/null 2>&1; then
		cand="$(apt-cache policy meson 2>/dev/null | sed -n 's/^ *Candidate: *//p')"
		if [ -n "$cand" ] && dpkg --compare-versions "$cand" ge 1.1; then
			apt_install meson ninja-build
		fi
	fi
	if command -v meson >/dev/null 2>&1 && command -v ninja >/dev/null 2>&1 &&
		printf '%s\n1.1.0\n' "$(meson --version)" | sort -V -C -r; then
		MESON="$(command -v meson)"
		NINJA_BIN="$(command -v ninja)"
	else
		die "no meson >= 1.1 + ninja: pip failed (see $LOG) and the system has none"
	fi
fi
export PYTHONPATH="$PIP_DIR${PYTHONPATH:+:$PYTHONPATH}"
export NINJA="$NINJA_BIN"
log "meson $("$MESON" --version), ninja $("$NINJA_BIN" --version)"

# 5d. Pre-populate worker/subprojects/<directory>/ for every wrap with our stubs, so
# meson never downloads anything.
STUB_TARGETS=()
for wrap in "$WORKER_DIR"/subprojects/*.wrap; do
	[ -e "$wrap" ] || continue
	name="$(basename "$wrap" .wrap)"
	dir="$(sed -n 's/^[[:space:]]*directory[[:space:]]*=[[:space:]]*//p' "$wrap" | head -n 1 | tr -d '\r' | sed 's/[[:space:]]*$//')"
	[ -n "$dir" ] || dir="$name"
	if [ -d "$STUBS_DIR/$name" ]; then
		rm -rf "$WORKER_DIR/subprojects/$dir"
		cp -R "$STUBS_DIR/$name" "$WORKER_DIR/subprojects/$dir"
		STUB_TARGETS+=("$WORKER_DIR/subprojects/$dir")
	elif [ "$name" = wingetopt ]; then
		: # Windows only.
	else
		warn "no stub for meson wrap '$name' (new in mediasoup $MS_VERSION?): the build fails if the worker needs it"
	fi
done
log "meson subprojects stubbed: ${#STUB_TARGETS[@]} (system libraries via pkg-config)"

# 5e. Configure and build.
run_step() {
	# $1: description; rest: command. Output goes to $LOG; a progress line every 30 s.
	local desc="$1"
	shift
	log "$desc"
	printf '\n===== %s: %s\n' "$desc" "$*" >>"$LOG"
	"$@" </dev/null >>"$LOG" 2>&1 &
	local pid=$! rc=0 ticks=0 last
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		ticks=$((ticks + 1))
		if [ $((ticks % 30)) -eq 0 ]; then
			last="$(grep -o '^\[[0-9]*/[0-9]*\]' "$LOG" 2>/dev/null | tail -n 1 || true)"
			log "  ... ${ticks}s ${last}"
		fi
	done
	wait "$pid" || rc=$?
	if [ "$rc" -ne 0 ]; then
		printf '%s ---- last lines of %s ----\n' "$PREFIX" "$LOG" >&2
		tail -n 60 "$LOG" >&2 || true
		die "$desc failed (exit $rc); full log: $LOG"
	fi
}

MESON_SETUP_ARGS=(
	--buildtype release
	-Db_ndebug=true
	--wrap-mode=nodownload
	--prefix "$RELEASE_DIR"
	--bindir ""
	--libdir ""
)
# Older mediasoup releases (3.1x) had liburing support, which needs a newer
# liburing than Debian 12's.
if grep -q "ms_disable_liburing" "$WORKER_DIR/meson_options.txt" 2>/dev/null; then
	MESON_SETUP_ARGS+=(-Dms_disable_liburing=true)
fi
if [ -n "$SRTP_PREFIX" ]; then
	MESON_SETUP_ARGS+=("-Dlibsrtp3:moim_libsrtp2_prefix=$SRTP_PREFIX")
fi
if [ -n "${MOIM_MESON_ARGS:-}" ]; then
	# shellcheck disable=SC2206
	MESON_SETUP_ARGS+=(${MOIM_MESON_ARGS})
fi

rm -rf "$BUILD_DIR"
log "compiler output goes to ${LOG#"$PWD"/}"
(cd "$WORKER_DIR" && run_step "meson setup" "$MESON" setup "${MESON_SETUP_ARGS[@]}" "$BUILD_DIR")
run_step "compiling flatbuffers-generator (FBS headers)" "$MESON" compile -C "$BUILD_DIR" -j "$JOBS" flatbuffers-generator
run_step "compiling mediasoup-worker with -j$JOBS (takes ~4 min on 2 cores)" "$MESON" compile -C "$BUILD_DIR" -j "$JOBS" mediasoup-worker

[ -x "$BUILD_DIR/mediasoup-worker" ] || die "build finished but $BUILD_DIR/mediasoup-worker is missing (see $LOG)"
cp "$BUILD_DIR/mediasoup-worker" "$BIN.tmp.$$"
chmod 0755 "$BIN.tmp.$$"
mv -f "$BIN.tmp.$$" "$BIN"
if ! bin_runs "$BIN"; then
	ldd "$BIN" >&2 || true
	die "the built worker does not run (expected exit 41 without MEDIASOUP_VERSION)"
fi
write_stamp
store_in_cache "local build ($OS_TAG, system libraries, $SRTP_DESC)"

if [ "${MOIM_KEEP_BUILD:-0}" != 1 ]; then
	rm -rf "$BUILD_DIR" "$PIP_DIR" "$LIBSRTP_WORK"
	for d in "${STUB_TARGETS[@]}"; do rm -rf "$d"; done
fi

log "built ${BIN#"$PWD"/} ($(du -h "$BIN" | cut -f1), $SRTP_DESC) in $(($(date +%s) - START_TS)) s"
