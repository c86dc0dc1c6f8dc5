// Prints the plain closing line CI reads — "N passed, N failed[, N skipped]" — from vitest's
// JSON report. A missing report (the runner crashed before writing it) counts as a failure.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.vitest-report.json';
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch {
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
const files = report.testResults ?? [];
// A suite that failed to load has no tests counted; count it as one failure.
const failedSuites = files.filter(
  (r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0,
).length;
// A suite whose beforeAll failed reports its tests as skipped: they did not run because
// something broke, so they count as failed, not skipped.
const brokenSuites = files.filter((r) => r.status === 'failed');
const notRunInBroken = brokenSuites
  .flatMap((r) => r.assertionResults ?? [])
  .filter((a) => a.status === 'skipped' || a.status === 'pending').length;
const failed = (report.numFailedTests ?? 0) + failedSuites + notRunInBroken;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0) - notRunInBroken;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
