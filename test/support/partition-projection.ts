// Athena's partition projection read backwards: which projected partition, if any, an S3 object belongs to. It
// implements the projection types the archive table uses (enum, date with a NOW-relative range in days, integer with
// digits), as https://docs.aws.amazon.com/athena/latest/ug/partition-projection-supported-types.html defines them.

/** A table's parameters as Glue stores them (`projection.*`, `storage.location.template`, resolved to text). */
export type TableParameters = Record<string, string>;

const DAY_MS = 86_400_000;

/** The regular expression of one projected column's values, and a check of a matched value against its range. */
function column(parameters: TableParameters, name: string, now: Date): { pattern: string; accepts: (value: string) => boolean } {
  const setting = (key: string) => parameters[`projection.${name}.${key}`];
  switch (setting('type')) {
    case 'enum': {
      const values = setting('values')!.split(',');
      return { pattern: '[^/]+', accepts: (value) => values.includes(value) };
    }
    case 'integer': {
      const [low, high] = setting('range')!.split(',').map(Number) as [number, number];
      const digits = Number(setting('digits') ?? '0');
      const written = (value: string) => (digits === 0 ? String(Number(value)) === value : value.length === digits);
      return { pattern: '-?\\d+', accepts: (value) => written(value) && Number(value) >= low && Number(value) <= high };
    }
    case 'date': {
      if (setting('format') !== 'yyyy-MM-dd' || (setting('interval.unit') ?? 'DAYS') !== 'DAYS') throw new Error(`projection.${name}: only yyyy-MM-dd in DAYS is implemented here`);
      const bound = (text: string): string => {
        const relative = /^NOW(?:-(\d+)DAYS)?$/.exec(text.trim());
        if (relative === null) return text.trim();
        return new Date(now.getTime() - Number(relative[1] ?? 0) * DAY_MS).toISOString().slice(0, 10);
      };
      const [from, to] = setting('range')!.split(',').map(bound) as [string, string];
      return { pattern: '\\d{4}-\\d{2}-\\d{2}', accepts: (value) => !Number.isNaN(Date.parse(value)) && value >= from && value <= to };
    }
    default:
      throw new Error(`projection.${name}.type ${JSON.stringify(setting('type'))} is not implemented here`);
  }
}

/**
 * The partition (column -> value) whose location, per storage.location.template, holds the object at `objectUri`
 * (`s3://bucket/key`) directly, or undefined when no projected partition does: a value outside the enum or range, or
 * a key the template does not describe.
 */
export function projectedPartition(parameters: TableParameters, objectUri: string, now = new Date()): Record<string, string> | undefined {
  if (parameters['projection.enabled'] !== 'true') throw new Error('projection.enabled is not true');
  const template = parameters['storage.location.template']!;
  const names: string[] = [];
  const checks: ((value: string) => boolean)[] = [];
  const pattern = template
    .split(/(\$\{[a-z_]+\})/)
    .map((part) => {
      const name = /^\$\{([a-z_]+)\}$/.exec(part)?.[1];
      if (name === undefined) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const { pattern: values, accepts } = column(parameters, name, now);
      names.push(name);
      checks.push(accepts);
      return `(${values})`;
    })
    .join('');
  // Athena reads the objects directly under a partition's location.
  const match = new RegExp(`^${pattern}/[^/]+$`).exec(objectUri);
  if (match === null) return undefined;
  const values = match.slice(1);
  if (!values.every((value, index) => checks[index]!(value))) return undefined;
  return Object.fromEntries(names.map((name, index) => [name, values[index]!]));
}
