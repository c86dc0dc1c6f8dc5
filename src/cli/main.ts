import { Command, CommanderError } from 'commander';
import { ApiError } from '../api-client/client.js';
import { TrellisError } from '../errors.js';
import { VERSION } from '../version.js';
import { registerAgent } from './commands/agent.js';
import { registerApply } from './commands/apply.js';
import { registerBackup } from './commands/backup.js';
import { registerCa } from './commands/ca.js';
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

export function buildProgram(): Command {
  const program = new Command('trellis')
    .description('Trellis: a service interconnection fabric')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)');
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
  ]) {
    register(program);
  }
  return program;
}

/** Errors print as one line (plus a hint) and exit non-zero; no stack traces for users. */
function report(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode;
  if (err instanceof ApiError) {
    const b = err.body;
    process.stderr.write(`error: ${b.message}${b.field ? ` (field ${b.field})` : ''}\n`);
    if (b.hint) process.stderr.write(`hint: ${b.hint}\n`);
    return 1;
  }
  if (err instanceof TrellisError) {
    process.stderr.write(`error: ${err.message}\n`);
    if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
    return 1;
  }
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  if (process.env.TRELLIS_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return 1;
}

export async function main(argv: string[]): Promise<void> {
  // `trellis flows aws-p1 | head`: a reader that stops reading is not an error of ours.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = report(err);
    if (exitsOnStartFailure()) process.exit(process.exitCode);
  }
}
