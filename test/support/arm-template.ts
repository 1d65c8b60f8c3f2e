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
/** The resource type an id names, e.g. Microsoft.Web/sites for .../providers/Microsoft.Web/sites/app. */
export const typeOfId = (id: string): string => {
  const [namespace, ...rest] = id.slice(id.lastIndexOf('/providers/') + '/providers/'.length).split('/');
  return [namespace, ...rest.filter((_, i) => i % 2 === 0)].join('/');
};
export const resourceIdOf = (type: string, names: readonly string[]): string =>
  `/subscriptions/${DEPLOYMENT.subscriptionId}/resourceGroups/${DEPLOYMENT.resourceGroup}${providers(type, names)}`;

/** A runtime value from reference(): any property path reads as a placeholder naming it. */
function runtimeValue(path: string): unknown {
  return new Proxy({}, {
    has: () => true,
    get: (_, property) => (property === Symbol.toPrimitive ? () => `<${path}>` : runtimeValue(`${path}.${String(property)}`)),
  });
}

/** Reads `object.name` or `object[name]` as ARM does: a missing property fails, naming it (templates use that to fail on purpose). */
function property(target: any, name: unknown): unknown {
  if (typeof target === 'function' || target === null || typeof target !== 'object') throw new Error(`cannot read property '${String(name)}' of ${String(target)}`);
  // Runtime values from reference() have every property.
  if (!Array.isArray(target) && !(String(name) in target) && Object.getPrototypeOf(target) === Object.prototype) {
    throw new Error(`The language expression property '${String(name)}' doesn't exist, available properties are '${Object.keys(target).join(', ')}'.`);
  }
  if (Array.isArray(target) && (typeof name !== 'number' || name < 0 || name >= target.length)) throw new Error(`index ${String(name)} outside an array of ${target.length}`);
  return target[name as keyof typeof target];
}

/** A given parameter value, refused as ARM refuses it before deploying: outside allowedValues, minValue/maxValue or minLength/maxLength. */
function checkedParameter(name: string, declared: Record<string, any>, value: unknown): unknown {
  const refuse = (why: string): never => {
    throw new Error(`The provided value for the template parameter '${name}' is not valid: ${why}`);
  };
  if (declared.allowedValues && !declared.allowedValues.some((allowed: unknown) => JSON.stringify(allowed) === JSON.stringify(value))) refuse(`not one of ${JSON.stringify(declared.allowedValues)}`);
  if (typeof value === 'number') {
    if (declared.minValue !== undefined && value < declared.minValue) refuse(`less than ${declared.minValue}`);
    if (declared.maxValue !== undefined && value > declared.maxValue) refuse(`greater than ${declared.maxValue}`);
  }
  if (typeof value === 'string' || Array.isArray(value)) {
    if (declared.minLength !== undefined && value.length < declared.minLength) refuse(`shorter than ${declared.minLength}`);
    if (declared.maxLength !== undefined && value.length > declared.maxLength) refuse(`longer than ${declared.maxLength}`);
  }
  return value;
}

export interface Evaluation {
  readonly parametersUsed: Set<string>;
  readonly variablesUsed: Set<string>;
  /** Every id resourceId() produced. */
  readonly resourceIds: string[];
  /** Every id reference() read. */
  readonly references: string[];
  /** The apiVersion each reference() named. */
  readonly referenceApiVersions: { id: string; apiVersion: string }[];
}

