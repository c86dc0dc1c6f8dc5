// Moved to test/support/wait.ts (used by test/support/voting-fleet.ts); kept for existing imports.
export { until } from '../support/wait.js';
