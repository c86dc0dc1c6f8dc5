/**
 * The poll, in one place: voting-svc renders and validates against it, result-svc counts and
 * labels by it, so the two pages can never disagree about what the options are.
 */
export const POLL = {
  question: 'Mesos or Kubernetes?',
  options: ['Mesos', 'Kubernetes'] as const,
  labels: { Mesos: 'Mesos', Kubernetes: 'Kubernetes' },
} as const;

export type VoteOption = (typeof POLL.options)[number];

export const OPTIONS: readonly VoteOption[] = POLL.options;

export function isOption(value: unknown): value is VoteOption {
  return typeof value === 'string' && (OPTIONS as readonly string[]).includes(value);
}

export function labelOf(option: VoteOption): string {
  return POLL.labels[option];
}

/** The sentence a refused vote carries: it names every allowed option. */
export function allowedOptionsMessage(got: string | undefined): string {
  const shown = got === undefined ? 'nothing' : JSON.stringify(got);
  return `vote must be one of ${OPTIONS.join(', ')} (got ${shown})`;
}
