// An independent parser and evaluator of CloudWatch Logs' JSON filter-pattern grammar, as the "Filter pattern syntax
// for metric filters" documentation describes it, so the generated metric filters can be checked and run on fixtures:
//   { SELECTOR OP VALUE }  with  SELECTOR = $.key.key[0].key,  OP = = != < > <= >=
//   { SELECTOR IS TRUE | IS FALSE | IS NULL | NOT EXISTS }
//   && and || between terms, parentheses to group; string values in double quotes (or bare words), `*` as wildcard.
// Comparisons on a field the event lacks do not match (hence NOT EXISTS); = and != compare strings with strings and
// numbers with numbers, and a value of the other type matches neither.

type Node =
  | { kind: 'and' | 'or'; left: Node; right: Node }
  | { kind: 'compare'; selector: (string | number)[]; op: string; value: string | number }
  | { kind: 'is'; selector: (string | number)[]; what: 'TRUE' | 'FALSE' | 'NULL' | 'NOT EXISTS' };

const TOKEN = /\s*(\|\||&&|!=|<=|>=|=|<|>|\(|\)|\{|\}|"(?:[^"\\]|\\.)*"|\$(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])+|[^\s(){}"=!<>&|]+)/y;

function tokenize(pattern: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < pattern.length) {
    if (/^\s*$/.test(pattern.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(pattern);
    if (!match) throw new SyntaxError(`unexpected text at ${at}: ${pattern.slice(at, at + 20)}`);
    tokens.push(match[1]!);
  }
  return tokens;
}

/** Parses a JSON filter pattern; throws SyntaxError where it breaks the grammar. */
export function parseFilterPattern(pattern: string): Node {
  const tokens = tokenize(pattern);
  let at = 0;
  const peek = () => tokens[at];
  const take = (expected?: string) => {
    const token = tokens[at++];
    if (token === undefined || (expected !== undefined && token !== expected)) throw new SyntaxError(`expected ${expected ?? 'more'} at token ${at - 1}, got ${token ?? 'the end'}`);
    return token;
  };
  const selector = (token: string): (string | number)[] => {
    if (!token.startsWith('$')) throw new SyntaxError(`expected a $. selector, got ${token}`);
    return [...token.slice(1).matchAll(/\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]/g)].map((part) => (part[1] !== undefined ? part[1] : Number(part[2])));
  };
  const term = (): Node => {
    if (peek() === '(') {
      take('(');
      const inner = or();
      take(')');
      return inner;
    }
    const path = selector(take());
    const op = take();
    if (op === 'IS') {
      const what = take();
      if (what !== 'TRUE' && what !== 'FALSE' && what !== 'NULL') throw new SyntaxError(`IS takes TRUE, FALSE or NULL, got ${what}`);
      return { kind: 'is', selector: path, what };
    }
    if (op === 'NOT') {
      take('EXISTS');
      return { kind: 'is', selector: path, what: 'NOT EXISTS' };
    }
    if (!['=', '!=', '<', '>', '<=', '>='].includes(op)) throw new SyntaxError(`unknown operator ${op}`);
    const raw = take();
    if (['(', ')', '{', '}', '&&', '||'].includes(raw)) throw new SyntaxError(`missing value after ${op}`);
    const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
    if (op !== '=' && op !== '!=' && typeof value !== 'number') throw new SyntaxError(`${op} compares numbers, got ${raw}`);
    return { kind: 'compare', selector: path, op, value };
  };
  const and = (): Node => {
    let left = term();
    while (peek() === '&&') {
      take();
      left = { kind: 'and', left, right: term() };
    }
    return left;
  };
  const or = (): Node => {
    let left = and();
    while (peek() === '||') {
      take();
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  take('{');
  const root = or();
  take('}');
  if (at !== tokens.length) throw new SyntaxError(`text after the closing brace: ${tokens.slice(at).join(' ')}`);
  return root;
}

const MISSING = Symbol('missing');

function resolve(event: unknown, path: readonly (string | number)[]): unknown {
  let value: unknown = event;
  for (const step of path) {
    if (typeof step === 'number') {
      if (!Array.isArray(value) || step >= value.length) return MISSING;
      value = value[step];
    } else {
      if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, step)) return MISSING;
      value = (value as Record<string, unknown>)[step];
    }
  }
  return value;
}

const glob = (pattern: string, text: string) => new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's').test(text);

function evaluate(node: Node, event: unknown): boolean {
  switch (node.kind) {
    case 'and':
      return evaluate(node.left, event) && evaluate(node.right, event);
    case 'or':
      return evaluate(node.left, event) || evaluate(node.right, event);
    case 'is': {
      const value = resolve(event, node.selector);
      if (node.what === 'NOT EXISTS') return value === MISSING;
      return value === (node.what === 'TRUE' ? true : node.what === 'FALSE' ? false : null);
    }
    case 'compare': {
      const value = resolve(event, node.selector);
      if (value === MISSING) return false;
      if (typeof node.value === 'number') {
        if (typeof value !== 'number') return false;
        const compare = { '=': value === node.value, '!=': value !== node.value, '<': value < node.value, '>': value > node.value, '<=': value <= node.value, '>=': value >= node.value };
        return compare[node.op as keyof typeof compare];
      }
      if (typeof value !== 'string') return false;
      return node.op === '=' ? glob(node.value, value) : !glob(node.value, value);
    }
  }
}

/** Whether a log event (its parsed JSON message) matches the pattern. */
export const filterPatternMatches = (pattern: string, event: unknown): boolean => evaluate(parseFilterPattern(pattern), event);
