// Browser tests of the courier view (issue #18) in a real headless Chromium.
//
//   node web/tests/courier.mjs http://127.0.0.1:8080 [screenshot-dir]
//
// The server must already run on the sample town (tests/tests/web_courier.rs starts
// it). Each check runs on a phone-sized (390×844) and a desktop window, in Chinese and
// English, and saves a screenshot under target/screenshots/.
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
const WINDOWS = {
  phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  desktop: { viewport: { width: 1366, height: 860 } },
};
const LOCALES = { zh: 'zh-CN', en: 'en-US' };
const READY_MS = 60_000;

mkdirSync(shots, { recursive: true });
if (!existsSync(executablePath)) {
  console.error(`Chromium not found at ${executablePath} (set CHROMIUM)`);
  process.exit(2);
}
const browser = await chromium.launch({ executablePath, headless: true, args: ARGS });

// ---------------------------------------------------------------- an independent oracle
// The published GCJ-02 and BD-09 formulas, written again here (not imported from the
// page or the server) so that the links are checked against the formulas themselves.
const PI = Math.PI;
const A = 6378245.0;
const EE = 0.00669342162296594323;
const X_PI = (PI * 3000.0) / 180.0;
function outOfChina(lon, lat) {
  return !(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271);
}
function tLat(x, y) {
  let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(y * PI) + 40.0 * Math.sin((y / 3.0) * PI)) * 2.0) / 3.0;
  r += ((160.0 * Math.sin((y / 12.0) * PI) + 320 * Math.sin((y * PI) / 30.0)) * 2.0) / 3.0;
  return r;
}
function tLon(x, y) {
  let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0) / 3.0;
  r += ((20.0 * Math.sin(x * PI) + 40.0 * Math.sin((x / 3.0) * PI)) * 2.0) / 3.0;
  r += ((150.0 * Math.sin((x / 12.0) * PI) + 300.0 * Math.sin((x / 30.0) * PI)) * 2.0) / 3.0;
  return r;
}
function wgsToGcj([lon, lat]) {
  if (outOfChina(lon, lat)) return [lon, lat];
  let dlat = tLat(lon - 105.0, lat - 35.0);
  let dlon = tLon(lon - 105.0, lat - 35.0);
  const radlat = (lat / 180.0) * PI;
  let magic = Math.sin(radlat);
  magic = 1 - EE * magic * magic;
  const sq = Math.sqrt(magic);
  dlat = (dlat * 180.0) / (((A * (1 - EE)) / (magic * sq)) * PI);
  dlon = (dlon * 180.0) / ((A / sq) * Math.cos(radlat) * PI);
  return [lon + dlon, lat + dlat];
}
function gcjToBd([lon, lat]) {
  const z = Math.sqrt(lon * lon + lat * lat) + 0.00002 * Math.sin(lat * X_PI);
  const th = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * X_PI);
  return [z * Math.cos(th) + 0.0065, z * Math.sin(th) + 0.006];
}
function metres([a, b], [c, d]) {
  const r = 6371008.8;
  const f1 = (b * PI) / 180;
  const f2 = (d * PI) / 180;
  const h = Math.sin((f2 - f1) / 2) ** 2 + Math.cos(f1) * Math.cos(f2) * Math.sin((((c - a) * PI) / 180) / 2) ** 2;
  return 2 * r * Math.asin(Math.sqrt(h));
}
const param = (url, key) => new URL(url).searchParams.get(key);

// ---------------------------------------------------------------- helpers
async function open(win, lng, extra = {}) {
  const ctx = extra.ctx ?? (await browser.newContext({ ...WINDOWS[win], locale: LOCALES[lng], ...extra.opts }));
  const page = await ctx.newPage();
  const errors = [];
  const foreign = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !u.startsWith('data:') && !u.startsWith('blob:')) foreign.push(u);
  });
  await page.goto(`${base}/?lang=${lng}`);
  await page.waitForFunction(() => ['true', 'error'].includes(document.body.dataset.ready), null, { timeout: READY_MS });
  assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true', 'page boots');
  await page.waitForFunction(() => document.body.dataset.network, null, { timeout: 10_000 });
  return { ctx, page, errors, foreign };
}

