export { mergeRoleParams, type PathConstraints } from './constraints.js';
export { routeFlow } from './flow-route.js';
export { buildGraph, type Graph, type PathGraph } from './graph.js';
export { checkRoleParams, MAX_PATH_LINKS, MAX_PATH_PROCESSORS, type ParamsProblem } from './params-check.js';
export type { FailedConstraint, PathResult } from './result.js';
export { computePath } from './route.js';
