/**
 * The OpenAPI `operationId` of every route: the stable name a generated client calls it by.
 * Kept as one table (not derived from the URL) so that a name never changes when a path is
 * tidied, and so that a new route cannot be served without one: `route()` refuses a route
 * missing here, and the OpenAPI test checks the names are unique.
 */
export const OPERATION_IDS: Readonly<Record<string, string>> = {
  'GET /api/v1/health': 'getHealth',
  'GET /api/v1/openapi.json': 'getOpenApiDocument',
  'GET /api/v1/ca': 'getCa',
  'GET /api/v1/ca/ticket-keys': 'listTicketKeys',
  'POST /api/v1/ca/rotate-ticket-key': 'rotateTicketKey',
  'GET /api/v1/backup': 'getBackup',

  'POST /api/v1/login': 'login',
  'POST /api/v1/logout': 'logout',
  'POST /api/v1/sessions/revoke': 'revokeSessions',

  'GET /api/v1/domains': 'listDomains',
  'POST /api/v1/domains': 'createDomain',
  'GET /api/v1/domains/:domain': 'getDomain',
  'PUT /api/v1/domains/:domain': 'replaceDomain',
  'DELETE /api/v1/domains/:domain': 'deleteDomain',

  'GET /api/v1/admin-users': 'listAdminUsers',
  'POST /api/v1/admin-users': 'createAdminUser',
  'PUT /api/v1/admin-users/:name/password': 'setAdminUserPassword',
  'DELETE /api/v1/admin-users/:name': 'deleteAdminUser',

  'GET /api/v1/resource-users': 'listResourceUsers',
  'POST /api/v1/domains/:domain/resource-users': 'createResourceUser',
  'GET /api/v1/domains/:domain/resource-users/:name': 'getResourceUser',
  'PUT /api/v1/domains/:domain/resource-users/:name': 'replaceResourceUser',
  'DELETE /api/v1/domains/:domain/resource-users/:name': 'deleteResourceUser',

  'GET /api/v1/contracts': 'listContracts',
  'POST /api/v1/domains/:domain/contracts': 'createContract',
  'GET /api/v1/domains/:domain/contracts/:name': 'getContract',
  'PUT /api/v1/domains/:domain/contracts/:name': 'replaceContract',
  'DELETE /api/v1/domains/:domain/contracts/:name': 'deleteContract',
  'GET /api/v1/domains/:domain/contracts/:name/roles/:role': 'getContractRole',
  'PUT /api/v1/domains/:domain/contracts/:name/roles/:role': 'replaceContractRole',

  'GET /api/v1/processors': 'listProcessors',
  'POST /api/v1/processors': 'createProcessor',
  'GET /api/v1/processors/:name': 'getProcessor',
  'PUT /api/v1/processors/:name': 'replaceProcessor',
  'DELETE /api/v1/processors/:name': 'deleteProcessor',
  'GET /api/v1/processors/:name/policy': 'getProcessorPolicy',
  'GET /api/v1/processors/:name/flows': 'getProcessorFlows',
  'PUT /api/v1/processors/:name/flows': 'putProcessorFlows',

  'GET /api/v1/links': 'listLinks',
  'POST /api/v1/links': 'createLink',
  'GET /api/v1/links/:name': 'getLink',
  'PUT /api/v1/links/:name': 'replaceLink',
  'DELETE /api/v1/links/:name': 'deleteLink',

  'GET /api/v1/nodes': 'listNodes',
  'GET /api/v1/nodes/:name': 'getNode',
  'DELETE /api/v1/nodes/:name': 'deleteNode',
  'POST /api/v1/nodes/enrol': 'enrolNode',
  'POST /api/v1/nodes/register': 'registerNode',
  'POST /api/v1/nodes/:name/challenge': 'getNodeChallenge',
  'POST /api/v1/nodes/:name/login': 'nodeLogin',
  'POST /api/v1/nodes/:name/certificate': 'renewNodeCertificate',
  'POST /api/v1/nodes/:name/heartbeat': 'nodeHeartbeat',
  'POST /api/v1/nodes/:name/beats': 'holdNodeBeatStream',
  'POST /api/v1/nodes/:name/disconnect': 'disconnectNode',
  'POST /api/v1/nodes/:name/reset': 'resetNode',
  'GET /api/v1/nodes/:name/bundle': 'getNodeBundle',
  'POST /api/v1/nodes/:name/denials': 'reportDenials',
  'POST /api/v1/nodes/:name/peer-health': 'reportPeerHealth',

  'GET /api/v1/tokens': 'listTokens',
  'POST /api/v1/tokens': 'createToken',
  'DELETE /api/v1/tokens/:id': 'deleteToken',

  'GET /api/v1/topology': 'getTopology',
  'GET /api/v1/domains/:domain/topology': 'getDomainTopology',
  'GET /api/v1/paths': 'getPath',
  'GET /api/v1/audit': 'listAudit',
  'POST /api/v1/apply': 'apply',
  'GET /api/v1/events': 'streamEvents',
  'GET /api/v1/events/recent': 'listRecentEvents',
  'GET /api/v1/denials': 'listDenials',
};

/** The operationId of `METHOD url`, or an error naming the route a developer must add here. */
export function operationIdOf(method: string, url: string): string {
  const id = OPERATION_IDS[`${method} ${url}`];
  if (id === undefined) {
    throw new Error(
      `route ${method} ${url} has no operationId: add it to src/orchestrator/api/operation-ids.ts`,
    );
  }
  return id;
}
