// The MapLibre map: a plain background (works offline), an optional basemap from the
// server's config, and the data layers drawn on top.
import * as maplibregl from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
// MapLibre's worker is a file of its own: let the bundler emit it and tell MapLibre where.
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import { t, onLangChange } from './i18n.js';
import { getJson, pick } from './api.js';

maplibregl.setWorkerUrl(workerUrl);

export const EMPTY = { type: 'FeatureCollection', features: [] };

export const COLORS = {
  station: '#1f6f5c',
  childcare: '#7b4fb3',
  overloaded: '#d63031',
  selected: '#f2b134',
  candidate: '#e67e22',
  chosen: '#1565c0',
  boundary: '#34495e',
  gapRamp: ['#eef2fb', '#9ecae1', '#6a51a3', '#3f007d'],
};

/** The basemap URL from `/api/v1/config`, whatever key the server uses. */
export function basemapUrlOf(cfg) {
  const b = pick(cfg, ['basemap_url', 'basemap', 'base_map', 'basemap.url', 'map.basemap_url']);
  if (!b) return null;
  if (typeof b === 'string') return b.trim() || null;
  return pick(b, ['url', 'style', 'tiles.0', 'tile_url']) ?? null;
}

/** Source and layers for a basemap URL: a tile template, a TileJSON or a style JSON. */
async function basemapParts(url) {
  const isTemplate = /\{z\}/.test(url);
  const vectorHint = /\.(pbf|mvt)(\?|$)/i.test(url) || /vector/i.test(url);
  const vectorLayers = (src) => [
    ['landcover', 'fill', { 'fill-color': '#dfe8d5' }],
    ['landuse', 'fill', { 'fill-color': '#e6e3dc' }],
    ['park', 'fill', { 'fill-color': '#d4e8c8' }],
    ['water', 'fill', { 'fill-color': '#b9d3ee' }],
    ['building', 'fill', { 'fill-color': '#d9d3cb' }],
    ['waterway', 'line', { 'line-color': '#9cc0e6', 'line-width': 1 }],
    ['transportation', 'line', { 'line-color': '#ffffff', 'line-width': 1.5 }],
    ['roads', 'line', { 'line-color': '#ffffff', 'line-width': 1.5 }],
  ].map(([sl, type, paint]) => ({ id: `basemap-${sl}`, type, source: src, 'source-layer': sl, paint }));
  if (isTemplate) {
    if (vectorHint) {
      return { sources: { basemap: { type: 'vector', tiles: [url], maxzoom: 14 } }, layers: vectorLayers('basemap') };
    }
    return {
      sources: { basemap: { type: 'raster', tiles: [url], tileSize: 256, maxzoom: 19 } },
      layers: [{ id: 'basemap', type: 'raster', source: 'basemap' }],
    };
  }
  // A JSON document: a style (has layers) or a TileJSON (has tiles).
  const doc = await getJson(url);
  if (Array.isArray(doc.layers) && doc.sources) {
    const sources = {};
    for (const [k, v] of Object.entries(doc.sources)) sources[`basemap:${k}`] = v;
    const layers = doc.layers
      .filter((l) => l.type !== 'symbol' || doc.glyphs)
      .map((l) => ({ ...l, id: `basemap:${l.id}`, ...(l.source ? { source: `basemap:${l.source}` } : {}) }));
    return { sources, layers, glyphs: doc.glyphs, sprite: doc.sprite };
  }
  if (Array.isArray(doc.tiles)) {
    const vector = doc.vector_layers || vectorHint;
    if (vector) return { sources: { basemap: { type: 'vector', url } }, layers: vectorLayers('basemap') };
    return {
      sources: { basemap: { type: 'raster', url, tileSize: doc.tileSize || 256 } },
      layers: [{ id: 'basemap', type: 'raster', source: 'basemap' }],
    };
  }
  throw new Error('not a tile URL, TileJSON or style');
}

// courier (#18): MapLibre's own strings (zoom buttons, scale bar units, the canvas's
// label) from the page's tables, in the current language.
const MAP_UI = {
  'Map.Title': 'map_region',
  'NavigationControl.ZoomIn': 'zoom_in',
  'NavigationControl.ZoomOut': 'zoom_out',
  'ScaleControl.Meters': 'scale_m',
  'ScaleControl.Kilometers': 'scale_km',
  'AttributionControl.ToggleAttribution': 'toggle_attribution',
  'Marker.Title': 'map_marker',
  'Popup.Close': 'close',
};

function mapLocale() {
  return Object.fromEntries(Object.entries(MAP_UI).map(([k, v]) => [k, t(v)]));
}

