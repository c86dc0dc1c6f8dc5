import type { FlowTableReport, NamedFlowTableReport } from '../../model/flow-table.js';

/**
 * Names beside the node IDs and contract IDs of a processor's table 50. Only nodes and
 * contracts of the caller's domains are named (null: every domain); processors are named for
 * everyone, as the topology shows them to every admin.
 */
export function nameFlows(
  report: FlowTableReport,
  nodes: { name: string; nodeId: string; kind: string; domain: string }[],
  contracts: { id: number; name: string; domain: string }[],
  visible: string[] | null,
): NamedFlowTableReport {
  const sees = (domain: string) => visible === null || visible.includes(domain);
  const nodeNames = new Map(
    nodes.filter((n) => n.kind === 'processor' || sees(n.domain)).map((n) => [n.nodeId, n.name]),
  );
  const contractNames = new Map(
    contracts.filter((c) => sees(c.domain)).map((c) => [c.id, `${c.domain}/${c.name}`]),
  );
  return {
    ...report,
    table50: report.table50.map((e) => ({
      ...e,
      srcNode: nodeNames.get(e.srcNodeId) ?? null,
      dstNode: nodeNames.get(e.dstNodeId) ?? null,
      contract: contractNames.get(e.contractId) ?? null,
    })),
  };
}
