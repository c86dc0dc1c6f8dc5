// Run in the rig's bastion (plain JS: no build step): voters with their own cookie jars.
//   node voters.mjs vote BASE N_MESOS N_KUBERNETES N_CHANGE   → prints the final result.json
//   node voters.mjs loop BASE SECONDS                          → prints {ok, failed, errors}
const [mode, base, ...rest] = process.argv.slice(2);

class Voter {
  cookies = new Map();
  async vote(option) {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(`${base}/voting/vote`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie && { cookie }) },
      body: `vote=${encodeURIComponent(option)}`,
      redirect: 'manual',
      signal: AbortSignal.timeout(15_000),
    });
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(';')[0];
      this.cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    await res.text();
    if (res.status !== 200) throw new Error(`vote ${option}: HTTP ${res.status}`);
  }
}

async function tally() {
  const res = await fetch(`${base}/voting/result.json`, { signal: AbortSignal.timeout(10_000) });
  return res.json();
}

if (mode === 'vote') {
  const [mesos, kubernetes, change] = rest.map(Number);
  const voters = Array.from({ length: mesos + kubernetes }, () => new Voter());
  for (let i = 0; i < voters.length; i += 5) {
    await Promise.all(voters.slice(i, i + 5).map((v, k) => v.vote(i + k < mesos ? 'Mesos' : 'Kubernetes')));
  }
  // Some Mesos voters change their minds: their new ballot replaces the old one.
  for (const v of voters.slice(0, change)) await v.vote('Kubernetes');
  const want = JSON.stringify({
    Mesos: mesos - change,
    Kubernetes: kubernetes + change,
    total: mesos + kubernetes,
  });
  let last;
  for (let i = 0; i < 600; i++) {
    last = await tally().catch((e) => ({ error: e.message }));
    if (JSON.stringify(last) === want) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  process.stdout.write(`${JSON.stringify(last)}\n`);
} else if (mode === 'loop') {
  const until = Date.now() + Number(rest[0]) * 1000;
  let ok = 0;
  let failed = 0;
  const errors = [];
  while (Date.now() < until) {
    try {
      const res = await fetch(`${base}/voting/vote`, { signal: AbortSignal.timeout(5_000) });
      await res.text();
      if (res.status === 200) ok++;
      else {
        failed++;
        errors.push(`HTTP ${res.status}`);
      }
    } catch (e) {
      failed++;
      errors.push(e.message);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.stdout.write(`${JSON.stringify({ ok, failed, errors: errors.slice(0, 5) })}\n`);
} else {
  process.stderr.write('usage: voters.mjs vote BASE M K C | loop BASE SECONDS\n');
  process.exit(2);
}
