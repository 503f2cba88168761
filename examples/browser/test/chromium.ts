import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's `chromium` package; CI installs it (`.ci/run`), a developer machine may lack it. */
export const CHROMIUM = process.env.RLR_CHROMIUM ?? '/usr/bin/chromium';

/** `undefined` when the browser can run here, otherwise why the browser tests are skipped. */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  return (
    `[skip] browser end-to-end tests: ${CHROMIUM} not found. Install Debian's chromium ` +
    `(apt-get install -y chromium) or point RLR_CHROMIUM at a Chromium binary to run them.`
  );
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Headless Chromium with a fresh profile, nothing running in the background and no network
 * beyond what the page asks for. There is usually no GPU: WebGL may come up on a software
 * rasteriser or not at all, and the page falls back to wasm.
 */
export async function launchChromium(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'rlr-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1200, height: 900 },
    deviceScaleFactor: 1,
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
