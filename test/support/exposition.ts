/** Reading a server's Prometheus text exposition (`GET /metrics`) in tests and benchmarks. */

/** Samples of an exposition: `name{labels}` as written -> value. */
export type Samples = ReadonlyMap<string, number>;

export function parseExposition(text: string): Samples {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return m;
}

/** The samples of the server whose HTTP address is `http` (host:port). */
export async function scrape(http: string): Promise<Samples> {
  return parseExposition(await (await fetch(`http://${http}/metrics`)).text());
}

/** Sum of the samples of `name` over every label set (0 when there is none). */
export function total(samples: Samples, name: string): number {
  let n = 0;
  for (const [key, v] of samples) if (key === name || key.startsWith(`${name}{`)) n += v;
  return n;
}

/** The cumulative buckets (le -> count) of histogram `name`, one without labels of its own. */
export function histogramBuckets(samples: Samples, name: string): Map<number, number> {
  const out = new Map<number, number>();
  const prefix = `${name}_bucket{le="`;
  for (const [key, v] of samples) {
    if (!key.startsWith(prefix)) continue;
    const le = key.slice(prefix.length, key.indexOf('"', prefix.length));
    out.set(le === '+Inf' ? Infinity : Number(le), v);
  }
  return out;
}
