import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FabricFileError, loadFabricFile, parseFabricText, secretsFilePath } from './load.js';
import { parseFieldPath } from './source-map.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/voting-app/fabric.yaml', import.meta.url));

/** Parses and returns the error it must throw. */
function failure(text: string): FabricFileError {
  try {
    parseFabricText(text, 'f.yaml');
  } catch (err) {
    if (err instanceof FabricFileError) return err;
    throw err;
  }
  throw new Error('expected a FabricFileError');
}

/** Lines are numbered in comments so the expected line numbers can be read off. */
const header = `apiVersion: trellis/v1
kind: Fabric
`;
const processors = `processors:
  - name: aws-p1
    zone: aws
  - name: gcp-p1
    zone: gcp
`; // lines 3-7
const domain = (contract: string) => `domains:
  - name: app
    hostOwners: [a, b]
    switchOwners: [ops]
    contracts:
${contract}`; // 5 lines: after header alone the first contract is on line 8, after processors on 13

describe('loading the voting-app example', () => {
  it('has the six contracts of the seed with their roles', async () => {
    const { spec, file } = await loadFabricFile(EXAMPLE);
    expect(file).toBe(EXAMPLE);
    const app = spec.domains.find((d) => d.name === 'voting-app')!;
    expect(app.hostOwners).toEqual([
      'http-proxy',
      'voting-svc',
      'voting-db',
      'result-svc',
      'result-db',
      'worker',
    ]);
    const roles = app.contracts.map((c) => [c.name, c.client.users, c.server.users]);
    expect(roles).toEqual([
      ['voting-frontend', ['http-proxy'], ['voting-svc']],
      ['result-frontend', ['http-proxy'], ['result-svc']],
      ['voting-backend', ['voting-svc'], ['voting-db']],
      ['result-backend', ['result-svc'], ['result-db']],
      ['voting-worker', ['worker'], ['voting-db']],
      ['result-worker', ['worker'], ['result-db']],
    ]);
    expect(app.contracts.every((c) => c.mode === 'enforce' && c.description !== '')).toBe(true);
  });

  it('declares the infra domain, four processors and links where aws-p2 is a detour', async () => {
    const { spec } = await loadFabricFile(EXAMPLE);
    expect(spec.domains.find((d) => d.name === 'infra')?.switchOwners).toEqual(['fabric-ops']);
    expect(spec.processors?.map((p) => p.name)).toEqual(['aws-p1', 'aws-p2', 'gcp-p1', 'azr-p1']);
    const cost = (a: string, b: string) =>
      spec.links?.find((l) => l.between.includes(a) && l.between.includes(b))?.cost;
    expect(cost('aws-p1', 'gcp-p1')).toBeLessThan(cost('aws-p1', 'aws-p2')! + cost('aws-p2', 'gcp-p1')!);
    expect(spec.links?.every((l) => l.status === 'up')).toBe(true);
  });

  it('resolves the secrets file beside the fabric file and maps fields to lines', async () => {
    const loaded = await loadFabricFile(EXAMPLE);
    expect(secretsFilePath(loaded)).toBe(join(dirname(EXAMPLE), 'voting-app.secrets.yaml'));
    const text = await readFile(EXAMPLE, 'utf8');
    const expected = text.split('\n').findIndex((l) => l.includes('- name: voting-frontend')) + 1;
    // The way an error reported by the server against a field is mapped back to the file.
    expect(loaded.lineOf(parseFieldPath('domains[0].contracts[0].name'))).toBe(expected);
  });

  it('reports a missing file as a FabricFileError', async () => {
    await expect(loadFabricFile('/nonexistent/fabric.yaml')).rejects.toThrow(
      '/nonexistent/fabric.yaml: cannot read: no such file',
    );
  });
});

describe('defaults', () => {
  it('fills description, mode, proxyProtocol, roles, pathParams, cost and status', () => {
    const { spec } = parseFabricText(
      `${header}${processors}links:\n  - between: [aws-p1, gcp-p1]\n${domain('      - name: c1\n')}`,
      'f.yaml',
    );
    expect(spec.links).toEqual([{ between: ['aws-p1', 'gcp-p1'], cost: 10, status: 'up' }]);
    expect(spec.domains[0]!.contracts[0]).toEqual({
      name: 'c1',
      description: '',
      mode: 'enforce',
      proxyProtocol: false,
      client: { users: [], pathParams: {} },
      server: { users: [], pathParams: {} },
    });
  });

  it('keeps absent processors/links sections absent, so they are not managed', () => {
    const { spec } = parseFabricText(header, 'f.yaml');
    expect(spec.processors).toBeUndefined();
    expect(spec.links).toBeUndefined();
    expect(spec.domains).toEqual([]);
  });
});

