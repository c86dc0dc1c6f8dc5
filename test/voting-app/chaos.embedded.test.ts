import { votingAppChaos } from './chaos.js';

/** The chaos test on the default deployment: PGlite for voting-db and result-db, nothing installed. */
votingAppChaos({
  name: 'embedded PGlite stores',
  net: '127.0.11',
  votingDbKind: 'pglite',
  resultDbKind: 'pglite',
});
