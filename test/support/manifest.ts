// The in-cluster manifest (infra/kubernetes/kube-audit-relay.yaml) and the Dockerfile, read as data, so tests start
// the receiver with exactly the arguments and environment a cluster would give it.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

export type Manifest = { kind: string; metadata: { name: string; namespace?: string }; spec: Record<string, any> };

/** Every document of the manifest, in order. */
export const manifestDocuments = (): Manifest[] =>
  parseAllDocuments(readFileSync(new URL('../../infra/kubernetes/kube-audit-relay.yaml', import.meta.url), 'utf8')).map((document) => document.toJS() as Manifest);

/** The relay container of the manifest's Deployment. */
export interface RelayContainer {
  readonly args: string[];
  readonly env: { name: string; value: string }[];
  readonly [field: string]: any;
}

export const relayContainer = (documents = manifestDocuments()): RelayContainer =>
  documents.find((document) => document.kind === 'Deployment')!.spec.template.spec.containers[0] as RelayContainer;

/**
 * The container's arguments for a local run: the same flags, but on loopback, without the fixed port (the caller
 * picks one), the metrics on any free port, and with each mounted file replaced by its local copy in `mounts` (mount
 * path -> local path).
 */
export function localArgs(container: RelayContainer, mounts: Record<string, string>): string[] {
  return container.args
    .filter((arg) => !arg.startsWith('--port='))
    .map((arg) => {
      const [flag, value] = arg.split('=') as [string, string];
      if (flag === '--host') return '--host=127.0.0.1';
      if (flag === '--metrics-port') return '--metrics-port=0';
      return mounts[value] ? `${flag}=${mounts[value]}` : arg;
    });
}

/** The container's environment as the manifest sets it. */
export const manifestEnv = (container: RelayContainer): Record<string, string> =>
  Object.fromEntries(container.env.map((variable) => [variable.name, variable.value]));

/** What the Dockerfile's final stage says about how the container runs. */
export interface ImageSettings {
  readonly user: string;
  readonly workdir: string;
  readonly entrypoint: string[];
  readonly env: Record<string, string>;
}

/** Reads USER, WORKDIR, ENTRYPOINT (exec form) and ENV of the Dockerfile's last stage. */
export function imageSettings(): ImageSettings {
  const text = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
  const stages = text.split(/^FROM /m);
  const last = stages.at(-1)!;
  const instruction = (name: string): string[] => [...last.matchAll(new RegExp(`^${name} (.+)$`, 'gm'))].map((match) => match[1]!.trim());
  const env = Object.fromEntries(instruction('ENV').map((line) => line.split('=', 2) as [string, string]));
  return {
    user: instruction('USER').at(-1) ?? 'root',
    workdir: instruction('WORKDIR').at(-1) ?? '/',
    entrypoint: JSON.parse(instruction('ENTRYPOINT').at(-1) ?? '[]') as string[],
    env,
  };
}
