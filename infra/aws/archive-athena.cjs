// ARCHIVE=create or existing: Athena over the archive with no crawler. A Glue table whose partition projection
// computes the partitions from the key layout the sink writes (src/sinks/archive-object.ts:
// <prefix>cluster=<c>/date=YYYY-MM-DD/hour=HH/<digest>.jsonl.gz): cluster from CLUSTERS, date over the last
// ARCHIVE_EXPIRY_DAYS, hour 00 to 23. A workgroup whose results go, encrypted, to a bucket of their own (kept out of
// the archive: its Object Lock and lifecycle would keep every result for years), and saved queries.
'use strict';

const { EVENT_COLUMNS } = require('./archive-columns.cjs');
const { PRIVATE_BUCKET, tlsOnlyPolicy } = require('./private-bucket.cjs');

/** Where the sink writes under the bucket, as Athena's storage.location.template: the projected columns as ${name}. */
const LOCATION_TEMPLATE = 'cluster=${cluster}/date=${date}/hour=${hour}';
/** Days Athena's results are kept: enough to download or share a result, not an archive of its own. */
const RESULT_DAYS = 30;

/** The saved queries: the questions an investigation asks first. `?` are the parameters Athena's console asks for. */
const QUERIES = {
  'events-of-one-user': {
    description: 'Every request of one user (user.username) between two dates (yyyy-MM-dd, UTC)',
    sql: `SELECT stagetimestamp, verb, objectref.resource, objectref.namespace, objectref.name, responsestatus.code, sourceips, useragent
FROM audit_events
WHERE "date" BETWEEN ? AND ? AND "user".username = ?
ORDER BY stagetimestamp`,
  },
  'who-touched-one-object': {
    description: 'Everything that touched one object (resource, namespace, name) between two dates, by whom',
    sql: `SELECT stagetimestamp, "user".username, impersonateduser.username AS impersonated, verb, objectref.subresource, responsestatus.code, sourceips
FROM audit_events
WHERE "date" BETWEEN ? AND ? AND objectref.resource = ? AND objectref.namespace = ? AND objectref.name = ?
ORDER BY stagetimestamp`,
  },
  'rbac-writes': {
    description: 'Create, update, patch and delete on rbac.authorization.k8s.io objects between two dates, by whom',
    sql: `SELECT stagetimestamp, cluster, "user".username, verb, objectref.resource, objectref.namespace, objectref.name, responsestatus.code
FROM audit_events
WHERE "date" BETWEEN ? AND ? AND objectref.apigroup = 'rbac.authorization.k8s.io'
  AND verb IN ('create', 'update', 'patch', 'delete', 'deletecollection')
ORDER BY stagetimestamp`,
  },
};

const join = (...parts) => ({ 'Fn::Join': ['', parts] });

module.exports = async ({ resolveVariable }) => {
  const stage = await resolveVariable('sls:stage');
  const { archive, clusters } = await resolveVariable('self:custom.relay');
  if (archive.archive === 'none') return { Resources: {} };
  // Glue and Athena names: lower-case letters, digits and _.
  const database = `kube_audit_relay_${stage.toLowerCase().replace(/[^a-z0-9]/g, '_')}`;
  const workGroup = `kube-audit-relay-${stage}`;
  const location = join('s3://', archive.bucket, '/', archive.prefix);
  const encryption = archive.keyArn === null ? { SSEAlgorithm: 'AES256' } : { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: archive.keyArn };

  const resources = {
    AthenaResultsBucket: {
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: encryption, BucketKeyEnabled: archive.keyArn !== null }] },
        ...PRIVATE_BUCKET,
        LifecycleConfiguration: {
          Rules: [{ Id: 'query-results', Status: 'Enabled', ExpirationInDays: RESULT_DAYS, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }],
        },
      },
    },
    AthenaResultsBucketPolicy: tlsOnlyPolicy('AthenaResultsBucket'),
    ArchiveDatabase: {
      Type: 'AWS::Glue::Database',
      Properties: {
        CatalogId: { Ref: 'AWS::AccountId' },
        DatabaseInput: { Name: database, Description: `kube-audit-relay ${stage}: the audit archive` },
      },
    },
    ArchiveTable: {
      Type: 'AWS::Glue::Table',
      Properties: {
        CatalogId: { Ref: 'AWS::AccountId' },
        DatabaseName: { Ref: 'ArchiveDatabase' },
        TableInput: {
          Name: 'audit_events',
          Description: 'One row per audit event the relay archived (gzip JSON lines, one object per batch)',
          TableType: 'EXTERNAL_TABLE',
          PartitionKeys: [
            { Name: 'cluster', Type: 'string', Comment: 'CLUSTER_NAME of the sending cluster' },
            { Name: 'date', Type: 'string', Comment: 'yyyy-MM-dd (UTC) of the batch\'s earliest event' },
            { Name: 'hour', Type: 'int', Comment: 'hour (UTC) of the batch\'s earliest event' },
          ],
          Parameters: {
            classification: 'json',
            compressionType: 'gzip',
            'projection.enabled': 'true',
            'projection.cluster.type': 'enum',
            'projection.cluster.values': clusters.join(','),
            'projection.date.type': 'date',
            'projection.date.format': 'yyyy-MM-dd',
            'projection.date.range': `NOW-${archive.expiryDays}DAYS,NOW`,
            'projection.date.interval': '1',
            'projection.date.interval.unit': 'DAYS',
            'projection.hour.type': 'integer',
            'projection.hour.range': '0,23',
            'projection.hour.digits': '2',
            'storage.location.template': join('s3://', archive.bucket, '/', archive.prefix, LOCATION_TEMPLATE),
          },
          StorageDescriptor: {
            Location: location,
            InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
            OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
            Compressed: true,
            SerdeInfo: { SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe', Parameters: { 'case.insensitive': 'TRUE' } },
            Columns: Object.entries(EVENT_COLUMNS).map(([Name, Type]) => ({ Name, Type })),
          },
        },
      },
    },
    ArchiveWorkGroup: {
      Type: 'AWS::Athena::WorkGroup',
      Properties: {
        Name: workGroup,
        Description: `kube-audit-relay ${stage}: queries over the audit archive`,
        RecursiveDeleteOption: true,
        WorkGroupConfiguration: {
          EnforceWorkGroupConfiguration: true,
          PublishCloudWatchMetricsEnabled: true,
          EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
          ResultConfiguration: {
            OutputLocation: { 'Fn::Sub': 's3://${AthenaResultsBucket}/' },
            EncryptionConfiguration: archive.keyArn === null ? { EncryptionOption: 'SSE_S3' } : { EncryptionOption: 'SSE_KMS', KmsKey: archive.keyArn },
          },
        },
      },
    },
  };
  for (const [name, { description, sql }] of Object.entries(QUERIES)) {
    const id = `ArchiveQuery${name.split('-').map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('')}`;
    resources[id] = {
      Type: 'AWS::Athena::NamedQuery',
      Properties: { Name: `${stage}-${name}`, Description: description, Database: { Ref: 'ArchiveDatabase' }, WorkGroup: { Ref: 'ArchiveWorkGroup' }, QueryString: sql },
    };
  }
  return {
    Resources: resources,
    Outputs: {
      ArchiveUri: { Description: 'Where the function archives every batch (its OUTPUTS)', Value: location },
      ArchiveTableName: { Description: 'The Glue database and table over the archive', Value: `${database}.audit_events` },
      ArchiveWorkGroupName: { Description: 'The Athena workgroup for archive queries (results encrypted, kept 30 days)', Value: { Ref: 'ArchiveWorkGroup' } },
    },
  };
};
