import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { DROP_RULE_FIELDS } from '../audit/filter.ts';
import { ConfigError } from '../errors.ts';
import type { Condition, FieldTest, Scalar } from './condition.ts';
import { parseFieldPath } from './field-path.ts';
import { Severity, type DetectionRule } from './rule.ts';

/** The project's rule source, shipped with the package. */
const RULES_FILE = new URL('../../detections/rules.yaml', import.meta.url);

/** Applies every allowlist of the source (`allow: control-plane`). */
const CONTROL_PLANE = 'control-plane';
const TEST_KEYS = ['equals', 'in', 'prefix', 'contains', 'exists', 'absent', 'gte', 'lt'] as const;
const RULE_KEYS = ['id', 'title', 'severity', 'attack', 'why', 'response', 'falsePositives', 'match', 'where', 'anyOf', 'allow', 'unless', 'threshold'];
const WINDOW_MINUTES = [5, 10, 15, 30, 60];

type Raw = Record<string, unknown>;
const isObject = (value: unknown): value is Raw => value !== null && typeof value === 'object' && !Array.isArray(value);
const isScalar = (value: unknown): value is Scalar => ['string', 'number', 'boolean'].includes(typeof value);
/** Quotes and backslashes would need escaping in every query language; no rule needs them. */
const unsafe = (value: string) => /["\\]/.test(value);

/** Every name a selector field lists (a non-list gives [undefined], so it fails the check). */
function namesIn(key: string, list: unknown): unknown[] {
  if (!Array.isArray(list)) return [undefined];
  if (key !== 'resources') return list;
  return list.flatMap((entry) => (isObject(entry) ? [entry.group ?? '', ...[entry.resources ?? [], entry.resourceNames ?? []].flat()] : [undefined]));
}

/** Reads and checks the rule source; every problem is reported at once, each with its place (`rules[2].where[0]`). */
export function loadRules(text: string = readFileSync(RULES_FILE, 'utf8'), source = 'detections/rules.yaml'): DetectionRule[] {
  const problems: string[] = [];
  const problem = (at: string, what: string) => problems.push(`${at}: ${what}`);
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new ConfigError([`${source} is not YAML: ${(error as Error).message.split('\n')[0]}`]);
  }
  if (!isObject(document) || !Array.isArray(document.rules)) throw new ConfigError([`${source} must be a mapping with a 'rules' list`]);

  const test = (at: string, raw: unknown): Condition | undefined => {
    if (!isObject(raw) || typeof raw.field !== 'string') return void problem(at, "must be {field: PATH, <test>: VALUE}");
    const ops = TEST_KEYS.filter((key) => key in raw);
    const extra = Object.keys(raw).filter((key) => key !== 'field' && !(TEST_KEYS as readonly string[]).includes(key));
    if (ops.length !== 1 || extra.length > 0) return void problem(at, `needs exactly one of ${TEST_KEYS.join(', ')}${extra.length ? `; unknown ${extra.join(', ')}` : ''}`);
    let path;
    try {
      path = parseFieldPath(raw.field);
    } catch (error) {
      return void problem(at, (error as Error).message);
    }
    const op = ops[0]!;
    const value = raw[op];
    let fieldTest: FieldTest | undefined;
    if (op === 'exists' || op === 'absent') fieldTest = value === true ? { op } : undefined;
    else if (op === 'in') fieldTest = Array.isArray(value) && value.length > 0 && value.every((v) => isScalar(v) && !(typeof v === 'string' && unsafe(v))) ? { op, values: value as Scalar[] } : undefined;
    else if (op === 'prefix' || op === 'contains') fieldTest = typeof value === 'string' && value !== '' && !unsafe(value) ? { op, value } : undefined;
    else if (op === 'gte' || op === 'lt') fieldTest = Number.isInteger(value) ? { op, value: value as number } : undefined;
    else fieldTest = isScalar(value) && !(typeof value === 'string' && unsafe(value)) ? { op, value } : undefined;
    if (!fieldTest) return void problem(at, `${op}: ${op === 'exists' || op === 'absent' ? 'only true' : 'a value without " or \\'} is allowed`);
    return { path, ...fieldTest };
  };
  const tests = (at: string, raw: unknown): Condition[] => {
    if (raw === undefined) return [];
    if (!Array.isArray(raw)) {
      problem(at, 'must be a list of tests');
      return [];
    }
    return raw.map((item, index) => test(`${at}[${index}]`, item)).filter((c): c is Condition => c !== undefined);
  };

  const allowlists = new Map<string, Condition[]>();
  const rawLists = document.allowlists ?? {};
  if (!isObject(rawLists)) problem('allowlists', 'must map a name to a list of tests');
  else for (const [name, list] of Object.entries(rawLists)) allowlists.set(name, tests(`allowlists.${name}`, list));

  const ids = new Set<string>();
  const rules: DetectionRule[] = [];
  document.rules.forEach((raw: unknown, index: number) => {
    const at = `rules[${index}]`;
    if (!isObject(raw)) return problem(at, 'must be a mapping');
    for (const key of Object.keys(raw)) if (!RULE_KEYS.includes(key)) problem(`${at}.${key}`, `unknown field; use ${RULE_KEYS.join(', ')}`);
    const id = raw.id;
    if (typeof id !== 'string' || !/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(id)) problem(`${at}.id`, 'must be kebab-case');
    else if (ids.has(id)) problem(`${at}.id`, `'${id}' is used twice`);
    else ids.add(id);
    for (const key of ['title', 'why', 'response', 'falsePositives']) if (typeof raw[key] !== 'string' || raw[key] === '') problem(`${at}.${key}`, 'is required text');
    if (!(Object.values(Severity) as unknown[]).includes(raw.severity)) problem(`${at}.severity`, `must be one of ${Object.values(Severity).join(', ')}`);
    const match = raw.match ?? {};
    if (!isObject(match)) problem(`${at}.match`, 'must be a mapping of audit Policy rule fields');
    else {
      for (const key of Object.keys(match)) if (!(DROP_RULE_FIELDS as readonly string[]).includes(key) || key === 'nonResourceURLs') problem(`${at}.match.${key}`, `unknown field; use ${DROP_RULE_FIELDS.filter((f) => f !== 'nonResourceURLs').join(', ')}`);
      for (const [key, list] of Object.entries(match)) {
        if (!namesIn(key, list).every((name) => typeof name === 'string' && !unsafe(name))) problem(`${at}.match.${key}`, 'must list names without " or \\');
      }
      if (Array.isArray(match.namespaces) && match.namespaces.includes('')) problem(`${at}.match.namespaces`, "'' (cluster-scoped) is not supported here; test {field: objectRef.namespace, absent: true} in where");
    }
    const allow = raw.allow === undefined ? [] : raw.allow === CONTROL_PLANE ? [...allowlists.keys()] : raw.allow;
    if (!Array.isArray(allow) || allow.some((name) => !allowlists.has(name))) problem(`${at}.allow`, `must be '${CONTROL_PLANE}' or a list of ${[...allowlists.keys()].join(', ')}`);
    const threshold = raw.threshold;
    if (threshold !== undefined && !(isObject(threshold) && Number.isInteger(threshold.count) && (threshold.count as number) >= 1 && WINDOW_MINUTES.includes(threshold.minutes as number))) {
      problem(`${at}.threshold`, `must be {count: N >= 1, minutes: one of ${WINDOW_MINUTES.join(', ')}}`);
    }
    const where = tests(`${at}.where`, raw.where);
    const anyOf = tests(`${at}.anyOf`, raw.anyOf);
    const unless = tests(`${at}.unless`, raw.unless);
    const allowNames = Array.isArray(allow) ? (allow as string[]) : [];
    rules.push({
      id: id as string,
      title: raw.title as string,
      severity: raw.severity as Severity,
      ...(typeof raw.attack === 'string' ? { attack: raw.attack } : {}),
      why: raw.why as string,
      response: raw.response as string,
      falsePositives: raw.falsePositives as string,
      match: isObject(match) ? (match as DetectionRule['match']) : {},
      where: { all: anyOf.length > 0 ? [...where, { any: anyOf }] : where },
      exceptions: { any: [...allowNames.flatMap((name) => allowlists.get(name) ?? []), ...unless] },
      allowlists: allowNames,
      ...(isObject(threshold) ? { threshold: { count: threshold.count as number, minutes: threshold.minutes as number } } : {}),
    });
  });
  if (problems.length > 0) throw new ConfigError(problems.map((text) => `${source} ${text}`));
  return rules;
}
