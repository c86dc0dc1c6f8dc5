/**
 * The short rule labels `reason` takes on denial counters. Refusal texts name contracts,
 * nodes and epochs; as a label they would make a series per flow, so each is reduced to the
 * rule that refused it.
 */
export const DENIAL_REASONS = [
  'no-ticket',
  'malformed-ticket',
  'bad-signature',
  'expired',
  'future-ticket',
  'wrong-hop',
  'stale-epoch',
  'wrong-peer',
  'wrong-destination',
  'not-in-role',
  'not-served',
  'no-path',
  'next-hop-unreachable',
  'server-unreachable',
  'not-connect',
  'other',
] as const;

export type DenialReason = (typeof DENIAL_REASONS)[number];

// First match wins. Entity names are [a-z0-9-] (model/names.ts), so none of these phrases,
// each with a space or punctuation a name cannot hold, can be spelled by a name in the text.
const RULES: [RegExp, DenialReason][] = [
  [/\bno flow ticket\b/, 'no-ticket'],
  [/\bmalformed ticket\b|\bticket not verified\b/, 'malformed-ticket'],
  [/\bbad signature\b|\bverification key is not\b/, 'bad-signature'],
  [/\bticket expired\b/, 'expired'],
  [/\bissued in the future\b/, 'future-ticket'],
  [/ is not hop /, 'wrong-hop'],
  [/\bpredates the contract's last change\b/, 'stale-epoch'],
  [/\bpresented by \b|\bmust arrive from\b/, 'wrong-peer'],
  [/\bticket is for \S+, this is\b/, 'wrong-destination'],
  [/\bdoes not serve the \S+ role\b|\bhas no --serve\b/, 'not-served'],
  // After not-served: "does not serve the server role of contract" also names a role.
  [/ role of contract |\bno permission for contract\b/, 'not-in-role'],
  [/\bhas no usable path\b/, 'no-path'],
  [/\bnext hop \S+ (unreachable|failed)\b/, 'next-hop-unreachable'],
  [/\bevery server of contract \S+ is unreachable\b|\bworkload \S+ unreachable\b/, 'server-unreachable'],
  [/\bCONNECT (streams )?only\b/, 'not-connect'],
];

/** The rule behind a refusal text (processor, agent or orchestrator bundle); 'other' if none. */
export function denialReason(text: string): DenialReason {
  for (const [re, label] of RULES) if (re.test(text)) return label;
  return 'other';
}
