/**
 * The `trellis-flow` header: the flow's label in the processors' flow tables (table 50) and in
 * the reports the orchestrator takes, which hold integers 0..2^20-1 (an IPv6 flow label; the
 * agent draws 1..0xfffff). A peer controls the header, so it is parsed here into that integer or
 * a refusal: a `1.5` or `-1` passed on as Number(header) made every flow report of the processor
 * unacceptable to the orchestrator for as long as the entry lived.
 */

export const MAX_FLOW_LABEL = 0xfffff;

export type FlowLabelVerdict = { ok: true; value: number } | { ok: false; reason: string };

export function parseFlowLabel(raw: string | string[] | undefined): FlowLabelVerdict {
  // Absent: an unlabelled flow (label 0), as before; the agent always sends one.
  if (raw === undefined) return { ok: true, value: 0 };
  const one = Array.isArray(raw) ? undefined : raw;
  const value = one !== undefined && /^\d{1,7}$/.test(one) ? Number(one) : Number.NaN;
  if (value <= MAX_FLOW_LABEL) return { ok: true, value };
  const shown = JSON.stringify(String(raw).slice(0, 40));
  return { ok: false, reason: `trellis-flow ${shown} is not a flow label (0..${MAX_FLOW_LABEL})` };
}
