#!/usr/bin/env bash
# One-time set-up on a fresh machine: pnpm (if missing), the workspace's dependencies, Debian's redis-server
# (installed when missing, started on 127.0.0.1:6379 with noeviction when nothing answers there) and Debian's
# Chromium for the browser test (if missing), Debian's prometheus package for promtool (if missing). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

can_apt() { command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v pnpm >/dev/null 2>&1; then
  echo "[setup] installing pnpm 10 (npm install -g pnpm@10)"
  npm install -g pnpm@10
fi
if [ "${CI:-}" = "true" ]; then pnpm install --frozen-lockfile; else pnpm install; fi

# Redis: the queues, idempotency keys and the embedded store live there.
if ! command -v redis-server >/dev/null 2>&1; then
  if can_apt; then
    echo "[setup] installing Debian's redis-server"
    apt_install redis-server redis-tools
  else
    echo "[setup] ERROR: redis-server is missing and apt-get is not usable here; install Redis 7 (or set REDIS_URL)" >&2
    exit 1
  fi
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  echo "[setup] starting redis-server on 127.0.0.1:6379 (maxmemory-policy noeviction, no persistence)"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --maxmemory-policy noeviction --logfile /tmp/ivr-redis-6379.log
  for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 0.1; done
  (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null || { echo "[setup] ERROR: redis-server did not start; see /tmp/ivr-redis-6379.log" >&2; exit 1; }
fi

if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] && [ "${SKIP_BROWSER_TESTS:-}" != "1" ]; then
  if can_apt; then
    echo "[setup] installing Debian's chromium for the browser test"
    apt_install chromium || echo "[setup] WARNING: chromium could not be installed; the browser test will fail (SKIP_BROWSER_TESTS=1 skips it)"
  else
    echo "[setup] NOTE: /usr/bin/chromium missing; install Debian's chromium (or set CHROMIUM_PATH / SKIP_BROWSER_TESTS=1) for the browser test"
  fi
fi
# promtool (Debian's `prometheus` package) checks and unit-tests ops/prometheus/alerts.yml (.ci/run, tests/unit/monitoring.test.ts).
if ! command -v promtool >/dev/null 2>&1; then
  if can_apt; then
    echo "[setup] installing Debian's prometheus package (promtool) for the alert-rule checks"
    apt_install --no-install-recommends prometheus || echo "[setup] WARNING: prometheus (promtool) could not be installed; the alert-rule checks will fail in CI"
  else
    echo "[setup] NOTE: promtool missing; install Debian's prometheus package to check ops/prometheus/alerts.yml"
  fi
fi
echo "[setup] done"
