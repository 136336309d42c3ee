/**
 * @ivr/testing: the one test harness of tests, chaos and bench (issue 16 item 4). What it holds, by module:
 * processes (spawnNode/startApp with log files, waitForHttp, assertRunning), cleanup (Cleanup), ports (freePort),
 * wait (waitFor), shared Redis (prefix: TEST_REDIS_URL, unique prefixes, testRedis), a private redis-server
 * (startRedisServer), HTTP load (pool, paced, postWebhook, tally), and log/metrics parsing helpers. It imports no
 * app: entries are named by the caller; the simulator's helpers are `@ivr/genesys-sim/testing`.
 */
export { Cleanup } from './cleanup';
export { parseExposition } from './exposition';
export { pool, paced, postWebhook, tally, type Answer } from './http-load';
export { silentLogger } from './logger';
export { freePort } from './ports';
export { countKeys, deletePrefix, TEST_REDIS_URL, testRedis, uniquePrefix } from './prefix';
export { assertRunning, REPO_ROOT, spawnNode, startApp, waitForHttp, type NodeProcess, type SpawnNodeOptions } from './processes';
export { startRedisServer, type RedisServer, type RedisServerOptions } from './redis-server';
export { parseStrictJson } from './strict-json';
export { readsBeforePeer, rejectionOf, waitFor } from './wait';
