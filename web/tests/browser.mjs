// Browser tests of the yizhan page in a real (headless) Chromium, driven by playwright-core.
//
//   node web/tests/browser.mjs http://127.0.0.1:8080 [screenshot-dir]
//
// The server must already run (the Rust test tests/tests/web_browser.rs starts it).
// Chromium: $CHROMIUM, else /usr/bin/chromium. Screenshots go to target/screenshots/.
import { chromium } from 'playwright-core';
import { mkdirSync, existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const here = dirname(fileURLToPath(import.meta.url));
const base = (process.argv[2] || process.env.YIZHAN_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const shots = resolve(process.argv[3] || join(here, '../../target/screenshots'));
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const only = process.env.YIZHAN_BROWSER_TEST || '';

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--enable-unsafe-swiftshader',
  '--use-angle=swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const DESKTOP = { viewport: { width: 1366, height: 860 } };
const READY_MS = 60_000;

mkdirSync(shots, { recursive: true });
if (!existsSync(executablePath)) {
  console.error(`Chromium not found at ${executablePath} (set CHROMIUM)`);
  process.exit(2);
}
// chromium.launch() gives every run a fresh, empty profile directory of its own (and
// removes it afterwards); each test gets a new context (cookies, storage) on top.
const browser = await chromium.launch({ executablePath, headless: true, args: ARGS });
const newContext = (opts) => browser.newContext(opts);

/** Open the page in a new context; collects errors and requests that leave the server. */
async function open(opts, hash = '') {
  const ctx = await newContext(opts);
  const page = await ctx.newPage();
  const errors = [];
  const foreign = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !u.startsWith('data:') && !u.startsWith('blob:')) foreign.push(u);
  });
  await page.goto(`${base}/${hash}`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true' || document.body.dataset.ready === 'error', null, {
    timeout: READY_MS,
  });
  assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true', 'page boots');
  return { ctx, page, errors, foreign };
}

/** Wait until the map has drawn and is idle. */
async function idle(page) {
  await page.evaluate(
    () =>
      new Promise((res) => {
        const m = window.yizhan.map;
        if (m.loaded() && !m.isMoving()) {
          m.once('idle', res);
          m.triggerRepaint();
        } else m.once('idle', res);
      }),
  );
}

async function shot(page, name) {
  await idle(page);
  await page.screenshot({ path: join(shots, name) });
}

/** Tap the map at a fraction of its canvas; returns the [lon, lat] tapped. */
async function tapMap(page, fx, fy) {
  const box = await page.locator('#map canvas').boundingBox();
  const x = box.x + box.width * fx;
  const y = box.y + box.height * fy;
  const ll = await page.evaluate(
    ([px, py]) => {
      const r = window.yizhan.map.getCanvas().getBoundingClientRect();
      const p = window.yizhan.map.unproject([px - r.left, py - r.top]);
      return [p.lng, p.lat];
    },
    [x, y],
  );
  await page.mouse.click(x, y);
  return ll;
}

