import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { TrellisError } from '../errors.js';
import type { InventoryHost } from '../inventory/inventory.js';

/**
 * How the controller (the machine running `trellis fabric up` / `deploy`) runs a command on a
 * host: over SSH, or directly for `ansible_connection: local` hosts (the lab). Everything deploy
 * does on a host goes through `exec`, so both connections take exactly the same path.
 */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Sent on stdin (a HostApply document). */
  input?: string;
  /** Streamed to stdin (a release tarball). */
  inputFile?: string;
  timeoutMs?: number;
}

export interface Connection {
  host: InventoryHost;
  /** `ssh root@10.0.0.5:22` or `local`: for messages. */
  describe: string;
  exec(argv: string[], opts?: ExecOptions): Promise<ExecResult>;
}

/** POSIX shell quoting of one word: what ssh hands to the remote shell must mean exactly argv. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

export function sshArgv(h: InventoryHost, argv: string[]): string[] {
  return [
    // Never a prompt (a password, an unknown host key): a deploy must fail, not hang.
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    '-o',
    'ServerAliveInterval=15',
    '-p',
    String(h.port),
    ...(h.privateKeyFile ? ['-i', h.privateKeyFile, '-o', 'IdentitiesOnly=yes'] : []),
    ...(h.user ? ['-l', h.user] : []),
    ...h.sshArgs,
    h.address,
    '--',
    argv.map(shellQuote).join(' '),
  ];
}

export function connect(h: InventoryHost): Connection {
  if (h.connection === 'local') {
    return {
      host: h,
      describe: 'local',
      exec: (argv, opts) => run(argv[0]!, argv.slice(1), opts, `${h.name} (local)`),
    };
  }
  const describe = `ssh ${h.user ? `${h.user}@` : ''}${h.address}:${h.port}`;
  return {
    host: h,
    describe,
    exec: async (argv, opts) => {
      const res = await run('ssh', sshArgv(h, argv), opts, `${h.name} (${describe})`);
      // 255 is ssh's own failure (no route, refused key, unknown host key), not the command's.
      if (res.code === 255) {
        throw new TrellisError(
          'TRELLIS_ERR_UNAVAILABLE',
          `cannot reach ${h.name} over SSH (${describe}): ${lastLine(res.stderr) || 'ssh exited 255'}`,
          {
            hint: 'check ansible_host/ansible_port/ansible_user/ansible_ssh_private_key_file, and that its host key is in known_hosts',
          },
        );
      }
      return res;
    },
  };
}

function run(cmd: string, args: string[], opts: ExecOptions = {}, who = cmd): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timeoutMs = opts.timeoutMs ?? 300_000;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new TrellisError('TRELLIS_ERR_UNAVAILABLE', `${who}: cannot run ${cmd}: ${e.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8');
      if (signal === 'SIGKILL')
        return reject(
          new TrellisError(
            'TRELLIS_ERR_UNAVAILABLE',
            `${who}: ${cmd} took longer than ${timeoutMs / 1000} s`,
          ),
        );
      resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr });
    });
    child.stdin.on('error', () => undefined);
    if (opts.inputFile) createReadStream(opts.inputFile).pipe(child.stdin);
    else child.stdin.end(opts.input ?? '');
  });
}

export function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}
