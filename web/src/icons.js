// Amenity icons: small line drawings made for this project (24×24, currentColor).

const PATHS = {
  microwave:
    '<rect x="2.5" y="5" width="19" height="14" rx="2"/><rect x="5" y="8" width="10" height="8" rx="1"/><path d="M18 8.5v1M18 12v1M18 15.5v.5"/>',
  drinking_water: '<path d="M12 3c3.5 4.5 6 7.8 6 10.5a6 6 0 0 1-12 0C6 10.8 8.5 7.5 12 3z"/>',
  first_aid:
    '<rect x="3" y="6" width="18" height="14" rx="2"/><path d="M9 6V4h6v2M12 9.5v7M8.5 13h7"/>',
  books: '<path d="M4 5h6a2 2 0 0 1 2 2v13a2 2 0 0 0-2-2H4zM20 5h-6a2 2 0 0 0-2 2v13a2 2 0 0 1 2-2h6z"/>',
  charging: '<path d="M13 2 5 14h6l-1 8 8-12h-6z"/>',
  toilet:
    '<circle cx="7" cy="4.5" r="1.8"/><circle cx="17" cy="4.5" r="1.8"/><path d="M5 9h4v6H8v6H6v-6H5zM17 8.5l3 7.5h-2v5h-2v-5h-2z"/>',
  air_conditioning: '<path d="M12 2v20M3.3 7l17.4 10M3.3 17 20.7 7M9.5 3.5 12 6l2.5-2.5M9.5 20.5 12 18l2.5 2.5"/>',
  seating: '<path d="M7 3v10h10M7 13l-1 8M17 13l1 8M7 17h10M17 13V8"/>',
  wifi: '<path d="M2.5 9a14 14 0 0 1 19 0M5.5 12.5a9.5 9.5 0 0 1 13 0M8.5 16a5 5 0 0 1 7 0"/><circle cx="12" cy="19.5" r="1.2"/>',
};

export const AMENITIES = Object.keys(PATHS);

/** An inline SVG for an amenity, labelled for screen readers. */
export function amenityIcon(name, label) {
  const body = PATHS[name] ?? '<circle cx="12" cy="12" r="6"/>';
  const safe = String(label ?? name).replace(/[<>&"]/g, '');
  return `<svg class="icon" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round" role="img" aria-label="${safe}"><title>${safe}</title>${body}</svg>`;
}
