import { readdir, readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/cli.js';

/**
 * Every package a shipped module imports is declared by the package that ships it. Regression
 * (2026-12-03): the examples package imported pino, which only Trellis declared; in the checkout
 * it resolved through the hoisted node_modules, but the app package deploy copies to a VM held
 * no pino and every Voting App service died at start (ERR_MODULE_NOT_FOUND).
 */

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*'([^'.][^']*)'|\bimport\(\s*'([^'.][^']*)'\s*\)/g;

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const p = join(e.parentPath, e.name);
    if (!e.isFile() || !p.endsWith('.ts') || p.endsWith('.test.ts') || p.includes('/dist/')) continue;
    out.push(p);
  }
  return out;
}

/** `pkg` of `pkg/sub` and `@scope/pkg` of `@scope/pkg/sub`; undefined for node's own modules. */
function packageOf(spec: string): string | undefined {
  if (spec.startsWith('node:') || builtinModules.includes(spec)) return undefined;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

async function undeclared(manifestDir: string, dirs: string[]): Promise<string[]> {
  const m = JSON.parse(await readFile(join(manifestDir, 'package.json'), 'utf8')) as Record<
    string,
    Record<string, string> | undefined
  >;
  const declared = new Set([
    ...Object.keys(m.dependencies ?? {}),
    ...Object.keys(m.optionalDependencies ?? {}),
    ...Object.keys(m.peerDependencies ?? {}),
  ]);
  const self = (m as { name?: string }).name;
  const missing: string[] = [];
  for (const dir of dirs) {
    for (const file of await sources(dir)) {
      const text = await readFile(file, 'utf8');
      for (const match of text.matchAll(IMPORT)) {
        const pkg = packageOf((match[1] ?? match[2]) as string);
        if (pkg && pkg !== self && !declared.has(pkg))
          missing.push(`${relative(REPO_ROOT, file)} imports ${pkg}`);
      }
    }
  }
  return missing;
}

describe('declared dependencies', () => {
  it('the examples package declares every package its services import (the app package on a VM has nothing else)', async () => {
    const examples = join(REPO_ROOT, 'examples');
    const apps = (await readdir(examples, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && e.name !== 'dist' && e.name !== 'node_modules')
      .map((e) => join(examples, e.name, 'src'));
    expect(apps.length).toBeGreaterThanOrEqual(3);
    expect(await undeclared(examples, apps)).toEqual([]);
  });

  it('trellis declares every package its shipped code imports (the release holds only its dependencies)', async () => {
    const src = join(REPO_ROOT, 'src');
    const dirs = (await readdir(src, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && e.name !== 'console') // the console is bundled by vite at build time
      .map((e) => join(src, e.name));
    expect(await undeclared(REPO_ROOT, dirs)).toEqual([]);
  });
});
