import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { DropRule } from './audit/filter.ts';
import { DROP_RULE_FIELDS } from './audit/filter.ts';
import { parseRedactionPath, type RedactionOptions } from './audit/redact.ts';
import { MIN_RECORD_BYTES } from './audit/render.ts';
import type { AuthConfig, Credential } from './auth.ts';
import { isClusterName } from './cluster-name.ts';
import { ConfigError } from './errors.ts';
import { whyUnreadable } from './file-errors.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** Largest body accepted by default: 400 events of up to ~160 KB each. Lambda and Azure set their own. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;
/** CloudWatch Logs' event limit since 2025, and a size every destination here can hold. */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;
/** Time the sink may take for one batch: the API server gives up on an attempt after 30 s. */
export const DEFAULT_SINK_TIMEOUT_MS = 20_000;

/** Settings every entry point shares: what the pipeline does with a batch. */
export interface PipelineConfig {
  /** CLUSTER_NAME: written into each event's annotations (kube-audit-relay.io/cluster). Default: none. */
  readonly cluster?: string;
  /** MAX_BODY_BYTES: larger bodies are refused with 413. Default 67108864 (64 MiB). */
  readonly maxBodyBytes: number;
  /** MAX_EVENT_BYTES: larger events are truncated to fit. Default 1048576, at least 4096. */
  readonly maxEventBytes: number;
  /** SINK_TIMEOUT_MS: time the destination may take per batch before the relay answers 503. Default 20000. */
  readonly sinkTimeoutMs: number;
  /**
   * AUTH_MODE, AUTH_TOKENS, AUTH_TOKEN_FILE, AUTH_BASIC_FILE. A token line `<token> <cluster>` or basic-auth line
   * `user:password <cluster>` names the cluster its events belong to; without one, CLUSTER_NAME.
   */
  readonly auth: AuthConfig;
  /**
   * CLIENT_CERT_CLUSTER: `CN` or `O`, the client certificate subject field naming the caller's cluster (mTLS only),
   * used when the Authorization credential names none. Default: certificates name no cluster.
   */
  readonly clientCertCluster?: 'CN' | 'O';
  /** REDACT_SECRETS (default true) and REDACT_PATHS (default none). */
  readonly redaction: RedactionOptions;
  /** DROP_RULES (JSON or YAML list) or DROP_RULES_FILE. Default: keep everything. */
  readonly dropRules: readonly DropRule[];
}

/**
 * Reads settings from environment-like input, collecting every problem instead of stopping at the first.
 * `describe` names a setting in messages (the CLI adds its flag).
 */
export class SettingsReader {
  readonly problems: string[] = [];

  constructor(
    private readonly env: Env,
    private readonly describe: (name: string) => string = (name) => name,
  ) {}

  problem(name: string, message: string): void {
    this.problems.push(`${this.describe(name)}: ${message}`);
  }

  /** How messages name a setting: the variable, or for the CLI its flag too (`--token-file (AUTH_TOKEN_FILE)`). */
  name(name: string): string {
    return this.describe(name);
  }

  /** How to give a setting a value, in the user's terms: `AUTH_MODE=none`, or `--auth-mode none` where a flag exists. */
  assignment(name: string, value: string): string {
    const flag = /^(--\S+) \(/.exec(this.describe(name))?.[1];
    return flag === undefined ? `${name}=${value}` : `${flag} ${value}`;
  }

  string(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }

  required(name: string): string {
    const value = this.string(name);
    if (value === undefined) this.problem(name, 'is required');
    return value ?? '';
  }

  integer(name: string, options: { default: number; min: number; max?: number }): number {
    const text = this.string(name);
    if (text === undefined) return options.default;
    const value = Number(text);
    const max = options.max ?? Number.MAX_SAFE_INTEGER;
    if (!/^\d+$/.test(text) || value < options.min || value > max) {
      const range = options.max === undefined ? `of at least ${options.min}` : `from ${options.min} to ${max}`;
      this.problem(name, `must be a whole number ${range}, not ${JSON.stringify(text)}`);
      return options.default;
    }
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const text = this.string(name)?.toLowerCase();
    if (text === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(text)) return true;
    if (['false', '0', 'no', 'off'].includes(text)) return false;
    this.problem(name, `must be true or false, not ${JSON.stringify(text)}`);
    return fallback;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    if ((values as readonly string[]).includes(text)) return text as T;
    this.problem(name, `must be one of ${values.join(', ')}, not ${JSON.stringify(text)}`);
    return undefined;
  }

  /** Comma- or newline-separated values, blanks and `#` comment lines left out. */
  list(name: string): string[] {
    return splitList(this.string(name) ?? '', /[,\n]/);
  }

  /** The contents of the file a setting names, or undefined when unset or unreadable (a problem then). */
  file(name: string): string | undefined {
    const path = this.string(name);
    if (path === undefined) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      this.problem(name, `${path} ${whyUnreadable(error)}`);
      return undefined;
    }
  }