async function idle(page) {
  await page.evaluate(
    () =>
      new Promise((res) => {
        const m = window.yizhan.map;
        m.once('idle', res);
        m.triggerRepaint();
      }),
  );
}

async function shot(page, name) {
  await idle(page);
  await page.screenshot({ path: join(shots, name) });
}

async function ready(page) {
  await page.waitForFunction(() => document.body.dataset.courier === 'ready', null, { timeout: 20_000 });
}

/** Search from a point as a tap does (the map's own click handler path). */
async function searchAt(page, [lon, lat]) {
  await page.evaluate(() => {
    document.body.dataset.courier = 'searching';
  });
  await page.evaluate(([x, y]) => window.yizhan.courier.onClick({ lng: x, lat: y }), [lon, lat]);
  await ready(page);
}

async function apiJson(path) {
  const res = await fetch(`${base}${path}`);
  if (!res.ok) assert.fail(`${path}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

const listed = (page) => page.locator('#results li').evaluateAll((lis) => lis.map((li) => li.dataset.id));
const featureId = (f) => String(f.properties?.id ?? f.id);

const allStations = (await apiJson('/api/v1/export/stations.geojson')).features;
const station = (id) => allStations.find((f) => featureId(f) === id);
const network = (await apiJson('/api/v1/network')).loaded === true;

// A point between stations, and one 150 m east of the town's first rest station.
const ST01 = station('AH-ST-01').geometry.coordinates;
const NEAR_ST01 = [ST01[0] + 0.0015, ST01[1] + 0.0004];

const tests = [];
const test = (name, fn) => tests.push({ name, fn });
const each = (name, fn) => {
  for (const win of ['phone', 'desktop']) for (const lng of ['zh', 'en']) test(`${name} (${win}, ${lng})`, () => fn(win, lng));
};

// ---------------------------------------------------------------- 1. navigate links
each('navigate: each card links Amap, Tencent (GCJ-02), Baidu (BD-09) and geo: (WGS 84)', async (win, lng) => {
  const { ctx, page, errors, foreign } = await open(win, lng);
  await searchAt(page, NEAR_ST01);
  const cards = page.locator('#results li');
  const n = await cards.count();
  assert.ok(n >= 1, 'cards listed');
  for (let i = 0; i < n; i++) {
    const card = cards.nth(i);
    const id = await card.getAttribute('data-id');
    const at = station(id).geometry.coordinates;
    const summary = card.locator('.navigate > summary');
    assert.equal((await summary.textContent()).trim(), lng === 'zh' ? '导航' : 'Navigate');
    await summary.click();
    const links = Object.fromEntries(
      await card.locator('a.nav-link').evaluateAll((as) => as.map((a) => [a.dataset.app, a.href])),
    );
    assert.deepEqual(Object.keys(links).sort(), ['amap', 'baidu', 'geo', 'tencent'], `${id}: four links`);
    const gcj = wgsToGcj(at);
    const bd = gcjToBd(gcj);
    const [alon, alat] = param(links.amap, 'to').split(',').map(Number);
    assert.ok(metres([alon, alat], gcj) < 0.5, `${id}: Amap takes GCJ-02 (${links.amap})`);
    assert.equal(param(links.amap, 'coordinate'), 'gaode');
    const [tlat, tlon] = param(links.tencent, 'tocoord').split(',').map(Number);
    assert.ok(metres([tlon, tlat], gcj) < 0.5, `${id}: Tencent takes GCJ-02 lat,lon (${links.tencent})`);
    const [blat, blon] = param(links.baidu, 'location').split(',').map(Number);
    assert.ok(metres([blon, blat], bd) < 0.5, `${id}: Baidu takes BD-09 lat,lon (${links.baidu})`);
    assert.equal(param(links.baidu, 'coord_type'), 'bd09ll');
    const m = links.geo.match(/^geo:(-?[\d.]+),(-?[\d.]+)\?/);
    assert.ok(m && metres([+m[2], +m[1]], at) < 0.5, `${id}: geo: in WGS 84 (${links.geo})`);
    // The datums really differ here: a link in the wrong one would be ~500 m off.
    assert.ok(metres(gcj, at) > 300 && metres(bd, at) > 700);
    assert.ok(await card.locator('a.nav-link').first().isVisible(), 'links shown after tapping Navigate');
  }
  await shot(page, `courier-navigate-${win}-${lng}.png`);
  assert.deepEqual(foreign, [], 'nothing fetched outside the server');
  assert.deepEqual(errors, [], 'no errors in the page');
  await ctx.close();
});

// ---------------------------------------------------------------- 2. the chosen station visible
each('chosen station: framed, on top of every layer, routed along the streets', async (win, lng) => {
  const { ctx, page, errors } = await open(win, lng);
  const by = await page.evaluate(() => window.yizhan.courier.by);
  assert.equal(by, network ? 'walk' : 'straight', 'walk by default when a street network is loaded');
  await searchAt(page, NEAR_ST01);
  const q = `lat=${NEAR_ST01[1].toFixed(6)}&lon=${NEAR_ST01[0].toFixed(6)}&k=5&kind=rest_station`;
  const api = await apiJson(`/api/v1/stations/nearest?${q}${by === 'straight' ? '' : `&by=${by}`}`);
  assert.deepEqual(await listed(page), api.features.map(featureId), 'the list is the API answer for this mode');
  // Choose the second card: it must be framed and drawn above everything.
  const pickIdx = api.features.length > 1 ? 1 : 0;
  await page.locator('#results li').nth(pickIdx).locator('.result-name').click();
  await idle(page);
  const chosenId = featureId(api.features[pickIdx]);
  const st = await page.evaluate((id) => {
    const m = window.yizhan.map;
    const layers = m.getStyle().layers.map((l) => l.id);
    const f = window.yizhan.layers.stations.features.find((x) => String(x.properties.id ?? x.id) === id);
    const [lon, lat] = f.geometry.coordinates;
    const p = m.project([lon, lat]);
    const you = window.yizhan.route.features[0].geometry.coordinates[0];
    const q = m.project(you);
    const c = m.getCanvas();
    const w = c.clientWidth;
    const h = c.clientHeight;
    const top = m.queryRenderedFeatures([p.x, p.y]);
    return {
      last: layers[layers.length - 1],
      zoom: m.getZoom(),
      inView: p.x >= 0 && p.x <= w && p.y >= 0 && p.y <= h && q.x >= 0 && q.x <= w && q.y >= 0 && q.y <= h,
      topLayer: top[0]?.layer.id,
      topId: String(top[0]?.properties.id ?? ''),
      px: Math.hypot(p.x - q.x, p.y - q.y),
      route: window.yizhan.route.features[0].geometry.coordinates.length,
      rendered: m.queryRenderedFeatures({ layers: ['route-line'] }).length,
      current: document.querySelector('#results li[aria-current="true"]')?.dataset.id,
    };
  }, chosenId);
  assert.equal(st.current, chosenId, 'the tapped card is the chosen one');
  assert.equal(st.last, 'stations-chosen', 'the chosen-station layer is the topmost layer');
  assert.equal(st.topLayer, 'stations-chosen', `the chosen station is drawn above everything at its pixel (${JSON.stringify(st)})`);
  assert.equal(st.topId, chosenId);
  assert.ok(st.inView, 'courier and station both in view');
  assert.ok(st.zoom <= 17 + 1e-9, `zoom at most 17 (${st.zoom})`);
  assert.ok(st.px > 60, `courier and station drawn apart, not on top of each other (${st.px} px)`);
  assert.ok(st.rendered >= 1, 'the route is drawn');
  if (by !== 'straight') {
    const route = api.features[pickIdx].properties.route.coordinates;
    assert.equal(st.route, route.length + 2, 'the route follows the API route along the streets');
  } else assert.equal(st.route, 2);
  await shot(page, `courier-chosen-${win}-${lng}.png`);

  // Straight line: the toggle switches, the list and route follow, the choice is kept.
  await page.locator('#travel [data-by="straight"]').click();
  await ready(page);
  const straight = await apiJson(`/api/v1/stations/nearest?${q}`);
  assert.deepEqual(await listed(page), straight.features.map(featureId), 'straight: the straight-line answer');
  assert.equal(await page.evaluate(() => window.yizhan.route.features[0].geometry.coordinates.length), 2);
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.ready === 'true' && document.body.dataset.network, null, { timeout: READY_MS });
  assert.equal(await page.evaluate(() => window.yizhan.courier.by), 'straight', 'the choice is remembered');
  if (network) {
    await page.locator('#travel [data-by="ebike"]').click();
    await page.waitForFunction(() => window.yizhan.courier.by === 'ebike');
    await searchAt(page, NEAR_ST01);
    const eb = await apiJson(`/api/v1/stations/nearest?${q}&by=ebike`);
    assert.deepEqual(await listed(page), eb.features.map(featureId), 'e-bike: the e-bike answer');
    const mins = Math.max(1, Math.ceil(eb.features[0].properties.travel_time_s / 60));
    const text = await page.locator('#results li').first().textContent();
    assert.ok(text.includes(lng === 'zh' ? `电动车 ${mins} 分钟` : `${mins} min by e-bike`), `real e-bike minutes shown: ${text}`);
    const nav = eb.features[0].properties.navigate;
    assert.equal(param(nav.amap, 'mode'), 'ride', 'e-bike links ask for a riding route');
  }
  assert.deepEqual(errors, [], 'no errors in the page');
  await ctx.close();
});

// ---------------------------------------------------------------- 3. free seats
each('free seats: shown with the report age, "no recent report" when none', async (win, lng) => {
  const { ctx, page, errors } = await open(win, lng);
  await searchAt(page, NEAR_ST01);
  const q = `lat=${NEAR_ST01[1].toFixed(6)}&lon=${NEAR_ST01[0].toFixed(6)}&k=5&kind=rest_station`;
  const by = await page.evaluate(() => window.yizhan.courier.by);
  const api = await apiJson(`/api/v1/stations/nearest?${q}${by === 'straight' ? '' : `&by=${by}`}`);
  let reported = 0;
  let unknown = 0;
  for (const f of api.features) {
    const p = f.properties;
    const text = (await page.locator(`#results li[data-id="${featureId(f)}"] .seats-row`).textContent()).replace(/\s+/g, ' ');
    if (p.free_seats != null) {
      reported++;
      const seats = lng === 'zh' ? `空座 ${p.free_seats}/${p.capacity}` : `${p.free_seats} of ${p.capacity} seats free`;
      assert.ok(text.includes(seats), `${featureId(f)}: "${seats}" in "${text}"`);
      const min = Math.round(p.occupancy.age_s / 60);
      // The page's request and ours are a few seconds apart: allow one minute.
      const ok = [min - 1, min, min + 1].some((m) =>
        text.includes(lng === 'zh' ? `${m} 分钟前更新` : `reported ${m} min ago`),
      );
      assert.ok(ok || /刚刚更新|reported just now/.test(text), `${featureId(f)}: report age in "${text}"`);
    } else {
      unknown++;
      assert.ok(text.includes(lng === 'zh' ? '暂无最新报告' : 'no recent report'), `${featureId(f)}: "${text}"`);
      assert.ok(text.includes(lng === 'zh' ? `座位 ${p.capacity}` : `${p.capacity} seats`));
    }
  }
  // The sample town ships current reports near its centre (data/anhai/occupancy_sample.csv).
  assert.ok(reported >= 1, 'some station near the centre has a current report');
  assert.ok(reported + unknown === api.features.length);
  await shot(page, `courier-seats-${win}-${lng}.png`);
  assert.deepEqual(errors, [], 'no errors in the page');
  await ctx.close();
});

