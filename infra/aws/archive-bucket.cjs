// ARCHIVE=create: the bucket the function archives every batch to (src/sinks/s3-archive.ts), kept when the stack
// goes. SSE-KMS with a bucket key (one KMS call per bucket key rather than per object), public access blocked, ACLs
// disabled, TLS only, versioned (Object Lock requires it; a batch is never overwritten anyway, the sink writes with
// If-None-Match), and a lifecycle: one colder class after ARCHIVE_TRANSITION_DAYS, expiry after ARCHIVE_EXPIRY_DAYS.
// With ARCHIVE_OBJECT_LOCK_DAYS, Object Lock in COMPLIANCE mode: nobody, not even the account's root user, can delete
// or overwrite an object version, or shorten its retention, before it ends. ARCHIVE_KMS_KEY_ARN=create adds the
// bucket's own key. Other ARCHIVE values add nothing here.
'use strict';

const { PRIVATE_BUCKET, tlsOnlyPolicy } = require('./private-bucket.cjs');

module.exports = async ({ resolveVariable }) => {
  const stage = await resolveVariable('sls:stage');
  const clusterName = await resolveVariable('param:CLUSTER_NAME');
  const { archive } = await resolveVariable('self:custom.relay');
  if (archive.archive !== 'create') return { Resources: {} };
  const prefixFilter = archive.prefix === '' ? {} : { Prefix: archive.prefix };

  const resources = {
    ArchiveBucket: {
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        ...(archive.bucketName === '' ? {} : { BucketName: archive.bucketName }),
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: archive.keyArn }, BucketKeyEnabled: true }],
        },
        ...PRIVATE_BUCKET,
        VersioningConfiguration: { Status: 'Enabled' },
        ...(archive.lockDays === null
          ? {}
          : { ObjectLockEnabled: true, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: archive.lockDays } } } }),
        LifecycleConfiguration: {
          Rules: [
            {
              Id: 'archive-retention',
              Status: 'Enabled',
              ...prefixFilter,
              ...(archive.transition === null ? {} : { Transitions: [archive.transition] }),
              ExpirationInDays: archive.expiryDays,
              // Expiry leaves the object a noncurrent version behind a delete marker; this removes it a day later
              // (under Object Lock, once its retention has ended).
              NoncurrentVersionExpiration: { NoncurrentDays: 1 },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            },
            // The delete markers left once their noncurrent version is gone.
            { Id: 'expired-delete-markers', Status: 'Enabled', ...prefixFilter, ExpiredObjectDeleteMarker: true },
          ],
        },
        Tags: [{ Key: 'kube-audit-relay', Value: `${clusterName}-${stage}` }],
      },
    },
    ArchiveBucketPolicy: tlsOnlyPolicy('ArchiveBucket'),
  };
  if (archive.createKey) {
    resources.ArchiveKey = {
      Type: 'AWS::KMS::Key',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        Description: `Encrypts the kube-audit-relay ${clusterName} ${stage} audit archive and its Athena query results`,
        EnableKeyRotation: true,
        KeyPolicy: {
          Version: '2012-10-17',
          // S3 and Athena use the key with the caller's own permissions (the function's role, the analysts' roles),
          // which IAM policies grant: this statement lets them, and lets the account administer the key.
          Statement: [{ Sid: 'AccountAdministers', Effect: 'Allow', Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } }, Action: 'kms:*', Resource: '*' }],
        },
      },
    };
    resources.ArchiveKeyAlias = {
      Type: 'AWS::KMS::Alias',
      Properties: { AliasName: `alias/kube-audit-relay-${clusterName}-${stage}-archive`, TargetKeyId: { Ref: 'ArchiveKey' } },
    };
  }
  return { Resources: resources };
};
