/**
 * Host keys in an Ansible inventory may be patterns: `web[01:03]` is web01, web02, web03,
 * `db-[a:c]` is db-a … db-c, `[1:9:2]` steps, and `name:2222` sets the host's port. Ansible
 * expands them when it reads the file, so Trellis must too, or the two would disagree on which
 * hosts exist.
 */
export interface ExpandedHost {
  name: string;
  port?: number;
}

export function expandHostPattern(key: string): { hosts: ExpandedHost[] } | { error: string } {
  let pattern = key;
  let port: number | undefined;
  const withPort = /^(.*):(\d+)$/.exec(key);
  // A colon outside [ranges] that is followed by digits only is a port; IPv6 addresses have
  // several colons and are left whole.
  if (withPort !== null && !withPort[1]!.replace(/\[[^\]]*\]/g, '').includes(':')) {
    pattern = withPort[1]!;
    port = Number(withPort[2]);
    if (port < 1 || port > 65535) return { error: `port ${withPort[2]} in "${key}" is not from 1 to 65535` };
  }
  const names = expandRanges(pattern);
  if ('error' in names) return { error: `host pattern "${key}": ${names.error}` };
  return { hosts: names.names.map((name) => (port === undefined ? { name } : { name, port })) };
}

const MAX_HOSTS = 10_000;

function expandRanges(pattern: string): { names: string[] } | { error: string } {
  const m = /^(.*?)\[([^\]]*)\](.*)$/.exec(pattern);
  if (m === null) return { names: [pattern] };
  const [, head, range, tail] = m as unknown as [string, string, string, string];
  const parts = range.split(':');
  // `[` … `]` without a colon is not a range (e.g. a bracketed IPv6 address): keep it whole.
  if (parts.length < 2) return { names: [pattern] };
  if (parts.length > 3) return { error: `range [${range}] has more than beginning:end:step` };
  const [beg, end, stepText = '1'] = parts as [string, string, string?];
  if (!/^\d+$/.test(stepText) || Number(stepText) < 1)
    return { error: `step "${stepText}" is not a positive integer` };
  const step = Number(stepText);
  let items: string[];
  if (/^\d+$/.test(beg) && /^\d+$/.test(end)) {
    const padded = beg.length > 1 && beg.startsWith('0');
    if (padded && beg.length !== end.length)
      return { error: `range [${range}]: zero-padded beginning and end must have the same length` };
    const from = Number(beg);
    const to = Number(end);
    if (from > to) return { error: `range [${range}] ends before it begins` };
    if ((to - from) / step >= MAX_HOSTS)
      return { error: `range [${range}] has more than ${MAX_HOSTS} hosts` };
    items = [];
    for (let n = from; n <= to; n += step)
      items.push(padded ? String(n).padStart(beg.length, '0') : String(n));
  } else if (/^[a-z]$/i.test(beg) && /^[a-z]$/i.test(end)) {
    if (beg > end) return { error: `range [${range}] ends before it begins` };
    items = [];
    for (let c = beg.charCodeAt(0); c <= end.charCodeAt(0); c += step) items.push(String.fromCharCode(c));
  } else return { error: `range [${range}] must be numbers (01:10) or single letters (a:f)` };
  const rest = expandRanges(tail);
  if ('error' in rest) return rest;
  const names = items.flatMap((item) => rest.names.map((r) => `${head}${item}${r}`));
  if (names.length > MAX_HOSTS) return { error: `expands to more than ${MAX_HOSTS} hosts` };
  return { names };
}
