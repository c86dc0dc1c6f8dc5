import { request } from 'node:http';

/** A tiny HTTP client with a cookie jar: each instance is one browser (one voter). */
export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export class Browser {
  readonly cookies = new Map<string, string>();

  constructor(private readonly base: string) {}

  get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
    return this.send('GET', path, undefined, headers);
  }

  /** POSTs a form, as the vote page's buttons do. */
  postForm(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Reply> {
    return this.send('POST', path, new URLSearchParams(form).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      ...headers,
    });
  }

  vote(option: string, headers: Record<string, string> = {}): Promise<Reply> {
    return this.postForm('/voting/vote', { vote: option }, headers);
  }

  send(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.base}${path}`,
        { method, headers: { ...headers, ...(cookie ? { cookie } : {}) }, timeout: 15_000 },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            text += d;
          });
          res.on('end', () => {
            for (const c of res.headers['set-cookie'] ?? []) {
              const [pair] = c.split(';');
              const eq = pair!.indexOf('=');
              this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 15 s`)));
      req.on('error', reject);
      req.end(body);
    });
  }
}
