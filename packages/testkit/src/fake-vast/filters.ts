/** The offer search's operators, applied as Vast applies them; a missing field fails every positive test. */
export function matchesOps(value: unknown, ops: unknown): boolean {
  if (typeof ops !== 'object' || ops === null || Array.isArray(ops)) return value === ops;
  for (const [op, want] of Object.entries(ops as Record<string, unknown>)) {
    if (!matchesOp(value, op, want)) return false;
  }
  return true;
}

function matchesOp(value: unknown, op: string, want: unknown): boolean {
  switch (op) {
    case 'eq':
      return value === want || (typeof value === 'string' && typeof want === 'string' && value.toLowerCase() === want.toLowerCase());
    case 'neq':
      return value !== want;
    case 'gt':
      return typeof value === 'number' && typeof want === 'number' && value > want;
    case 'gte':
      return typeof value === 'number' && typeof want === 'number' && value >= want;
    case 'lt':
      return typeof value === 'number' && typeof want === 'number' && value < want;
    case 'lte':
      return typeof value === 'number' && typeof want === 'number' && value <= want;
    case 'in':
      return Array.isArray(want) && want.includes(value);
    case 'notin':
      return Array.isArray(want) && !want.includes(value);
    default:
      return false;
  }
}
