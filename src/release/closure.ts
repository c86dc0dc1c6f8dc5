import { readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { TrellisError } from '../errors.js';

/**
 * The production dependency closure of a package, and where each package goes in a release.
 *
 * Resolution follows Node's own algorithm (`<dir>/node_modules/<name>`, then each ancestor's),
 * so it works both in a git checkout (everything under <root>/node_modules) and when Trellis
 * was installed from its tarball (dependencies hoisted next to it, in <prefix>/node_modules,
 * with no package-lock and maybe no npm at hand). Each package is placed in the release where
 * it lies relative to the node_modules that holds it; the placement is then checked by
 * resolving every edge again inside the release layout, so a release never resolves a
 * different copy than the running Trellis does.
 */

export interface PackageManifest {
  name?: string;
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  files?: string[];
  engines?: { node?: string };
}

export interface PlacedPackage {
  /** The real directory it is copied from. */
  source: string;
  /** Its directory inside the release, `/`-separated; '' for the root package. */
  target: string;
  name: string;
  version: string;
}

export async function readManifest(dir: string): Promise<PackageManifest> {
  return JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as PackageManifest;
}

async function isDir(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Node's lookup of package `name` from a package at `from` (a real path). */
async function resolveFrom(from: string, name: string): Promise<string | undefined> {
  for (let dir = from; ; dir = dirname(dir)) {
    if (basename(dir) !== 'node_modules') {
      const candidate = join(dir, 'node_modules', name);
      if (await isDir(candidate)) return realpath(candidate);
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The same lookup inside the release layout (`targets`: release dir → source dir). */
function resolveInRelease(targets: Map<string, string>, from: string, name: string): string | undefined {
  const parts = from === '' ? [] : from.split('/');
  for (let i = parts.length; i >= 0; i--) {
    if (i > 0 && parts[i - 1] === 'node_modules') continue;
    const candidate = [...parts.slice(0, i), 'node_modules', name].join('/');
    if (targets.has(candidate)) return candidate;
  }
  return undefined;
}

/** Where a package naturally goes: its path below the deepest node_modules above it. */
function naturalTarget(root: string, source: string): string {
  const rel = relative(root, source);
  if (!rel.startsWith('..')) return rel.split(sep).join('/');
  // Hoisted next to the root (an installed Trellis): keep the path below that node_modules.
  const parts = source.split(sep);
  for (let i = parts.length - 1; i >= 0; i--) {
    if (parts[i] !== 'node_modules') continue;
    const above = parts.slice(0, i).join(sep) || sep;
    if (relative(above, root).startsWith('..')) continue;
    return ['node_modules', ...parts.slice(i + 1)].join('/');
  }
  // Elsewhere (a symlinked node_modules, a store like pnpm's): the path below its last
  // node_modules, e.g. @scope/name; a clash is resolved by nesting, see dependencyClosure.
  const last = parts.lastIndexOf('node_modules');
  return ['node_modules', ...(last >= 0 ? parts.slice(last + 1) : [basename(source)])].join('/');
}

interface Edge {
  from: string;
  name: string;
  source: string;
}

/**
 * The closure of `root`'s dependencies and optionalDependencies (absent optional ones are
 * skipped), and, transitively, of theirs plus installed peers. Dev dependencies never enter, nor
 * `provided` packages (what the host brings: for an app package, Trellis itself).
 */
export async function dependencyClosure(
  rootDir: string,
  provided: readonly string[] = [],
): Promise<PlacedPackage[]> {
  const root = await realpath(rootDir);
  const targets = new Map<string, string>([['', root]]);
  const placed: PlacedPackage[] = [];
  const edges: Edge[] = [];
  const queue: { source: string; target: string }[] = [{ source: root, target: '' }];
  while (queue.length > 0) {
    const { source, target } = queue.shift() as { source: string; target: string };
    const m = await readManifest(source);
    placed.push({ source, target, name: m.name ?? basename(source), version: m.version ?? '0.0.0' });
    const wanted: { name: string; required: boolean }[] = [
      ...Object.keys(m.dependencies ?? {}).map((name) => ({ name, required: true })),
      ...Object.keys(m.optionalDependencies ?? {}).map((name) => ({ name, required: false })),
      ...Object.keys(m.peerDependencies ?? {}).map((name) => ({ name, required: false })),
    ];
    for (const { name, required } of wanted) {
      if (provided.includes(name)) continue;
      const dep = await resolveFrom(source, name);
      if (!dep) {
        if (!required) continue;
        throw new TrellisError(
          'TRELLIS_ERR_UNPROCESSABLE',
          `dependency "${name}" of ${m.name ?? source} is not installed`,
          {
            hint: 'run `npm install` (or `npm ci --omit=dev`) where Trellis is installed, then build the release again',
          },
        );
      }
      edges.push({ from: target, name, source: dep });
      const found = resolveInRelease(targets, target, name);
      if (found !== undefined && targets.get(found) === dep) continue;
      // Not reachable yet: its natural place if free and visible from here, else nested here.
      let at = naturalTarget(root, dep);
      let visible = false;
      if (!targets.has(at)) {
        targets.set(at, dep);
        visible = resolveInRelease(targets, target, name) === at;
        if (!visible) targets.delete(at);
      }
      if (!visible) {
        // The nearest place of all; taken means another copy of the same name sits there.
        at = [target, 'node_modules', name].filter(Boolean).join('/');
        if (targets.has(at)) {
          throw new TrellisError(
            'TRELLIS_ERR_CONFLICT',
            `two copies of "${name}" need the same place ${at} in the release`,
          );
        }
        targets.set(at, dep);
      }
      queue.push({ source: dep, target: at });
    }
  }
  // A later placement may shadow an earlier edge: check them all in the final layout.
  for (const e of edges) {
    const found = resolveInRelease(targets, e.from, e.name);
    if (found === undefined || targets.get(found) !== e.source) {
      throw new TrellisError(
        'TRELLIS_ERR_CONFLICT',
        `in the release, "${e.name}" required from ${e.from || 'trellis'} would not resolve to ${e.source}`,
      );
    }
  }
  return placed;
}