describe('errors name file, line and field', () => {
  it('formats the message as file:line: field: message', () => {
    const err = failure(
      `${header}${processors}${domain(`      - name: c1
        client: { users: [a], pathParams: { transit: aws-p9 } }
`)}`,
    );
    expect(err.message).toBe(
      'f.yaml:14: domains[0].contracts[0].client.pathParams.transit: unknown processor "aws-p9" in transit',
    );
    expect(err).toMatchObject({
      file: 'f.yaml',
      line: 14,
      field: 'domains[0].contracts[0].client.pathParams.transit',
      code: 'TRELLIS_ERR_VALIDATION',
    });
  });

  it('YAML syntax error', () => {
    const err = failure(`${header}domains:\n  - name: [app\n    x: 1\n`);
    expect(err.line).toBe(5);
    expect(err.field).toBe('');
    expect(err.message).toMatch(/^f\.yaml:5: YAML: /);
  });

  it('duplicate YAML key', () => {
    const err = failure(`${header}kind: Fabric\n`);
    expect(err.line).toBe(3);
    expect(err.message).toContain('Map keys must be unique');
  });

  it('unknown key, located at the key', () => {
    const err = failure(`${header}domains:\n  - name: app\n    hostowners: [a]\n`);
    expect(err.message).toBe('f.yaml:5: domains[0].hostowners: unknown key "hostowners"');
  });

  it('missing required field', () => {
    const err = failure(`${header}processors:\n  - zone: aws\n`);
    expect(err.message).toBe('f.yaml:4: processors[0].name: is required');
  });

  it('wrong apiVersion and an empty file', () => {
    expect(failure('apiVersion: trellis/v2\nkind: Fabric\n').message).toMatch(/^f\.yaml:1: apiVersion: /);
    // Regression: an empty file named no line.
    expect(failure('').message).toMatch(/^f\.yaml:1: the file is empty/);
  });

  it('regression: an alias bomb is refused naming the file', () => {
    const rows = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const [i, n] of ['b', 'c', 'd', 'e', 'f', 'g'].entries()) {
      const prev = 'abcdefg'[i]!;
      rows.push(`${n}: &${n} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    expect(failure(`${rows.join('\n')}\n`).message).toMatch(
      /^f\.yaml: YAML: refused: its aliases expand too far/,
    );
  });

  it('bad name and bad value types', () => {
    const err = failure(`${header}processors:\n  - name: AWS-P1\n    zone: aws\n`);
    expect(err.field).toBe('processors[0].name');
    expect(err.line).toBe(4);
    expect(err.reason).toContain('lowercase');
    const cost = failure(`${header}${processors}links:\n  - between: [aws-p1, gcp-p1]\n    cost: ten\n`);
    expect(cost.field).toBe('links[0].cost');
    expect(cost.line).toBe(10);
  });

  it('transit of the wrong type says what fits', () => {
    const err = failure(
      `${header}${domain('      - name: c1\n        client: { pathParams: { transit: 5 } }\n')}`,
    );
    expect(err.message).toBe(
      'f.yaml:9: domains[0].contracts[0].client.pathParams.transit: must be a processor name or a list of processor names',
    );
  });

  it('collects every problem, the first one being the error', () => {
    const err = failure(`${header}processors:\n  - zone: aws\n    color: red\n`);
    expect(err.problems.map((p) => `${p.line} ${p.field}`)).toEqual([
      '4 processors[0].name',
      '5 processors[0].color',
    ]);
  });
});

describe('cross-checks', () => {
  it('duplicate names', () => {
    const dupDomain = failure(`${header}domains:\n  - name: app\n  - name: app\n`);
    expect(dupDomain.message).toBe('f.yaml:5: domains[1].name: duplicate domain "app"');
    const dupUser = failure(`${header}domains:\n  - name: app\n    hostOwners: [a]\n    switchOwners: [a]\n`);
    expect(dupUser.message).toBe('f.yaml:6: domains[0].switchOwners[0]: duplicate resource user "a"');
    const dupContract = failure(`${header}${domain('      - name: c1\n      - name: c1\n')}`);
    expect(dupContract.message).toBe('f.yaml:9: domains[0].contracts[1].name: duplicate contract "c1"');
    const dupProcessor = failure(
      `${header}processors:\n  - { name: p1, zone: aws }\n  - { name: p1, zone: gcp }\n`,
    );
    expect(dupProcessor.message).toBe('f.yaml:5: processors[1].name: duplicate processor "p1"');
  });

  it('a link is the same whichever way round, and joins two different processors', () => {
    const dup = failure(
      `${header}${processors}links:\n  - between: [aws-p1, gcp-p1]\n  - between: [gcp-p1, aws-p1]\n`,
    );
    expect(dup.message).toBe('f.yaml:10: links[1].between: duplicate link "aws-p1--gcp-p1"');
    const loop = failure(`${header}${processors}links:\n  - between: [aws-p1, aws-p1]\n`);
    expect(loop.field).toBe('links[0].between[1]');
  });

  it('link endpoints must be declared when the file has a processors section', () => {
    const err = failure(`${header}${processors}links:\n  - between: [aws-p1, azr-p1]\n`);
    expect(err.message).toBe('f.yaml:9: links[0].between[1]: unknown processor "azr-p1"');
    // Without the section the link may join processors that already exist; the server checks.
    expect(() => parseFabricText(`${header}links:\n  - between: [aws-p1, azr-p1]\n`, 'f.yaml')).not.toThrow();
  });

  it('role users must be hostOwners of the domain', () => {
    const err = failure(
      `${header}${domain('      - name: c1\n        server:\n          users: [b, ops]\n')}`,
    );
    expect(err.message).toBe(
      'f.yaml:10: domains[0].contracts[0].server.users[1]: "ops" is not a hostOwner of domain "app" in this file',
    );
    const dup = failure(`${header}${domain('      - name: c1\n        client: { users: [a, a] }\n')}`);
    expect(dup.field).toBe('domains[0].contracts[0].client.users[1]');
  });

  it('pathParams role and contract must name the peer role and this contract', () => {
    const role = failure(
      `${header}${domain('      - name: c1\n        client:\n          pathParams: { role: client }\n')}`,
    );
    expect(role.field).toBe('domains[0].contracts[0].client.pathParams.role');
    expect(role.line).toBe(10);
    expect(role.reason).toBe('must be "server": pathParams of the client role name the peer role');
    const contract = failure(
      `${header}${domain('      - name: c1\n        server:\n          pathParams:\n            role: client\n            contract: c2\n')}`,
    );
    expect(contract.message).toBe(
      'f.yaml:12: domains[0].contracts[0].server.pathParams.contract: must be "c1": pathParams name the contract they belong to',
    );
    const ok = `${header}${domain('      - name: c1\n        client: { pathParams: { role: server, contract: c1 } }\n')}`;
    expect(() => parseFabricText(ok, 'f.yaml')).not.toThrow();
  });

  it('transit and avoid must name processors of the file when it declares them', () => {
    const transit = failure(
      `${header}${processors}${domain('      - name: c1\n        server:\n          pathParams:\n            transit:\n              - gcp-p1\n              - aws-p9\n')}`,
    );
    expect(transit.message).toBe(
      'f.yaml:18: domains[0].contracts[0].server.pathParams.transit[1]: unknown processor "aws-p9" in transit',
    );
    const avoid = failure(
      `${header}${processors}${domain('      - name: c1\n        client: { pathParams: { avoid: [azr-p1] } }\n')}`,
    );
    expect(avoid.field).toBe('domains[0].contracts[0].client.pathParams.avoid[0]');
    expect(avoid.reason).toBe('unknown processor "azr-p1" in avoid');
    // No processors section: the processor may exist in the fabric already; the server checks.
    const open = `${header}${domain('      - name: c1\n        client: { pathParams: { transit: aws-p9 } }\n')}`;
    expect(() => parseFabricText(open, 'f.yaml')).not.toThrow();
  });
});
