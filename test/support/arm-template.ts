// A small evaluator for ARM template expressions, enough to expand infra/azure/azuredeploy.json into concrete
// resources: it parses every "[...]" string (so a syntax error fails), evaluates the functions the template uses with
// fixed deployment values, expands copy loops, and records which parameters, resource ids and references it met.
import { createHash } from 'node:crypto';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Node =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'call'; name: string; args: Node[] }
  | { kind: 'member'; target: Node; property: string }
  | { kind: 'index'; target: Node; index: Node };

/** Parses one ARM expression (the text inside the brackets); throws on anything it cannot read. */
export function parseExpression(text: string): Node {
  let at = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at ${at} in [${text}]`);
  };
  const space = () => {
    while (text[at] === ' ') at++;
  };
  const primary = (): Node => {
    space();
    if (text[at] === "'") {
      let value = '';
      for (at++; ; at++) {
        if (at >= text.length) fail('unterminated string');
        if (text[at] === "'") {
          if (text[at + 1] === "'") {
            value += "'";
            at++;
            continue;
          }
          at++;
          return { kind: 'string', value };
        }
        value += text[at];
      }
    }
    const number = /^-?\d+/.exec(text.slice(at));
    if (number) {
      at += number[0].length;
      return { kind: 'number', value: Number(number[0]) };
    }
    const name = /^[A-Za-z][A-Za-z0-9_]*/.exec(text.slice(at));
    if (!name) return fail('expected a value');
    at += name[0].length;
    space();
    if (text[at] !== '(') return fail(`expected ( after ${name[0]}`);
    at++;
    const args: Node[] = [];
    space();
    if (text[at] === ')') at++;
    else {
      for (;;) {
        args.push(expression());
        space();
        if (text[at] === ',') at++;
        else if (text[at] === ')') {
          at++;
          break;
        } else fail('expected , or )');
      }
    }
    return { kind: 'call', name: name[0], args };
  };
  const expression = (): Node => {
    let node = primary();
    for (;;) {
      if (text[at] === '.') {
        const property = /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(at));
        if (!property) fail('expected a property name');
        at += property![0].length;
        node = { kind: 'member', target: node, property: property![1]! };
      } else if (text[at] === '[') {
        at++;
        const index = expression();
        space();
        if (text[at] !== ']') fail('expected ]');
        at++;
        node = { kind: 'index', target: node, index };
      } else return node;
    }
  };
  const node = expression();
  space();
  if (at !== text.length) fail('unexpected text');
  return node;
}

export const DEPLOYMENT = { subscriptionId: '00000000-0000-0000-0000-0000000000aa', resourceGroup: 'rg-audit', tenantId: '00000000-0000-0000-0000-0000000000bb' };

const providers = (type: string, names: readonly string[]): string => {
  const [namespace, ...types] = type.split('/');
  if (types.length !== names.length) throw new Error(`resourceId of ${type} needs ${types.length} names, got ${names.length}`);
  return `/providers/${namespace}${types.map((t, i) => `/${t}/${names[i]}`).join('')}`;
};
export const resourceIdOf = (type: string, names: readonly string[]): string =>
  `/subscriptions/${DEPLOYMENT.subscriptionId}/resourceGroups/${DEPLOYMENT.resourceGroup}${providers(type, names)}`;

/** A runtime value from reference(): any property path reads as a placeholder naming it. */
function runtimeValue(path: string): unknown {
  return new Proxy({}, {
    get: (_, property) => (property === Symbol.toPrimitive ? () => `<${path}>` : runtimeValue(`${path}.${String(property)}`)),
  });
}

export interface Evaluation {
  readonly parametersUsed: Set<string>;
  readonly variablesUsed: Set<string>;
  /** Every id resourceId() produced. */
  readonly resourceIds: string[];
  /** Every id reference() read. */
  readonly references: string[];
}

export class TemplateEvaluator {
  readonly seen: Evaluation = { parametersUsed: new Set(), variablesUsed: new Set(), resourceIds: [], references: [] };
  readonly #variables = new Map<string, unknown>();

  constructor(
    private readonly template: Record<string, any>,
    private readonly parameterValues: Record<string, unknown>,
  ) {}

  /** Evaluates any JSON value: strings in brackets are expressions, "[[" escapes a literal bracket. */
  value(json: unknown, copyIndex?: number): unknown {
    if (typeof json === 'string') {
      if (json.startsWith('[[')) return json.slice(1);
      if (json.startsWith('[') && json.endsWith(']')) return this.evaluate(parseExpression(json.slice(1, -1)), copyIndex);
      return json;
    }
    if (Array.isArray(json)) return json.map((item) => this.value(item, copyIndex));
    if (json !== null && typeof json === 'object') {
      return Object.fromEntries(Object.entries(json).map(([key, item]) => [key, this.value(item, copyIndex)]));
    }
    return json;
  }

  parameter(name: string): unknown {
    const declared = this.template.parameters?.[name];
    if (!declared) throw new Error(`parameters('${name}') is not declared`);
    this.seen.parametersUsed.add(name);
    if (Object.hasOwn(this.parameterValues, name)) return this.parameterValues[name];
    if (!Object.hasOwn(declared, 'defaultValue')) throw new Error(`parameter ${name} has no value and no default`);
    return this.value(declared.defaultValue);
  }

  variable(name: string): unknown {
    if (!Object.hasOwn(this.template.variables ?? {}, name)) throw new Error(`variables('${name}') is not declared`);
    this.seen.variablesUsed.add(name);
    if (!this.#variables.has(name)) this.#variables.set(name, this.value(this.template.variables[name]));
    return this.#variables.get(name);
  }

  evaluate(node: Node, copyIndex?: number): any {
    if (node.kind === 'string' || node.kind === 'number') return node.value;
    if (node.kind === 'member') return this.evaluate(node.target, copyIndex)[node.property];
    if (node.kind === 'index') return this.evaluate(node.target, copyIndex)[this.evaluate(node.index, copyIndex)];
    const args = () => node.args.map((arg) => this.evaluate(arg, copyIndex));
    const stringArgs = () => args().map(String);
    switch (node.name) {
      case 'parameters':
        return this.parameter(String(args()[0]));
      case 'variables':
        return this.variable(String(args()[0]));
      case 'copyIndex':
        if (copyIndex === undefined) throw new Error('copyIndex() outside a copy loop');
        return copyIndex + Number(args()[0] ?? 0);
      case 'resourceGroup':
        return { id: `/subscriptions/${DEPLOYMENT.subscriptionId}/resourceGroups/${DEPLOYMENT.resourceGroup}`, location: 'westeurope', name: DEPLOYMENT.resourceGroup };
      case 'subscription':
        return { id: `/subscriptions/${DEPLOYMENT.subscriptionId}`, subscriptionId: DEPLOYMENT.subscriptionId, tenantId: DEPLOYMENT.tenantId };
      case 'environment':
        return { name: 'AzureCloud', suffixes: { storage: 'core.windows.net' } };
      case 'format': {
        const [pattern, ...rest] = args();
        return String(pattern).replace(/\{(\d+)\}/g, (_, i: string) => String(rest[Number(i)]));
      }
      case 'concat': {
        const values = args();
        return values.every(Array.isArray) ? values.flat() : values.map(String).join('');
      }
      case 'createArray':
        return args();
      case 'length':
        return (args()[0] as unknown[] | string).length;
      case 'string':
        return String(args()[0]);
      case 'take': {
        const [value, count] = args();
        return (value as string | unknown[]).slice(0, count as number);
      }
      case 'toLower':
        return String(args()[0]).toLowerCase();
      case 'replace': {
        const [text, from, to] = stringArgs();
        return text!.split(from!).join(to!);
      }
      case 'uniqueString':
        return createHash('sha256').update(stringArgs().join('|')).digest('hex').slice(0, 13);
      case 'guid': {
        const hex = createHash('sha256').update(stringArgs().join('|')).digest('hex');
        return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
      }
      case 'resourceId': {
        const [type, ...names] = stringArgs();
        const id = resourceIdOf(type!, names);
        this.seen.resourceIds.push(id);
        return id;
      }
      case 'subscriptionResourceId': {
        const [type, ...names] = stringArgs();
        return `/subscriptions/${DEPLOYMENT.subscriptionId}${providers(type!, names)}`;
      }
      case 'reference': {
        const [id] = stringArgs();
        this.seen.references.push(id!);
        return runtimeValue(`reference(${id})`);
      }
      default:
        throw new Error(`function ${node.name}() is not known to this evaluator; add it if ARM has it`);
    }
  }

  /** Every resource with its copies expanded, each with its concrete type, name and id. */
  resources(): { type: string; name: string; id: string; body: Record<string, any> }[] {
    return (this.template.resources as Record<string, any>[]).flatMap((resource) => {
      const count = resource.copy ? Number(this.value(resource.copy.count)) : 1;
      return Array.from({ length: count }, (_, index) => {
        const copyIndex = resource.copy ? index : undefined;
        const body = this.value(resource, copyIndex) as Record<string, any>;
        const id = resourceIdOf(body.type, String(body.name).split('/'));
        return { type: body.type as string, name: body.name as string, id, body };
      });
    });
  }
}
