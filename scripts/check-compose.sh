#!/usr/bin/env bash
# Validate docker-compose.yml without a Docker engine (Debian's docker-compose checks the file only).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v docker-compose >/dev/null 2>&1; then
  echo "check-compose: docker-compose is not installed (apt-get install docker-compose)" >&2
  exit 1
fi
MOIM_JWT_SECRET=${MOIM_JWT_SECRET:-compose-check-secret-0123456789abcdef} docker-compose -f docker-compose.yml config -q
echo "docker-compose.yml is valid"
