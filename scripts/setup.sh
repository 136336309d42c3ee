#!/usr/bin/env bash
# One-time set-up on a fresh machine: pnpm (if missing), the workspace's dependencies, and Debian's Chromium
# for the browser test (if missing and apt-get is available). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v pnpm >/dev/null 2>&1; then
  echo "[setup] installing pnpm 10 (npm install -g pnpm@10)"
  npm install -g pnpm@10
fi
if [ "${CI:-}" = "true" ]; then pnpm install --frozen-lockfile; else pnpm install; fi
if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] && [ "${SKIP_BROWSER_TESTS:-}" != "1" ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    echo "[setup] installing Debian's chromium for the browser test"
    (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "[setup] WARNING: chromium could not be installed; the browser test will fail (SKIP_BROWSER_TESTS=1 skips it)"
  else
    echo "[setup] NOTE: /usr/bin/chromium missing; install Debian's chromium (or set CHROMIUM_PATH / SKIP_BROWSER_TESTS=1) for the browser test"
  fi
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  echo "[setup] NOTE: nothing listens on 127.0.0.1:6379; start Redis 7 (redis-server) or set REDIS_URL"
fi
echo "[setup] done"
