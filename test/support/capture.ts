import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/**
 * A packet capture on the loopback interface with the real tcpdump: what an observer on the
 * path would record. Tests search it for secrets that must never cross the wire in clear.
 */
function findTcpdump(): string | undefined {
  for (const p of ['/usr/bin/tcpdump', '/usr/sbin/tcpdump']) {
    try {
      execFileSync(p, ['--version'], { stdio: 'ignore' });
      return p;
    } catch {}
  }
  return undefined;
}

export const TCPDUMP = findTcpdump();
export const TCPDUMP_HINT = 'apt-get install tcpdump (bash .ci/run does)';
/** Under CI the capture tests run and fail without tcpdump; on a laptop they skip, saying why. */
export const runCaptureTests = TCPDUMP !== undefined || process.env.CI === 'true';

export class Capture {
  private constructor(
    private readonly child: ChildProcess,
    readonly file: string,
  ) {}

  static async start(file: string, filter: string): Promise<Capture> {
    if (!TCPDUMP) throw new Error(`CI=true but tcpdump is missing: ${TCPDUMP_HINT}`);
    // -U: write each packet as it comes, so stopping loses nothing; -s 0: whole packets.
    const child = spawn(TCPDUMP, ['-i', 'lo', '-U', '-s', '0', '-w', file, filter], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10_000);
      child.stderr!.on('data', (d) => {
        err += d;
        if (err.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`tcpdump exited with ${code}: ${err}`));
      });
    });
    return new Capture(child, file);
  }

  /** Stops the capture and returns the raw pcap bytes. */
  async stop(): Promise<Buffer> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGINT');
      await exited;
    }
    return readFile(this.file);
  }
}
