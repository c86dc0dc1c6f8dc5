// Fleet moved to test/support/ so that bench/voting.ts can start the services too (bench/
// compiles test/support/, not test/voting-app/). Kept as a re-export for existing imports.
export { Fleet, type Proc, SERVICE_DIR } from '../support/voting-fleet.js';
