import type { Topology } from '../../api-client/client.js';
import { ago, cli, errorBox, h, hex32, mount, table } from '../dom.js';
import { enc, navigate, type Page } from '../router.js';
import { api } from '../session.js';

/** A processor's flow tables (the seed's OVS table 30 and table 50), refreshed every second. */
export const flowsPage: Page = (outlet, { processor }) => {
  const select = h('select', { 'aria-label': 'Processor' });
  const body = h('div', { 'aria-live': 'off' });
  mount(
    outlet,
    h(
      'div',
      { class: 'page-head row-head' },
      h('div', null, h('h1', null, 'Flows'), h('p', { class: 'muted' }, 'Flow tables of a processor, live.')),
      h('label', { class: 'inline' }, 'Processor ', select),
    ),
    body,
    cli(`trellis flows ${processor ?? 'PROCESSOR'}`),
  );
  select.addEventListener('change', () => navigate(`/flows/${enc(select.value)}`));
  let names = new Map<string, string>();
  let timer: ReturnType<typeof setInterval> | undefined;

  const show = async (p: string) => {
    try {
      const f = await api((a) => a.flows(p));
      // The name an operator knows, with the ID beside it (the flow table's key).
      const beside = (name: string | null | undefined, id: string) =>
        name
          ? h('span', { title: id }, h('strong', null, name), ' ', h('code', { class: 'muted' }, id))
          : h('code', null, id);
      mount(
        body,
        h(
          'div',
          { class: 'stats' },
          stat('table 30 · packets', f.table30.packets.toLocaleString()),
          stat('table 30 · bytes', f.table30.bytes.toLocaleString()),
          stat('flows', f.table30.flows.toLocaleString()),
          stat('table 50 entries', f.table50Total.toLocaleString()),
          stat('reported', f.reportedAt ? ago(f.reportedAt) : 'never'),
        ),
        h(
          'section',
          { class: 'card' },
          h('h2', null, 'Table 50 · per-flow entries'),
          table(
            'Table 50',
            ['Source', 'Destination', 'Contract', 'Flow label', 'In', 'Out', 'Packets', 'Bytes', 'Idle'],
            f.table50.map((e) => [
              beside(e.srcNode ?? names.get(e.srcNodeId), e.srcNodeId),
              beside(e.dstNode ?? names.get(e.dstNodeId), e.dstNodeId),
              beside(e.contract, hex32(e.contractId)),
              h('code', null, `0x${e.flowLabel.toString(16).padStart(5, '0')}`),
              e.inPort,
              e.outPort,
              e.packets.toLocaleString(),
              e.bytes.toLocaleString(),
              `${Math.round(e.idleAge)} / ${e.idleTimeout} s`,
            ]),
            'empty — no flow through this processor in the last 60 s',
          ),
        ),
      );
    } catch (err) {
      mount(body, errorBox(err));
    }
  };

  void (async () => {
    try {
      const [t, nodes] = await Promise.all([api((a) => a.topology()), api((a) => a.nodes())]);
      names = new Map(nodes.map((n) => [n.nodeId, n.name]));
      const procs = (t as Topology).processors;
      mount(
        select,
        procs.map((p) => h('option', { value: p.name }, `${p.name} (${p.status})`)),
      );
      const chosen = processor ?? procs.find((p) => p.status === 'connected')?.name ?? procs[0]?.name;
      if (!chosen) {
        mount(body, h('p', { class: 'muted' }, 'No processors declared.'));
        return;
      }
      select.value = chosen;
      await show(chosen);
      timer = setInterval(() => void show(chosen), 1000);
    } catch (err) {
      mount(body, errorBox(err));
    }
  })();
  return () => clearInterval(timer);
};

function stat(label: string, value: string): HTMLElement {
  return h(
    'div',
    { class: 'stat card' },
    h('div', { class: 'stat-value' }, value),
    h('div', { class: 'stat-label' }, label),
  );
}
