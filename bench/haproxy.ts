import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The anchor's shape (shared/anchors/haproxy-chain.sh): client → a1 → p1 → p2 → a2 → server,
 * four HAProxy proxies with mutual TLS (P-256, TLS 1.3) on the three links in between.
 * Returns null when haproxy or openssl is not installed (apt-get install haproxy).
 */
export async function startHaproxyChain(
  targets: { name: string; port: number; backend: number }[],
): Promise<{ pid: number; stop(): void } | null> {
  const which = (cmd: string) => ['/usr/sbin', '/usr/bin', '/bin'].some((d) => existsSync(join(d, cmd)));
  if (!which('haproxy') || !which('openssl')) return null;
  const w = await mkdtemp(join(tmpdir(), 'trellis-haproxy-'));
  const ossl = (args: string[]) => execFileSync('openssl', args, { cwd: w, stdio: 'ignore' });
  ossl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  ]);
  ossl([
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    '/CN=hop',
    '-keyout',
    'hop.key',
    '-out',
    'hop.csr',
  ]);
  ossl([
    'x509',
    '-req',
    '-in',
    'hop.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    'hop.crt',
  ]);
  execFileSync('sh', ['-c', 'cat hop.crt hop.key > hop.pem'], { cwd: w });
  const tlsOpts = `ssl crt ${w}/hop.pem ca-file ${w}/ca.crt verify required`;
  let cfg =
    'global\n  maxconn 4000\n  tune.bufsize 65536\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n';
  for (const t of targets) {
    const [a1, p1, p2, a2] = [t.port, t.port + 1, t.port + 2, t.port + 3];
    cfg += `listen ${t.name}-a1\n  bind 127.0.0.1:${a1}\n  server n 127.0.0.1:${p1} ${tlsOpts}\n`;
    cfg += `listen ${t.name}-p1\n  bind 127.0.0.1:${p1} ${tlsOpts}\n  server n 127.0.0.1:${p2} ${tlsOpts}\n`;
    cfg += `listen ${t.name}-p2\n  bind 127.0.0.1:${p2} ${tlsOpts}\n  server n 127.0.0.1:${a2} ${tlsOpts}\n`;
    cfg += `listen ${t.name}-a2\n  bind 127.0.0.1:${a2} ${tlsOpts}\n  server n 127.0.0.1:${t.backend}\n`;
  }
  await writeFile(join(w, 'h.cfg'), cfg);
  const child: ChildProcess = spawn('haproxy', ['-f', join(w, 'h.cfg'), '-db'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 800));
  return {
    pid: child.pid!,
    // Its CA's and hop's private keys are in `w`: leave none behind in /tmp.
    stop: () => {
      child.kill('SIGKILL');
      rmSync(w, { recursive: true, force: true });
    },
  };
}
