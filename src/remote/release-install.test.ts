import { describe, expect, it } from 'vitest';
import type { InventoryHost } from '../inventory/inventory.js';
import type { Connection } from './connection.js';
import { installRelease } from './release-install.js';

const host = (connection: 'ssh' | 'local', vars: Record<string, unknown>): InventoryHost => ({
  name: 'aws-11',
  groups: ['vms'],
  connection,
  address: '10.0.0.5',
  port: 22,
  sshArgs: [],
  root: '/opt/trellis',
  advertise: '10.0.0.5',
  processors: [],
  vars,
});

/** Records what would run on the host; answers every command with success (and `stdout`). */
function recording(h: InventoryHost, stdout = ''): { conn: Connection; ran: string[][]; inputs: string[] } {
  const ran: string[][] = [];
  const inputs: string[] = [];
  return {
    ran,
    inputs,
    conn: {
      host: h,
      describe: 'test',
      exec: async (argv, opts) => {
        ran.push(argv);
        if (opts?.input) inputs.push(opts.input);
        return { code: 0, stdout, stderr: '' };
      },
    },
  };
}

describe('installRelease', () => {
  it('refuses trellis_release: link over SSH before touching the host (a remote host gets a copy)', async () => {
    const r = recording(host('ssh', { trellis_release: 'link' }));
    await expect(installRelease(r.conn, () => Promise.reject(new Error('no build')))).rejects.toThrow(
      /aws-11: trellis_release: link needs ansible_connection: local/,
    );
    expect(r.ran).toEqual([]);
  });

  it('links a local host to the running Trellis without building a release; the wrapper carries the service manager', async () => {
    const r = recording(host('local', { trellis_release: 'link', trellis_service_manager: 'supervise' }));
    const rel = await installRelease(r.conn, () => Promise.reject(new Error('must not build')));
    expect(rel.id).toBe('linked');
    expect(rel.node).toBe(process.execPath);
    expect(rel.bin).toMatch(/\/bin\/trellis\.js$/);
    expect(r.inputs).toHaveLength(1);
    expect(r.inputs[0]).toContain(
      `TRELLIS_SERVICE_MANAGER=supervise exec ${process.execPath} ${rel.bin} "$@"`,
    );
  });

  it('a release already on the host costs two round trips (node + presence, then the wrapper), and no copy', async () => {
    const r = recording(host('ssh', {}), '/usr/local/bin/node\npresent\n');
    const release = { id: 'trellis-0.1.0-abc', version: '0.1.0', tarball: '/nonexistent.tar.gz', bytes: 1 };
    const rel = await installRelease(r.conn, async () => release);
    expect(r.ran).toHaveLength(2);
    expect(r.ran[0]!.join(' ')).toContain('/opt/trellis/releases/trellis-0.1.0-abc/.complete');
    expect(rel).toEqual({
      id: 'trellis-0.1.0-abc',
      node: '/usr/local/bin/node',
      bin: '/opt/trellis/releases/trellis-0.1.0-abc/bin/trellis.js',
      wrapper: '/opt/trellis/bin/trellis',
    });
  });

  it('a host without node is refused by name before anything is copied', async () => {
    const r = recording(host('ssh', {}), '');
    const release = { id: 'trellis-0.1.0-abc', version: '0.1.0', tarball: '/nonexistent.tar.gz', bytes: 1 };
    await expect(installRelease(r.conn, async () => release)).rejects.toThrow(
      /aws-11 has no node on its PATH/,
    );
    expect(r.ran).toHaveLength(1);
  });
});
