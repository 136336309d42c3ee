import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { loadTestEnv } from '@ivr/config';

export const CHROMIUM_PATH = loadTestEnv().CHROMIUM_PATH;

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
];

export const CHROMIUM_INSTALL_HINT =
  `Chromium not found at ${CHROMIUM_PATH}. Install it with \`apt-get update && apt-get install -y chromium\` ` +
  '(or point CHROMIUM_PATH at a Chromium/Chrome binary), or set SKIP_BROWSER_TESTS=1 to skip the browser tests.';

/** True when the Chromium binary the browser tests use exists. */
export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** The system Chromium, headless, driven by playwright-core (no bundled browser download). */
export async function launchChromium(): Promise<Browser> {
  if (!chromiumAvailable()) throw new Error(CHROMIUM_INSTALL_HINT);
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

export type { Browser, BrowserContext, Page } from 'playwright-core';
