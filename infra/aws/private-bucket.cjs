// What every bucket the stack creates shares: no public access of any kind, ACLs disabled (the account owns every
// object), and a policy that refuses requests made without TLS.
'use strict';

/** The properties every created bucket has, merged under its own. */
const PRIVATE_BUCKET = {
  PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
  OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
};

/** The AWS::S3::BucketPolicy denying every S3 action on the bucket `bucketId` and its objects without TLS. */
const tlsOnlyPolicy = (bucketId) => ({
  Type: 'AWS::S3::BucketPolicy',
  Properties: {
    Bucket: { Ref: bucketId },
    PolicyDocument: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, { 'Fn::Sub': `\${${bucketId}.Arn}/*` }],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    },
  },
});

module.exports = { PRIVATE_BUCKET, tlsOnlyPolicy };
