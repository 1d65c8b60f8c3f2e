// A schema check for manifests where `kubectl apply --dry-run=client` cannot run (it needs an API server for its
// OpenAPI documents): each field is checked against the Kubernetes API types of @kubernetes/client-node, which are
// generated from that same OpenAPI. Unknown fields (a typo, a field at the wrong level) and wrong primitives are found.
import * as k8s from '@kubernetes/client-node';

type Attribute = { baseName: string; type: string };
type Model = { getAttributeTypeMap(): Attribute[] };
const models = k8s as unknown as Record<string, Model | undefined>;

/** Problems of `value` as the API type `type` (e.g. V1Deployment), each with the path of the field. */
export function schemaProblems(value: unknown, type: string, path = ''): string[] {
  const at = path || '(root)';
  if (type === 'any' || type === 'object') return [];
  if (type === 'IntOrString') return typeof value === 'string' || Number.isInteger(value) ? [] : [`${at}: not an integer or string`];
  if (type === 'string' || type === 'Date') return typeof value === 'string' ? [] : [`${at}: not a string`];
  if (type === 'number') return typeof value === 'number' ? [] : [`${at}: not a number`];
  if (type === 'boolean') return typeof value === 'boolean' ? [] : [`${at}: not a boolean`];
  const list = /^Array<(.+)>$/.exec(type);
  if (list) return Array.isArray(value) ? value.flatMap((item, index) => schemaProblems(item, list[1]!, `${path}[${index}]`)) : [`${at}: not a list`];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return isObject(value) ? Object.entries(value).flatMap(([key, item]) => schemaProblems(item, map[1]!, `${path}.${key}`)) : [`${at}: not a map`];
  const model = models[type];
  if (!model?.getAttributeTypeMap) return [`${at}: unknown type ${type}`];
  if (!isObject(value)) return [`${at}: not an object`];
  const attributes = new Map(model.getAttributeTypeMap().map((attribute) => [attribute.baseName, attribute.type]));
  return Object.entries(value).flatMap(([key, item]) => {
    const field = path ? `${path}.${key}` : key;
    const fieldType = attributes.get(key);
    return fieldType === undefined ? [`${field}: no such field in ${type}`] : schemaProblems(item, fieldType, field);
  });
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
