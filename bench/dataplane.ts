/**
 * Data-plane benchmark, side by side in one run: direct TCP, an HAProxy chain of the same
 * shape with mutual TLS (if haproxy is installed), and Trellis (client agent → 2 processors →
 * server agent, all real processes on loopback). Prints absolute numbers and ratios.
 *
 *   npm run build && node dist/bench/dataplane.js [--mb 300] [--seconds 5] [--untuned-nodes]
 */
import { TestFabric } from '../test/support/fabric.js';
import { startHaproxyChain } from './haproxy.js';
import { latency, newFlows, startEcho, startSink, throughput } from './load.js';
import { cpuSeconds, rssMb } from './support.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const MB = arg('mb', 300);
// --untuned-nodes: processors and agents with node's defaults, not NODE_PROCESS_FLAGS/ENV (an A/B).
const NODE_TUNING = !args.includes('--untuned-nodes');
const SECONDS = arg('seconds', 5);

const FABRIC = `
apiVersion: trellis/v1
kind: Fabric
processors:
  - { name: p1, zone: a }
  - { name: p2, zone: b }
links:
  - { between: [p1, p2], cost: 10 }
domains:
  - name: bench
    hostOwners: [client, server]
    contracts:
      - { name: sink, client: { users: [client] }, server: { users: [server] } }
      - { name: echo, client: { users: [client] }, server: { users: [server] } }
  - name: infra
    switchOwners: [fabric-ops]
`;

/** Issue 12's goals: each summary line says whether the run met its goal. */
const GOAL = {
  vsHaproxy: 1.0,
  addedP50Us: 250,
  addedP99Us: 1000,
  newFlows: 3000,
  processorMb: 128,
  agentMb: 64,
  idleAgentMb: 48,
};

const HOST = '127.0.0.1';
const SINK = 18001;
const ECHO = 18002;

interface Row {
  path: string;
  mbps1: number;
  mbps16: number;
  p50: number;
  p99: number;
  flows: number;
  /**
   * CPU seconds each of the path's own processes (not the load generator) spent per GB moved,
   * name → [1 stream, 16 streams]: which hop the bytes cost most. Empty for direct TCP.
   */
  cpuByProcess: Map<string, [number, number]>;
}

/** The path's CPU per GB (all its processes), for 1 stream (0) or 16 (1); NaN without processes. */
const cpuPerGb = (r: Row, i: 0 | 1) =>
  r.cpuByProcess.size > 0 ? [...r.cpuByProcess.values()].reduce((s, x) => s + x[i], 0) : Number.NaN;

async function measure(
  path: string,
  sink: { host: string; port: number },
  echo: { host: string; port: number },
  pids: Record<string, number> = {},
): Promise<Row> {
  process.stderr.write(`measuring ${path}…\n`);
  // CPU per GB is steadier than MB/s on a shared 2-core machine: it does not depend on what
  // else ran during the transfer, only on what each byte cost the proxies.
  const names = Object.keys(pids);
  const cpu = () => names.map((n) => cpuSeconds(pids[n]!));
  const perGb = async (streams: number) => {
    const before = cpu();
    const mbps = await throughput(sink, MB * 1e6, streams);
    return { mbps, each: cpu().map((c, i) => (c - before[i]!) / (MB / 1000)) };
  };
  const t1 = await perGb(1);
  const t16 = await perGb(16);
  const lat = await latency(echo, 1000, SECONDS);
  const flows = await newFlows(echo, 8, SECONDS);
  return {
    path,
    mbps1: t1.mbps,
    mbps16: t16.mbps,
    p50: lat.p50,
    p99: lat.p99,
    flows,
    cpuByProcess: new Map(names.map((n, i) => [n, [t1.each[i]!, t16.each[i]!]])),
  };
}