// ---------------------------------------------------------------- 5. opening hours
each('opening hours as people read them', async (win, lng) => {
  const { ctx, page, errors } = await open(win, lng);
  const want = {
    'Mo-Su 07:00-21:00': { zh: '周一至周日 07:00–21:00', en: 'Mon–Sun 07:00–21:00' },
    '24/7': { zh: '全天开放', en: 'open 24 h' },
    '07:00-21:00': { zh: '每天 07:00–21:00', en: 'Daily 07:00–21:00' },
    'Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00': {
      zh: '周一至周五 08:00–18:00；周六、周日 09:00–17:00',
      en: 'Mon–Fri 08:00–18:00; Sat, Sun 09:00–17:00',
    },
  };
  let seen = 0;
  for (const [raw, by] of Object.entries(want)) {
    const f = allStations.find((s) => s.properties.kind === 'rest_station' && s.properties.opening_hours === raw);
    if (!f) continue;
    await searchAt(page, f.geometry.coordinates);
    const text = await page.locator(`#results li[data-id="${featureId(f)}"] .hours`).textContent();
    assert.ok(text.includes(by[lng]), `${raw} → "${by[lng]}" in "${text}"`);
    assert.ok(!text.includes(raw) || raw === by[lng], `the OSM text is not shown as is: ${text}`);
    seen++;
  }
  assert.ok(seen >= 3, `the sample has stations with these hours (${seen})`);
  await shot(page, `courier-hours-${win}-${lng}.png`);
  assert.deepEqual(errors, [], 'no errors in the page');
  await ctx.close();
});

