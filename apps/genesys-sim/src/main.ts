import pino from 'pino';
import { loadConfigSubset, orExit } from '@ivr/config';
import { startSim } from './server';

const logger = pino({ name: 'genesys-sim' });

async function main(): Promise<void> {
  // The simulator reads SIM_PORT only (a bad value: one line, exit 78); the rest of the environment is the apps' business.
  const { SIM_PORT: port } = orExit(() => loadConfigSubset(['SIM_PORT']));
  const sim = await startSim({ port, host: '127.0.0.1' });
  logger.info({ url: sim.url, port: sim.port, clientId: sim.state.clientId }, 'Genesys simulator listening');
  const stop = (signal: string) => {
    logger.info({ signal }, 'Genesys simulator stopping');
    sim.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  if (process.send) process.once('disconnect', () => stop('parent exited')); // started by scripts/start.ts, which is gone
}

main().catch((err: unknown) => {
  // A port in use is an expected failure: one line, no stack trace (issue 13).
  if (/EADDRINUSE/.test(String((err as Error).message))) process.stderr.write(`genesys-sim: cannot start: ${(err as Error).message} (SIM_PORT); stop the other process or choose another port\n`);
  else logger.error({ err }, 'Genesys simulator failed to start');
  process.exit(1);
});