async function apiJson(path, init) {
  const res = await fetch(`${base}${path}`, init);
  if (!res.ok) assert.fail(`${path}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

const featureId = (f) => String(f.properties?.id ?? f.id);

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('courier: map reaches idle with the station layer drawn (phone, Chinese)', async () => {
  const { ctx, page, errors, foreign } = await open({ ...PHONE, locale: 'zh-CN' });
  await idle(page);
  const drawn = await page.evaluate(() => {
    const m = window.yizhan.map;
    return {
      layer: !!m.getLayer('stations'),
      rendered: m.queryRenderedFeatures({ layers: ['stations'] }).length,
      total: window.yizhan.layers.stations.features.length,
    };
  });
  assert.ok(drawn.layer, 'stations layer exists');
  assert.ok(drawn.total > 0, 'stations loaded from the server');
  assert.ok(drawn.rendered > 0, `stations drawn on the map (${JSON.stringify(drawn)})`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN', 'Chinese by default for a zh browser');
  assert.equal((await page.locator('#courier-heading').textContent()).trim(), '查找最近的驿站');
  await shot(page, 'courier-start.png');
  assert.deepEqual(foreign, [], 'the page fetched nothing outside the server');
  assert.deepEqual(errors, [], 'no errors in the page');
  await ctx.close();
});

test('courier: tapping a point lists the same nearest stations as the API', async () => {
  const { ctx, page, errors, foreign } = await open({ ...PHONE, locale: 'zh-CN' });
  await idle(page);
  // Tap a point between stations, then wait for the list (ranked by the page's travel
  // mode: walking on the streets by default when the server has them, #18).
  await page.waitForFunction(() => document.body.dataset.network, null, { timeout: 10_000 });
  const by = await page.evaluate(() => window.yizhan.courier.by);
  const byQ = by === 'straight' ? '' : `&by=${by}`;
  const [lon, lat] = await tapMap(page, 0.42, 0.55);
  await page.waitForFunction(() => document.body.dataset.courier === 'ready', null, { timeout: 20_000 });
  const listed = await page.locator('#results li').evaluateAll((lis) => lis.map((li) => li.dataset.id));
  assert.ok(listed.length > 0 && listed.length <= 5, `1..5 stations listed, got ${listed.length}`);
  const api = await apiJson(`/api/v1/stations/nearest?lat=${lat.toFixed(6)}&lon=${lon.toFixed(6)}&k=5&kind=rest_station${byQ}`);
  const expected = api.features.map(featureId);
  assert.deepEqual(listed, expected, 'page lists the API answer, nearest first');
  // The nearest is highlighted on the map, with a line to it.
  const drawn = await page.evaluate(() => {
    const m = window.yizhan.map;
    return {
      current: document.querySelector('#results li[aria-current="true"]')?.dataset.id,
      line: window.yizhan.route?.features?.length ?? 0,
      lineRendered: m.queryRenderedFeatures({ layers: ['route-line'] }).length,
    };
  });
  assert.equal(drawn.current, expected[0], 'the nearest station is the chosen one');
  assert.ok(drawn.line >= 1 && drawn.lineRendered >= 1, `a line is drawn to it ${JSON.stringify(drawn)}`);
  const first = await page.locator('#results li').first().textContent();
  assert.match(first, /分钟/, 'walking / e-bike minutes shown');
  // An amenity chip filters the list the same way as the API.
  await page.locator('.chip[data-amenity="charging"]').click();
  await page.waitForFunction(() => document.body.dataset.courier === 'ready', null, { timeout: 20_000 });
  const filtered = await page.locator('#results li').evaluateAll((lis) => lis.map((li) => li.dataset.id));
  const apiF = await apiJson(`/api/v1/stations/nearest?lat=${lat.toFixed(6)}&lon=${lon.toFixed(6)}&k=5&kind=rest_station&amenity=charging${byQ}`);
  assert.deepEqual(filtered, apiF.features.map(featureId), 'the charging filter matches the API');
  await page.locator('.chip[data-amenity="charging"]').click();
  await page.waitForFunction(() => document.body.dataset.courier === 'ready', null, { timeout: 20_000 });
  await shot(page, 'courier.png');
  assert.deepEqual(foreign, [], 'the page fetched nothing outside the server');
  assert.deepEqual(errors, [], 'no errors in the page');
  await ctx.close();
});

test('courier: "use my location" finds the station the phone stands at', async () => {
  const stations = await apiJson('/ogc/collections/stations/items?limit=10000').catch(() => apiJson('/api/v1/export/stations.geojson'));
  const rest = stations.features.filter((f) => f.properties.kind === 'rest_station');
  const target = rest[Math.floor(rest.length / 2)];
  const [lon, lat] = target.geometry.coordinates;
  const { ctx, page, errors } = await open({
    ...PHONE,
    locale: 'en-US',
    permissions: ['geolocation'],
    geolocation: { latitude: lat, longitude: lon, accuracy: 10 },
  });
  await page.waitForFunction(() => document.body.dataset.network, null, { timeout: 10_000 });
  const by = await page.evaluate(() => window.yizhan.courier.by);
  await page.locator('#locate').click();
  await page.waitForFunction(() => document.body.dataset.courier === 'ready', null, { timeout: 20_000 });
  const first = page.locator('#results li').first();
  assert.equal(await first.getAttribute('data-id'), featureId(target), 'the station at the phone is listed first');
  // 0 m in a straight line; along the streets (the default with a street network, #18)
  // the network metres the API gives, from the phone's snap to the station's.
  const api = await apiJson(`/api/v1/stations/nearest?lat=${lat.toFixed(6)}&lon=${lon.toFixed(6)}&k=5&kind=rest_station${by === 'straight' ? '' : `&by=${by}`}`);
  const d = Math.round(api.features[0].properties.network_m ?? 0);
  assert.match(await first.textContent(), new RegExp(`\\b${d} m\\b`), `at ${d} m`);
  assert.deepEqual(errors, [], 'no errors in the page');
  await ctx.close();
});

test('language switch changes the labels', async () => {
  const { ctx, page, errors } = await open({ ...PHONE, locale: 'zh-CN' });
  const zh = (await page.locator('#courier-heading').textContent()).trim();
  const zhTab = (await page.locator('#tab-planner').textContent()).trim();
  await page.locator('#lang-switch').click();
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  const en = (await page.locator('#courier-heading').textContent()).trim();
  assert.notEqual(zh, en);
  assert.equal(en, 'Find the nearest station');
  assert.equal((await page.locator('#tab-planner').textContent()).trim(), 'Plan');
  assert.notEqual(zhTab, 'Plan');
  assert.equal((await page.locator('#locate').textContent()).trim(), 'Use my location');
  // The choice sticks across a reload.
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: READY_MS });
  assert.equal((await page.locator('#courier-heading').textContent()).trim(), 'Find the nearest station');
  await page.locator('#lang-switch').click();
  assert.equal((await page.locator('#courier-heading').textContent()).trim(), zh);
  // An English browser starts in English.
  const en2 = await open({ ...PHONE, locale: 'en-GB' });
  assert.equal((await en2.page.locator('#courier-heading').textContent()).trim(), 'Find the nearest station');
  await shot(en2.page, 'courier-en.png');
  await en2.ctx.close();
  assert.deepEqual(errors, [], 'no errors in the page');
  await ctx.close();
});

test('planner: layers, cutoff, candidates, compare and best sites (desktop)', async () => {
  const { ctx, page, errors, foreign } = await open({ ...DESKTOP, locale: 'en-US' });
  await page.locator('#tab-planner').click();
  await page.waitForFunction(() => document.body.dataset.coverage === 'ready', null, { timeout: 30_000 });
  await idle(page);
  const layers = await page.evaluate(() => {
    const m = window.yizhan.map;
    const vis = (id) => m.getLayoutProperty(id, 'visibility') !== 'none';
    return {
      heat: vis('hotspots-heat'),
      gaps: vis('gaps-fill'),
      boundary: vis('boundary-line'),
      stations: m.queryRenderedFeatures({ layers: ['stations'] }).length,
      gapCells: window.yizhan.layers.gaps.features.length,
    };
  });
  assert.ok(layers.heat && layers.gaps && layers.boundary, `planner layers shown ${JSON.stringify(layers)}`);
  assert.ok(layers.stations > 0, 'stations drawn');
  assert.ok(layers.gapCells > 0, 'gap cells loaded');
  const fig1 = (await page.locator('#coverage-figure').textContent()).trim();
  assert.match(fig1, /%$/, 'coverage figure shown');
  // Move the cutoff slider: the coverage figure follows the API.
  await page.locator('#cutoff').fill('800');
  await page.waitForFunction((f) => document.body.dataset.coverage === 'ready' && document.querySelector('#coverage-value, #cutoff-value').textContent.startsWith('800'), fig1);
  await page.waitForFunction(() => document.body.dataset.coverage === 'ready');
  await page.waitForTimeout(400);
  await page.waitForFunction(() => document.body.dataset.coverage === 'ready');
  const fig2 = (await page.locator('#coverage-figure').textContent()).trim();
  assert.match(fig2, /%$/);
  assert.ok(parseFloat(fig2) >= parseFloat(fig1), `coverage grows with the cutoff (${fig1} → ${fig2})`);

  // Time of day: the coverage and the busiest stations follow the API at that hour.
  const atHour = async (h) => {
    await page.locator('#hour').fill(String(h));
    const want = h === 24 ? 'day' : String(h);
    await page.waitForFunction((w) => document.body.dataset.hour === w && document.body.dataset.coverage === 'ready', want, { timeout: 30_000 });
    await page.waitForTimeout(400);
    await page.waitForFunction(() => document.body.dataset.coverage === 'ready');
    return (await page.locator('#coverage-detail').textContent()).trim();
  };
  for (const h of [4, 12]) {
    const shown = await atHour(h);
    const api = await apiJson(`/api/v1/coverage?cutoff_m=800&peak_share=0.1&hour=${h}`);
    const total = Math.round(api.total_demand).toLocaleString('en-US');
    assert.ok(shown.includes(total), `at ${h}:00 the page shows the API's ${total} workers (${shown})`);
    assert.match(await page.locator('#hour-value').textContent(), new RegExp(`^${String(h).padStart(2, '0')}:00`));
    const busiest = [...api.stations].filter((s) => s.capacity > 0).sort((a, b) => b.load / b.capacity - a.load / a.capacity)[0];
    const first = await page.locator('#load-table tbody tr').first().getAttribute('data-id');
    assert.equal(first, busiest.id, `the busiest station at ${h}:00 is listed first`);
  }
  await shot(page, 'planner-noon.png');
  await atHour(24);
  assert.equal((await page.locator('#hour-value').textContent()).trim(), 'All day');

  // Along the streets: the figures are the API's network ones, and the service
  // areas are drawn.
  await page.waitForFunction(() => document.body.dataset.network === 'loaded', null, { timeout: 30_000 });
  const byWalk = async (v) => {
    await page.locator('#by').selectOption(v);
    await page.waitForTimeout(300);
    await page.waitForFunction(() => document.body.dataset.coverage === 'ready', null, { timeout: 30_000 });
    return (await page.locator('#coverage-detail').textContent()).trim();
  };
  const walkShown = await byWalk('walk');
  const walkApi = await apiJson('/api/v1/coverage?cutoff_m=800&peak_share=0.1&by=walk');
  assert.equal(walkApi.distance.network, true);
  const straightApi = await apiJson('/api/v1/coverage?cutoff_m=800&peak_share=0.1');
  assert.ok(walkShown.startsWith(Math.round(walkApi.covered_demand).toLocaleString('en-US')), `walk coverage shown (${walkShown})`);
  assert.ok(walkApi.covered_demand <= straightApi.covered_demand, 'streets never cover more than straight lines');
  await page.locator('[data-layer="areas"]').check();
  await page.waitForFunction(() => document.body.dataset.areas === 'ready' && (window.yizhan.layers.areas?.features?.length ?? 0) > 0, null, { timeout: 30_000 });
  await idle(page);
  const areasDrawn = await page.evaluate(() => window.yizhan.map.queryRenderedFeatures({ layers: ['areas-fill'] }).length);
  assert.ok(areasDrawn > 0, 'service areas drawn');
  await shot(page, 'planner-streets.png');
  await page.locator('[data-layer="areas"]').uncheck();
  await byWalk('straight');

  // Drop two candidates and compare.
  await tapMap(page, 0.3, 0.4);
  await tapMap(page, 0.65, 0.6);
  assert.equal(await page.locator('[data-candidate]').count(), 2, 'two candidate pins');
  await page.locator('#compare').click();
  await page.waitForFunction(() => document.body.dataset.compare === 'ready', null, { timeout: 30_000 });
  const captionErr = await page.locator('#compare-table caption').count();
  assert.equal(captionErr, 0, `compare failed: ${captionErr ? await page.locator('#compare-table caption').textContent() : ''}`);
  assert.equal(await page.locator('#compare-table tbody tr[data-id="C1"]').count(), 1, 'a row for candidate C1');
  assert.equal(await page.locator('#compare-table tbody tr[data-id="C2"]').count(), 1, 'a row for candidate C2');

  // Best p new sites.
  await page.locator('#select-p').fill('3');
  await page.locator('#select-run').click();
  await page.waitForFunction(() => document.body.dataset.select === 'ready', null, { timeout: 60_000 });
  await idle(page);
  const chosen = await page.evaluate(() => window.yizhan.chosen?.features?.length ?? 0);
  const chosenDrawn = await page.evaluate(() => window.yizhan.map.queryRenderedFeatures({ layers: ['chosen-sites'] }).length);
  const status = await page.locator('#select-status').textContent();
  assert.equal(chosen, 3, `three best sites chosen (${status})`);
  assert.ok(chosenDrawn > 0, 'best sites drawn on the map');

  // Plan export is GeoJSON with the candidates and chosen sites.
  const plan = await page.evaluate(() => window.yizhan.planner.planGeoJson());
  assert.equal(plan.type, 'FeatureCollection');
  assert.ok(plan.features.filter((f) => f.properties.role === 'candidate').length === 2);
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-export="stations"]').click()]);
  assert.match(download.suggestedFilename(), /stations\.geojson$/);
  await page.locator('#planner-panel').evaluate((el) => el.scrollTo(0, 0));
  await shot(page, 'planner.png');
  assert.deepEqual(foreign, [], 'the page fetched nothing outside the server');
  assert.deepEqual(errors, [], 'no errors in the page');
  await ctx.close();
});

