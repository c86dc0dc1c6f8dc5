import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateNodeKey } from '../src/node/identity/keys.js';
import { createCaInMemory, issueNodeCertificate } from '../src/orchestrator/pki/ca.js';
import { cliEnv, TRELLIS_BIN } from './support/cli.js';

/** A free TCP port on the address, closed again: nothing listens there afterwards. */
function unusedPort(host: string): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

describe('a node whose cached identity has expired', () => {
  let child: ChildProcess | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    child?.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('says so, naming the node, the expiry and the orchestrator, and keeps retrying instead of serving', async () => {
    dir = await mkdtemp(join(tmpdir(), 'trellis-expired-'));
    const stateDir = join(dir, 'aws-11');
    const key = await loadOrCreateNodeKey(stateDir);
    const ca = await createCaInMemory();
    const notAfter = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000);
    const { certPem } = await issueNodeCertificate(ca, {
      publicKey: key.publicKeyPem,
      name: 'aws-11',
      kind: 'workload',
      domain: 'hello',
      addresses: ['127.0.42.31'],
      notBefore: new Date(notAfter.getTime() - 7 * 86_400_000),
      notAfter,
    });
    const ticketKey = generateKeyPairSync('ed25519')
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    await writeFile(
      join(stateDir, 'identity.json'),
      JSON.stringify({
        node: {
          name: 'aws-11',
          kind: 'workload',
          nodeId: 'fd00::11',
          owner: 'service1',
          domain: 'hello',
          addresses: ['127.0.42.31'],
          processors: ['aws-p1'],
          endpoint: '127.0.42.31:7443',
          status: 'connected',
          lastSeen: notAfter.toISOString(),
          registeredAt: notAfter.toISOString(),
        },
        certPem,
        keyPem: key.privateKeyPem,
        caPem: ca.certPem,
        ticketPublicKeyPem: ticketKey,
      }),
      { mode: 0o600 },
    );
    await writeFile(join(dir, 'pw'), 'service1-password', { mode: 0o600 });
    const orchestrator = `http://127.0.42.30:${await unusedPort('127.0.42.30')}`;
    const inboundPort = await unusedPort('127.0.42.31');
    child = spawn(
      process.execPath,
      [
        TRELLIS_BIN,
        'agent',
        '--hostowner',
        'service1',
        '--domain',
        'hello',
        '--password-file',
        join(dir, 'pw'),
        '--orchestrator',
        orchestrator,
        '--vm',
        'aws-11',
        '--address',
        '127.0.42.31',
        '--processors',
        'aws-p1',
        '--state-dir',
        stateDir,
        '--env-path',
        join(dir, 'fabric.env'),
        '--inbound-port',
        String(inboundPort),
        '--api-port',
        String(await unusedPort('127.0.42.31')),
      ],
      { env: await cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
    });
    child.stderr!.on('data', (d) => {
      out += d;
    });
    const want = `node aws-11: cached identity expired at ${notAfter.toISOString()} and the orchestrator at ${orchestrator} is unreachable`;
    const end = Date.now() + 20_000;
    while (!out.includes(want) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(out).toContain(want);
    expect(out).toContain('"level":50'); // logged as an error
    // Still running, still retrying — and not serving with the expired certificate.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(child.exitCode).toBeNull();
    expect(await listening('127.0.42.31', inboundPort)).toBe(false);
    expect(out).not.toContain('starting from the cached identity');
  }, 40_000);
});
