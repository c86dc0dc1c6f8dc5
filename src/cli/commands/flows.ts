import type { Command } from 'commander';
import type { NamedFlowEntry, NamedFlowTableReport } from '../../model/flow-table.js';
import { formatContractId } from '../../wire/node-id.js';
import { print, render } from '../output.js';
import { client } from '../session.js';
import { outputOption } from './get.js';

/** A name beside an ID, in parentheses, where the orchestrator knows one the caller may see. */
const named = (n: NamedFlowEntry['srcNode']) => (n ? `(${n})` : '');

/** Like `ovs-ofctl dump-flows`: one line per entry, key=value. */
function dump(t: NamedFlowTableReport): string {
  const lines = [
    `processor ${t.processor} (reported ${t.reportedAt ?? 'never'})`,
    ` table=30, n_packets=${t.table30.packets}, n_bytes=${t.table30.bytes}, n_flows=${t.table30.flows}`,
  ];
  for (const e of t.table50) {
    lines.push(
      ` table=50, n_packets=${e.packets}, n_bytes=${e.bytes}, idle_age=${e.idleAge}, idle_timeout=${e.idleTimeout}, in_port=${e.inPort},src=${e.srcNodeId}${named(e.srcNode)},dst=${e.dstNodeId}${named(e.dstNode)},contract=${formatContractId(e.contractId)}${named(e.contract)},label=0x${e.flowLabel.toString(16).padStart(5, '0')} actions=output:${e.outPort}`,
    );
  }
  if (t.table50.length === 0) lines.push(' table=50: (empty)');
  return lines.join('\n');
}

export function registerFlows(program: Command): void {
  program
    .command('flows')
    .description("a processor's flow tables: table 30 counters and table 50 per-flow entries")
    .argument('<processor>', 'the processor whose tables to show, e.g. aws-p1')
    .addOption(outputOption())
    .action(async (processor: string, opts: { output: 'table' | 'json' | 'yaml' }) => {
      const api = await client();
      const t = await api.flows(processor);
      if (opts.output === 'table') return print(dump(t));
      const { processor: name, table30, table50 } = t;
      print(render({ processor: name, table30, table50 }, opts.output, []));
    });
}
