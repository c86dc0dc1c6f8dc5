/** Per-contract counters served at /api/v1/service/stat. */
export interface ContractStat {
  contract: string;
  role: 'client' | 'server';
  flowsIn: number;
  flowsOut: number;
  bytesIn: number;
  bytesOut: number;
  denials: number;
  active: number;
}

export class Stats {
  readonly #byKey = new Map<string, ContractStat>();

  of(contract: string, role: 'client' | 'server'): ContractStat {
    const key = `${role}/${contract}`;
    let s = this.#byKey.get(key);
    if (!s) {
      s = { contract, role, flowsIn: 0, flowsOut: 0, bytesIn: 0, bytesOut: 0, denials: 0, active: 0 };
      this.#byKey.set(key, s);
    }
    return s;
  }

  all(): ContractStat[] {
    return [...this.#byKey.values()];
  }
}
