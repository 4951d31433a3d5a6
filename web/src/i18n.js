// Chinese and English labels. Chinese is the default when the browser asks for it.

const STRINGS = {
  zh: {
    app_title: '户外劳动者驿站',
    views: '视图',
    view_courier: '找驿站',
    view_planner: '规划',
    switch_language: '切换语言',
    lang_button: 'EN',
    map_region: '地图',
    courier_heading: '查找最近的驿站',
    courier_hint: '点击地图，或使用您的位置。',
    use_my_location: '使用我的位置',
    locating: '正在定位…',
    no_geolocation: '无法获取位置：{msg}。请点击地图选择位置。',
    amenity_filter: '按设施筛选',
    searching: '正在查找…',
    nearest_n: '离您最近的 {n} 个驿站',
    none_found: '附近没有符合条件的驿站。',
    request_failed: '请求失败：{msg}',
    walk_min: '步行 {n} 分钟',
    ebike_min: '电动车 {n} 分钟',
    open_now: '营业中',
    closed_now: '未营业',
    opens_at: '{t} 开门',
    seats: '座位 {free}/{cap}',
    seats_cap: '座位 {cap}',
    hours: '营业时间',
    kind_rest_station: '工会驿站',
    kind_childcare_class: '暑托班',
    planner_heading: '规划工作台',
    cutoff_label: '步行距离上限',
    peak_label: '同时休息',
    peak_hint: '的劳动者需要座位',
    hour_label: '时段',
    by_label: '距离',
    by_straight: '直线',
    by_walk_streets: '步行，沿街道',
    by_ebike_streets: '电动车，沿街道',
    layer_areas: '服务范围',
    all_day: '全天',
    busiest_heading: '最忙的驿站（{when}）',
    seats_of: '{load} / {seats} 座',
    col_newly_covered_demand: '新增覆盖人数',
    col_newly_covered_hotspots: '新增覆盖热点',
    col_workers_served: '服务人数',
    col_relief: '缓解负荷',
    col_mean_distance_saved_m: '平均少走（米）',
    coverage_label: '被覆盖的劳动者',
    coverage_detail: '{covered} / {total} 人',
    layers: '图层',
    layer_stations: '驿站',
    layer_hotspots: '热点',
    layer_gaps: '缺口评分',
    layer_boundary: '边界',
    legend_station: '驿站（大小 = 利用率）',
    legend_overloaded: '超负荷',
    legend_heat: '劳动者热点',
    legend_gap: '缺口评分 低 → 高',
    legend_candidate: '候选点',
    legend_selected: '推荐新站点',
    legend_boundary: '镇界',
    candidates_heading: '候选站点',
    candidates_hint: '点击地图放置候选站点。',
    compare: '比较',
    clear: '清除',
    no_candidates: '请先在地图上放置候选站点。',
    comparing: '正在比较…',
    select_heading: '最佳新站点',
    p_label: '数量 p',
    model_label: '模型',
    model_mclp: '最大覆盖',
    model_pmedian: 'p-中位（最短平均距离）',
    model_pcenter: 'p-中心（最短最远距离）',
    select_run: '求解',
    from_label: '候选范围',
    from_dataset: '镇里的候选点',
    from_cells: '所有网格',
    from_mine: '我放置的点',
    legend_dataset_candidate: '已有候选点',
    selecting: '正在求解…',
    selected_n: '已选出 {n} 个站点。',
    export_heading: '导出 GeoJSON',
    export_layer: '{layer}',
    export_plan: '当前方案',
    col_candidate: '候选点',
    col_rank: '排名',
    basemap_failed: '底图瓦片无法加载（{src}：{msg}）。数据图层仍显示在纯色背景上。',
    data_failed: '数据加载失败：{msg}',
    layer_cells: '网格',
    layer_hotspots_export: '热点',
    layer_candidates: '候选点',
    amenity_microwave: '微波炉',
    amenity_drinking_water: '饮用水',
    amenity_first_aid: '急救箱',
    amenity_books: '书籍',
    amenity_charging: '充电',
    amenity_toilet: '卫生间',
    amenity_air_conditioning: '空调',
    amenity_seating: '座椅',
    amenity_wifi: '无线网络',
    close: '关闭',
    m: '{n} 米',
    km: '{n} 公里',
    // courier (#18)
    navigate: '导航',
    nav_amap: '高德地图',
    nav_baidu: '百度地图',
    nav_tencent: '腾讯地图',
    nav_geo: '其他地图应用',
    travel_mode: '出行方式',
    by_walk: '步行',
    by_ebike: '电动车',
    by_straight: '直线',
    by_streets: '沿道路',
    route_fallback: '无法沿道路计算（{msg}），改用直线距离。',
    free_seats: '空座 {free}/{cap}',
    no_recent_report: '暂无最新报告',
    reported_ago: '{age}前更新',
    reported_just_now: '刚刚更新',
    age_min: '{n} 分钟',
    age_h: '{n} 小时',
    geo_unsupported: '浏览器不支持定位',
    geo_denied: '未获得定位权限',
    geo_unavailable: '暂时无法定位',
    geo_timeout: '定位超时',
    zoom_in: '放大',
    zoom_out: '缩小',
    scale_m: '米',
    scale_km: '公里',
    toggle_attribution: '显示或隐藏数据来源',
    map_marker: '地图标记',
    filters_on: '筛选：{list}',
    clear_filters: '清除筛选',
  },
  en: {
    app_title: 'rest stations for outdoor workers',
    views: 'Views',
    view_courier: 'Find',
    view_planner: 'Plan',
    switch_language: 'Switch language',
    lang_button: '中文',
    map_region: 'Map',
    courier_heading: 'Find the nearest station',
    courier_hint: 'Tap the map or use your location.',
    use_my_location: 'Use my location',
    locating: 'Locating…',
    no_geolocation: 'No location: {msg}. Tap the map instead.',
    amenity_filter: 'Filter by amenity',
    searching: 'Searching…',
    nearest_n: 'The {n} nearest stations',
    none_found: 'No matching station nearby.',
    request_failed: 'Request failed: {msg}',
    walk_min: '{n} min walk',
    ebike_min: '{n} min by e-bike',
    open_now: 'Open now',
    closed_now: 'Closed',
    opens_at: 'opens {t}',
    seats: 'seats {free}/{cap}',
    seats_cap: '{cap} seats',
    hours: 'Hours',
    kind_rest_station: 'Rest station',
    kind_childcare_class: 'Childcare class',
    planner_heading: 'Planning workbench',
    cutoff_label: 'Walking cutoff',
    peak_label: 'Resting at once',
    peak_hint: 'of workers want a seat',
    hour_label: 'Time of day',
    by_label: 'Distance',
    by_straight: 'Straight line',
    by_walk_streets: 'On foot, along the streets',
    by_ebike_streets: 'By e-bike, along the streets',
    layer_areas: 'Service areas',
    all_day: 'All day',
    busiest_heading: 'Busiest stations ({when})',
    seats_of: '{load} of {seats} seats',
    col_newly_covered_demand: 'Newly covered',
    col_newly_covered_hotspots: 'New hotspots',
    col_workers_served: 'Workers served',
    col_relief: 'Relief',
    col_mean_distance_saved_m: 'Distance saved (m)',
    coverage_label: 'Workers covered',
    coverage_detail: '{covered} of {total}',
    layers: 'Layers',
    layer_stations: 'Stations',
    layer_hotspots: 'Hotspots',
    layer_gaps: 'Gap score',
    layer_boundary: 'Boundary',
    legend_station: 'Station (size = utilisation)',
    legend_overloaded: 'Overloaded',
    legend_heat: 'Worker hotspots',
    legend_gap: 'Gap score low → high',
    legend_candidate: 'Candidate',
    legend_selected: 'Proposed new site',
    legend_boundary: 'Town boundary',
    candidates_heading: 'Candidate sites',
    candidates_hint: 'Click the map to drop candidate sites.',
    compare: 'Compare',
    clear: 'Clear',
    no_candidates: 'Drop candidate sites on the map first.',
    comparing: 'Comparing…',
    select_heading: 'Best new sites',
    p_label: 'p',
    model_label: 'Model',
    model_mclp: 'Max coverage',
    model_pmedian: 'p-median (shortest mean distance)',
    model_pcenter: 'p-center (shortest longest distance)',
    select_run: 'Find best sites',
    from_label: 'From',
    from_dataset: "the town's candidate sites",
    from_cells: 'every grid cell',
    from_mine: 'the sites I dropped',
    legend_dataset_candidate: 'Listed candidate site',
    selecting: 'Solving…',
    selected_n: '{n} sites chosen.',
    export_heading: 'Export GeoJSON',
    export_layer: '{layer}',
    export_plan: 'Current plan',
    col_candidate: 'Candidate',
    col_rank: 'Rank',
    basemap_failed: 'Base map tiles could not be loaded ({src}: {msg}). The data layers are shown over a plain background.',
    data_failed: 'Could not load data: {msg}',
    layer_cells: 'Grid cells',
    layer_hotspots_export: 'Hotspots',
    layer_candidates: 'Candidates',
    amenity_microwave: 'Microwave',
    amenity_drinking_water: 'Drinking water',
    amenity_first_aid: 'First aid',
    amenity_books: 'Books',
    amenity_charging: 'Charging',
    amenity_toilet: 'Toilet',
    amenity_air_conditioning: 'Air conditioning',
    amenity_seating: 'Seating',
    amenity_wifi: 'Wi-Fi',
    close: 'Close',
    m: '{n} m',
    km: '{n} km',
    // courier (#18)
    navigate: 'Navigate',
    nav_amap: 'Amap',
    nav_baidu: 'Baidu Maps',
    nav_tencent: 'Tencent Maps',
    nav_geo: 'Other map app',
    travel_mode: 'Travel by',
    by_walk: 'Walk',
    by_ebike: 'E-bike',
    by_straight: 'Straight line',
    by_streets: 'by street',
    route_fallback: 'No street route ({msg}); straight-line distances shown.',
    free_seats: '{free} of {cap} seats free',
    no_recent_report: 'no recent report',
    reported_ago: 'reported {age} ago',
    reported_just_now: 'reported just now',
    age_min: '{n} min',
    age_h: '{n} h',
    geo_unsupported: 'this browser cannot locate you',
    geo_denied: 'permission denied',
    geo_unavailable: 'position unavailable',
    geo_timeout: 'timed out',
    zoom_in: 'Zoom in',
    zoom_out: 'Zoom out',
    scale_m: 'm',
    scale_km: 'km',
    toggle_attribution: 'Toggle attribution',
    map_marker: 'Map marker',
    filters_on: 'Filters: {list}',
    clear_filters: 'Clear filters',
  },
};