// ---------------------------------------------------------------- 4. filters
each('filters: chips wrap on screen, the status line names them, one tap clears', async (win, lng) => {
  const { ctx, page, errors } = await open(win, lng);
  const width = WINDOWS[win].viewport.width;
  const boxes = await page.locator('#chips .chip').evaluateAll((cs) => cs.map((c) => c.getBoundingClientRect().toJSON()));
  assert.ok(boxes.length >= 9, 'every amenity has a chip');
  for (const b of boxes) assert.ok(b.left >= 0 && b.right <= width + 0.5, `chip on screen: ${JSON.stringify(b)}`);
  await searchAt(page, NEAR_ST01);
  const by = await page.evaluate(() => window.yizhan.courier.by);
  const q = `lat=${NEAR_ST01[1].toFixed(6)}&lon=${NEAR_ST01[0].toFixed(6)}&k=5&kind=rest_station${by === 'straight' ? '' : `&by=${by}`}`;
  for (const a of ['microwave', 'charging']) {
    await page.evaluate(() => {
      document.body.dataset.courier = 'searching';
    });
    await page.locator(`#chips .chip[data-amenity="${a}"]`).click();
    await ready(page);
  }
  const status = (await page.locator('#courier-status').textContent()).replace(/\s+/g, ' ');
  const named = lng === 'zh' ? '筛选：微波炉、充电' : 'Filters: Microwave, Charging';
  assert.ok(status.includes(named), `"${named}" in the status line: "${status}"`);
  const filtered = await apiJson(`/api/v1/stations/nearest?${q}&amenity=microwave,charging`);
  assert.deepEqual(await listed(page), filtered.features.map(featureId), 'the filtered list is the API answer');
  await shot(page, `courier-filters-${win}-${lng}.png`);
  await page.evaluate(() => {
    document.body.dataset.courier = 'searching';
  });
  await page.locator('#courier-status .clear-filters').click();
  await ready(page);
  assert.equal(await page.locator('#chips .chip[aria-pressed="true"]').count(), 0, 'no chip pressed after clearing');
  assert.equal(await page.locator('#courier-status .filters-on').count(), 0, 'no filters named after clearing');
  const all = await apiJson(`/api/v1/stations/nearest?${q}`);
  assert.deepEqual(await listed(page), all.features.map(featureId), 'the unfiltered list again');
  assert.deepEqual(errors, [], 'no errors in the page');
  await ctx.close();
});

