import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, TRELLIS_BIN } from './support/cli.js';

const run = promisify(execFile);

/** A flow table far larger than a pipe buffers, so the CLI is still writing when head leaves. */
function bigTable() {
  const table50 = Array.from({ length: 5000 }, (_, i) => ({
    srcNodeId: `fd32:10d7:b78f:9fc6::${i.toString(16)}`,
    dstNodeId: 'fd32:10d7:b78f:9fc6::ffff',
    contractId: 0x1234,
    flowLabel: i,
    inPort: 'agent',
    outPort: 'gcp-p1',
    packets: i,
    bytes: i * 100,
    idleAge: 1,
    idleTimeout: 60,
    srcNode: `aws-${i}`,
    dstNode: 'gcp-11',
    contract: 'voting-app/voting-frontend',
  }));
  return {
    processor: 'aws-p1',
    reportedAt: new Date().toISOString(),
    table30: { packets: 1, bytes: 1, flows: 5000 },
    table50Total: 5000,
    table50,
  };
}

describe('regression: `trellis flows PROCESSOR | head -1` crashed with EPIPE', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // The flows answer of an orchestrator, on loopback: what the CLI prints is under test here.
    server = createServer((req, res) => {
      const ok = req.url === '/api/v1/processors/aws-p1/flows';
      res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? bigTable() : { error: { code: 'TRELLIS_ERR_NOT_FOUND', message: 'no' } }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('ends quietly with exit 0 when head stops reading: status of trellis in the pipe is 0, stderr empty', async () => {
    const env: NodeJS.ProcessEnv = {
      ...(await cliEnv()),
      TRELLIS_ORCHESTRATOR: url,
      TRELLIS_TOKEN: 'test-token',
    };
    // A real shell pipe, as a user types it; PIPESTATUS gives trellis' own status, not head's.
    const { stdout, stderr } = await run(
      'bash',
      [
        '-c',
        `"${process.execPath}" "${TRELLIS_BIN}" flows aws-p1 2>"$ERR" | head -1; echo "status=\${PIPESTATUS[0]}"; cat "$ERR"`,
      ],
      { env: { ...env, ERR: `${env.TRELLIS_HOME}/stderr` } },
    );
    const [first, status, ...rest] = stdout.split('\n');
    expect(first).toMatch(/^processor aws-p1 \(reported /);
    expect(status).toBe('status=0');
    expect(rest.join('\n').trim()).toBe('');
    expect(stderr).toBe('');
  });

  it('-o json into head -1 ends the same way', async () => {
    const env: NodeJS.ProcessEnv = {
      ...(await cliEnv()),
      TRELLIS_ORCHESTRATOR: url,
      TRELLIS_TOKEN: 'test-token',
    };
    const { stdout } = await run(
      'bash',
      [
        '-c',
        `"${process.execPath}" "${TRELLIS_BIN}" flows aws-p1 -o json 2>&1 | head -1 >/dev/null; echo "status=\${PIPESTATUS[0]}"`,
      ],
      { env },
    );
    expect(stdout.trim()).toBe('status=0');
  });
});