/** Pick the starting language: ?lang=, then a saved choice, then the browser's languages. */
export function initialLang() {
  const q = new URLSearchParams(location.search).get('lang');
  if (q === 'zh' || q === 'en') return q;
  try {
    const saved = localStorage.getItem('yizhan.lang');
    if (saved === 'zh' || saved === 'en') return saved;
  } catch {
    // storage may be disabled
  }
  const langs = navigator.languages?.length ? navigator.languages : [navigator.language || 'en'];
  for (const l of langs) {
    const low = String(l).toLowerCase();
    if (low.startsWith('zh')) return 'zh';
    if (low.startsWith('en')) return 'en';
  }
  return 'en';
}

let current = 'zh';
const listeners = [];

export function lang() {
  return current;
}

/** Translate a key, filling `{name}` placeholders from `vars`. */
export function t(key, vars = {}) {
  const s = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? `{${k}}`));
}

export function setLang(l, save = false) {
  current = l === 'en' ? 'en' : 'zh';
  if (save) {
    try {
      localStorage.setItem('yizhan.lang', current);
    } catch {
      // ignore
    }
  }
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
  document.querySelectorAll('[data-i18n]').forEach((el) => {
    el.textContent = t(el.dataset.i18n);
  });
  document.querySelectorAll('[data-i18n-aria]').forEach((el) => {
    el.setAttribute('aria-label', t(el.dataset.i18nAria));
  });
  const btn = document.getElementById('lang-switch');
  if (btn) btn.textContent = t('lang_button');
  document.title = current === 'zh' ? '驿站 · 户外劳动者驿站' : 'yizhan · rest stations';
  listeners.forEach((f) => f(current));
}

export function onLangChange(f) {
  listeners.push(f);
}

/** Format a distance in metres for people. */
export function fmtDistance(m) {
  if (!Number.isFinite(m)) return '–';
  if (m < 1000) return t('m', { n: Math.round(m) });
  return t('km', { n: (m / 1000).toFixed(m < 10000 ? 1 : 0) });
}