  /** Throws a ConfigError listing every problem found so far. */
  finish(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}

const splitList = (text: string, separator: RegExp): string[] =>
  text
    .split(separator)
    .map((value) => value.trim())
    .filter((value) => value !== '' && !value.startsWith('#'));

export interface PipelineDefaults {
  readonly maxBodyBytes?: number;
  /** What AUTH_MODE means when unset and no credential is configured; undefined makes that an error. */
  readonly authMode?: 'none';
  /** Tokens from somewhere the environment only points at (an SSM parameter, a Key Vault reference). */
  readonly tokens?: readonly string[];
  /** The setting that points at `tokens` (e.g. AUTH_TOKEN_PARAMETER), named in messages about them. */
  readonly tokenSetting?: string;
}

/** Reads the pipeline's settings; call `reader.finish()` after reading the entry point's own settings too. */
export function readPipelineConfig(reader: SettingsReader, defaults: PipelineDefaults = {}): PipelineConfig {
  const cluster = reader.string('CLUSTER_NAME');
  if (cluster !== undefined && cluster.length > 253) reader.problem('CLUSTER_NAME', 'must be at most 253 characters');
  return Object.freeze({
    ...(cluster === undefined ? {} : { cluster }),
    maxBodyBytes: reader.integer('MAX_BODY_BYTES', { default: defaults.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, min: 1024 }),
    maxEventBytes: reader.integer('MAX_EVENT_BYTES', { default: DEFAULT_MAX_EVENT_BYTES, min: MIN_RECORD_BYTES }),
    sinkTimeoutMs: reader.integer('SINK_TIMEOUT_MS', { default: DEFAULT_SINK_TIMEOUT_MS, min: 100, max: 29_000 }),
    auth: readAuthConfig(reader, defaults),
    ...optional('clientCertCluster', reader.oneOf('CLIENT_CERT_CLUSTER', ['CN', 'O'] as const)),
    redaction: Object.freeze({ secrets: reader.boolean('REDACT_SECRETS', true), paths: readRedactionPaths(reader) }),
    dropRules: readDropRules(reader),
  });
}

const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } => (value === undefined ? {} : ({ [key]: value } as { [P in K]: V }));

/**
 * Reads `<secret>` or `<secret> <cluster>` entries. Messages name the setting and the entry's position, never the
 * entry: it holds a secret.
 */
function readCredentials(reader: SettingsReader, name: string, entries: readonly string[], what: string): Credential[] {
  return entries.flatMap((entry, index) => {
    const [secret = '', cluster, ...rest] = entry.split(/\s+/);
    if (rest.length > 0) {
      reader.problem(name, `entry ${index + 1} has ${rest.length + 2} words: expected \`${what}\` or \`${what} <cluster>\` (no spaces inside either)`);
      return [];
    }
    if (cluster !== undefined && !isClusterName(cluster)) {
      reader.problem(name, `entry ${index + 1}: the cluster name must be letters, digits, '.', '_' or '-' (at most 253, starting and ending with a letter or digit)`);
      return [];
    }
    return [cluster === undefined ? { secret } : { secret, cluster }];
  });
}

function readAuthConfig(reader: SettingsReader, defaults: PipelineDefaults): AuthConfig {
  const mode = reader.oneOf('AUTH_MODE', ['none', 'token', 'basic', 'token+basic'] as const);
  const envTokens = readCredentials(reader, 'AUTH_TOKENS', reader.list('AUTH_TOKENS'), '<token>');
  const fileTokens = readCredentials(reader, 'AUTH_TOKEN_FILE', splitList(reader.file('AUTH_TOKEN_FILE') ?? '', /\n/), '<token>');
  const defaultTokens = readCredentials(reader, defaults.tokenSetting ?? 'AUTH_TOKENS', defaults.tokens ?? [], '<token>');
  const tokens = [...envTokens, ...fileTokens, ...defaultTokens];
  const tokenSettings = [defaults.tokenSetting, 'AUTH_TOKENS', 'AUTH_TOKEN_FILE']
    .filter((name): name is string => Boolean(name))
    .map((name) => reader.name(name))
    .join(', ');
  const basicSetting = reader.name('AUTH_BASIC_FILE');
  const basic = readCredentials(reader, 'AUTH_BASIC_FILE', splitList(reader.file('AUTH_BASIC_FILE') ?? '', /\n/), 'username:password');
  basic.forEach((entry, index) => {
    if (!entry.secret.includes(':')) reader.problem('AUTH_BASIC_FILE', `line ${index + 1} is not username:password`);
  });

  if (mode === 'none') {
    if (tokens.length + basic.length > 0) {
      reader.problem('AUTH_MODE', 'is none, but credentials are configured; remove them or choose token or basic');
    }
    return { mode: 'none' };
  }
  const wantsTokens = mode === 'token' || mode === 'token+basic' || (mode === undefined && tokens.length > 0);
  const wantsBasic = mode === 'basic' || mode === 'token+basic' || (mode === undefined && basic.length > 0);
  if (mode === undefined && !wantsTokens && !wantsBasic) {
    if (defaults.authMode === 'none') return { mode: 'none' };
    reader.problem('AUTH_MODE', `no caller authentication is configured: set ${tokenSettings} or ${basicSetting}, or ${reader.assignment('AUTH_MODE', 'none')} to accept anyone who can reach the endpoint`);
    return { mode: 'none' };
  }
  if (wantsTokens && tokens.length === 0) reader.problem('AUTH_MODE', `asks for tokens, but none are configured (${tokenSettings})`);
  if (wantsBasic && basic.length === 0) reader.problem('AUTH_MODE', `asks for basic auth, but ${basicSetting} is not set or empty`);
  if (mode === 'basic' && tokens.length > 0) reader.problem('AUTH_MODE', `is basic, but tokens are configured (${tokenSettings}) and would be ignored; remove them or use token+basic`);
  if (mode === 'token' && basic.length > 0) reader.problem('AUTH_MODE', `is token, but ${basicSetting} is configured and would be ignored; remove it or use token+basic`);
  const checkLength = (name: string, values: readonly Credential[]): void => {
    if (values.some((token) => token.secret.length < 16)) reader.problem(name, 'every token must be at least 16 characters (use `openssl rand -hex 32`)');
  };
  checkLength('AUTH_TOKENS', envTokens);
  checkLength('AUTH_TOKEN_FILE', fileTokens);
  checkLength(defaults.tokenSetting ?? 'AUTH_TOKENS', defaultTokens);
  return { mode: 'credentials', tokens: wantsTokens ? tokens : [], basic: wantsBasic ? basic : [] };
}

