// Talking to the yizhan server. Every call is same-origin; shapes are read defensively
// so the page keeps working while the API grows.

export class ApiError extends Error {}

async function readJson(res, url) {
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  if (!res.ok) {
    const msg =
      (body && (body.detail || body.message || body.error?.message || body.error || body.title)) ||
      text.slice(0, 200) ||
      res.statusText;
    throw new ApiError(`${res.status} ${typeof msg === 'string' ? msg : JSON.stringify(msg)} (${url})`);
  }
  if (body === null) throw new ApiError(`not JSON (${url})`);
  return body;
}

export async function getJson(url, opts = {}) {
  const res = await fetch(url, { headers: { Accept: 'application/json' }, ...opts });
  return readJson(res, url);
}

export async function postJson(url, payload) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(payload),
  });
  return readJson(res, url);
}

/** The first URL that answers with JSON. */
async function firstOf(urls) {
  let last;
  for (const u of urls) {
    try {
      return await getJson(u);
    } catch (e) {
      last = e;
    }
  }
  throw last ?? new ApiError('no URL');
}

export function asFeatureCollection(x) {
  if (!x) return { type: 'FeatureCollection', features: [] };
  if (x.type === 'FeatureCollection' && Array.isArray(x.features)) return x;
  if (x.type === 'Feature') return { type: 'FeatureCollection', features: [x] };
  if (x.type && x.coordinates) {
    return { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: x, properties: {} }] };
  }
  for (const k of ['features', 'items', 'data', 'result', 'geojson']) {
    if (x[k]) return asFeatureCollection(Array.isArray(x[k]) ? { type: 'FeatureCollection', features: x[k] } : x[k]);
  }
  return { type: 'FeatureCollection', features: [] };
}

/** A whole layer of the dataset as GeoJSON (OGC items first, then the export). */
export async function loadLayer(id) {
  const fc = await firstOf([
    `/ogc/collections/${id}/items?limit=10000`,
    `/api/v1/export/${id}.geojson`,
  ]);
  return asFeatureCollection(fc);
}

export async function loadConfig() {
  try {
    return await getJson('/api/v1/config');
  } catch {
    return {};
  }
}

/** A number from the first of `keys` that `obj` has. */
export function pick(obj, keys, fallback = undefined) {
  if (!obj) return fallback;
  for (const k of keys) {
    const v = k.split('.').reduce((o, p) => (o == null ? undefined : o[p]), obj);
    if (v !== undefined && v !== null) return v;
  }
  return fallback;
}

/** A [lon, lat] from a feature, point object or pair. */
export function lonLatOf(x) {
  if (!x) return null;
  if (Array.isArray(x) && x.length >= 2 && Number.isFinite(+x[0])) return [+x[0], +x[1]];
  const g = x.geometry;
  if (g?.type === 'Point') return [g.coordinates[0], g.coordinates[1]];
  const lon = pick(x, ['lon', 'lng', 'longitude', 'location.lon', 'location.lng', 'properties.lon']);
  const lat = pick(x, ['lat', 'latitude', 'location.lat', 'properties.lat']);
  if (Number.isFinite(+lon) && Number.isFinite(+lat) && lon !== '' && lat !== '') return [+lon, +lat];
  if (Array.isArray(x.location)) return lonLatOf(x.location);
  if (Array.isArray(x.coordinates)) return lonLatOf(x.coordinates);
  return null;
}

/** Find the first array of objects in a response (the rows of a table). */
export function rowsOf(x, keys) {
  if (Array.isArray(x)) return x;
  if (!x || typeof x !== 'object') return [];
  for (const k of keys) {
    const v = x[k];
    if (Array.isArray(v)) return v;
    if (v && v.type === 'FeatureCollection') return v.features;
  }
  if (x.type === 'FeatureCollection') return x.features;
  for (const v of Object.values(x)) if (Array.isArray(v) && v.length && typeof v[0] === 'object') return v;
  return [];
}
