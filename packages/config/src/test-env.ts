import { z } from 'zod';
import { envSchema } from './config';

/**
 * Variables only test suites and their helpers read (README, Tests), parsed like the apps' configuration. An
 * Elasticsearch suite reads the node the apps would use (ELASTICSEARCH_URL, else ELASTICSEARCH_HOST, and its API key).
 */
const testEnvSchema = z.object({
  /** Under CI (`true` or `1`) a suite that needs a real Elasticsearch fails instead of skipping. */
  CI: z
    .string()
    .optional()
    .transform((v) => v === 'true' || v === '1'),
  /** The Chromium the browser tests drive (playwright-core), Debian's by default. */
  CHROMIUM_PATH: z
    .string()
    .optional()
    .transform((v) => v || '/usr/bin/chromium'),
  ELASTICSEARCH_URL: envSchema.shape.ELASTICSEARCH_URL,
  ELASTICSEARCH_HOST: envSchema.shape.ELASTICSEARCH_HOST,
  ELASTICSEARCH_API_KEY: envSchema.shape.ELASTICSEARCH_API_KEY,
});

export type TestEnv = z.infer<typeof testEnvSchema>;

/** The test-only variables (never fails: each has a meaning for any value). */
export function loadTestEnv(env: Record<string, string | undefined> = process.env): TestEnv {
  return testEnvSchema.parse(env);
}
