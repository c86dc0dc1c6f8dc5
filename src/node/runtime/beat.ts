/**
 * How often a node beats (POST /api/v1/nodes/NAME/heartbeat) and how long the orchestrator
 * waits before it marks a silent node `unreachable` (orchestrator/liveness.ts). Shared by both
 * ends: the window must hold more than one beat, so one late beat never marks a live node.
 */
export const BEAT_MS = 700;
export const UNREACHABLE_AFTER_MS = 2_000;
