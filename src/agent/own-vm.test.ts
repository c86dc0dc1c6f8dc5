import { describe, expect, it } from 'vitest';
import { foreignSourceReason, fromOwnVm, normaliseAddress } from './own-vm.js';

describe('client listeners serve only their own VM', () => {
  it('accepts a connection from the address it arrived at (v4-mapped or not)', () => {
    expect(fromOwnVm({ remote: '::ffff:127.0.2.11', local: '127.0.2.11', own: [] })).toEqual({ ok: true });
    expect(fromOwnVm({ remote: '127.0.0.1', local: '127.0.0.1', own: [] })).toEqual({ ok: true });
  });

  it("accepts the VM's other addresses", () => {
    expect(fromOwnVm({ remote: '10.77.0.31', local: '127.0.0.1', own: ['10.77.0.31'] })).toEqual({
      ok: true,
    });
  });

  it("refuses another lab VM's address and names it", () => {
    expect(fromOwnVm({ remote: '127.0.2.12', local: '127.0.2.11', own: ['127.0.2.11'] })).toEqual({
      ok: false,
      source: '127.0.2.12',
    });
    expect(fromOwnVm({ remote: '::ffff:10.77.0.36', local: '10.77.0.31', own: ['10.77.0.31'] })).toEqual({
      ok: false,
      source: '10.77.0.36',
    });
  });

  it("accepts the loopback's unbound source on a loopback listener, never on a routable one", () => {
    expect(fromOwnVm({ remote: '127.0.0.1', local: '127.0.2.11', own: ['127.0.2.11'] }).ok).toBe(true);
    expect(fromOwnVm({ remote: '127.0.0.1', local: '10.77.0.31', own: ['10.77.0.31'] }).ok).toBe(false);
  });

  it('says which listener, which VM and which source', () => {
    expect(foreignSourceReason('hello', 'aws-vm1', '127.0.2.2')).toBe(
      'refused: client listener of "hello" on VM aws-vm1 serves only its own VM; connection from 127.0.2.2',
    );
    expect(normaliseAddress('::FFFF:127.0.0.1')).toBe('127.0.0.1');
    expect(normaliseAddress('::ffff:abcd')).toBe('::ffff:abcd');
  });
});

describe('deliverFrom (regression: a loopback workload on a real host refused its own agent)', () => {
  it('a workload on loopback is reached from loopback when the VM address is a network one', async () => {
    const { deliverFrom } = await import('./inbound.js');
    expect(deliverFrom('127.0.0.1', '10.203.0.14')).toBeUndefined();
    expect(deliverFrom('::1', '10.0.0.5')).toBeUndefined();
    // The lab: every VM on its own loopback address, delivered from it (the workload's firewall).
    expect(deliverFrom('127.0.2.2', '127.0.2.2')).toBe('127.0.2.2');
    expect(deliverFrom('127.0.0.1', '127.0.2.2')).toBe('127.0.2.2');
    // A workload on another host: from the VM's address.
    expect(deliverFrom('10.0.0.9', '10.0.0.5')).toBe('10.0.0.5');
  });

  it('binds no source where the kernel picks the VM address itself (regression, session 13: bound sources slowed deliveries as TIME_WAIT piled up)', async () => {
    const { deliverFrom } = await import('./inbound.js');
    // Kernel behaviour the rule stands on: test/rig.test.ts connects a host to its own address unbound.
    expect(deliverFrom('10.0.0.5', '10.0.0.5')).toBeUndefined();
    expect(deliverFrom('fd00::5', 'fd00::5')).toBeUndefined();
    expect(deliverFrom('127.0.0.1', '127.0.0.1')).toBeUndefined();
    expect(deliverFrom('::1', '::1')).toBeUndefined();
  });
});
