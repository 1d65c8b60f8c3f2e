/** EventList bodies built from a sample's JSON lines, with the lines each came from (for messages). */
export interface SampleBody {
  readonly body: string;
  /** 1-based line numbers of the first and last line in the body. */
  readonly lines: readonly [first: number, last: number];
}

/**
 * Groups audit.log lines (one Event each) into EventLists of `batchMaxSize`, as the API server's webhook would send
 * them; a line that is already an EventList (serve's or a capture's) is one body as it is. Blank lines are skipped.
 */
export function sampleBodies(text: string, batchMaxSize: number): SampleBody[] {
  const bodies: SampleBody[] = [];
  let pending: string[] = [];
  let first = 0;
  let last = 0;
  const flush = (): void => {
    if (pending.length === 0) return;
    bodies.push({ body: `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[${pending.join(',')}]}`, lines: [first, last] });
    pending = [];
  };
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const number = index + 1;
    if (/^\{\s*"kind"\s*:\s*"EventList"/.test(line)) {
      flush();
      bodies.push({ body: line, lines: [number, number] });
      return;
    }
    if (pending.length === 0) first = number;
    pending.push(line);
    last = number;
    if (pending.length >= batchMaxSize) flush();
  });
  flush();
  return bodies;
}
