import { Command, CommanderError } from 'commander';
import { ApiError } from '../api-client/client.js';
import { TrellisError } from '../errors.js';
import { VERSION } from '../version.js';
import { registerAgent } from './commands/agent.js';
import { registerApply } from './commands/apply.js';
import { registerBackup } from './commands/backup.js';
import { registerCa } from './commands/ca.js';
import { registerCompletion } from './commands/completion.js';
import { registerDelete } from './commands/delete.js';
import { registerDeploy } from './commands/deploy.js';
import { registerDescribe } from './commands/describe.js';
import { registerEdit } from './commands/edit.js';
import { registerFabric } from './commands/fabric.js';
import { registerFlows } from './commands/flows.js';
import { registerGet } from './commands/get.js';
import { registerHost } from './commands/host.js';
import { registerInventory } from './commands/inventory.js';
import { registerLab } from './commands/lab.js';
import { registerLogin } from './commands/login.js';
import { registerLogout } from './commands/logout.js';
import { registerNode } from './commands/node.js';
import { registerOrchestrator } from './commands/orchestrator.js';
import { registerPath } from './commands/path.js';
import { registerProcessor } from './commands/processor.js';
import { registerRelease } from './commands/release.js';
import { registerResolve } from './commands/resolve.js';
import { registerRevokeSessions } from './commands/revoke-sessions.js';
import { registerToken } from './commands/token.js';
import { exitsOnStartFailure } from './daemon.js';
import { addExamples } from './examples.js';
import { EXIT, exitCodeFor } from './exit-codes.js';

export function buildProgram(): Command {
  const program = new Command('trellis')
    .description('Trellis: a service interconnection fabric')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    // Before the subcommands are added, so they inherit it: a usage error of `trellis get`
    // then reaches report() (exit 2) instead of commander's own process.exit(1).
    .exitOverride();
  for (const register of [
    registerOrchestrator,
    registerLogin,
    registerLogout,
    registerRevokeSessions,
    registerGet,
    registerDescribe,
    registerDelete,
    registerEdit,
    registerPath,
    registerApply,
    registerProcessor,
    registerAgent,
    registerFlows,
    registerResolve,
    registerLab,
    registerDeploy,
    registerCa,
    registerToken,
    registerNode,
    registerHost,
    registerFabric,
    registerRelease,
    registerInventory,
    registerBackup,
    registerCompletion,
  ]) {
    register(program);
  }
  addExamples(program);
  return program;
}

/**
 * Errors print as one line (plus a hint) and exit with the code of exit-codes.ts that says
 * what kind of failure it was; no stack traces for users.
 */
function report(err: unknown): number {
  // Commander has printed its own message (unknown option, missing argument); help and
  // --version end with its exit code 0.
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (err instanceof ApiError) {
    const b = err.body;
    process.stderr.write(`error: ${b.message}${b.field ? ` (field ${b.field})` : ''}\n`);
    if (b.hint) process.stderr.write(`hint: ${b.hint}\n`);
    return exitCodeFor(b.code);
  }
  if (err instanceof TrellisError) {
    process.stderr.write(`error: ${err.message}\n`);
    if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
    return exitCodeFor(err.code);
  }
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  if (process.env.TRELLIS_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return EXIT.other;
}

export async function main(argv: string[]): Promise<void> {
  // `trellis flows aws-p1 | head`: a reader that stops reading is not an error of ours.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = report(err);
    if (exitsOnStartFailure()) process.exit(process.exitCode);
  }
}
