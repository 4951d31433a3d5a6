// Opening hours as people read them, from the OpenStreetMap subset the server accepts
// (crates/core/src/hours.rs): `24/7`, `off`, rules split by `;`, each an optional weekday
// selector (`Mo-Fr`, `Sa,Su`) and comma-separated spans (`08:00-18:00`) or `off`.
//   Mo-Su 07:00-21:00 → 周一至周日 07:00–21:00 / Mon–Sun 07:00–21:00
//   24/7              → 全天开放 / open 24 h
// Anything else is shown as written.

const DAYS = ['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su'];
const WORDS = {
  zh: {
    days: ['周一', '周二', '周三', '周四', '周五', '周六', '周日'],
    range: (a, b) => `${a}至${b}`,
    list: '、',
    rules: '；',
    always: '全天开放',
    daily: '每天',
    off: '休息',
    overnight: '次日',
  },
  en: {
    days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
    range: (a, b) => `${a}–${b}`,
    list: ', ',
    rules: '; ',
    always: 'open 24 h',
    daily: 'Daily',
    off: 'closed',
    overnight: 'next day ',
  },
};

function span(s, w) {
  const m = s.trim().match(/^(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})$/);
  if (!m) return null;
  const start = +m[1] * 60 + +m[2];
  const end = +m[3] * 60 + +m[4];
  if (start === 0 && end === 24 * 60) return w === WORDS.zh ? '全天' : 'all day';
  const next = end <= start ? w.overnight : '';
  return `${m[1]}:${m[2]}–${next}${m[3]}:${m[4]}`;
}

function selector(sel, w) {
  const parts = [];
  for (const p of sel.split(',')) {
    const [a, b] = p.split('-');
    const i = DAYS.indexOf(a);
    if (i < 0) return null;
    if (b === undefined) parts.push(w.days[i]);
    else {
      const j = DAYS.indexOf(b);
      if (j < 0) return null;
      parts.push(w.range(w.days[i], w.days[j]));
    }
  }
  return parts.join(w.list);
}

/** `text` (OSM opening_hours) in `lang` ('zh' or 'en'); as written when not understood. */
export function fmtHours(text, lang) {
  const w = WORDS[lang] ?? WORDS.en;
  const raw = String(text ?? '').trim();
  if (!raw) return '';
  if (raw === '24/7') return w.always;
  const out = [];
  for (const rule of raw.split(';').map((r) => r.trim()).filter(Boolean)) {
    if (rule === '24/7') {
      out.push(w.always);
      continue;
    }
    const m = rule.match(/^([A-Za-z][A-Za-z,-]*)\s+(.+)$/);
    const sel = m && m[1] !== 'off' ? m[1] : null;
    const times = (sel ? m[2] : rule).trim();
    const days = sel ? selector(sel, w) : w.daily;
    if (days == null) return raw;
    let spans;
    if (times === 'off' || times === 'closed') spans = w.off;
    else {
      const list = times.split(',').map((s) => span(s, w));
      if (list.some((s) => s == null)) return raw;
      spans = list.join(w.list);
    }
    out.push(`${days} ${spans}`);
  }
  return out.join(w.rules);
}
