import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node } from 'yaml';
import type { FieldPath } from '../field-path.js';
import { linkName } from '../model/index.js';
import type { FabricSpec } from './fabric-file.js';
import type { Change } from './plan.js';

/**
 * Field paths and the lines they come from. Errors name a field in a dotted form
 * (`domains[0].contracts[1].client.pathParams.transit[0]`) — the same form the API uses — so a
 * problem found by the loader or reported back by the server can point at a line of the file.
 */

export { type FieldPath, formatFieldPath, parseFieldPath } from '../field-path.js';

/**
 * A `lineOf(path)` for a parsed document. When the path goes further than the document (a
 * missing required key, a defaulted field) it answers with the line of the deepest part that
 * exists, which is where the user has to add something. For a map key it gives the key's line,
 * because a block value starts on the line after its key.
 */
export function lineFinder(doc: Document, lines: LineCounter): (path: FieldPath) => number | undefined {
  return (path) => {
    let node: unknown = doc.contents;
    let offset = startOf(node);
    for (const seg of path) {
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : p.key) === String(seg));
        if (pair === undefined) break;
        offset = startOf(pair.key) ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (item === undefined) break;
        offset = startOf(item) ?? offset;
        node = item;
      } else break;
    }
    return offset === undefined ? undefined : lines.linePos(offset).line;
  };
}

function startOf(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range?.[0];
}

/**
 * Where in the spec a planned change comes from, for pointing at its line when the server
 * refuses it. Deletes come from nothing in the file, so they have no path.
 */
export function specPathOf(spec: FabricSpec, change: Change): FieldPath | undefined {
  if (change.action === 'delete') return undefined;
  switch (change.kind) {
    case 'processor': {
      const i = spec.processors?.findIndex((p) => p.name === change.name) ?? -1;
      return i < 0 ? undefined : ['processors', i];
    }
    case 'link': {
      const i = spec.links?.findIndex((l) => linkName(l.between[0], l.between[1]) === change.name) ?? -1;
      return i < 0 ? undefined : ['links', i];
    }
    default:
      return domainPathOf(spec, change);
  }
}

function domainPathOf(spec: FabricSpec, change: Change): FieldPath | undefined {
  const d = spec.domains.findIndex(
    (x) => x.name === (change.kind === 'domain' ? change.name : change.domain),
  );
  const domain = spec.domains[d];
  if (domain === undefined) return undefined;
  if (change.kind === 'domain') return ['domains', d];
  if (change.kind === 'resourceUser') {
    const h = domain.hostOwners.indexOf(change.name);
    if (h >= 0) return ['domains', d, 'hostOwners', h];
    const s = domain.switchOwners.indexOf(change.name);
    return s >= 0 ? ['domains', d, 'switchOwners', s] : ['domains', d];
  }
  const [contractName, roleName] = change.name.split('/');
  const c = domain.contracts.findIndex((x) => x.name === contractName);
  if (c < 0) return ['domains', d];
  return roleName === undefined ? ['domains', d, 'contracts', c] : ['domains', d, 'contracts', c, roleName];
}