async function main() {
  const sink = await startSink(HOST, SINK);
  const echo = await startEcho(HOST, ECHO);
  const rows: Row[] = [];
  rows.push(await measure('direct TCP', { host: HOST, port: SINK }, { host: HOST, port: ECHO }));

  const chain = await startHaproxyChain([
    { name: 'sink', port: 16001, backend: SINK },
    { name: 'echo', port: 16101, backend: ECHO },
  ]);
  if (chain) {
    try {
      rows.push(
        await measure(
          'HAProxy 4-hop mTLS chain',
          { host: HOST, port: 16001 },
          { host: HOST, port: 16101 },
          { haproxy: chain.pid },
        ),
      );
    } finally {
      chain.stop();
    }
  } else {
    process.stderr.write('haproxy not installed (apt-get install haproxy): HAProxy column skipped\n');
  }

  const f = await TestFabric.start(FABRIC, { nodeTuning: NODE_TUNING });
  const rss: Record<string, number> = {};
  try {
    await f.processor('p1', '127.0.7.1', 17501);
    await f.processor('p2', '127.0.7.2', 17502);
    await f.agent({
      vm: 'server-vm',
      hostOwner: 'server',
      domain: 'bench',
      // The server VM's address is the workload's (127.0.0.1), as on a real host where the
      // workload listens on loopback or on the VM's address: the agent delivers without binding
      // a source (deliverFrom). A lab VM's own 127.x address would be bound per flow — the lab's
      // simulation, whose port search slows with TIME_WAIT sockets (docs/benchmarks.md, run K).
      address: HOST,
      processors: ['p2'],
      serve: [`sink=${HOST}:${SINK}`, `echo=${HOST}:${ECHO}`],
    });
    const env = await f.envOf(
      await f.agent({
        vm: 'client-vm',
        hostOwner: 'client',
        domain: 'bench',
        address: '127.0.7.11',
        processors: ['p1'],
      }),
    );
    // Idle: the agent has its bundle and its listeners but has carried no flow yet.
    await new Promise((r) => setTimeout(r, 1000));
    rss.idleAgent = rssMb(f.children.get('client-vm')!.pid!);
    const at = (v: string) => ({ host: v.split(':')[0]!, port: Number(v.split(':')[1]) });
    rows.push(
      await measure(
        'Trellis (agent → 2 processors → agent)',
        at(env.SINK_ADDR!),
        at(env.ECHO_ADDR!),
        Object.fromEntries(
          [
            ['client agent', 'client-vm'],
            ['processor p1', 'p1'],
            ['processor p2', 'p2'],
            ['server agent', 'server-vm'],
          ].map(([label, child]) => [label!, f.children.get(child!)!.pid!]),
        ),
      ),
    );
    for (const name of ['p1', 'client-vm']) rss[name] = rssMb(f.children.get(name)!.pid!);
  } finally {
    await f.stop();
    sink.close();
    echo.close();
  }

  const fmt = (n: number, d = 0) => n.toFixed(d);
  console.log(
    '\n| path | MB/s 1 stream | MB/s 16 streams | latency p50 / p99 (µs) at 1k req/s | new flows/s (8 conns) | proxy CPU s/GB 1 / 16 streams |',
  );
  console.log('|---|---|---|---|---|---|');
  const cpuCell = (r: Row) =>
    r.cpuByProcess.size > 0 ? `${fmt(cpuPerGb(r, 0), 2)} / ${fmt(cpuPerGb(r, 1), 2)}` : '-';
  for (const r of rows)
    console.log(
      `| ${r.path} | ${fmt(r.mbps1)} | ${fmt(r.mbps16)} | ${fmt(r.p50)} / ${fmt(r.p99)} | ${fmt(r.flows)} | ${cpuCell(r)} |`,
    );
  const direct = rows[0]!;
  const trellis = rows[rows.length - 1]!;
  const haproxy = rows.find((r) => r.path.startsWith('HAProxy'));
  console.log('');
  const ok = (met: boolean) => (met ? 'met' : 'MISSED');
  if (haproxy) {
    const r1 = trellis.mbps1 / haproxy.mbps1;
    const r16 = trellis.mbps16 / haproxy.mbps16;
    console.log(
      `throughput vs HAProxy-TLS: 1 stream ${r1.toFixed(2)}x, 16 streams ${r16.toFixed(2)}x (goal >= ${GOAL.vsHaproxy.toFixed(1)}x: ${ok(r1 >= GOAL.vsHaproxy && r16 >= GOAL.vsHaproxy)})`,
    );
    console.log(`new flows/s vs HAProxy-TLS: ${(trellis.flows / haproxy.flows).toFixed(2)}x`);
    console.log(
      `CPU per GB vs HAProxy-TLS: 1 stream ${(cpuPerGb(trellis, 0) / cpuPerGb(haproxy, 0)).toFixed(2)}x, 16 streams ${(cpuPerGb(trellis, 1) / cpuPerGb(haproxy, 1)).toFixed(2)}x (lower is cheaper)`,
    );
  }
  if (trellis.cpuByProcess.size > 0)
    console.log(
      `Trellis CPU s/GB by process (1 / 16 streams): ${[...trellis.cpuByProcess]
        .map(([n, [one, sixteen]]) => `${n} ${fmt(one, 2)} / ${fmt(sixteen, 2)}`)
        .join(', ')}`,
    );
  console.log(`throughput vs direct: 1 stream ${(trellis.mbps1 / direct.mbps1).toFixed(3)}x`);
  const addP50 = trellis.p50 - direct.p50;
  const addP99 = trellis.p99 - direct.p99;
  console.log(
    `added latency vs direct: p50 ${fmt(addP50)} µs (goal <= ${GOAL.addedP50Us}: ${ok(addP50 <= GOAL.addedP50Us)}), p99 ${fmt(addP99)} µs (goal <= ${GOAL.addedP99Us}: ${ok(addP99 <= GOAL.addedP99Us)})`,
  );
  console.log(
    `new flows/s: ${fmt(trellis.flows)} (goal >= ${GOAL.newFlows}: ${ok(trellis.flows >= GOAL.newFlows)})`,
  );
  const p = rss.p1 ?? 0;
  const a = rss['client-vm'] ?? 0;
  const idle = rss.idleAgent ?? 0;
  console.log(
    `RSS after the run: processor ${fmt(p)} MB, agent ${fmt(a)} MB (goal processor <= ${GOAL.processorMb} MB: ${ok(p <= GOAL.processorMb)}, agent <= ${GOAL.agentMb} MB: ${ok(a <= GOAL.agentMb)})`,
  );
  console.log(
    `RSS of the idle agent (before the load): ${fmt(idle)} MB (goal <= ${GOAL.idleAgentMb} MB: ${ok(idle <= GOAL.idleAgentMb)})`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
