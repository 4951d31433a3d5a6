// Live updates: the server pushes station and occupancy changes as Server-Sent
// Events (GET /api/v1/stream); the map's markers and the courier's list follow.
import { loadLayer } from './api.js';

function idOf(f) {
  return String(f?.id ?? f?.properties?.id ?? '');
}

export function setupLive(app) {
  if (typeof EventSource === 'undefined') return null;
  const url = app.config?.stream || '/api/v1/stream';
  const es = new EventSource(url);
  const live = { source: es, events: 0, connected: false };
  app.live = live;
  const parse = (ev) => {
    try {
      return JSON.parse(ev.data);
    } catch {
      return null;
    }
  };
  const redraw = () => app.map.getSource('stations')?.setData(app.layers.stations);

  es.addEventListener('hello', () => {
    live.connected = true;
  });

  es.addEventListener('station', (ev) => {
    const d = parse(ev);
    if (!d?.id) return;
    live.events += 1;
    const id = String(d.id);
    const fc = app.layers.stations;
    const features = fc.features.filter((f) => idOf(f) !== id);
    if (d.action !== 'retired' && d.feature) features.push(d.feature);
    app.layers.stations = { type: 'FeatureCollection', features };
    redraw();
    app.courier?.stationChanged?.(id);
    if (app.view === 'planner') app.planner?.refresh?.();
  });

  es.addEventListener('occupancy', (ev) => {
    const d = parse(ev);
    if (!d?.id) return;
    live.events += 1;
    const id = String(d.id);
    const props = {
      free_seats: d.free_seats ?? null,
      occupied: d.occupied ?? null,
      occupancy_reported_at: d.reported_at ?? null,
      occupancy: d.occupied == null ? null : { occupied: d.occupied, reported_at: d.reported_at, stale: false },
    };
    for (const f of app.layers.stations.features) {
      if (idOf(f) === id) Object.assign((f.properties ??= {}), props);
    }
    redraw();
    app.courier?.occupancyChanged?.(id, props);
  });

  // Fell behind: reload the whole layer.
  es.addEventListener('reload', () => {
    loadLayer('stations')
      .then((fc) => {
        app.layers.stations = fc;
        redraw();
        app.courier?.stationChanged?.(null);
      })
      .catch(() => {});
  });

  return live;
}
