import { votingAppEndToEnd } from './e2e-scenario.js';

/** The default deployment: no Debian packages needed, both stores embedded (PGlite). */
votingAppEndToEnd({
  name: 'embedded stores: PGlite for voting-db and result-db',
  base: 0,
  votingDbKind: 'pglite',
  resultDbKind: 'pglite',
});
