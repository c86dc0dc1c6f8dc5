import { chmod, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { ERRORS, type ErrorCode, TrellisError } from '../errors.js';

/**
 * The lab supervisor's control channel: HTTP on a Unix socket in the lab directory (mode 0600,
 * so only the lab's user can reach it). `trellis deploy` and `trellis purge` are separate
 * processes; the VMs' agents and services must be children of the supervisor, which restarts
 * them when they crash and stops them with the lab. So those commands install files and then
 * ask the supervisor, over this socket, to start or stop a VM's processes.
 */

export interface LabControl {
  /** Starts the agent and service installed on `vm` (no-op if running); resolves once ready. */
  startVm(vm: string): Promise<void>;
  /** Stops them; resolves once their processes are gone. */
  stopVm(vm: string): Promise<void>;
}

type Action = 'start' | 'stop';
const ROUTE = /^\/vms\/([a-z0-9-]{1,63})\/(start|stop)$/;

export async function serveLabControl(
  socket: string,
  handler: LabControl,
): Promise<{ close(): Promise<void> }> {
  // A socket file left by a supervisor that died would make listen fail with EADDRINUSE.
  await rm(socket, { force: true });
  const server: Server = createServer((req, res) => {
    const m = req.method === 'POST' ? ROUTE.exec(req.url ?? '') : null;
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!m)
      return reply(404, { code: 'TRELLIS_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url}` });
    const [vm, action] = [m[1]!, m[2] as Action];
    const run = action === 'start' ? handler.startVm(vm) : handler.stopVm(vm);
    run.then(
      () => reply(200, { ok: true }),
      (err: unknown) => {
        const e =
          err instanceof TrellisError
            ? { code: err.code, message: err.message, hint: err.hint }
            : { code: 'TRELLIS_ERR_INTERNAL', message: (err as Error).message };
        reply(ERRORS[e.code as ErrorCode]?.status ?? 500, e);
      },
    );
  });
  // Starting a VM waits for its processes to be ready: longer than node's default timeouts.
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  await chmod(socket, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The client side, used by `trellis deploy` and `trellis purge`. */
export function labControlClient(socket: string): LabControl {
  const call = (vm: string, action: Action) =>
    new Promise<void>((resolve, reject) => {
      const req = request({ socketPath: socket, method: 'POST', path: `/vms/${vm}/${action}` }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => {
          if (res.statusCode === 200) return resolve();
          let body: { code?: string; message?: string; hint?: string } = {};
          try {
            body = JSON.parse(text);
          } catch {
            // Not ours: reported as is below.
          }
          reject(
            new TrellisError(
              body.code !== undefined && body.code in ERRORS
                ? (body.code as ErrorCode)
                : 'TRELLIS_ERR_INTERNAL',
              body.message ?? `the lab supervisor answered ${res.statusCode}: ${text.slice(0, 200)}`,
              body.hint ? { hint: body.hint } : {},
            ),
          );
        });
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        reject(
          new TrellisError(
            'TRELLIS_ERR_UNAVAILABLE',
            `cannot reach the lab supervisor at ${socket}: ${err.code ?? err.message}`,
            { hint: 'is the lab running? `trellis lab status` says; `trellis lab up --detach` starts it' },
          ),
        );
      });
      req.end();
    });
  return { startVm: (vm) => call(vm, 'start'), stopVm: (vm) => call(vm, 'stop') };
}
