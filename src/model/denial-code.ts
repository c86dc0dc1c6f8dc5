import type { DenialCode } from './denial.js';

/**
 * The code of a denial's reason. The reasons are written in src/agent, src/processor and
 * src/wire; the patterns below follow their wording (src/model/denial-code.test.ts holds one
 * reason of each kind, so a reworded reason that falls to `other` fails there).
 */
const PATTERNS: [DenialCode, RegExp][] = [
  ['no-server', /no server instance is connected/],
  ['no-path', /has no usable path|no path/],
  ['unreachable', /unreachable/],
  ['stale-epoch', /predates the contract's last change/],
  ['expired', /expired|issued in the future/],
  ['bad-ticket', /signature|malformed ticket|no flow ticket|unknown key|not Ed25519/],
  ['wrong-hop', /is not hop|presented by|ticket is for/],
  ['source', /source|serves only its own VM/],
  ['no-target', /has no --serve/],
  ['no-permission', /no permission|is not in the (client|server) role|does not serve the server role/],
];

export function denialCode(reason: string): DenialCode {
  for (const [code, re] of PATTERNS) if (re.test(reason)) return code;
  return 'other';
}
