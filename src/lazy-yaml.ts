import { createRequire } from 'node:module';

type Yaml = typeof import('yaml');
let yaml: Yaml | undefined;

/**
 * The yaml package, loaded on first use: agents and processors run from the same CLI and
 * should not pay its memory for a format they never print.
 */
export function YAML(): Yaml {
  yaml ??= createRequire(import.meta.url)('yaml') as Yaml;
  return yaml;
}
