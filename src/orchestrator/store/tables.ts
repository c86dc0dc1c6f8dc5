/**
 * Every table of the store, parents before children (the order a restore inserts them in).
 * The manifest (migration 5) counts each of them; a table added later needs a migration that
 * adds it to store_manifest and gives it the trigger, and a line here.
 */
export const STORE_TABLES = [
  'meta',
  'domains',
  'admin_users',
  'resource_users',
  'contracts',
  'roles',
  'processors',
  'links',
  'nodes',
  'sessions',
  'audit',
  'denials',
  'enrolment_tokens',
] as const;

export type StoreTable = (typeof STORE_TABLES)[number];

/**
 * Sessions are left out of a backup: only their hashes are stored, but a restored fabric is a
 * new start, and every agent and processor logs in again with its own key anyway.
 */
export const BACKED_UP_TABLES: readonly StoreTable[] = STORE_TABLES.filter((t) => t !== 'sessions');

/**
 * References the store relies on, checked at start. Declared foreign keys do not help once a
 * parent table's file is damaged: its rows vanish and the children still point at them. nodes
 * has no declared key, but a domain holding nodes cannot be deleted, so the same holds.
 */
export const REFERENCES: { table: StoreTable; column: string; parent: StoreTable; key: string }[] = [
  { table: 'admin_users', column: 'domain', parent: 'domains', key: 'name' },
  { table: 'resource_users', column: 'domain', parent: 'domains', key: 'name' },
  { table: 'contracts', column: 'domain', parent: 'domains', key: 'name' },
  { table: 'roles', column: 'contract_id', parent: 'contracts', key: 'id' },
  { table: 'links', column: 'a', parent: 'processors', key: 'name' },
  { table: 'links', column: 'b', parent: 'processors', key: 'name' },
  { table: 'nodes', column: 'domain', parent: 'domains', key: 'name' },
];
