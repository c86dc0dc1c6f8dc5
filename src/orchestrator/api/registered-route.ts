import type { z } from 'zod';

/**
 * What the orchestrator records of each route it serves, for the OpenAPI document. Apart from
 * route.ts so that the orchestrator's context can hold the list without importing the router.
 */
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RegisteredRoute {
  /** The OpenAPI operationId (src/orchestrator/api/operation-ids.ts). */
  operationId: string;
  method: Method;
  url: string;
  summary: string;
  tag: string;
  auth: 'none' | 'required';
  body?: z.ZodType;
  query?: z.ZodType;
  response?: z.ZodType;
  contentType?: 'text/event-stream';
  status: number;
}
