// Courier view: the nearest stations to a tap or to the browser's location.
import { t, lang, fmtDistance, onLangChange } from './i18n.js';
import { getJson, asFeatureCollection, pick, lonLatOf } from './api.js';
import { amenityIcon, AMENITIES } from './icons.js';
import { maplibregl, EMPTY } from './map.js';
import { fmtHours } from './hours.js';

const WALK_M_PER_MIN = 80; // 4.8 km/h
const EBIKE_M_PER_MIN = 250; // 15 km/h in town traffic
const K = 5;
const FIT_MAX_ZOOM = 17;
const BY_KEY = 'yizhan.by';
const MODES = ['walk', 'ebike', 'straight'];
const NAV_APPS = ['amap', 'baidu', 'tencent', 'geo'];
// GeolocationPositionError codes.
const GEO_ERRORS = { 1: 'geo_denied', 2: 'geo_unavailable', 3: 'geo_timeout' };

/** The saved travel mode, or null. */
function savedBy() {
  try {
    const v = localStorage.getItem(BY_KEY);
    return MODES.includes(v) ? v : null;
  } catch {
    return null;
  }
}

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
  let network = false; // a street network is loaded
  let by = savedBy() ?? 'straight';
  let fallback = null; // why the last search fell back to straight lines
  const travel = document.getElementById('travel');

  function renderTravel() {
    travel.innerHTML = '';
    for (const m of MODES) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'chip travel-mode';
      b.dataset.by = m;
      b.setAttribute('aria-pressed', by === m ? 'true' : 'false');
      b.disabled = m !== 'straight' && !network;
      b.textContent = t(`by_${m}`);
      b.addEventListener('click', () => {
        by = m;
        try {
          localStorage.setItem(BY_KEY, m);
        } catch {
          // storage may be disabled
        }
        renderTravel();
        if (here) search(here);
      });
      travel.appendChild(b);
    }
  }

  // Walk along the streets by default when the server has them (unless the courier chose).
  getJson('/api/v1/network')
    .then((n) => {
      network = n?.loaded === true;
      const was = by;
      if (!savedBy()) by = network ? 'walk' : 'straight';
      if (!network && by !== 'straight') by = 'straight';
      renderTravel();
      document.body.dataset.network = network ? 'loaded' : 'none';
      // A search made before the answer came used straight lines: make it again.
      if (here && by !== was) search(here);
    })
    .catch(() => {
      document.body.dataset.network = 'none';
    });

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
        else showFilters();
      });
      chips.appendChild(b);
    }
  }

  // The last error's message, said again when the language changes.
  let errorAgain = null;
  function sayError(fn) {
    errorAgain = fn;
    setStatus(fn(), true);
  }

  function setStatus(text, error = false) {
    if (!error) errorAgain = null;
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
    fallback = null;
    try {
      let fc;
      if (by !== 'straight' && network) {
        try {
          fc = asFeatureCollection(await getJson(`/api/v1/stations/nearest?${q}&by=${by}`));
        } catch (e) {
          // A point far from every street (422): rank by straight lines and say so.
          fallback = e.message;
        }
      }
      fc ??= asFeatureCollection(await getJson(`/api/v1/stations/nearest?${q}`));
      if (my !== seq) return;
      results = fc.features;
      app.lastNearest = fc;
      chosen = results[0] ? idOf(results[0]) : null;
      render(true);
      showStatus();
    } catch (e) {
      if (my !== seq) return;
      results = [];
      chosen = null;
      render();
      sayError(() => t('request_failed', { msg: e.message }));
    }
    document.body.dataset.courier = 'ready';
  }

  function showStatus() {
    let text = results.length ? t('nearest_n', { n: results.length }) : t('none_found');
    if (fallback) text += ` ${t('route_fallback', { msg: fallback })}`;
    setStatus(text, false);
    showFilters();
  }

  /** The active filters in the status line, with one tap to clear them all. */
  function showFilters() {
    status.querySelector('.filters-on')?.remove();
    if (!filters.size) return;
    const box = document.createElement('span');
    box.className = 'filters-on';
    const names = AMENITIES.filter((a) => filters.has(a)).map((a) => t(`amenity_${a}`));
    const label = document.createElement('span');
    label.textContent = t('filters_on', { list: names.join(lang() === 'zh' ? '、' : ', ') });
    const clear = document.createElement('button');
    clear.type = 'button';
    clear.className = 'clear-filters';
    clear.textContent = t('clear_filters');
    clear.addEventListener('click', () => {
      filters.clear();
      renderChips();
      if (here) search(here);
      else showFilters();
    });
    box.append(' ', label, ' ', clear);
    status.appendChild(box);
  }

  function idOf(f) {
    return String(pick(f.properties ?? {}, ['id'], f.id ?? ''));
  }

  function render(fit = false) {
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
      const straight = +pick(p, ['distance_m', 'distance'], NaN);
      const net = +pick(p, ['network_m'], NaN);
      const d = Number.isFinite(net) ? net : straight;
      const tt = +pick(p, ['travel_time_s'], NaN);
      const minutes = (m, perMin) => (p.by === m && Number.isFinite(tt) ? Math.max(1, Math.ceil(tt / 60)) : Math.max(1, Math.ceil(d / perMin)));
      const walk = minutes('walk', WALK_M_PER_MIN);
      const ebike = minutes('ebike', EBIKE_M_PER_MIN);
      const open = pick(p, ['open_now', 'is_open', 'open']);
      const opensAt = pick(p, ['opens_at', 'next_open', 'next_opening']);
      const amen = Array.isArray(p.amenities)
        ? p.amenities
        : String(p.amenities ?? '').split(/[,;]/).filter(Boolean);
      let openText = '';
      if (open === true) openText = `<span class="open">${esc(t('open_now'))}</span>`;
      else if (open === false) {
        openText = `<span class="closed">${esc(t('closed_now'))}</span>`;
        if (opensAt) openText += ` · ${esc(t('opens_at', { t: fmtWhen(opensAt) }))}`;
      }
      const seats = seatsText(p);
      const nav = p.navigate && typeof p.navigate === 'object' ? p.navigate : null;
      const links = nav
        ? NAV_APPS.filter((a) => typeof nav[a] === 'string')
            .map((a) => `<a class="nav-link" data-app="${a}" href="${esc(nav[a])}" target="_blank" rel="noopener noreferrer">${esc(t(`nav_${a}`))}</a>`)
            .join('')
        : '';
      li.innerHTML = `
        <div class="result-head"><span class="result-name">${i + 1}. ${esc(name ?? id)}</span>
          <span class="result-dist">${esc(fmtDistance(d))}</span></div>
        <div class="result-meta">
          <span>${esc(t('walk_min', { n: walk }))}</span><span>${esc(t('ebike_min', { n: ebike }))}</span>
          ${p.by === 'walk' || p.by === 'ebike' ? `<span class="by-streets">${esc(t('by_streets'))}</span>` : ''}
          ${openText ? `<span>${openText}</span>` : ''}
          ${p.kind ? `<span>${esc(t(`kind_${p.kind}`))}</span>` : ''}
        </div>
        ${seats ? `<div class="result-meta seats-row">${seats}</div>` : ''}
        ${p.opening_hours ? `<div class="result-meta"><span class="hours">${esc(t('hours'))}: ${esc(fmtHours(p.opening_hours, lang()))}</span></div>` : ''}
        <div class="amenities">${amen.map((a) => amenityIcon(a, t(`amenity_${a}`))).join('')}</div>
        ${links ? `<details class="navigate"><summary class="nav-button">${esc(t('navigate'))}</summary><div class="nav-links">${links}</div></details>` : ''}`;
      const choose = () => {
        chosen = id;
        render(true);
      };
      li.addEventListener('click', (ev) => {
        // The navigate menu and its links work on their own.
        if (ev.target.closest('.navigate')) return;
        choose();
      });
      li.addEventListener('keydown', (ev) => {
        if (ev.target !== li) return;
        if (ev.key === 'Enter' || ev.key === ' ') {
          ev.preventDefault();
          choose();
        }
      });
      list.appendChild(li);
    });
    drawChoice(fit);
  }

  /** Free seats with the report's age, or the capacity and "no recent report". */
  function seatsText(p) {
    const cap = pick(p, ['capacity', 'seats']);
    if (cap == null) return '';
    const free = pick(p, ['free_seats', 'seats_free', 'free']);
    const occ = p.occupancy && typeof p.occupancy === 'object' ? p.occupancy : null;
    if (free == null || (occ && occ.stale)) {
      return `<span class="seats">${esc(t('seats_cap', { cap }))}</span><span class="report none">${esc(t('no_recent_report'))}</span>`;
    }
    const age = occ ? +occ.age_s : NaN;
    const when = Number.isFinite(age) ? `<span class="report">${esc(fmtAge(age))}</span>` : '';
    return `<span class="seats free${+free === 0 ? ' full' : ''}">${esc(t('free_seats', { free, cap }))}</span>${when}`;
  }

  function drawChoice(fit = false) {
    const f = results.find((r) => idOf(r) === chosen);
    const sel = ['==', ['to-string', ['get', 'id']], chosen ?? '__none__'];
    map.setFilter('stations-selected', sel);
    map.setFilter('stations-chosen', sel);
    // The chosen station above every other layer (childcare classes and later layers too).
    map.moveLayer('stations-chosen');
    const to = f ? lonLatOf(f) : null;
    const r = f?.properties?.route;
    let line = null;
    if (to && here) {
      line = [here, to];
      if (r?.type === 'LineString' && Array.isArray(r.coordinates) && r.coordinates.length >= 2) {
        line = [here, ...r.coordinates, to];
      }
    }
    app.route = line
      ? { type: 'FeatureCollection', features: [{ type: 'Feature', properties: { to: chosen, by: f.properties?.by ?? 'straight' }, geometry: { type: 'LineString', coordinates: line } }] }
      : EMPTY;
    map.getSource('route').setData(app.route);
    // Solid along the streets, dotted for a straight line.
    map.setPaintProperty('route-line', 'line-dasharray', line && line.length > 2 ? undefined : [1, 1.5]);
    if (fit && line && app.view === 'courier') {
      const b = new maplibregl.LngLatBounds(here, here);
      for (const c of line) b.extend(c);
      map.fitBounds(b, { padding: 50, maxZoom: FIT_MAX_ZOOM, duration: 0 });
    }
  }

  function locate() {
    if (!navigator.geolocation) {
      sayError(() => t('no_geolocation', { msg: t('geo_unsupported') }));
      return;
    }
    setStatus(t('locating'));
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        const p = [pos.coords.longitude, pos.coords.latitude];
        map.easeTo({ center: p, zoom: Math.max(map.getZoom(), 14), duration: 0 });
        search(p);
      },
      // The browser's own message is in its language: say it in ours by the error code.
      (err) => sayError(() => t('no_geolocation', { msg: t(GEO_ERRORS[err.code] ?? 'geo_unavailable') })),
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 },
    );
  }

  document.getElementById('locate').addEventListener('click', locate);
  renderChips();
  renderTravel();
  onLangChange(() => {
    renderChips();
    renderTravel();
    render();
    if (errorAgain) setStatus(errorAgain(), true);
    else if (here) showStatus();
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
      map.setFilter('stations-chosen', ['==', ['get', 'id'], '__none__']);
      map.getSource('route').setData(EMPTY);
    },
    search,
    get by() {
      return by;
    },
    get chosen() {
      return chosen;
    },
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

/** How long ago a report was made, for people. */
function fmtAge(s) {
  if (s < 60) return t('reported_just_now');
  const min = Math.round(s / 60);
  if (min < 60) return t('reported_ago', { age: t('age_min', { n: min }) });
  return t('reported_ago', { age: t('age_h', { n: Math.round(min / 6) / 10 }) });
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
