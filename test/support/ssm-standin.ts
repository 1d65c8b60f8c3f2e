// A local Systems Manager Parameter Store speaking the JSON 1.1 protocol the SDK uses (X-Amz-Target AmazonSSM.*),
// enough for GetParameter as Powertools Parameters calls it. Tests drive it only through the real @aws-sdk/client-ssm.
import { ServiceError, startAwsJsonService, type JsonOperation } from '../../tools/dev/aws-json-service.ts';

export type ParameterType = 'String' | 'StringList' | 'SecureString';

interface StoredParameter {
  readonly type: ParameterType;
  readonly value: string;
  readonly version: number;
  readonly lastModified: number;
}

export interface SsmStandIn {
  /** `http://127.0.0.1:<port>`, for AWS_ENDPOINT_URL_SSM or the client's `endpoint` option. */
  readonly endpoint: string;
  /** Calls received per operation. */
  readonly calls: Map<string, number>;
  /** Creates or overwrites a parameter, as `aws ssm put-parameter --overwrite` would. */
  putParameter(name: string, value: string, type?: ParameterType): void;
  deleteParameter(name: string): void;
  close(): Promise<void>;
}

/** Parameter names: letters, digits, `.-_/`, a path starting with `/`, at most 2048 characters (the documented rules). */
const VALID_NAME = /^(\/?[a-zA-Z0-9_.-]+)(\/[a-zA-Z0-9_.-]+)*$/;

/** What a SecureString looks like without WithDecryption: opaque base64, never the plaintext. */
const ciphertextOf = (value: string): string =>
  Buffer.from(`AQICAHh-stand-in-kms-${Buffer.from(value, 'utf8').toString('hex').split('').reverse().join('')}`).toString('base64');

export async function startSsmStandIn(): Promise<SsmStandIn> {
  const parameters = new Map<string, StoredParameter>();

  const operations: Record<string, JsonOperation> = {
    GetParameter(body) {
      const name = body.Name;
      if (typeof name !== 'string' || name.length === 0 || name.length > 2048 || !VALID_NAME.test(name)) {
        throw new ServiceError(400, 'ValidationException', `1 validation error detected: Value '${String(name)}' at 'name' failed to satisfy constraint`);
      }
      const found = parameters.get(name);
      // The service answers ParameterNotFound with no message at all.
      if (!found) throw new ServiceError(400, 'ParameterNotFound', '');
      const decrypt = body.WithDecryption === true;
      return {
        Parameter: {
          Name: name,
          Type: found.type,
          Value: found.type === 'SecureString' && !decrypt ? ciphertextOf(found.value) : found.value,
          Version: found.version,
          LastModifiedDate: found.lastModified / 1000,
          ARN: `arn:aws:ssm:us-east-1:123456789012:parameter${name.startsWith('/') ? '' : '/'}${name}`,
          DataType: 'text',
        },
      };
    },
  };

  const service = await startAwsJsonService({
    targetPrefix: 'AmazonSSM.',
    errorTypeNamespace: '',
    internalErrorType: 'InternalServerError',
    operations,
  });

  return {
    endpoint: service.endpoint,
    calls: service.calls,
    putParameter(name, value, type = 'SecureString') {
      const version = (parameters.get(name)?.version ?? 0) + 1;
      parameters.set(name, { type, value, version, lastModified: Date.now() });
    },
    deleteParameter: (name) => void parameters.delete(name),
    close: service.close,
  };
}
