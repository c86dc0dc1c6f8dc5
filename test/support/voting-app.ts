import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseFabricText } from '../../src/apply/index.js';

export const FABRIC_FILE = fileURLToPath(new URL('../../examples/voting-app/fabric.yaml', import.meta.url));

/** The example fabric file, parsed as `trellis apply` parses it. */
export function votingAppSpec() {
  return parseFabricText(readFileSync(FABRIC_FILE, 'utf8'), FABRIC_FILE).spec;
}

/** The seed's table of contracts: client role → server role. */
export const SEED_CONTRACTS: Record<string, [client: string, server: string]> = {
  'voting-frontend': ['http-proxy', 'voting-svc'],
  'result-frontend': ['http-proxy', 'result-svc'],
  'voting-backend': ['voting-svc', 'voting-db'],
  'result-backend': ['result-svc', 'result-db'],
  'voting-worker': ['worker', 'voting-db'],
  'result-worker': ['worker', 'result-db'],
};
