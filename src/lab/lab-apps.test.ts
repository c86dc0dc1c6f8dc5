import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { parseAppText } from '../app/app-file.js';
import { parseInventory } from '../inventory/inventory.js';
import { planAddresses } from './addresses.js';
import { planLabApps } from './lab-apps.js';
import { parseLabText } from './lab-file.js';
import { labInventory } from './lab-inventory.js';

const lab = (vms: string, head = '') =>
  parseLabText(
    `apiVersion: trellis/v1
kind: Lab
fabric: fabric.yaml
${head}processors:
  - { name: aws-p1 }
  - { name: gcp-p1, port: 7600 }
vms:
${vms}`,
    '/labs/hello/lab.yaml',
  );

const HELLO_APP = parseAppText(
  `apiVersion: trellis/v1
kind: App
domain: hello
services:
  service1: { module: '{release}/s1.js', expose: { port: 8001 } }
  service2: { module: '{release}/s2.js', serve: { hello: 8002 } }
`,
  '/labs/hello/app.yaml',
);

describe('planLabApps', () => {
  it('turns inline runs into one app per domain, module paths made absolute, serve ports read', () => {
    const l = lab(`  - name: vm1
    processors: [aws-p1]
    run:
      hostOwner: service2
      domain: hello
      serve: ['hello={address}:8002']
      workload: { module: ../dist/s2.js, env: { PORT: '8002', DATA: '{datadir}/x' } }
      expose: { name: s2, port: 8002, paths: { status: /status } }
`);
    const { apps, problems } = planLabApps(l, [], (d) => `/home/lab/apps/${d}.yaml`);
    expect(problems).toEqual([]);
    expect(apps.synthesised.map((a) => a.file)).toEqual(['/home/lab/apps/hello.yaml']);
    expect(apps.byDomain.get('hello')!.spec.services.service2).toEqual({
      module: '/labs/dist/s2.js',
      args: [],
      env: { PORT: '8002', DATA: '{datadir}/x' },
      serve: { hello: 8002 },
      expose: { port: 8002, paths: { status: '/status' } },
    });
  });

  it('takes a host owner from an app file, and names what is missing or contradictory', () => {
    const named = lab(
      '  - { name: vm1, processors: [aws-p1], run: { hostOwner: service1, domain: hello } }\n',
      'apps: [app.yaml]\n',
    );
    expect(planLabApps(named, [HELLO_APP], () => 'x').problems).toEqual([]);
    expect(planLabApps(named, [HELLO_APP], () => 'x').apps.synthesised).toEqual([]);

    const unknown = lab(
      '  - { name: vm1, processors: [aws-p1], run: { hostOwner: nobody, domain: hello } }\n',
    );
    expect(planLabApps(unknown, [HELLO_APP], () => 'x').problems).toEqual([
      {
        path: ['vms', 0, 'run', 'hostOwner'],
        message: '/labs/hello/app.yaml describes no service for host owner "nobody"',
      },
    ]);
    const noApp = lab(
      '  - { name: vm1, processors: [aws-p1], run: { hostOwner: service1, domain: hello } }\n',
    );
    expect(planLabApps(noApp, [], () => 'x').problems[0]!.message).toMatch(
      /no app file of the lab describes domain hello/,
    );

    const both = lab(
      '  - { name: vm1, processors: [aws-p1], run: { hostOwner: service1, domain: hello, workload: { module: a.js } } }\n',
    );
    expect(planLabApps(both, [HELLO_APP], () => 'x').problems[0]!.message).toMatch(
      /domain hello comes from \/labs\/hello\/app\.yaml: name the host owner only/,
    );
    const elsewhere = lab(
      "  - { name: vm1, processors: [aws-p1], run: { hostOwner: s, domain: hello, serve: ['hello=10.0.0.1:80'] } }\n",
    );
    expect(planLabApps(elsewhere, [], () => 'x').problems).toEqual([
      {
        path: ['vms', 0, 'run', 'serve', 0],
        message: "must read CONTRACT={address}:PORT: a lab VM's agent delivers to the VM's own address",
      },
    ]);
  });
});

describe('labInventory', () => {
  it('is an Ansible inventory of local hosts the inventory reader accepts: roots, ports, processors, link, supervise', () => {
    const l = lab(
      '  - { name: vm1, processors: [gcp-p1, aws-p1], run: { hostOwner: service1, domain: hello } }\n',
    );
    const planned = planAddresses(l.spec);
    if (!planned.ok) throw new Error('plan');
    const inv = parseInventory(
      YAML.stringify(labInventory(l.spec, planned.plan, '/tmp/lab/hosts')),
      'inventory.yaml',
    );
    const o = inv.group('orchestrator');
    expect(o.map((h) => [h.name, h.address, h.root, h.vars.trellis_port])).toEqual([
      ['orchestrator', '127.0.0.1', '/tmp/lab/hosts/orchestrator', 7420],
    ]);
    expect(inv.group('processors').map((h) => [h.name, h.address, h.vars.trellis_port])).toEqual([
      ['aws-p1', '127.0.1.1', 7500],
      ['gcp-p1', '127.0.1.2', 7600],
    ]);
    const vm = inv.host('vm1')!;
    expect(vm).toMatchObject({
      connection: 'local',
      address: '127.0.2.1',
      root: '/tmp/lab/hosts/vm1',
      processors: ['gcp-p1', 'aws-p1'],
    });
    expect(vm.vars).toMatchObject({
      trellis_release: 'link',
      trellis_service_manager: 'supervise',
      trellis_switch_owner: 'infra/fabric-ops',
    });
  });

  it('refuses a processor or VM named like the orchestrator host', () => {
    expect(() => lab('  - { name: orchestrator, processors: [aws-p1] }\n')).toThrow(
      /vms\[0\]\.name: "orchestrator" is the name of the lab's orchestrator host/,
    );
  });
});