// ---------------------------------------------------------------- 5. every string translated
/** Every text node and labelling attribute of the page, with the element's class path. */
function pageStrings() {
  const out = [];
  const skip = (el) => el.closest('script, style, .result-name');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const v = n.nodeValue.trim();
    if (v && !skip(n.parentElement)) out.push({ where: `${n.parentElement.tagName}.${n.parentElement.className}#${n.parentElement.id}`, v });
  }
  for (const el of document.body.querySelectorAll('*')) {
    if (skip(el)) continue;
    for (const a of ['title', 'aria-label', 'placeholder', 'alt']) {
      const v = el.getAttribute(a);
      if (v && v.trim()) out.push({ where: `${el.tagName}.${el.className}[${a}]`, v: v.trim() });
    }
  }
  out.push({ where: 'title', v: document.title });
  return out;
}

each('language: no untranslated string anywhere on the page', async (win, lng) => {
  const { ctx, page, errors } = await open(win, lng);
  await searchAt(page, NEAR_ST01);
  // Open a card's navigate menu and make the geolocation fail, so that those are checked too.
  await page.locator('#results li .navigate > summary').first().click();
  await page.evaluate(() => {
    navigator.geolocation.getCurrentPosition = (_ok, fail) => fail({ code: 1, message: 'User denied Geolocation' });
  });
  await page.locator('#locate').click();
  await page.waitForFunction(() => document.querySelector('#courier-status').classList.contains('error'));
  await page.evaluate(() => window.yizhan.map.fire('move'));
  const strings = await page.evaluate(pageStrings);
  const bad = [];
  for (const { where, v } of strings) {
    // A key shown as itself is a missing translation.
    if (/\b[a-z]+(_[a-z0-9]+)+\b/.test(v)) bad.push(`${where}: key "${v}"`);
    if (lng === 'zh') {
      const rest = v.replace(/GeoJSON|\bEN\b|yizhan/g, '');
      if (/[A-Za-z]{2,}/.test(rest)) bad.push(`${where}: "${v}"`);
    } else if (/[\u3400-\u9fff]/.test(v) && !['驿站', '中文', '驿站 yizhan'].includes(v) && !/^驿站 ·/.test(v)) {
      bad.push(`${where}: "${v}"`);
    }
  }
  assert.deepEqual(bad, [], `untranslated strings in ${lng}`);
  // MapLibre's own controls say it in the page's language.
  const zoomIn = await page.locator('.maplibregl-ctrl-zoom-in').getAttribute('title');
  assert.equal(zoomIn, lng === 'zh' ? '放大' : 'Zoom in');
  const scale = (await page.locator('.maplibregl-ctrl-scale').textContent()).trim();
  assert.match(scale, lng === 'zh' ? /^\d+\s*(米|公里)$/ : /^\d+\s*(m|km)$/, `scale bar "${scale}"`);
  const geo = await page.locator('#courier-status').textContent();
  assert.ok(!geo.includes('User denied'), `the browser's English message is not shown: ${geo}`);
  // Switching language at run time translates everything too.
  await page.locator('#lang-switch').click();
  const other = lng === 'zh' ? 'en' : 'zh';
  await page.waitForFunction((l) => document.documentElement.lang.startsWith(l), other);
  await page.evaluate(() => window.yizhan.map.fire('move'));
  const after = await page.evaluate(pageStrings);
  const bad2 = after
    .filter(({ v }) =>
      other === 'zh'
        ? /[A-Za-z]{2,}/.test(v.replace(/GeoJSON|\bEN\b|yizhan/g, ''))
        : /[\u3400-\u9fff]/.test(v) && !['驿站', '中文', '驿站 yizhan'].includes(v) && !/^驿站 ·/.test(v),
    )
    .map(({ where, v }) => `${where}: "${v}"`);
  assert.deepEqual(bad2, [], `untranslated strings after switching to ${other}`);
  await shot(page, `courier-language-${win}-${lng}.png`);
  assert.deepEqual(errors, [], 'no errors in the page');
  await ctx.close();
});

