import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { HostLayout } from './layout.js';
import { Unit } from './unit.js';

/** The unit descriptions installed on this host, by name; a damaged file is reported, not skipped. */
export async function readUnits(layout: HostLayout): Promise<Unit[]> {
  let names: string[];
  try {
    names = (await readdir(layout.units)).filter((f) => f.endsWith('.json'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const units: Unit[] = [];
  for (const f of names.sort()) {
    const file = `${layout.units}/${f}`;
    const parsed = Unit.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (!parsed.success)
      throw new Error(`${file}: not a unit description: ${parsed.error.issues[0]?.message}`);
    units.push(parsed.data);
  }
  return units;
}

/** Atomic (tmp + rename): a supervisor reloading meanwhile sees the old unit or the new one. */
export async function writeUnit(layout: HostLayout, u: Unit): Promise<void> {
  await writeAtomic(layout.unit(u.name), `${JSON.stringify(u, null, 2)}\n`, 0o600);
}

export async function removeUnit(layout: HostLayout, name: string): Promise<void> {
  await rm(layout.unit(name), { force: true });
}

export async function writeAtomic(file: string, content: string, mode: number): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // Unique per write: two writes of one file at once must not share a temporary name.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode });
  await rename(tmp, file);
}
