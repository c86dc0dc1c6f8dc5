import { YAML } from '../lazy-yaml.js';
import { type Column, renderTable } from '../text-table.js';

export type { Column } from '../text-table.js';
export { renderTable } from '../text-table.js';

export type OutputFormat = 'table' | 'json' | 'yaml';

export function render<T>(data: T[] | T, format: OutputFormat, columns: Column<T>[]): string {
  if (format === 'json') return JSON.stringify(data, null, 2);
  if (format === 'yaml') return YAML().stringify(data).trimEnd();
  const rows = Array.isArray(data) ? data : [data];
  return rows.length === 0 ? 'No resources found.' : renderTable(rows, columns);
}

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
