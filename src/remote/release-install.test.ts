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

/** Records what would run on the host; answers every command with success. */
function recording(h: InventoryHost): { conn: Connection; ran: string[][]; inputs: string[] } {
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
        return { code: 0, stdout: '', stderr: '' };
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
});
