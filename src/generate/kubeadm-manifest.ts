import { isMap, isScalar, isSeq, parseDocument, type Document, type YAMLMap, type YAMLSeq } from 'yaml';

/** One file the API server must read: a flag naming it and a read-only hostPath mount of it. */
export interface MountedFile {
  /** Flag that names the file, e.g. --audit-policy-file. */
  readonly flag: string;
  /** Absolute path, the same on the host and inside the container. */
  readonly path: string;
  /** Name of the volume and the volumeMount. */
  readonly volume: string;
}

/** What to change in kube-apiserver's static pod manifest. */
export interface ManifestPatch {
  readonly files: readonly MountedFile[];
  /** Further flags to set, as [--name, value]; an existing --name=... is replaced. */
  readonly flags: readonly (readonly [string, string])[];
}

/** The patched manifest and a line per change made; no changes when the manifest already had them. */
export interface PatchResult {
  readonly text: string;
  readonly changes: readonly string[];
}

/** Written like kubeadm writes manifests: sequences not indented under their key, no line folding. */
const KUBEADM_STYLE = { lineWidth: 0, indentSeq: false } as const;

/**
 * Applies the audit flags, hostPath volumes (type File) and read-only volumeMounts to a kube-apiserver static pod
 * manifest, keeping everything else as written. Flags go into the command in sorted position (kubeadm's order), and
 * an existing `--flag=` is replaced rather than repeated, so applying the same patch twice changes nothing.
 * Throws an Error saying what is wrong when the text is not a kube-apiserver manifest or a mount would clash.
 */
export function patchApiServerManifest(text: string, patch: ManifestPatch): PatchResult {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  const containers = doc.getIn(['spec', 'containers']);
  if (!isSeq(containers)) throw new Error('has no spec.containers: is it a static pod manifest?');
  const container = containers.items.find((item): item is YAMLMap => isMap(item) && item.get('name') === 'kube-apiserver');
  if (!container) throw new Error('has no container named kube-apiserver');
  const command = container.get('command');
  if (!isSeq(command) || !isScalar(command.items[0]) || !String(command.items[0].value).endsWith('kube-apiserver')) {
    throw new Error('has no kube-apiserver command list in the kube-apiserver container');
  }
  const changes: string[] = [];
  const flags = [...patch.files.map((file) => [file.flag, file.path] as const), ...patch.flags];
  for (const [name, value] of flags) setFlag(doc, command as YAMLSeq, name, value, changes);
  for (const file of patch.files) {
    upsertByName(doc, container, 'volumeMounts', { mountPath: file.path, name: file.volume, readOnly: true }, 'mountPath', changes);
    upsertByName(doc, doc.getIn(['spec']) as YAMLMap, 'volumes', { hostPath: { path: file.path, type: 'File' }, name: file.volume }, undefined, changes);
  }
  return { text: changes.length === 0 ? text : doc.toString(KUBEADM_STYLE), changes };
}

function setFlag(doc: Document, command: YAMLSeq, name: string, value: string, changes: string[]): void {
  const wanted = `${name}=${value}`;
  const index = command.items.findIndex((item) => isScalar(item) && (String(item.value) === name || String(item.value).startsWith(`${name}=`)));
  if (index >= 0) {
    const current = String((command.items[index] as { value: unknown }).value);
    if (current === wanted) return;
    command.items[index] = doc.createNode(wanted);
    changes.push(`replaced ${current} with ${wanted}`);
    return;
  }
  const after = command.items.findIndex((item, position) => position > 0 && isScalar(item) && String(item.value) > wanted);
  command.items.splice(after < 0 ? command.items.length : after, 0, doc.createNode(wanted));
  changes.push(`added ${wanted}`);
}

/** Adds or replaces the entry called `entry.name` in the list `key` of `parent`; refuses another entry at the same `clashField`. */
function upsertByName(doc: Document, parent: YAMLMap, key: string, entry: Record<string, unknown> & { name: string }, clashField: string | undefined, changes: string[]): void {
  let list = parent.get(key);
  if (list === undefined) {
    list = doc.createNode([]);
    parent.set(key, list);
  }
  if (!isSeq(list)) throw new Error(`has a ${key} that is not a list`);
  const seq = list as YAMLSeq;
  const wanted = doc.createNode(entry);
  const index = seq.items.findIndex((item) => isMap(item) && item.get('name') === entry.name);
  if (clashField !== undefined) {
    const clash = seq.items.find((item) => isMap(item) && item.get('name') !== entry.name && item.get(clashField) === entry[clashField]);
    if (clash) throw new Error(`already mounts ${String(entry[clashField])} as ${String((clash as YAMLMap).get('name'))}: remove that mount or choose another path`);
  }
  if (index < 0) {
    seq.items.push(wanted);
    changes.push(`added ${key} entry ${entry.name}`);
    return;
  }
  if (JSON.stringify((seq.items[index] as YAMLMap).toJSON()) === JSON.stringify(wanted.toJSON())) return;
  seq.items[index] = wanted;
  changes.push(`replaced ${key} entry ${entry.name}`);
}

/** The mountPaths of the kube-apiserver container's volumeMounts in a manifest. */
export function apiServerMountPaths(text: string): string[] {
  const containers = parseDocument(text).toJS() as { spec?: { containers?: { name?: string; volumeMounts?: { mountPath?: string }[] }[] } };
  const container = containers.spec?.containers?.find((candidate) => candidate.name === 'kube-apiserver');
  return (container?.volumeMounts ?? []).flatMap((mount) => (mount.mountPath ? [mount.mountPath] : []));
}

/** The files a kubeconfig refers to by path (CA, token file, client certificate and key), which the API server must be able to read. */
export function kubeconfigFileReferences(text: string): string[] {
  const config = parseDocument(text).toJS() as {
    clusters?: { cluster?: Record<string, unknown> }[];
    users?: { user?: Record<string, unknown> }[];
  } | null;
  const values = [
    ...(config?.clusters ?? []).map((entry) => entry.cluster?.['certificate-authority']),
    ...(config?.users ?? []).flatMap((entry) => [entry.user?.tokenFile, entry.user?.['client-certificate'], entry.user?.['client-key']]),
  ];
  return values.filter((value): value is string => typeof value === 'string');
}
