/**
 * What Trellis offers a workload, and all the examples may use: the agent's env file (where each
 * contract's local listener is) and the PROXY v2 header a server agent puts before each inbound
 * flow (the client's address). Everything else in src/ is Trellis's own; the import rules
 * (.dependency-cruiser.cjs, examples-only-workload) keep the examples to this.
 */

export { PROXY_V2_SIGNATURE, type ProxyAddress, type ProxyParse, parseProxyV2 } from '../wire/proxy-v2.js';
export { contractEnvName, parseEnvFile, readEnvFile } from './env-file.js';
