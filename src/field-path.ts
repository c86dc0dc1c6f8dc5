/**
 * Field paths in the one dotted form every error uses: `domains[0].contracts[1].client.users[0]`.
 * The API reports them, the fabric-file loader maps them to lines, the CLI prints them.
 */
export type FieldPath = (string | number)[];

/** `domains[0].contracts[1].name` → ['domains', 0, 'contracts', 1, 'name']. */
export function parseFieldPath(field: string): FieldPath {
  const out: FieldPath = [];
  for (const m of field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[1] !== undefined) out.push(m[1]);
  }
  return out;
}

/** The inverse of `parseFieldPath`. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}
