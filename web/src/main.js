// yizhan web page: boot, data loading and the switch between the two views.
import './style.css';
import { initialLang, setLang, lang, t } from './i18n.js';
import { loadConfig, loadLayer, pick } from './api.js';
import { createMap, addDataLayers, stationPaint, bboxOf, showNotice, EMPTY } from './map.js';
import { setupCourier } from './courier.js';
import { setupPlanner } from './planner.js';
import { setupLive } from './live.js';

const app = {
  view: 'courier',
  config: {},
  layers: { stations: EMPTY, hotspots: EMPTY, boundary: EMPTY, gaps: EMPTY },
};
window.yizhan = app; // for the browser tests and for people poking at the page

function switchView(view) {
  if (view === app.view && app.started) return;
  const old = app.view === 'planner' ? app.planner : app.courier;
  app.view = view;
  document.querySelector('.layout').dataset.view = view;
  document.querySelectorAll('[data-view]').forEach((b) => {
    if (b.tagName === 'BUTTON') b.setAttribute('aria-selected', b.dataset.view === view ? 'true' : 'false');
  });
  document.querySelectorAll('[data-panel]').forEach((p) => {
    p.hidden = p.dataset.panel !== view;
  });
  if (app.started) old.leave();
  stationPaint(app.map, view);
  (view === 'planner' ? app.planner : app.courier).enter();
  app.planner.applyVisibility();
  requestAnimationFrame(() => app.map.resize());
  try {
    history.replaceState(null, '', `#${view}`);
  } catch {
    // ignore
  }
}

async function boot() {
  setLang(initialLang());
  document.getElementById('lang-switch').addEventListener('click', () => setLang(lang() === 'zh' ? 'en' : 'zh', true));
  app.config = await loadConfig();
  const map = await createMap('map', app.config);
  app.map = map;
  addDataLayers(map);

  const results = await Promise.allSettled(['stations', 'hotspots', 'boundary'].map((id) => loadLayer(id)));
  const [stations, hotspots, boundary] = results.map((r) => (r.status === 'fulfilled' ? r.value : EMPTY));
  const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
  if (failed.length && !map.yizhanBasemapFailed) showNotice(t('data_failed', { msg: failed.join('; ') }));
  let maxW = 0;
  for (const f of hotspots.features) maxW = Math.max(maxW, +pick(f.properties, ['workers', 'weight', 'demand'], 1) || 0);
  for (const f of hotspots.features) f.properties._w = maxW > 0 ? (+pick(f.properties, ['workers', 'weight', 'demand'], 1) || 0) / maxW : 0.5;
  Object.assign(app.layers, { stations, hotspots, boundary });
  map.getSource('stations').setData(stations);
  map.getSource('hotspots').setData(hotspots);
  map.getSource('boundary').setData(boundary);
  const box = bboxOf(boundary) ?? bboxOf(stations);
  if (box) map.fitBounds([[box[0], box[1]], [box[2], box[3]]], { padding: 20, duration: 0 });

  app.courier = setupCourier(app);
  app.planner = setupPlanner(app);
  map.on('click', (ev) => (app.view === 'planner' ? app.planner : app.courier).onClick(ev.lngLat));
  map.getCanvas().style.cursor = 'crosshair';
  document.querySelectorAll('.tabs [data-view]').forEach((b) => b.addEventListener('click', () => switchView(b.dataset.view)));
  switchView(location.hash === '#planner' ? 'planner' : 'courier');
  app.started = true;
  setupLive(app);
  map.once('idle', () => {
    document.body.dataset.ready = 'true';
  });
  map.triggerRepaint();
}

boot().catch((e) => {
  console.error(e);
  showNotice(`${t('data_failed', { msg: e.message })}`);
  document.body.dataset.ready = 'error';
});
