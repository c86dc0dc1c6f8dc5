/** Both drivers return timestamptz as Date; PGlite may hand back strings in some paths. */
export function iso(v: unknown): string {
  return v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString();
}

/** jsonb columns: PGlite and pg both parse them; stringify on the way in so arrays stay JSON. */
export function json(v: unknown): string {
  return JSON.stringify(v);
}
