/**
 * The dashboard in real headless Chromium: log in, see checks, filter by two tags, a check page with
 * its chart, a check going down shown without a reload, names shown as text, no secrets on the
 * public page. Screenshots go to the test's temporary folder (printed); GOBEARMON_SCREENSHOT=path
 * also writes the dashboard's.
 */
import assert from 'node:assert/strict';

import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { openStore } from '../../src/store/open';
import type { Store } from '../../src/store/store';
import { WebServer } from '../../src/web/server';
import { launchBrowser } from '../helpers/browser';
import { captureLogger, kitConfig } from '../helpers/controller-kit';
import { ENGINES, type EngineDb } from '../helpers/engines';
import { freePort } from '../helpers/ports';
import { waitFor } from '../helpers/wait';
import { PUSH_TOKEN, SECRET, seedWeb, type Seeded } from '../helpers/web';

describe('dashboard in Chromium', () => {
  let db: EngineDb;
  let store: Store;
  let web: WebServer;
  let ids: Seeded;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let base: string;
  let page: Page;
  const dialogs: string[] = [];
  const shot = async (name: string) => {
    const path = join(browser.dir, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
  };

  before(async () => {
    db = await ENGINES.find((e) => e.name === 'sqlite')!.create();
    store = await openStore([db.dsn]);
    await store.migrate();
    const now = Date.now();
    ids = await seedWeb(store, now);
    // A few more checks with an hour of history, so sparklines and the chart have something to draw.
    const { epoch } = await store.lease();
    const minute = Math.floor(now / 60_000);
    for (const [name, type, tags, base] of [['shop-frontend', 'http', 'prod eu web', 120], ['dns-primary', 'dns', 'prod dns', 15], ['mail-relay', 'tcp', 'prod mail', 40], ['staging-api', 'http', 'staging eu', 200]] as const) {
      const { insertId } = await store.driver.run("INSERT INTO checks (name, type, data, tags) VALUES (?, ?, '{}', ?)", [name, type, tags]);
      await store.writeRollups(epoch, Array.from({ length: 60 }, (_, i) => {
        const ms = Math.round(base * (1 + 0.4 * Math.sin(i / 5) + 0.1 * ((i * 7) % 5)));
        return { checkId: insertId, minute: minute - 59 + i, runs: 1, failures: 0, sumMs: ms, maxMs: ms, lastAt: (minute - 59 + i) * 60_000 + 500, lastMs: ms, lastOk: true };
      }));
    }
    await store.writeRollups(epoch, Array.from({ length: 90 }, (_, i) => ({ checkId: ids.api, minute: minute - 92 + i, runs: 2, failures: i % 30 === 0 ? 1 : 0, sumMs: 2 * (50 + (i % 10) * 5), maxMs: 60 + (i % 10) * 8, lastAt: (minute - 92 + i) * 60_000, lastMs: 55, lastOk: true })));
    const port = await freePort();
    const config = kitConfig({ web: { addr: `127.0.0.1:${port}`, user: 'admin', password: 'pw', public: 'on' } });
    web = new WebServer({ store, config, log: captureLogger().log });
    await web.listen();
    base = `http://127.0.0.1:${port}`;
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    console.log(`# screenshots in ${browser.dir}`);
  });
  after(async () => {
    await browser?.close();
    await web?.close();
    await store?.close();
    await db?.drop();
  });

  test('log in and see every check', async () => {
    await page.goto(`${base}/`);
    assert.match(page.url(), /\/login\?next=/);
    await page.fill('input[name=user]', 'admin');
    await page.fill('input[name=password]', 'wrong');
    await page.click('button[type=submit]');
    assert.match(await page.textContent('body') ?? '', /Wrong user or password/);
    await page.fill('input[name=user]', 'admin');
    await page.fill('input[name=password]', 'pw');
    await page.click('button[type=submit]');
    await page.waitForSelector('#rows tr[data-id]');
    assert.equal(new URL(page.url()).pathname, '/');
    const names = await page.$$eval('#rows tr[data-id] td:nth-child(2)', (tds) => tds.map((td) => td.textContent));
    assert.equal(names.length, 9);
    assert.equal(names[0], 'db-us', 'the offline check comes first');
    assert.ok(names.includes('<script>alert(1)</script>'), 'the hostile name is shown as text');
    assert.deepEqual(dialogs, [], 'no script from the database ran');
    const path = await shot('dashboard');
    if (process.env.GOBEARMON_SCREENSHOT) {
      await page.setViewportSize({ width: 1100, height: 520 });
      await page.screenshot({ path: process.env.GOBEARMON_SCREENSHOT });
      await page.setViewportSize({ width: 1280, height: 800 });
    }
    assert.ok(path);
  });

  test('filter by two tags: only checks with both', async () => {
    await page.goto(`${base}/`);
    await page.fill('input[name=tags]', 'prod eu');
    await page.click('form.filters button[type=submit]');
    await page.waitForURL(/tags=prod/);
    const names = await page.$$eval('#rows tr[data-id] td:nth-child(2)', (tds) => tds.map((td) => td.textContent).sort());
    assert.deepEqual(names, ['api-eu', 'shop-frontend']);
    await shot('filtered');
  });

  test("a check's page draws its chart and masks its secrets", async () => {
    await page.goto(`${base}/check/${ids.api}`);
    await page.waitForSelector('#chart[data-drawn] canvas', { timeout: 20_000 });
    assert.ok(Number(await page.getAttribute('#chart', 'data-drawn')) >= 60, 'a point per minute');
    const box = await page.$eval('#chart canvas', (c) => ({ w: (c as unknown as { width: number }).width, h: (c as unknown as { height: number }).height }));
    assert.ok(box.w > 200 && box.h > 100, JSON.stringify(box));
    const text = await page.textContent('body') ?? '';
    assert.ok(!text.includes(SECRET) && (await page.content()).indexOf(SECRET) === -1);
    assert.match(text, /admin:••••••@api\.example/);
    await shot('check');
  });

  test('a check going down shows on the open dashboard without a reload', async () => {
    await page.goto(`${base}/`);
    await page.evaluate('window.marker = 42');
    const row = `#rows tr[data-id="${ids.api}"]`;
    assert.equal(await page.getAttribute(row, 'data-status'), 'online');
    const { epoch } = await store.lease();
    await store.recordFlip(epoch, { check: { id: ids.api, name: 'api-eu', type: 'http', data: '{}', interval: 60, delay: 1, status: 'online' }, status: 'offline', message: 'HTTP 503', now: Date.now() });
    await waitFor('the row to turn offline', async () => (await page.getAttribute(row, 'data-status')) === 'offline', 30_000, 200);
    assert.equal(await page.evaluate('window.marker'), 42, 'same page: no reload');
    assert.match(await page.textContent('#summary') ?? '', /offline\s*2/);
    await shot('went-down');
  });

  test('the public status page shows up/down but no secret, data or message', async () => {
    const pub = await browser.context.newPage();
    await pub.goto(`${base}/status`);
    await pub.waitForSelector('#public table');
    const html = await pub.content();
    for (const s of [SECRET, PUSH_TOKEN, 'api.example', 'HTTP 503', 'old-thing']) assert.ok(!html.includes(s), `public page shows ${s}`);
    assert.match(await pub.textContent('body') ?? '', /<script>alert\(1\)<\/script>/);
    assert.deepEqual(dialogs, []);
    await pub.screenshot({ path: join(browser.dir, 'status.png'), fullPage: true });
    // Phone-sized: the dashboard still fits the width.
    await page.setViewportSize({ width: 390, height: 800 });
    await page.goto(`${base}/`);
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    assert.ok(overflow <= 4, `page is ${overflow}px wider than a phone`);
    await shot('phone');
    await pub.close();
  });
});

