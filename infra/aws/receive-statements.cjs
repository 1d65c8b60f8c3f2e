// The receive function's permissions, only those the parameters call for: writing to the audit group(s) and to its own
// log group always; reading the token parameter with AUTH_MODE=token; decrypting it when a customer managed key
// (AUTH_TOKEN_KMS_KEY_ARN) encrypts it; with ARCHIVE, writing objects under the archive's prefix and encrypting them
// with its key. Chosen here rather than with template conditions on fixed strings.
'use strict';

const sub = (text) => ({ 'Fn::Sub': text });

module.exports = async ({ resolveVariable }) => {
  const { tokenAccess, authTokenParameter, coldLogGroupName, logGroupNames, archive } = await resolveVariable('self:custom.relay');
  const groupArn = (name) => `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:${name}`;
  const write = ['logs:CreateLogStream', 'logs:PutLogEvents'];
  // Every cluster's group by name (LOG_GROUP_NAME /aws/eks/{cluster}/cluster), never the template as a wildcard:
  // /aws/eks/*/cluster would also let the relay write into the audit log EKS keeps for its own clusters.
  const groups = [...logGroupNames, ...(coldLogGroupName ? [coldLogGroupName] : [])];
  return [
    // CreateLogStream is authorized on the group, PutLogEvents on its streams.
    { Sid: 'WriteAuditEvents', Effect: 'Allow', Action: write, Resource: groups.flatMap((name) => [sub(groupArn(name)), sub(`${groupArn(name)}:log-stream:*`)]) },
    // The framework's ReceiveLogGroup: its Arn attribute is `...:log-group:/aws/lambda/<function>:*`.
    { Sid: 'WriteFunctionLog', Effect: 'Allow', Action: write, Resource: { 'Fn::GetAtt': ['ReceiveLogGroup', 'Arn'] } },
    ...(tokenAccess === 'none'
      ? []
      : [{ Sid: 'ReadTokenParameter', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: sub(`arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${authTokenParameter}`) }]),
    ...(tokenAccess === 'customer-key'
      ? [
          {
            Sid: 'DecryptTokenParameter',
            Effect: 'Allow',
            Action: 'kms:Decrypt',
            Resource: await resolveVariable('param:AUTH_TOKEN_KMS_KEY_ARN'),
            Condition: { StringEquals: { 'kms:ViaService': sub('ssm.${AWS::Region}.amazonaws.com') } },
          },
        ]
      : []),
    ...(archive.archive === 'none'
      ? []
      : [
          // PutObject only: the sink writes each batch once (If-None-Match) and never reads, lists or deletes.
          { Sid: 'ArchiveBatches', Effect: 'Allow', Action: 's3:PutObject', Resource: sub(`arn:\${AWS::Partition}:s3:::${archive.bucketSub}/${archive.prefix}*`) },
        ]),
    ...(archive.archive === 'none' || archive.keyArn === null
      ? []
      : [
          // SSE-KMS: S3 asks KMS for a data key with the writer's permissions; a single-part PutObject needs no Decrypt.
          {
            Sid: 'EncryptArchive',
            Effect: 'Allow',
            Action: 'kms:GenerateDataKey',
            Resource: archive.keyArn,
            Condition: { StringEquals: { 'kms:ViaService': sub('s3.${AWS::Region}.amazonaws.com') } },
          },
        ]),
  ];
};