function readRedactionPaths(reader: SettingsReader): RedactionOptions['paths'] {
  return reader.list('REDACT_PATHS').flatMap((text) => {
    try {
      return [parseRedactionPath(text)];
    } catch (error) {
      reader.problem('REDACT_PATHS', `${JSON.stringify(text)}: ${(error as Error).message}`);
      return [];
    }
  });
}

function readDropRules(reader: SettingsReader): readonly DropRule[] {
  const inline = reader.string('DROP_RULES');
  const fromFile = reader.file('DROP_RULES_FILE');
  if (inline !== undefined && fromFile !== undefined) {
    reader.problem('DROP_RULES', `set either DROP_RULES or ${reader.name('DROP_RULES_FILE')}, not both`);
  }
  const name = inline !== undefined ? 'DROP_RULES' : 'DROP_RULES_FILE';
  const text = inline ?? fromFile;
  if (text === undefined) return [];
  let rules: unknown;
  try {
    rules = parseYaml(text);
  } catch (error) {
    reader.problem(name, `is not valid JSON or YAML: ${(error as Error).message.split('\n')[0]}`);
    return [];
  }
  if (!Array.isArray(rules)) {
    reader.problem(name, 'must be a list of rules, e.g. [{"verbs":["watch"],"users":["system:kube-proxy"]}]');
    return [];
  }
  rules.forEach((rule, index) => checkDropRule(rule, `${name}[${index}]`, reader));
  return Object.freeze(rules as DropRule[]);
}

const isStringList = (value: unknown): boolean => Array.isArray(value) && value.every((item) => typeof item === 'string');

/**
 * Collects the problems of one drop rule, or of any rule matched like one (tier rules), at `path` (`DROP_RULES[2]`).
 * `known` lists the fields allowed; fields beyond DROP_RULE_FIELDS are the caller's to check.
 */
export function checkDropRule(rule: unknown, path: string, reader: SettingsReader, known: readonly string[] = DROP_RULE_FIELDS): void {
  const fail = (message: string): void => {
    reader.problems.push(`${path}: ${message}`);
  };
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) return fail('must be an object');
  const entries = Object.entries(rule);
  if (entries.length === 0) return fail('is empty and would drop every event');
  const record = rule as Record<string, unknown>;
  if (record.nonResourceURLs !== undefined && (record.resources !== undefined || record.namespaces !== undefined)) {
    fail('nonResourceURLs cannot be combined with resources or namespaces (as in an audit Policy): split it into two rules');
  }
  for (const [field, value] of entries) {
    if (!known.includes(field)) {
      fail(`unknown field ${JSON.stringify(field)}; known: ${known.join(', ')}`);
    } else if (!(DROP_RULE_FIELDS as readonly string[]).includes(field)) {
      continue;
    } else if (field === 'resources') {
      if (!Array.isArray(value)) {
        fail('resources must be a list of {group, resources, resourceNames}');
        continue;
      }
      value.forEach((groupResources: unknown, index) => {
        const at = `${path}.resources[${index}]`;
        if (typeof groupResources !== 'object' || groupResources === null) {
          reader.problems.push(`${at}: must be an object`);
          return;
        }
        for (const [key, item] of Object.entries(groupResources)) {
          if (key === 'group' ? typeof item !== 'string' : !['resources', 'resourceNames'].includes(key) || !isStringList(item)) {
            reader.problems.push(`${at}.${key}: must be group (a string), resources or resourceNames (lists of strings)`);
          }
        }
      });
    } else if (!isStringList(value)) {
      fail(`${field} must be a list of strings`);
    }
    if (Array.isArray(value) && value.length === 0) fail(`${field} is an empty list, which matches anything: leave it out or list values`);
  }
}
