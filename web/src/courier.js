// Courier view: the nearest stations to a tap or to the browser's location.
import { t, lang, fmtDistance, onLangChange } from './i18n.js';
import { getJson, asFeatureCollection, pick, lonLatOf } from './api.js';
import { amenityIcon, AMENITIES } from './icons.js';
import { maplibregl, EMPTY } from './map.js';

const WALK_M_PER_MIN = 80; // 4.8 km/h
const EBIKE_M_PER_MIN = 250; // 15 km/h in town traffic
const K = 5;

export function setupCourier(app) {
  const { map } = app;
  const chips = document.getElementById('chips');
  const status = document.getElementById('courier-status');
  const list = document.getElementById('results');
  const filters = new Set();
  let here = null; // [lon, lat]
  let youMarker = null;
  let results = [];
  let chosen = null;
  let seq = 0;

  function renderChips() {
    chips.innerHTML = '';
    for (const a of AMENITIES) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'chip';
      b.dataset.amenity = a;
      b.setAttribute('aria-pressed', filters.has(a) ? 'true' : 'false');
      b.innerHTML = `${amenityIcon(a, '')}<span>${t(`amenity_${a}`)}</span>`;
      b.addEventListener('click', () => {
        if (filters.has(a)) filters.delete(a);
        else filters.add(a);
        b.setAttribute('aria-pressed', filters.has(a) ? 'true' : 'false');
        if (here) search(here);
      });
      chips.appendChild(b);
    }
  }

  function setStatus(text, error = false) {
    status.textContent = text;
    status.classList.toggle('error', error);
  }

  function placeYou(p) {
    if (!youMarker) {
      const el = document.createElement('div');
      el.className = 'you';
      el.setAttribute('aria-hidden', 'true');
      youMarker = new maplibregl.Marker({ element: el });
    }
    youMarker.setLngLat(p).addTo(map);
  }

  async function search(p) {
    here = p;
    placeYou(p);
    const my = ++seq;
    document.body.dataset.courier = 'searching';
    setStatus(t('searching'));
    // Couriers look for rest stations; childcare classes are shown on the map only.
    const q = new URLSearchParams({ lat: p[1].toFixed(6), lon: p[0].toFixed(6), k: String(K), kind: 'rest_station' });
    if (filters.size) q.set('amenity', [...filters].join(','));
    try {
      const fc = asFeatureCollection(await getJson(`/api/v1/stations/nearest?${q}`));
      if (my !== seq) return;
      results = fc.features;
      app.lastNearest = fc;
      chosen = results[0] ? idOf(results[0]) : null;
      render();
      setStatus(results.length ? t('nearest_n', { n: results.length }) : t('none_found'));
    } catch (e) {
      if (my !== seq) return;
      results = [];
      chosen = null;
      render();
      setStatus(t('request_failed', { msg: e.message }), true);
    }
    document.body.dataset.courier = 'ready';
  }

  function idOf(f) {
    return String(pick(f.properties ?? {}, ['id'], f.id ?? ''));
  }

  function render() {
    list.innerHTML = '';
    results.forEach((f, i) => {
      const p = f.properties ?? {};
      const id = idOf(f);
      const li = document.createElement('li');
      li.className = 'result';
      li.dataset.id = id;
      li.tabIndex = 0;
      li.setAttribute('role', 'button');
      if (id === chosen) li.setAttribute('aria-current', 'true');
      const name = lang() === 'zh' ? p.name_zh || p.name : p.name || p.name_zh;
      const d = +pick(p, ['distance_m', 'distance'], NaN);
      const walk = pick(p, ['walk_min', 'walking_min', 'minutes.walk'], Math.ceil(d / WALK_M_PER_MIN));
      const ebike = pick(p, ['ebike_min', 'e_bike_min', 'minutes.ebike'], Math.ceil(d / EBIKE_M_PER_MIN));
      const open = pick(p, ['open_now', 'is_open', 'open']);
      const opensAt = pick(p, ['opens_at', 'next_open', 'next_opening']);
      const cap = pick(p, ['capacity', 'seats']);
      const free = pick(p, ['free_seats', 'seats_free', 'free']);
      const amen = Array.isArray(p.amenities)
        ? p.amenities
        : String(p.amenities ?? '').split(/[,;]/).filter(Boolean);
      let openText = '';
      if (open === true) openText = `<span class="open">${t('open_now')}</span>`;
      else if (open === false) {
        openText = `<span class="closed">${t('closed_now')}</span>`;
        if (opensAt) openText += ` · ${esc(t('opens_at', { t: fmtWhen(opensAt) }))}`;
      }
      const seats = cap == null ? '' : free == null ? t('seats_cap', { cap }) : t('seats', { free, cap });
      li.innerHTML = `
        <div class="result-head"><span class="result-name">${i + 1}. ${esc(name ?? id)}</span>
          <span class="result-dist">${esc(fmtDistance(d))}</span></div>
        <div class="result-meta">
          <span>${esc(t('walk_min', { n: walk }))}</span><span>${esc(t('ebike_min', { n: ebike }))}</span>
          ${openText ? `<span>${openText}</span>` : ''}
          ${seats ? `<span class="seats">${esc(seats)}</span>` : ''}
          ${p.kind ? `<span>${esc(t(`kind_${p.kind}`))}</span>` : ''}
        </div>
        ${p.opening_hours ? `<div class="result-meta"><span>${esc(t('hours'))}: ${esc(p.opening_hours)}</span></div>` : ''}
        <div class="amenities">${amen.map((a) => amenityIcon(a, t(`amenity_${a}`))).join('')}</div>`;
      const choose = () => {
        chosen = id;
        render();
      };
      li.addEventListener('click', choose);
      li.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') {
          ev.preventDefault();
          choose();
        }
      });
      list.appendChild(li);
    });
    drawChoice();
  }

  function drawChoice() {
    const f = results.find((r) => idOf(r) === chosen);
    map.setFilter('stations-selected', ['==', ['to-string', ['get', 'id']], chosen ?? '__none__']);
    const to = f ? lonLatOf(f) : null;
    app.route =
      to && here
        ? { type: 'FeatureCollection', features: [{ type: 'Feature', properties: { to: chosen }, geometry: { type: 'LineString', coordinates: [here, to] } }] }
        : EMPTY;
    map.getSource('route').setData(app.route);
    if (to && here && app.view === 'courier') {
      const b = new maplibregl.LngLatBounds(here, here).extend(to);
      if (!map.getBounds().contains(to)) map.fitBounds(b, { padding: 60, maxZoom: 16, duration: 0 });
    }
  }

  function locate() {
    if (!navigator.geolocation) {
      setStatus(t('no_geolocation', { msg: 'unsupported' }), true);
      return;
    }
    setStatus(t('locating'));
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        const p = [pos.coords.longitude, pos.coords.latitude];
        map.easeTo({ center: p, zoom: Math.max(map.getZoom(), 14), duration: 0 });
        search(p);
      },
      (err) => setStatus(t('no_geolocation', { msg: err.message }), true),
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 },
    );
  }

  document.getElementById('locate').addEventListener('click', locate);
  renderChips();
  onLangChange(() => {
    renderChips();
    render();
    if (here) setStatus(results.length ? t('nearest_n', { n: results.length }) : t('none_found'));
  });

  return {
    onClick(lngLat) {
      search([lngLat.lng, lngLat.lat]);
    },
    enter() {
      if (youMarker && here) youMarker.addTo(map);
      drawChoice();
    },
    leave() {
      if (youMarker) youMarker.remove();
      map.setFilter('stations-selected', ['==', ['get', 'id'], '__none__']);
      map.getSource('route').setData(EMPTY);
    },
    search,
    // A station was created, updated or retired (null: many changed): search again
    // from the same place so distances and the list are right.
    stationChanged() {
      if (!here) return;
      const keep = chosen;
      search(here).then(() => {
        if (keep && keep !== chosen && results.some((r) => idOf(r) === keep)) {
          chosen = keep;
          render();
        }
      });
    },
    // A station's occupancy was reported: update its row in place.
    occupancyChanged(id, props) {
      let hit = false;
      for (const r of results) {
        if (idOf(r) === id) {
          Object.assign((r.properties ??= {}), props);
          hit = true;
        }
      }
      if (hit) render();
    },
  };
}

function fmtWhen(v) {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return String(v);
  const hm = String(v).match(/T?(\d{2}):(\d{2})/);
  const time = hm ? `${hm[1]}:${hm[2]}` : d.toTimeString().slice(0, 5);
  const today = new Date();
  const sameDay = String(v).slice(0, 10) === `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, '0')}-${String(today.getDate()).padStart(2, '0')}`;
  return sameDay ? time : `${String(v).slice(5, 10)} ${time}`;
}

export function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