export class TemplateEvaluator {
  readonly seen: Evaluation = { parametersUsed: new Set(), variablesUsed: new Set(), resourceIds: [], references: [], referenceApiVersions: [] };
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
    if (Object.hasOwn(this.parameterValues, name)) return checkedParameter(name, declared, this.parameterValues[name]);
    if (!Object.hasOwn(declared, 'defaultValue')) throw new Error(`parameter ${name} has no value and no default`);
    return this.value(declared.defaultValue);
  }

  variable(name: string): unknown {
    if (!Object.hasOwn(this.template.variables ?? {}, name)) throw new Error(`variables('${name}') is not declared`);
    this.seen.variablesUsed.add(name);
    if (!this.#variables.has(name)) this.#variables.set(name, this.value(this.template.variables[name]));
    return this.#variables.get(name);
  }

  evaluate(node: Node, copyIndex?: number, lambdaScope: ReadonlyMap<string, unknown> = new Map()): any {
    const evaluate = (child: Node) => this.evaluate(child, copyIndex, lambdaScope);
    if (node.kind === 'string' || node.kind === 'number') return node.value;
    if (node.kind === 'member') return property(evaluate(node.target), node.property);
    if (node.kind === 'index') return property(evaluate(node.target), evaluate(node.index));
    const args = () => node.args.map(evaluate);
    const stringArgs = () => args().map(String);
    switch (node.name) {
      case 'if': {
        // ARM evaluates only the branch the condition picks, which is what lets a template fail on purpose.
        const [condition, whenTrue, whenFalse] = node.args;
        return evaluate(evaluate(condition!) === true ? whenTrue! : whenFalse!);
      }
      case 'lambda': {
        const names = node.args.slice(0, -1).map((name) => String(evaluate(name)));
        const body = node.args.at(-1)!;
        return (...values: unknown[]) => this.evaluate(body, copyIndex, new Map([...lambdaScope, ...names.map((name, i) => [name, values[i]] as const)]));
      }
      case 'lambdaVariables': {
        const name = String(args()[0]);
        if (!lambdaScope.has(name)) throw new Error(`lambdaVariables('${name}') outside its lambda`);
        return lambdaScope.get(name);
      }
      case 'filter': {
        const [items, predicate] = args() as [unknown[], (item: unknown) => unknown];
        return items.filter((item) => predicate(item) === true);
      }
      case 'map': {
        const [items, transform] = args() as [unknown[], (item: unknown) => unknown];
        return items.map((item) => transform(item));
      }
      case 'range': {
        const [start, count] = args() as [number, number];
        return Array.from({ length: count }, (_, i) => start + i);
      }
      case 'and':
        return args().every((value) => value === true);
      case 'or':
        return args().some((value) => value === true);
      case 'not':
        return args()[0] !== true;
      case 'less':
      case 'lessOrEquals':
      case 'greater':
      case 'greaterOrEquals': {
        const [a, b] = args() as [number, number];
        if (typeof a !== 'number' || typeof b !== 'number') throw new Error(`${node.name}() of non-integers is not known to this evaluator; add it if the template needs it`);
        return { less: a < b, lessOrEquals: a <= b, greater: a > b, greaterOrEquals: a >= b }[node.name];
      }
      case 'sub': {
        const [a, b] = args() as [number, number];
        return a - b;
      }
      case 'true':
        return true;
      case 'false':
        return false;
      case 'equals': {
        const [a, b] = args();
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'empty': {
        const [value] = args();
        return value === null || value === '' || (Array.isArray(value) ? value.length === 0 : typeof value === 'object' && Object.keys(value as object).length === 0);
      }
      case 'contains': {
        const [container, item] = args();
        if (typeof container === 'string') return container.includes(String(item));
        if (Array.isArray(container)) return container.some((value) => JSON.stringify(value) === JSON.stringify(item));
        return Object.keys(container as object).some((key) => key.toLowerCase() === String(item).toLowerCase());
      }
      case 'substring': {
        const [text, start, length] = args() as [string, number, number | undefined];
        if (start + (length ?? 0) > text.length) throw new Error(`substring(${start}, ${length}) past the end of a ${text.length}-character string`);
        return length === undefined ? text.slice(start) : text.slice(start, start + length);
      }
      case 'first':
        return (args()[0] as string | unknown[])[0];
      case 'startsWith': {
        const [text, start] = stringArgs();
        return text!.toLowerCase().startsWith(start!.toLowerCase());
      }
      case 'endsWith': {
        const [text, end] = stringArgs();
        return text!.toLowerCase().endsWith(end!.toLowerCase());
      }
      case 'createObject': {
        const values = args();
        return Object.fromEntries(Array.from({ length: values.length / 2 }, (_, i) => [String(values[2 * i]), values[2 * i + 1]]));
      }
      case 'extensionResourceId': {
        const [scope, type, ...names] = stringArgs();
        return `${scope}${providers(type!, names)}`;
      }
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
      case 'union': {
        // Arrays: the distinct items, first seen first. Objects: the members of all, the last one's value winning (ARM
        // merges nested objects too; the template unions only objects with distinct members, so that is not needed).
        const values = args() as Json[];
        if (values.every((value) => value !== null && typeof value === 'object' && !Array.isArray(value))) return Object.assign({}, ...values);
        if (!values.every(Array.isArray)) throw new Error('union() of an array and an object is not valid ARM');
        return (values as Json[][]).flat().filter((item, index, all) => all.findIndex((other) => JSON.stringify(other) === JSON.stringify(item)) === index);
      }
      case 'length':
        return (args()[0] as unknown[] | string).length;
      case 'string': {
        const [value] = args();
        return typeof value === 'string' ? value : JSON.stringify(value);
      }
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
        const [id, apiVersion] = stringArgs();
        this.seen.references.push(id!);
        if (apiVersion !== undefined) this.seen.referenceApiVersions.push({ id: id!, apiVersion });
        return runtimeValue(`reference(${id})`);
      }
      default:
        throw new Error(`function ${node.name}() is not known to this evaluator; add it if ARM has it`);
    }
  }

  /**
   * Every resource with its copies expanded, each with its concrete type, name and id; `deployed` is false when its
   * condition is false (ARM then skips it, and dependsOn naming it is ignored); `references` are the ids its
   * reference() calls read, which ARM requires in its dependsOn.
   */
  resources(): { type: string; name: string; id: string; body: Record<string, any>; references: string[]; deployed: boolean }[] {
    return (this.template.resources as Record<string, any>[]).flatMap((resource) => {
      const count = resource.copy ? Number(this.value(resource.copy.count)) : 1;
      return Array.from({ length: count }, (_, index) => {
        const copyIndex = resource.copy ? index : undefined;
        const referencedBefore = this.seen.references.length;
        const body = this.value(resource, copyIndex) as Record<string, any>;
        const references = this.seen.references.slice(referencedBefore);
        // An extension resource (role assignment, diagnostic setting) lives under the resource its scope names.
        const id = body.scope ? `${body.scope}${providers(body.type, [body.name])}` : resourceIdOf(body.type, String(body.name).split('/'));
        return { type: body.type as string, name: body.name as string, id, body, references, deployed: body.condition === undefined || body.condition === true };
      });
    });
  }
}
