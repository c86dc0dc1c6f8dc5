import { describe, expect, it } from 'vitest';
import { LoginGate } from './login-gate.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('login gate', () => {
  it('runs one check at a time per (account, address) and a few per address', async () => {
    const gate = new LoginGate(2);
    const running = new Map<string, number>();
    const most = new Map<string, number>();
    const track = async (k: string) => {
      running.set(k, (running.get(k) ?? 0) + 1);
      most.set(k, Math.max(most.get(k) ?? 0, running.get(k)!));
      await tick();
      running.set(k, running.get(k)! - 1);
    };
    const order: number[] = [];
    await Promise.all([
      ...[0, 1, 2, 3].map((i) =>
        gate.run('admin:admin', '10.0.0.1', async () => {
          await track('pair');
          await track('addr');
          order.push(i);
        }),
      ),
      ...[0, 1, 2].map((i) => gate.run(`unknown:u${i}`, '10.0.0.1', () => track('addr'))),
      gate.run('admin:admin', '10.0.0.2', () => track('other')),
    ]);
    expect(most.get('pair')).toBe(1);
    expect(most.get('addr')).toBeLessThanOrEqual(2);
    // Waiters of one pair go in arrival order, so failures are counted in the order they came.
    expect(order).toEqual([0, 1, 2, 3]);
    expect(gate.size).toBe(0);
  });

  it('a burst of one account queues behind that account only, not the other accounts of its address', async () => {
    const gate = new LoginGate(2);
    let release!: () => void;
    const slow = new Promise<void>((r) => {
      release = r;
    });
    const burst = Array.from({ length: 5 }, () =>
      gate.run('resource:hello/service1', '127.0.0.1', () => slow),
    );
    // service2 runs while service1's first check is still running and four more wait for it.
    expect(await gate.run('resource:hello/service2', '127.0.0.1', async () => 'service2 checked')).toBe(
      'service2 checked',
    );
    release();
    await Promise.all(burst);
    expect(gate.size).toBe(0);
  });

  it('releases its slot when the check throws', async () => {
    const gate = new LoginGate(1);
    await expect(gate.run('a', 'x', async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(await gate.run('a', 'x', async () => 'next')).toBe('next');
    expect(gate.size).toBe(0);
  });
});
