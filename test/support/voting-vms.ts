import type { TestFabric } from './fabric.js';

export type VotingService = 'http-proxy' | 'worker' | 'voting-svc' | 'voting-db' | 'result-svc' | 'result-db';

/** One VM of examples/voting-app/lab.yaml: the service on it and how it is wired. */
export interface VotingVm {
  vm: string;
  service: VotingService;
  /** The VM's place in the table, 1-6: tests and benches derive its address from it. */
  n: number;
  port: number;
  /** /readyz: the service's port, or the store launcher's health port (PORT+1). */
  readyPort: number;
  /** The processor its agent attaches to. */
  processor: string;
  /** The contracts its agent serves (at the VM's address and `port`). */
  serve: string[];
  /** Direct wiring: *_ADDR → the service it names. */
  upstreams: Record<string, VotingService>;
}

/** The six VMs of examples/voting-app/lab.yaml. */
export const VOTING_VMS: readonly VotingVm[] = [
  {
    vm: 'aws-11',
    service: 'http-proxy',
    n: 1,
    port: 8000,
    readyPort: 8000,
    processor: 'aws-p1',
    serve: [],
    upstreams: { VOTING_FRONTEND_ADDR: 'voting-svc', RESULT_FRONTEND_ADDR: 'result-svc' },
  },
  {
    vm: 'aws-12',
    service: 'worker',
    n: 2,
    port: 8090,
    readyPort: 8090,
    processor: 'aws-p1',
    serve: [],
    upstreams: { VOTING_WORKER_ADDR: 'voting-db', RESULT_WORKER_ADDR: 'result-db' },
  },
  {
    vm: 'gcp-11',
    service: 'voting-svc',
    n: 3,
    port: 8080,
    readyPort: 8080,
    processor: 'gcp-p1',
    serve: ['voting-frontend'],
    upstreams: { VOTING_BACKEND_ADDR: 'voting-db' },
  },
  {
    vm: 'gcp-12',
    service: 'voting-db',
    n: 4,
    port: 6379,
    readyPort: 6380,
    processor: 'gcp-p1',
    serve: ['voting-backend', 'voting-worker'],
    upstreams: {},
  },
  {
    vm: 'azr-11',
    service: 'result-svc',
    n: 5,
    port: 8081,
    readyPort: 8081,
    processor: 'azr-p1',
    serve: ['result-frontend'],
    upstreams: { RESULT_BACKEND_ADDR: 'result-db' },
  },
  {
    vm: 'azr-12',
    service: 'result-db',
    n: 6,
    port: 5432,
    readyPort: 5433,
    processor: 'azr-p1',
    serve: ['result-backend', 'result-worker'],
    upstreams: {},
  },
];

/** The processors of examples/voting-app/fabric.yaml. */
export const VOTING_PROCESSORS = ['aws-p1', 'aws-p2', 'gcp-p1', 'azr-p1'];

export function votingVm(service: VotingService): VotingVm {
  return VOTING_VMS.find((v) => v.service === service)!;
}

export function isStore(vm: VotingVm): boolean {
  return vm.service === 'voting-db' || vm.service === 'result-db';
}

/** Starts `vm`'s agent on `address` (serving its contracts there); resolves to its env file. */
export function startVotingAgent(f: TestFabric, vm: VotingVm, address: string): Promise<string> {
  return f.agent({
    vm: vm.vm,
    hostOwner: vm.service,
    domain: 'voting-app',
    address,
    processors: [vm.processor],
    serve: vm.serve.map((c) => `${c}=${address}:${vm.port}`),
  });
}

/** A service's environment through the fabric: its agent's env file, and the file itself. */
export async function agentEnv(f: TestFabric, envFile: string): Promise<Record<string, string>> {
  return { ...(await f.envOf(envFile)), TRELLIS_ENV_FILE: envFile };
}
