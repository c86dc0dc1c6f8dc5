// Fails, naming the package, when an installed dependency's `engines.node` excludes part of the
// range this package declares: npm only warns (EBADENGINE) and carries on, and the failure then
// shows up later as a crash on the oldest Node we claim to support.
//
//   node scripts/check-engines.mjs [package-dir]
//
// Every package under <package-dir>/node_modules counts, dev ones too: a contributor's `npm ci`
// runs on the same declared range. semver comes from the tree itself (fastify depends on it).
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '.');
const semver = createRequire(join(root, 'package.json'))('semver');
const declared = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines?.node;
if (!declared) {
  console.error('package.json declares no engines.node');
  process.exit(1);
}

/** Every installed package directory below `dir`/node_modules, nested ones included. */
function* installed(dir) {
  let names;
  try {
    names = readdirSync(join(dir, 'node_modules'));
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const scoped = name.startsWith('@');
    for (const sub of scoped ? readdirSync(join(dir, 'node_modules', name)) : [name]) {
      const pkg = scoped ? join(dir, 'node_modules', name, sub) : join(dir, 'node_modules', name);
      yield pkg;
      yield* installed(pkg);
    }
  }
}

const bad = [];
let checked = 0;
for (const dir of installed(root)) {
  let m;
  try {
    m = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch {
    continue; // not a package (a stray directory)
  }
  checked++;
  const needs = m.engines?.node;
  if (needs && !semver.subset(declared, needs)) {
    bad.push(`${m.name}@${m.version} needs node ${needs} (${relative(root, dir)})`);
  }
}
if (bad.length > 0) {
  console.error(`engines.node "${declared}" is wider than what these dependencies support:`);
  for (const b of bad) console.error(`  ${b}`);
  process.exit(1);
}
console.log(`engines.node "${declared}": all ${checked} installed packages agree`);
