/**
 * Import boundaries (issue 16, item 5), checked by `pnpm check:arch` (and so by .ci/run):
 *   - no package imports an app (a package's tests may import only the simulator's test helpers,
 *     @ivr/genesys-sim/testing);
 *   - packages/core is pure: no I/O (network, files, processes, Redis, BullMQ, Elasticsearch, Genesys SDK, HTTP
 *     frameworks, loggers);
 *   - the Genesys simulator (apps/genesys-sim) shares no code with the client it stands in for: neither
 *     packages/genesys nor the Genesys SDK (its tests may use the SDK: they are the contract the real SDK checks);
 *   - the queue contract (packages/queue-contract) imports neither the receiver side (packages/intake) nor the
 *     worker side (packages/pipeline), and those two do not import each other;
 *   - packages/metrics imports no intake/pipeline/ops/Genesys code; packages/reporting (non-test) no queue package;
 *   - no circular imports.
 * Workspace packages are imported by name (@ivr/...) and resolved through pnpm's symlinks to their real path
 * (packages/..., apps/...), which is what the rules match.
 */

/** Node built-ins that do I/O (with or without the `node:` prefix). node:crypto, node:util etc. are pure. */
const IO_BUILTINS = ['net', 'tls', 'dgram', 'dns', 'fs', 'fs/promises', 'http', 'https', 'http2', 'child_process', 'cluster', 'worker_threads', 'readline', 'process'];
/** I/O libraries (third-party packages that talk to something). */
const IO_PACKAGES = ['ioredis', 'bullmq', '@elastic', 'purecloud-platform-client-v2', 'hono', '@hono', 'pino', 'prom-client', 'playwright-core', 'autocannon', '@bull-board'];

const builtinPattern = `^(node:)?(${IO_BUILTINS.join('|').replace(/\//g, '\\/')})$`;
/** Resolved (node_modules/<name>/...) or, when the package is not even a dependency, the bare name. */
const packagePattern = `(^|node_modules/)(${IO_PACKAGES.join('|')})(/|$)`;

module.exports = {
  forbidden: [
    {
      name: 'no-package-imports-app',
      severity: 'error',
      comment: 'Packages hold the logic; apps only wire it. A package that needs something from an app: move it into a package.',
      from: { path: '^packages/', pathNot: '\\.test\\.ts$' },
      to: { path: '^apps/' },
    },
    {
      name: 'package-tests-import-only-the-simulator-helpers',
      severity: 'error',
      comment:
        "A package's tests may drive the Genesys simulator through its test helpers (@ivr/genesys-sim/testing: the client's contract tests run against it); nothing else of an app.",
      from: { path: '^packages/.+\\.test\\.ts$' },
      to: { path: '^apps/', pathNot: '^apps/genesys-sim/src/testing/' },
    },
    {
      name: 'core-does-no-io',
      severity: 'error',
      comment: 'packages/core is the pure model (state machine, routing policy, webhook parsing): no network, files, Redis, queues or loggers.',
      from: { path: '^packages/core/' },
      to: { path: [builtinPattern, packagePattern] },
    },
    {
      name: 'sim-is-not-the-client',
      severity: 'error',
      comment:
        'The simulator must not share code with the Genesys client it stands in for (packages/genesys, the SDK); only its tests may drive it with the real SDK. Type-only imports of the SDK models are allowed: they share no code and keep its answers in the shape of the real API.',
      from: { path: '^apps/genesys-sim/', pathNot: '\\.test\\.ts$' },
      to: { path: ['^packages/genesys/', '(^|node_modules/)purecloud-platform-client-v2(/|$)'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'queue-contract-is-shared',
      severity: 'error',
      comment:
        'packages/queue-contract is what the receiver side (intake) and the worker side (pipeline) share: names, job schemas, queues, the answered mark. It imports neither side, nor anything built on them.',
      from: { path: '^packages/queue-contract/' },
      to: { path: '^packages/(intake|pipeline|ops|metrics|reporting|genesys|queues)/' },
    },
    {
      name: 'intake-and-pipeline-apart',
      severity: 'error',
      comment:
        'The receiver side (packages/intake) and the worker side (packages/pipeline) talk only through the queue contract and Redis: neither imports the other. Something both need belongs in packages/queue-contract.',
      from: { path: '^packages/(intake|pipeline)/' },
      to: { path: '^packages/(intake|pipeline)/', pathNot: '^packages/$1/' },
    },
    {
      name: 'metrics-reads-no-logic',
      severity: 'error',
      comment:
        'packages/metrics is the Prometheus catalogue: it reads counters structurally (OccupancyCounters, BatchCounters, BudgetCounters) and imports no intake, pipeline, ops or Genesys code.',
      from: { path: '^packages/metrics/' },
      to: { path: '^packages/(intake|pipeline|ops|genesys|reporting)/' },
    },
    {
      name: 'reporting-is-not-the-queues',
      severity: 'error',
      comment:
        'packages/reporting (decision stores, heatmaps) depends on core and the Redis plumbing only; its tests may drive it with the queue contract and the report batcher.',
      from: { path: '^packages/reporting/', pathNot: '\\.test\\.ts$' },
      to: { path: '^packages/(queue-contract|intake|pipeline|ops|metrics|queues)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle of imports: cut it by moving the shared piece into the module both sides import.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^integrations/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.cjs', '.mjs', '.json', '.d.ts'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