// ---------------------------------------------------------------- 6. tap targets
test('tap targets at least 44 px (phone)', async () => {
  const { ctx, page, errors } = await open('phone', 'zh');
  await searchAt(page, NEAR_ST01);
  await page.locator('#results li .navigate > summary').first().click();
  const small = await page.evaluate(() => {
    const sel = '#courier-panel button, #courier-panel summary, #courier-panel a.nav-link, .maplibregl-ctrl-group button, .topbar button';
    return [...document.querySelectorAll(sel)]
      .filter((el) => el.offsetParent !== null)
      .map((el) => ({ el: `${el.tagName}.${el.className}`, r: el.getBoundingClientRect() }))
      .filter(({ r }) => r.width < 44 || r.height < 44)
      .map(({ el, r }) => `${el} ${r.width.toFixed(0)}×${r.height.toFixed(0)}`);
  });
  assert.deepEqual(small, [], 'every tap target is at least 44×44 px');
  await shot(page, 'courier-targets-phone.png');
  assert.deepEqual(errors, [], 'no errors in the page');
  await ctx.close();
});

// ---------------------------------------------------------------- run
let failed = 0;
for (const { name, fn } of tests) {
  if (only && !name.includes(only)) continue;
  const t0 = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}\n     ${String(e.stack || e).split('\n').join('\n     ')}`);
  }
}
await browser.close();
console.log(failed ? `${failed} failed` : 'all passed');
process.exit(failed ? 1 : 0);
