# syntax=docker/dockerfile:1.7
# One image for every app; docker-compose.yml picks the app with `command`.
#   docker build -t ivr-orchestrator .
#   docker run --rm -p 3000:3000 ivr-orchestrator                       # receiver (default)
#   docker run --rm ivr-orchestrator node --import tsx apps/worker/src/main.ts

ARG NODE_IMAGE=node:20-bookworm-slim

# --- base: Node + pnpm (npm-installed: corepack is unreliable behind proxies and in CI) ------------------
FROM ${NODE_IMAGE} AS base
# Exactly the version in package.json "packageManager", so pnpm does not try to switch versions.
ARG PNPM_VERSION=10.34.9
RUN npm install -g pnpm@${PNPM_VERSION} && pnpm --version
ENV CI=true
WORKDIR /app

# --- deps: install from the lockfile; only manifests are copied so this layer caches across code edits --
FROM base AS deps
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY apps/receiver/package.json apps/receiver/package.json
COPY apps/worker/package.json apps/worker/package.json
COPY apps/dashboard/package.json apps/dashboard/package.json
COPY apps/genesys-sim/package.json apps/genesys-sim/package.json
COPY packages/config/package.json packages/config/package.json
COPY packages/core/package.json packages/core/package.json
COPY packages/genesys/package.json packages/genesys/package.json
COPY packages/queue-contract/package.json packages/queue-contract/package.json
COPY packages/redis/package.json packages/redis/package.json
COPY packages/intake/package.json packages/intake/package.json
COPY packages/pipeline/package.json packages/pipeline/package.json
COPY packages/ops/package.json packages/ops/package.json
COPY packages/metrics/package.json packages/metrics/package.json
COPY packages/reporting/package.json packages/reporting/package.json
COPY packages/runtime/package.json packages/runtime/package.json
COPY packages/testing/package.json packages/testing/package.json
# All dependencies, dev included: the apps run TypeScript source through tsx (a root devDependency).
# (NODE_ENV is not production in this stage, so devDependencies are installed.)
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --store-dir /pnpm/store

# --- build: the source on top of the installed dependencies ---------------------------------------------
FROM deps AS build
# .dockerignore keeps node_modules, .git, .env, reports and recordings out of the context.
COPY . .
# Workspace packages are consumed as TypeScript source (exports: ./src/index.ts): nothing to compile.

# --- runtime ----------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    RECEIVER_HOST=0.0.0.0 \
    RECEIVER_PORT=3000 \
    DASHBOARD_PORT=3001
WORKDIR /app
COPY --from=build --chown=node:node /app /app
RUN mkdir -p /app/reports && chown node:node /app/reports
USER node
EXPOSE 3000 3001
# Health checks are per service in docker-compose.yml (the worker has no HTTP port).
CMD ["node", "--import", "tsx", "apps/receiver/src/main.ts"]