test('basemap: failing tiles leave the data layers and show a notice', async () => {
  const ctx = await newContext({ ...DESKTOP, locale: 'en-US' });
  const page = await ctx.newPage();
  // Configure a tile server that refuses connections (a closed loopback port).
  await page.route('**/api/v1/config', async (route) => {
    const res = await route.fetch();
    const cfg = await res.json();
    cfg.basemap = 'http://127.0.0.1:9/tiles/{z}/{x}/{y}.png';
    await route.fulfill({ response: res, json: cfg });
  });
  await page.goto(`${base}/`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: READY_MS });
  await page.waitForFunction(() => document.body.dataset.basemap === 'failed', null, { timeout: 30_000 });
  const notice = await page.locator('#notice');
  assert.ok(await notice.isVisible(), 'notice visible');
  assert.match(await notice.textContent(), /Base map tiles could not be loaded/);
  await idle(page);
  const rendered = await page.evaluate(() => window.yizhan.map.queryRenderedFeatures({ layers: ['stations'] }).length);
  assert.ok(rendered > 0, 'stations still drawn');
  await shot(page, 'basemap-failed.png');
  await ctx.close();
});

let passed = 0;
let failed = 0;
for (const { name, fn } of tests) {
  if (only && !name.includes(only)) continue;
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name} (${Date.now() - t0} ms)\n     ${String(e.stack || e).split('\n').slice(0, 6).join('\n     ')}`);
  }
}
await browser.close();
console.log(`screenshots: ${shots}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
