/**
 * How often a node beats (POST /api/v1/nodes/NAME/heartbeat) and how long the orchestrator
 * waits before it marks a silent node `unreachable` (orchestrator/liveness.ts). Shared by both
 * ends: the window must hold more than one beat, so one late beat never marks a live node.
 */
export const BEAT_MS = 700;
export const UNREACHABLE_AFTER_MS = 2_000;

/**
 * The beat stream (orchestrator/api/beats.ts): one request whose body carries a byte per beat,
 * ended after BEAT_STREAM_MS and opened again (each opening re-authenticates the session), and
 * cut by the orchestrator past BEAT_STREAM_MAX_BYTES — about ten times its beats.
 */
export const BEAT_STREAM_TYPE = 'application/x-trellis-beats';
export const BEAT_STREAM_MS = 60_000;
export const BEAT_STREAM_MAX_BYTES = 1_024;
