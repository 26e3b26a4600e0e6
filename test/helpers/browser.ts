/** Real headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core, with a fresh profile. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.GOBEARMON_CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<{ context: BrowserContext; dir: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'gbm-browser-'));
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run',
      '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    dir,
    async close() {
      await context.close();
      rmSync(join(dir, 'profile'), { recursive: true, force: true });
    },
  };
}