/** Say MapLibre's controls again in the current language. */
function localizeMap(map) {
  // `_locale` is where MapLibre reads its strings on each update (the scale bar's units);
  // it has no public setter after construction.
  if (map._locale) Object.assign(map._locale, mapLocale());
  const label = (sel, key) => {
    for (const el of map.getContainer().querySelectorAll(sel)) {
      el.title = t(key);
      el.setAttribute('aria-label', t(key));
    }
  };
  label('.maplibregl-ctrl-zoom-in', 'zoom_in');
  label('.maplibregl-ctrl-zoom-out', 'zoom_out');
  label('.maplibregl-ctrl-attrib-button', 'toggle_attribution');
  map.getCanvas().setAttribute('aria-label', t('map_region'));
  map.fire('move'); // the scale bar redraws its label
}

export function showNotice(text) {
  const el = document.getElementById('notice');
  el.textContent = text;
  el.hidden = !text;
  if (!text) return;
  const close = document.createElement('button');
  close.type = 'button';
  close.textContent = '×';
  close.setAttribute('aria-label', t('close'));
  close.addEventListener('click', () => {
    el.hidden = true;
  });
  el.prepend(close);
}

/** Create the map; resolves once the style is loaded. */
export async function createMap(container, cfg) {
  const style = {
    version: 8,
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#eef0ea' } }],
  };
  const url = basemapUrlOf(cfg);
  let basemapError = null;
  if (url) {
    try {
      const parts = await basemapParts(url);
      Object.assign(style.sources, parts.sources);
      style.layers.push(...parts.layers);
      if (parts.glyphs) style.glyphs = parts.glyphs;
      if (parts.sprite) style.sprite = parts.sprite;
    } catch (e) {
      basemapError = e.message;
    }
  }
  const map = new maplibregl.Map({
    container,
    style,
    center: pick(cfg, ['center'], [118.5, 24.7]),
    zoom: 12,
    attributionControl: url ? { compact: true } : false,
    preserveDrawingBuffer: true, // screenshots in tests
    fadeDuration: 0,
    locale: mapLocale(),
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  localizeMap(map);
  onLangChange(() => localizeMap(map));

  const host = url ? safeHost(url) : '';
  const tileFailure = (msg) => {
    if (map._yizhanBasemapNoticed) return;
    map._yizhanBasemapNoticed = true;
    map.yizhanBasemapFailed = msg;
    showNotice(t('basemap_failed', { src: host, msg }));
    document.body.dataset.basemap = 'failed';
  };
  if (basemapError) tileFailure(basemapError);
  map.on('error', (ev) => {
    const sid = ev.sourceId ?? ev.source?.id ?? '';
    const err = ev.error?.message ?? String(ev.error ?? 'error');
    if (String(sid).startsWith('basemap') || (ev.tile && String(sid).startsWith('basemap'))) {
      tileFailure(err);
    } else if (url && /tile|fetch|Failed to fetch|NetworkError|AJAXError/i.test(err) && !sid) {
      tileFailure(err);
    } else {
      console.warn('map error', sid, err);
    }
  });
  await new Promise((resolve) => (map.loaded() ? resolve() : map.once('load', resolve)));
  return map;
}

function safeHost(url) {
  try {
    return new URL(url, location.href).host || url;
  } catch {
    return url;
  }
}

/** Add the data sources and layers (empty at first). */
export function addDataLayers(map) {
  for (const id of ['boundary', 'gaps', 'areas', 'hotspots', 'stations', 'route', 'chosen', 'candidates']) {
    map.addSource(id, { type: 'geojson', data: EMPTY });
  }
  // Service areas: what each station reaches along the streets within the cutoff.
  map.addLayer({
    id: 'areas-fill',
    type: 'fill',
    source: 'areas',
    layout: { visibility: 'none' },
    paint: { 'fill-color': '#2b8cbe', 'fill-opacity': 0.2, 'fill-outline-color': '#0868ac' },
  });
  map.addLayer({
    id: 'gaps-fill',
    type: 'fill',
    source: 'gaps',
    layout: { visibility: 'none' },
    paint: {
      'fill-color': [
        'interpolate', ['linear'], ['coalesce', ['get', '_gap'], 0],
        0, COLORS.gapRamp[0], 0.33, COLORS.gapRamp[1], 0.66, COLORS.gapRamp[2], 1, COLORS.gapRamp[3],
      ],
      'fill-opacity': ['interpolate', ['linear'], ['coalesce', ['get', '_gap'], 0], 0, 0.04, 0.1, 0.25, 1, 0.7],
      'fill-outline-color': 'rgba(80,80,80,0.25)',
    },
  });
  map.addLayer({
    id: 'hotspots-heat',
    type: 'heatmap',
    source: 'hotspots',
    layout: { visibility: 'none' },
    paint: {
      'heatmap-weight': ['coalesce', ['get', '_w'], 0.5],
      'heatmap-intensity': ['interpolate', ['linear'], ['zoom'], 10, 0.8, 16, 2],
      'heatmap-radius': ['interpolate', ['linear'], ['zoom'], 10, 10, 14, 22, 17, 45],
      'heatmap-opacity': 0.7,
      'heatmap-color': [
        'interpolate', ['linear'], ['heatmap-density'],
        0, 'rgba(255,237,160,0)', 0.12, 'rgba(255,237,160,0)', 0.3, 'rgba(254,217,118,0.55)',
        0.5, 'rgba(253,141,60,0.7)', 0.75, 'rgba(240,59,32,0.8)', 1, 'rgba(189,0,38,0.9)',
      ],
    },
  });
  map.addLayer({
    id: 'boundary-line',
    type: 'line',
    source: 'boundary',
    paint: { 'line-color': COLORS.boundary, 'line-width': 2, 'line-dasharray': [3, 2] },
  });
  map.addLayer({
    id: 'route-line',
    type: 'line',
    source: 'route',
    layout: { 'line-cap': 'round' },
    paint: { 'line-color': '#2d7ff9', 'line-width': 3, 'line-dasharray': [1, 1.5] },
  });
  map.addLayer({
    id: 'stations-selected',
    type: 'circle',
    source: 'stations',
    filter: ['==', ['get', 'id'], '__none__'],
    paint: { 'circle-radius': 15, 'circle-color': COLORS.selected, 'circle-opacity': 0.55, 'circle-stroke-color': COLORS.selected, 'circle-stroke-width': 2 },
  });
  map.addLayer({ id: 'stations', type: 'circle', source: 'stations', paint: {} });
  map.addLayer({
    id: 'candidates-listed',
    type: 'circle',
    source: 'candidates',
    layout: { visibility: 'none' },
    paint: {
      'circle-radius': 5, 'circle-color': 'rgba(255,255,255,0.6)',
      'circle-stroke-color': COLORS.candidate, 'circle-stroke-width': 2,
    },
  });
  map.addLayer({
    id: 'chosen-sites',
    type: 'circle',
    source: 'chosen',
    paint: {
      'circle-radius': 10, 'circle-color': COLORS.chosen, 'circle-opacity': 0.85,
      'circle-stroke-color': '#fff', 'circle-stroke-width': 3,
    },
  });
  // courier (#18): the chosen station, drawn above every other layer (the courier view
  // moves it back to the top whenever it draws a choice).
  map.addLayer({
    id: 'stations-chosen',
    type: 'circle',
    source: 'stations',
    filter: ['==', ['get', 'id'], '__none__'],
    paint: {
      'circle-radius': 11,
      'circle-color': ['match', ['get', 'kind'], 'childcare_class', COLORS.childcare, COLORS.station],
      'circle-stroke-color': COLORS.selected,
      'circle-stroke-width': 4,
    },
  });
  stationPaint(map, 'courier');
}

/** Station styling per view: kinds in the courier view, utilisation in the planner view. */
export function stationPaint(map, view) {
  const kindColor = ['match', ['get', 'kind'], 'childcare_class', COLORS.childcare, COLORS.station];
  if (view === 'planner') {
    map.setPaintProperty('stations', 'circle-radius', [
      'interpolate', ['linear'], ['coalesce', ['get', '_util'], 0], 0, 4, 0.5, 7, 1, 10, 2, 13, 5, 16,
    ]);
    map.setPaintProperty('stations', 'circle-color', ['case', ['==', ['get', '_over'], true], COLORS.overloaded, kindColor]);
    map.setPaintProperty('stations', 'circle-opacity', 0.85);
  } else {
    map.setPaintProperty('stations', 'circle-radius', ['interpolate', ['linear'], ['zoom'], 10, 5, 15, 9]);
    map.setPaintProperty('stations', 'circle-color', kindColor);
    map.setPaintProperty('stations', 'circle-opacity', 1);
  }
  const over = view === 'planner' ? ['==', ['get', '_over'], true] : false;
  map.setPaintProperty('stations', 'circle-stroke-color', ['case', over, '#3b0000', '#ffffff']);
  map.setPaintProperty('stations', 'circle-stroke-width', ['case', over, 3, 2]);
}

/** [W, S, E, N] of a FeatureCollection, or null. */
export function bboxOf(fc) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const visit = (c) => {
    if (typeof c[0] === 'number') {
      b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]);
      b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
    } else c.forEach(visit);
  };
  for (const f of fc.features ?? []) {
    const g = f.geometry;
    if (!g) continue;
    if (g.type === 'GeometryCollection') g.geometries.forEach((x) => visit(x.coordinates));
    else visit(g.coordinates);
  }
  return Number.isFinite(b[0]) ? b : null;
}

export { maplibregl };
