/**
 * Named regions accepted as `location`, besides two-letter ISO country codes. Vast filters offers by country
 * only; regions narrowed to US states are checked on our side against the offer's `geolocation` text
 * ("California, US"). docs/vast.md shows the same table.
 */
export interface Region {
  countries: readonly string[];
  /** US state names a region is limited to, when it is narrower than its countries. */
  states?: readonly string[];
}

const US_EAST_STATES = [
  'Connecticut', 'Delaware', 'Florida', 'Georgia', 'Maine', 'Maryland', 'Massachusetts', 'New Hampshire', 'New Jersey', 'New York',
  'North Carolina', 'Ohio', 'Pennsylvania', 'Rhode Island', 'South Carolina', 'Vermont', 'Virginia', 'West Virginia', 'District of Columbia',
  'Michigan', 'Indiana', 'Kentucky', 'Tennessee', 'Alabama',
];
const US_CENTRAL_STATES = [
  'Illinois', 'Iowa', 'Kansas', 'Minnesota', 'Missouri', 'Nebraska', 'North Dakota', 'South Dakota', 'Oklahoma', 'Texas', 'Wisconsin',
  'Arkansas', 'Louisiana', 'Mississippi',
];
const US_WEST_STATES = [
  'Alaska', 'Arizona', 'California', 'Colorado', 'Hawaii', 'Idaho', 'Montana', 'Nevada', 'New Mexico', 'Oregon', 'Utah', 'Washington', 'Wyoming',
];
const EU_WEST = ['GB', 'IE', 'FR', 'BE', 'NL', 'LU', 'ES', 'PT'];
const EU_CENTRAL = ['DE', 'AT', 'CH', 'PL', 'CZ', 'SK', 'HU', 'SI'];
const EU_NORTH = ['SE', 'NO', 'FI', 'DK', 'IS', 'EE', 'LV', 'LT'];
const EU_SOUTH = ['IT', 'GR', 'HR', 'MT', 'CY', 'BG', 'RO', 'RS'];

export const REGIONS: Readonly<Record<string, Region>> = {
  'US-East': { countries: ['US'], states: US_EAST_STATES },
  'US-Central': { countries: ['US'], states: US_CENTRAL_STATES },
  'US-West': { countries: ['US'], states: US_WEST_STATES },
  US: { countries: ['US'] },
  'North-America': { countries: ['US', 'CA', 'MX'] },
  'South-America': { countries: ['BR', 'AR', 'CL', 'CO', 'PE', 'UY'] },
  'EU-West': { countries: EU_WEST },
  'EU-Central': { countries: EU_CENTRAL },
  'EU-North': { countries: EU_NORTH },
  'EU-South': { countries: EU_SOUTH },
  EU: { countries: [...EU_WEST, ...EU_CENTRAL, ...EU_NORTH, ...EU_SOUTH] },
  Asia: { countries: ['JP', 'KR', 'TW', 'HK', 'SG', 'IN', 'TH', 'VN', 'MY', 'ID', 'PH', 'CN'] },
  Oceania: { countries: ['AU', 'NZ'] },
};

/**
 * The region a `location` names: a region of the table (case-insensitive) or a two-letter country code.
 * Undefined when it is neither.
 */
export function resolveLocation(location: string): Region | undefined {
  const wanted = location.trim().toLowerCase();
  for (const [name, region] of Object.entries(REGIONS)) if (name.toLowerCase() === wanted) return region;
  if (/^[a-z]{2}$/.test(wanted)) return { countries: [wanted.toUpperCase()] };
  return undefined;
}

/** Whether an offer's `geolocation` text ("California, US", "DE") lies in the region. */
export function inRegion(geolocation: string | null | undefined, region: Region): boolean {
  if (!geolocation) return false;
  const parts = geolocation.split(',').map((p) => p.trim());
  const country = parts.at(-1)?.toUpperCase() ?? '';
  if (!region.countries.includes(country)) return false;
  if (!region.states) return true;
  const place = parts.slice(0, -1).join(', ').toLowerCase();
  return region.states.some((s) => s.toLowerCase() === place);
}
