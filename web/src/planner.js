// Planner view: utilisation, hotspots, gap scores, a cutoff slider, candidate sites,
// the compare table, "best p new sites" and GeoJSON exports.
import { t, onLangChange } from './i18n.js';
import { getJson, postJson, asFeatureCollection, pick, lonLatOf, rowsOf, loadLayer } from './api.js';
import { maplibregl, COLORS, EMPTY } from './map.js';
import { esc } from './courier.js';

const LAYER_IDS = {
  stations: ['stations'],
  hotspots: ['hotspots-heat'],
  gaps: ['gaps-fill'],
  boundary: ['boundary-line'],
  areas: ['areas-fill'],
};
// Street speeds of the server's profiles (km/h): a service area for the cutoff.
const KMH = { walk: 4.5, ebike: 15 };

export function setupPlanner(app) {
  const { map } = app;
  const slider = document.getElementById('cutoff');
  const sliderOut = document.getElementById('cutoff-value');
  const figure = document.getElementById('coverage-figure');
  const detail = document.getElementById('coverage-detail');
  const table = document.getElementById('compare-table');
  const selectStatus = document.getElementById('select-status');
  const candidates = []; // {id, lon, lat, marker}
  let nextId = 1;
  let compareRows = [];
  let chosenFc = EMPTY;
  let coverage = null;
  let timer = null;
  let covSeq = 0;
  const visible = { stations: true, hotspots: true, gaps: true, boundary: true, areas: false };
  // Distance along the streets when the server has them.
  const bySel = document.getElementById('by');
  const by = () => bySel.value;
  const byQuery = () => (by() === 'straight' ? '' : `&by=${by()}`);
  let network = false;
  const areasBox = document.querySelector('[data-layer="areas"]');
  const networkReady = getJson('/api/v1/network')
    .then((n) => {
      network = n?.loaded === true;
    })
    .catch(() => {
      network = false;
    })
    .finally(() => {
      for (const o of bySel.options) if (o.value !== 'straight') o.disabled = !network;
      areasBox.disabled = !network;
      document.body.dataset.network = network ? 'loaded' : 'none';
    });
  bySel.addEventListener('change', () => refresh());

  const def = +pick(app.config, ['default_cutoff_m', 'cutoff_m', 'defaults.cutoff_m'], 500);
  if (Number.isFinite(def) && def > 0) {
    slider.max = String(Math.max(+slider.max, def));
    slider.value = String(def);
  }
  const cutoff = () => +slider.value;
  const peakSel = document.getElementById('peak');
  const peak = () => +peakSel.value || 1;
  peakSel.addEventListener('change', () => refresh());
  // Time of day: 0–23 plans for that hour by the hotspots' profiles, 24 the whole day.
  const hourSl = document.getElementById('hour');
  const hourOut = document.getElementById('hour-value');
  const hour = () => (+hourSl.value < 24 ? +hourSl.value : null);
  const hourQuery = () => (hour() == null ? '' : `&hour=${hour()}`);
  const pad = (n) => String(n).padStart(2, '0');
  const hourText = () => (hour() == null ? t('all_day') : `${pad(hour())}:00–${pad(hour() + 1)}:00`);
  hourOut.textContent = hourText();
  hourSl.addEventListener('input', () => {
    hourOut.textContent = hourText();
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });

  // ---- coverage and gaps for the cutoff
  async function refresh() {
    const my = ++covSeq;
    const c = cutoff();
    sliderOut.textContent = t('m', { n: c });
    hourOut.textContent = hourText();
    document.body.dataset.coverage = 'loading';
    document.body.dataset.hour = hour() == null ? 'day' : String(hour());
    await networkReady;
    const [cov, gaps] = await Promise.allSettled([
      getJson(`/api/v1/coverage?cutoff_m=${c}&peak_share=${peak()}${hourQuery()}${byQuery()}`),
      getJson(`/api/v1/gaps?cutoff_m=${c}${hourQuery()}${byQuery()}`),
    ]);
    refreshAreas(my);
    if (my !== covSeq) return;
    if (cov.status === 'fulfilled') {
      coverage = cov.value;
      applyCoverage(cov.value);
    } else {
      figure.textContent = '–';
      detail.textContent = t('request_failed', { msg: cov.reason.message });
    }
    if (gaps.status === 'fulfilled') applyGaps(asFeatureCollection(gaps.value));
    document.body.dataset.coverage = 'ready';
  }

  // The service areas of the cutoff's travel time (walking unless e-bike is chosen).
  async function refreshAreas(my) {
    if (!visible.areas || !network) {
      map.getSource('areas').setData(EMPTY);
      return;
    }
    const mode = by() === 'ebike' ? 'ebike' : 'walk';
    const minutes = Math.min(60, Math.max(0.5, cutoff() / ((KMH[mode] * 1000) / 60)));
    document.body.dataset.areas = 'loading';
    try {
      const fc = await getJson(`/api/v1/service-areas?minutes=${minutes.toFixed(2)}&by=${mode}`);
      if (my !== covSeq) return;
      app.layers.areas = asFeatureCollection(fc);
      map.getSource('areas').setData(app.layers.areas);
    } catch {
      map.getSource('areas').setData(EMPTY);
    }
    document.body.dataset.areas = 'ready';
  }

  function applyCoverage(cov) {
    const s = cov.summary ?? cov;
    let share = +pick(s, ['covered_share', 'coverage', 'share', 'covered_fraction', 'fraction_covered', 'coverage_share', 'covered_ratio'], NaN);
    const covered = +pick(s, ['covered_workers', 'covered_demand', 'covered'], NaN);
    const total = +pick(s, ['total_workers', 'total_demand', 'demand', 'total'], NaN);
    if (!Number.isFinite(share) && Number.isFinite(covered) && total > 0) share = covered / total;
    if (share > 1.0000001) share /= 100;
    figure.textContent = Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : '–';
    detail.textContent =
      Number.isFinite(covered) && Number.isFinite(total)
        ? t('coverage_detail', { covered: Math.round(covered).toLocaleString(), total: Math.round(total).toLocaleString() })
        : '';
    const rows = rowsOf(cov, ['stations', 'per_station', 'station_loads', 'loads']);
    const byId = new Map();
    for (const r of rows) {
      const p = r.properties ?? r;
      const id = String(pick(p, ['id', 'station_id', 'station'], r.id ?? ''));
      const util = +pick(p, ['utilisation', 'utilization', 'load_ratio', 'util'], NaN);
      const load = +pick(p, ['load', 'assigned', 'demand'], NaN);
      const cap = +pick(p, ['capacity'], NaN);
      const u = Number.isFinite(util) ? util : cap > 0 && Number.isFinite(load) ? load / cap : 0;
      const over = p.overloaded === true || p.overloaded === 'true' || (p.overloaded == null && u > 1);
      byId.set(id, { u, over, load });
    }
    for (const f of app.layers.stations.features) {
      const x = byId.get(String(f.properties?.id));
      f.properties._util = x ? x.u : 0;
      f.properties._over = x ? x.over : false;
      f.properties._load = x ? x.load : null;
    }
    map.getSource('stations').setData(app.layers.stations);
    renderLoads(rows);
    renderLegend();
  }

  // The busiest stations at the chosen hour: load against seats.
  function renderLoads(rows) {
    const el = document.getElementById('load-table');
    const items = rows
      .map((r) => r.properties ?? r)
      .filter((p) => +p.capacity > 0 && Number.isFinite(+p.load))
      .sort((a, b) => +b.load / +b.capacity - +a.load / +a.capacity)
      .slice(0, 5);
    if (!items.length) {
      el.innerHTML = '';
      return;
    }
    el.innerHTML =
      `<caption>${esc(t('busiest_heading', { when: hourText() }))}</caption><tbody>` +
      items
        .map((p) => {
          const over = p.overloaded === true || +p.load > +p.capacity;
          return `<tr data-id="${esc(String(p.id))}"${over ? ' class="over"' : ''}><th scope="row">${esc(String(p.name ?? p.id))}</th><td>${esc(
            t('seats_of', { load: (+p.load).toFixed(1), seats: p.capacity }),
          )}</td></tr>`;
        })
        .join('') +
      '</tbody>';
  }

  function applyGaps(fc) {
    let max = 0;
    for (const f of fc.features) {
      const p = f.properties ?? (f.properties = {});
      const g = +pick(p, ['gap_score', 'gap', 'score', 'uncovered_demand', 'uncovered_workers', 'uncovered'], 0);
      p._gapRaw = Number.isFinite(g) ? g : 0;
      max = Math.max(max, p._gapRaw);
    }
    for (const f of fc.features) f.properties._gap = max > 0 ? f.properties._gapRaw / max : 0;
    app.layers.gaps = fc;
    map.getSource('gaps').setData(fc);
  }

  slider.addEventListener('input', () => {
    sliderOut.textContent = t('m', { n: cutoff() });
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  });

  // ---- layers and legend
  document.querySelectorAll('[data-layer]').forEach((cb) => {
    cb.addEventListener('change', () => {
      visible[cb.dataset.layer] = cb.checked;
      applyVisibility();
      if (cb.dataset.layer === 'areas') refreshAreas(covSeq);
    });
  });
  function applyVisibility() {
    const planner = app.view === 'planner';
    for (const [k, ids] of Object.entries(LAYER_IDS)) {
      const on = planner ? visible[k] : k === 'stations' || k === 'boundary';
      for (const id of ids) map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
    }
    map.setLayoutProperty('chosen-sites', 'visibility', planner ? 'visible' : 'none');
    map.setLayoutProperty('candidates-listed', 'visibility', planner ? 'visible' : 'none');
  }

  function renderLegend() {
    const el = document.getElementById('legend');
    const ramp = `linear-gradient(90deg, ${COLORS.gapRamp.join(', ')})`;
    const heat = 'linear-gradient(90deg, rgba(254,217,118,.55), rgba(253,141,60,.7), rgba(240,59,32,.8), rgba(189,0,38,.9))';
    el.innerHTML = `
      <div class="legend-row"><span class="swatch dot" style="background:${COLORS.station}"></span>${esc(t('legend_station'))}
        <span class="swatch dot" style="background:${COLORS.childcare}"></span>${esc(t('kind_childcare_class'))}
        <span class="swatch dot" style="background:${COLORS.overloaded}"></span>${esc(t('legend_overloaded'))}</div>
      <div class="legend-row"><span class="ramp" style="background:${heat}"></span>${esc(t('legend_heat'))}</div>
      <div class="legend-row"><span class="ramp" style="background:${ramp}"></span>${esc(t('legend_gap'))}</div>
      <div class="legend-row"><span class="swatch dot" style="background:#fff;border:2px solid ${COLORS.candidate}"></span>${esc(t('legend_dataset_candidate'))}
        <span class="swatch dot" style="background:${COLORS.candidate}"></span>${esc(t('legend_candidate'))}
        <span class="swatch dot" style="background:${COLORS.chosen}"></span>${esc(t('legend_selected'))}
        <span class="swatch" style="background:none;border:2px dashed ${COLORS.boundary}"></span>${esc(t('legend_boundary'))}
        <span class="swatch" style="background:rgba(43,140,190,.3);border:1px solid #0868ac"></span>${esc(t('layer_areas'))}</div>`;
  }

  // ---- candidates
  function addCandidate(lngLat) {
    const id = `C${nextId++}`;
    const el = document.createElement('button');
    el.type = 'button';
    el.className = 'pin';
    el.dataset.candidate = id;
    el.setAttribute('aria-label', `${t('legend_candidate')} ${id}`);
    el.innerHTML = `<span>${esc(id.slice(1))}</span>`;
    const marker = new maplibregl.Marker({ element: el, anchor: 'bottom-left', draggable: true })
      .setLngLat(lngLat)
      .addTo(map);
    const c = { id, lon: lngLat.lng, lat: lngLat.lat, marker };
    marker.on('dragend', () => {
      const p = marker.getLngLat();
      c.lon = p.lng;
      c.lat = p.lat;
    });
    el.addEventListener('click', (ev) => {
      ev.stopPropagation();
      if (ev.detail === 0) return; // keyboard activation does nothing
      marker.remove();
      candidates.splice(candidates.indexOf(c), 1);
    });
    candidates.push(c);
  }

  async function compare() {
    if (!candidates.length) {
      table.innerHTML = `<caption>${esc(t('no_candidates'))}</caption>`;
      return;
    }
    table.innerHTML = `<caption>${esc(t('comparing'))}</caption>`;
    document.body.dataset.compare = 'loading';
    const payload = {
      candidates: candidates.map((c) => ({ id: c.id, name: c.id, lon: +c.lon.toFixed(6), lat: +c.lat.toFixed(6) })),
      cutoff_m: cutoff(),
      peak_share: peak(),
    };
    if (hour() != null) payload.hour = hour();
    if (by() !== 'straight') payload.by = by();
    try {
      const resp = await postJson('/api/v1/plan/compare', payload);
      compareRows = rowsOf(resp, ['rows', 'candidates', 'results', 'ranking', 'ranked', 'table']).map((r) => r.properties ?? r);
      renderTable();
    } catch (e) {
      compareRows = [];
      table.innerHTML = `<caption class="status error">${esc(t('request_failed', { msg: e.message }))}</caption>`;
    }
    document.body.dataset.compare = 'ready';
  }

  function renderTable() {
    const skip = new Set(['lon', 'lat', 'geometry', 'location', 'type', 'name']);
    let cols = [];
    for (const r of compareRows) {
      for (const [k, v] of Object.entries(r)) {
        if (!skip.has(k) && !cols.includes(k) && (v === null || typeof v !== 'object')) cols.push(k);
      }
    }
    // The columns people read first, when the server sends them; else everything.
    const known = ['id', 'rank', 'newly_covered_demand', 'workers_served', 'relief', 'mean_distance_saved_m'];
    if (known.filter((k) => cols.includes(k)).length >= 3) cols = known.filter((k) => cols.includes(k));
    const idCol = cols.find((c) => /^(id|candidate|candidate_id)$/.test(c));
    const first = [idCol, 'rank'].filter((c) => c && cols.includes(c));
    const ordered = [...first, ...cols.filter((c) => !first.includes(c))];
    const label = (c) => (c === idCol ? t('col_candidate') : c === 'rank' ? t('col_rank') : t(`col_${c}`) !== `col_${c}` ? t(`col_${c}`) : c.replace(/_/g, ' '));
    const head = ordered.map((c) => `<th scope="col">${esc(label(c))}</th>`).join('');
    const body = compareRows
      .map((r) => {
        const id = idCol ? r[idCol] : '';
        return `<tr data-id="${esc(id)}">${ordered.map((c) => `<td>${esc(fmtCell(r[c]))}</td>`).join('')}</tr>`;
      })
      .join('');
    table.innerHTML = `<thead><tr>${head}</tr></thead><tbody>${body}</tbody>`;
  }

  // ---- best p new sites
  async function select() {
    const btn = document.getElementById('select-run');
    btn.disabled = true;
    selectShown = null;
    selectStatus.classList.remove('error');
    selectStatus.textContent = t('selecting');
    document.body.dataset.select = 'loading';
    const payload = {
      model: document.getElementById('select-model').value,
      p: Math.max(1, +document.getElementById('select-p').value || 1),
      cutoff_m: cutoff(),
      exact: false,
    };
    // The best sites for the chosen hour (e.g. the lunch peak).
    if (hour() != null) payload.hour = hour();
    if (by() !== 'straight') payload.by = by();
    const from = document.getElementById('select-from').value;
    if (from === 'cells') payload.cells = true;
    if (from === 'mine') {
      if (!candidates.length) {
        selectStatus.textContent = t('no_candidates');
        btn.disabled = false;
        document.body.dataset.select = 'ready';
        return;
      }
      payload.candidates = candidates.map((c) => ({ id: c.id, lon: +c.lon.toFixed(6), lat: +c.lat.toFixed(6) }));
    }
    try {
      const resp = await postJson('/api/v1/plan/select', payload);
      let rows = rowsOf(resp, ['chosen', 'features', 'new_sites', 'selected', 'sites']);
      if (rows.some((r) => typeof r !== 'object')) {
        // Only ids: place them from the dataset's candidate sites.
        if (!app.layers.candidates) app.layers.candidates = await loadLayer('candidates').catch(() => EMPTY);
        const byId = new Map(app.layers.candidates.features.map((f) => [String(f.properties?.id ?? f.id), f]));
        rows = rows.map((r) => (typeof r === 'object' ? r : byId.get(String(r)) ?? { id: r }));
      }
      const features = rows
        .map((r, i) => {
          const ll = lonLatOf(r);
          if (!ll) return null;
          const props = { ...(r.properties ?? r), rank: i + 1 };
          delete props.geometry;
          return { type: 'Feature', properties: props, geometry: { type: 'Point', coordinates: ll } };
        })
        .filter(Boolean);
      chosenFc = { type: 'FeatureCollection', features };
      app.chosen = chosenFc;
      map.getSource('chosen').setData(chosenFc);
      const share = +pick(resp, ['covered_share', 'solution.covered_share', 'summary.covered_share', 'coverage_after'], NaN);
      // Kept so that a language switch says it again in the new language (#18).
      selectShown = { n: features.length, share };
      showSelected();
      app.lastSelect = resp;
    } catch (e) {
      selectStatus.classList.add('error');
      selectStatus.textContent = t('request_failed', { msg: e.message });
    }
    btn.disabled = false;
    document.body.dataset.select = 'ready';
  }

  let selectShown = null;
  function showSelected() {
    if (!selectShown) return;
    const { n, share } = selectShown;
    selectStatus.textContent =
      t('selected_n', { n }) +
      (Number.isFinite(share) ? ` ${t('coverage_label')}: ${((share > 1 ? share / 100 : share) * 100).toFixed(1)}%` : '');
  }

  // ---- exports
  function renderExports() {
    const el = document.getElementById('exports');
    el.innerHTML = '';
    const layers = [
      ['stations', 'layer_stations'],
      ['hotspots', 'layer_hotspots'],
      ['cells', 'layer_cells'],
      ['gaps', 'layer_gaps'],
      ['boundary', 'layer_boundary'],
      ['candidates', 'layer_candidates'],
    ];
    for (const [id, key] of layers) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = t(key);
      b.dataset.export = id;
      b.addEventListener('click', () => {
        const q = id === 'gaps' ? `?cutoff_m=${cutoff()}` : '';
        download(`/api/v1/export/${id}.geojson${q}`, `${id}.geojson`);
      });
      el.appendChild(b);
    }
    const plan = document.createElement('button');
    plan.type = 'button';
    plan.className = 'primary';
    plan.dataset.export = 'plan';
    plan.textContent = t('export_plan');
    plan.addEventListener('click', () => {
      const blob = new Blob([JSON.stringify(planGeoJson(), null, 2)], { type: 'application/geo+json' });
      const url = URL.createObjectURL(blob);
      download(url, 'plan.geojson');
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    });
    el.appendChild(plan);
  }

  function planGeoJson() {
    const rowById = new Map(compareRows.map((r) => [String(pick(r, ['id', 'candidate', 'candidate_id'], '')), r]));
    const features = candidates.map((c) => ({
      type: 'Feature',
      properties: { role: 'candidate', cutoff_m: cutoff(), ...(rowById.get(c.id) ?? {}), id: c.id },
      geometry: { type: 'Point', coordinates: [c.lon, c.lat] },
    }));
    for (const f of chosenFc.features) {
      features.push({ ...f, properties: { role: 'selected', cutoff_m: cutoff(), ...f.properties } });
    }
    return { type: 'FeatureCollection', features };
  }

  document.getElementById('compare').addEventListener('click', compare);
  document.getElementById('clear-candidates').addEventListener('click', () => {
    candidates.splice(0).forEach((c) => c.marker.remove());
    compareRows = [];
    table.innerHTML = '';
    chosenFc = EMPTY;
    map.getSource('chosen').setData(EMPTY);
    selectShown = null;
    selectStatus.textContent = '';
  });
  document.getElementById('select-run').addEventListener('click', select);
  renderExports();
  renderLegend();
  onLangChange(() => {
    sliderOut.textContent = t('m', { n: cutoff() });
    hourOut.textContent = hourText();
    renderExports();
    renderLegend();
    if (coverage) applyCoverage(coverage);
    if (compareRows.length) renderTable();
    if (selectShown && !selectStatus.classList.contains('error')) showSelected();
  });

  let loaded = false;
  return {
    onClick(lngLat) {
      addCandidate(lngLat);
    },
    enter() {
      candidates.forEach((c) => c.marker.addTo(map));
      applyVisibility();
      if (!loaded) {
        loaded = true;
        refresh();
        loadLayer('candidates')
          .then((fc) => {
            app.layers.candidates = fc;
            map.getSource('candidates').setData(fc);
          })
          .catch(() => {});
      }
    },
    leave() {
      candidates.forEach((c) => c.marker.remove());
      applyVisibility();
    },
    applyVisibility,
    refresh,
    candidates,
    planGeoJson,
  };
}

function fmtCell(v) {
  if (v == null) return '';
  if (typeof v === 'number' && Math.abs(v) < 5e-4) v = 0;
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString() : Math.abs(v) < 1 ? v.toFixed(3) : v.toFixed(1);
  return String(v);
}

function download(href, name) {
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
}
