import { fileURLToPath } from 'node:url';

/** Where an output URI points, parsed; `createOutputSink` builds the sink. */
export type OutputSpec =
  /** `-`: JSON lines on stdout. */
  | { readonly kind: 'stdout' }
  /** A path or `file:///path`: JSON lines appended to the file, synced to disk (O_DSYNC) per batch. */
  | { readonly kind: 'file'; readonly path: string }
  /** `cloudwatch://<log group>`: one log event per audit event, EKS's layout. */
  | { readonly kind: 'cloudwatch'; readonly logGroupName: string }
  /** `azure-monitor://<ingestion endpoint host>/<dcr immutable id>/<stream>`: AKSAudit-shaped rows. */
  | { readonly kind: 'azure-monitor'; readonly endpoint: string; readonly ruleId: string; readonly streamName: string }
  /** `s3://<bucket>/<prefix>/`: one gzip JSON-lines object per batch. */
  | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string }
  /**
   * `https://<account>.blob.core.windows.net/<container>/<prefix>/[?SAS]`, or `azure-blob+http(s)://<host>/<account>/
   * <container>/<prefix>/` for emulators and custom endpoints: one gzip JSON-lines blob per batch.
   */
  | { readonly kind: 'azure-blob'; readonly containerUrl: string; readonly account: string; readonly prefix: string }
  /** `http(s)://...`: each batch POSTed as an EventList, as the API server does. */
  | { readonly kind: 'http'; readonly url: URL };

export type OutputKind = OutputSpec['kind'];

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
const BLOB_HOST = /^([a-z0-9]{3,24})\.blob\.core\.(windows\.net|chinacloudapi\.cn|usgovcloudapi\.net)$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const CONTAINER = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;
const DCR_ID = /^dcr-[0-9a-f]{32}$/;
const LOG_GROUP = /^[\w\-/.#]{1,512}$/;

/** A prefix as stored: the path after the bucket or container, without leading slashes, ending in `/` if not empty. */
const asPrefix = (segments: readonly string[]): string => {
  const path = segments.filter((segment) => segment !== '').join('/');
  return path === '' ? '' : `${path}/`;
};

/** Parses one output URI; throws an Error whose message says what is wrong with it and what is expected. */
export function parseOutputUri(text: string): OutputSpec {
  if (text === '-') return { kind: 'stdout' };
  const scheme = SCHEME.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) return { kind: 'file', path: text };
  switch (scheme) {
    case 'file':
      return { kind: 'file', path: fileURLToPath(text) };
    case 'cloudwatch': {
      const logGroupName = decodeURIComponent(text.slice('cloudwatch://'.length));
      if (!LOG_GROUP.test(logGroupName)) throw new Error('cloudwatch://<log group>: the log group must be 1 to 512 letters, digits or any of _ - / . # (e.g. cloudwatch:///aws/eks/prod/cluster)');
      return { kind: 'cloudwatch', logGroupName };
    }
    case 'azure-monitor': {
      const url = new URL(text);
      const [ruleId = '', streamName = '', ...rest] = url.pathname.split('/').filter((segment) => segment !== '');
      if (!DCR_ID.test(ruleId) || !/^Custom-[A-Za-z0-9_]{1,100}$/.test(streamName) || rest.length > 0) {
        throw new Error('azure-monitor://<ingestion endpoint host>/<rule immutable id>/<stream> expected, e.g. azure-monitor://my-dce.westeurope-1.ingest.monitor.azure.com/dcr-<32 hex>/Custom-KubeAudit');
      }
      return { kind: 'azure-monitor', endpoint: `https://${url.host}`, ruleId, streamName };
    }
    case 's3': {
      const url = new URL(text);
      if (!BUCKET.test(url.hostname)) throw new Error('s3://<bucket>/<prefix>/: the bucket name must be 3 to 63 lower-case letters, digits, dots or hyphens');
      return { kind: 's3', bucket: url.hostname, prefix: asPrefix(url.pathname.split('/')) };
    }
    case 'azure-blob+http':
    case 'azure-blob+https': {
      const url = new URL(text.slice('azure-blob+'.length));
      const [account = '', container = '', ...prefix] = url.pathname.split('/').filter((segment) => segment !== '');
      if (!CONTAINER.test(container)) throw new Error('azure-blob+http(s)://<host>/<account>/<container>/<prefix>/ expected, with a container name of 3 to 63 lower-case letters, digits or single hyphens');
      return { kind: 'azure-blob', containerUrl: `${url.origin}/${account}/${container}${url.search}`, account, prefix: asPrefix(prefix) };
    }
    case 'http':
    case 'https': {
      const url = new URL(text);
      const blobHost = BLOB_HOST.exec(url.hostname);
      if (blobHost === null) return { kind: 'http', url };
      const [container = '', ...prefix] = url.pathname.split('/').filter((segment) => segment !== '');
      if (url.protocol !== 'https:' || !CONTAINER.test(container)) throw new Error('https://<account>.blob.core.windows.net/<container>/<prefix>/ expected, with a container name of 3 to 63 lower-case letters, digits or single hyphens');
      return { kind: 'azure-blob', containerUrl: `${url.origin}/${container}${url.search}`, account: blobHost[1]!, prefix: asPrefix(prefix) };
    }
    default:
      throw new Error(`unknown scheme ${scheme}://; use -, a path, file://, cloudwatch://, azure-monitor://, s3://, an Azure Blob container URL, or http(s)://`);
  }
}

/** The output for logs: the URI's kind and place, without a SAS token or other query string. */
export function describeOutput(spec: OutputSpec): string {
  switch (spec.kind) {
    case 'stdout':
      return '-';
    case 'file':
      return spec.path;
    case 'cloudwatch':
      return `cloudwatch://${spec.logGroupName}`;
    case 'azure-monitor':
      return `azure-monitor://${new URL(spec.endpoint).host}/${spec.ruleId}/${spec.streamName}`;
    case 's3':
      return `s3://${spec.bucket}/${spec.prefix}`;
    case 'azure-blob': {
      const url = new URL(spec.containerUrl);
      return `${url.origin}${url.pathname}/${spec.prefix}`;
    }
    case 'http':
      return `${spec.url.origin}${spec.url.pathname}`;
  }
}
