// The ARCHIVE_* parameters, checked at package time like the others (parameters.cjs), and the choices the archive
// templates (archive-bucket.cjs, archive-athena.cjs) and the function's role make from them.
'use strict';

/** S3's bucket names: 3 to 63 lower-case letters, digits, dots or hyphens, starting and ending with a letter or digit. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** A key prefix the sink writes under and Athena reads: empty, or up to 8 path segments, each ending in `/`. */
const ARCHIVE_PREFIX = /^(?:[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}\/){0,8}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[a-zA-Z0-9-]+$/;
/** The longest retention and lifetime accepted: 100 years, beyond any regulation's. */
const MAX_DAYS = 36500;
/**
 * The classes the archive may move to, each with the fewest days S3's lifecycle accepts before the transition and
 * the minimum storage duration S3 bills (an object expired sooner is charged for the rest anyway).
 */
const ARCHIVE_CLASSES = {
  STANDARD_IA: { minTransitionDays: 30, minStorageDays: 30 },
  ONEZONE_IA: { minTransitionDays: 30, minStorageDays: 30 },
  INTELLIGENT_TIERING: { minTransitionDays: 0, minStorageDays: 0 },
  GLACIER_IR: { minTransitionDays: 0, minStorageDays: 90 },
  GLACIER: { minTransitionDays: 0, minStorageDays: 90 },
  DEEP_ARCHIVE: { minTransitionDays: 0, minStorageDays: 180 },
};

const days = (text) => (/^\d{1,6}$/.test(text ?? '') ? Number(text) : undefined);

/**
 * Checks the ARCHIVE_* parameters, pushing each problem (naming its parameter) onto `problems`, and returns the
 * archive's settings, or `{ archive: 'none' }`.
 * @param {object} context `param(name)` reads a trimmed parameter; `auditLogKeyArn` is the audit group's key (the
 *   created key's Fn::GetAtt, KMS_KEY_ARN, or undefined when the stack has none); `lambdaInVpc` is LAMBDA_IN_VPC.
 */
async function archiveChoices({ param, problems, auditLogKeyArn, lambdaInVpc }) {
  const archive = await param('ARCHIVE');
  if (!['none', 'create', 'existing'].includes(archive)) problems.push(`ARCHIVE ${JSON.stringify(archive ?? '')} must be one of none, create, existing`);
  if (archive !== 'create' && archive !== 'existing') return { archive: 'none' };

  const bucketName = (await param('ARCHIVE_BUCKET_NAME')) ?? '';
  if (archive === 'existing' && bucketName === '') problems.push('ARCHIVE_BUCKET_NAME is required with ARCHIVE=existing: give the name of the bucket to archive to, e.g. payments-audit-archive');
  else if (bucketName !== '' && (!BUCKET_NAME.test(bucketName) || bucketName.includes('..'))) {
    problems.push(`ARCHIVE_BUCKET_NAME ${JSON.stringify(bucketName)} must be an S3 bucket name: 3 to 63 lower-case letters, digits, dots or hyphens, starting and ending with a letter or digit`);
  }
  const prefix = (await param('ARCHIVE_PREFIX')) ?? '';
  if (!ARCHIVE_PREFIX.test(prefix)) problems.push(`ARCHIVE_PREFIX ${JSON.stringify(prefix)} must be empty or path segments of letters, digits, _ . - each ending in /, e.g. audit/`);
  if (lambdaInVpc === 'true') {
    problems.push('ARCHIVE needs LAMBDA_IN_VPC=false: in the VPC the function may reach only the CloudWatch Logs and SSM endpoints, not S3');
  }

  const keyText = await param('ARCHIVE_KMS_KEY_ARN');
  let keyArn;
  if (keyText === 'audit-log-key') {
    keyArn = auditLogKeyArn;
    if (keyArn === undefined) problems.push('ARCHIVE_KMS_KEY_ARN=audit-log-key needs the audit group\'s key (LOG_GROUP=create, or KMS_KEY_ARN): give create or a key ARN instead');
  } else if (keyText === 'create') {
    if (archive === 'existing') problems.push('ARCHIVE_KMS_KEY_ARN=create needs ARCHIVE=create: give the key ARN the existing bucket encrypts with, or s3-managed');
    keyArn = { 'Fn::GetAtt': ['ArchiveKey', 'Arn'] };
  } else if (keyText === 's3-managed') {
    if (archive === 'create') problems.push('ARCHIVE_KMS_KEY_ARN=s3-managed is only for ARCHIVE=existing: a created bucket is encrypted with a KMS key (audit-log-key, create or a key ARN)');
  } else if (KMS_KEY_ARN.test(keyText ?? '')) keyArn = keyText;
  else problems.push(`ARCHIVE_KMS_KEY_ARN ${JSON.stringify(keyText ?? '')} must be audit-log-key, create, s3-managed (ARCHIVE=existing only) or a key ARN like arn:aws:kms:eu-west-1:111122223333:key/2d3e4f50-6172-8394-a5b6-c7d8e9f0a1b2`);

  const expiryDays = days(await param('ARCHIVE_EXPIRY_DAYS'));
  if (expiryDays === undefined || expiryDays < 1 || expiryDays > MAX_DAYS) problems.push(`ARCHIVE_EXPIRY_DAYS ${JSON.stringify((await param('ARCHIVE_EXPIRY_DAYS')) ?? '')} must be a whole number of days from 1 to ${MAX_DAYS}, e.g. 2557 (7 years)`);
  const transitionClass = await param('ARCHIVE_TRANSITION_CLASS');
  const transitionDays = days(await param('ARCHIVE_TRANSITION_DAYS'));
  const lockText = await param('ARCHIVE_OBJECT_LOCK_DAYS');
  const lockDays = lockText === 'none' ? undefined : days(lockText);
  if (lockText !== 'none' && (lockDays === undefined || lockDays < 1 || lockDays > MAX_DAYS)) {
    problems.push(`ARCHIVE_OBJECT_LOCK_DAYS ${JSON.stringify(lockText ?? '')} must be none or a whole number of days from 1 to ${MAX_DAYS}`);
  }

  if (archive === 'create') {
    const classRule = ARCHIVE_CLASSES[transitionClass];
    if (transitionClass !== 'none' && classRule === undefined) {
      problems.push(`ARCHIVE_TRANSITION_CLASS ${JSON.stringify(transitionClass ?? '')} must be one of none, ${Object.keys(ARCHIVE_CLASSES).join(', ')}`);
    }
    if (classRule !== undefined) {
      if (transitionDays === undefined || transitionDays < Math.max(1, classRule.minTransitionDays) || transitionDays > MAX_DAYS) {
        problems.push(`ARCHIVE_TRANSITION_DAYS ${JSON.stringify((await param('ARCHIVE_TRANSITION_DAYS')) ?? '')} must be a whole number of days from ${Math.max(1, classRule.minTransitionDays)} to ${MAX_DAYS} for ${transitionClass}`);
      } else if (expiryDays !== undefined && expiryDays < transitionDays + Math.max(1, classRule.minStorageDays)) {
        problems.push(`ARCHIVE_EXPIRY_DAYS ${expiryDays} must be at least ARCHIVE_TRANSITION_DAYS + ${Math.max(1, classRule.minStorageDays)} = ${transitionDays + Math.max(1, classRule.minStorageDays)}: objects expire after they move to ${transitionClass}, whose minimum storage duration is ${classRule.minStorageDays} days`);
      }
    }
    if (lockDays !== undefined && expiryDays !== undefined && expiryDays < lockDays) {
      problems.push(`ARCHIVE_EXPIRY_DAYS ${expiryDays} must be at least ARCHIVE_OBJECT_LOCK_DAYS ${lockDays}: a locked object cannot expire before its retention ends`);
    }
  } else if (lockText !== 'none') {
    problems.push('ARCHIVE_OBJECT_LOCK_DAYS is only for ARCHIVE=create: an existing bucket keeps its own Object Lock settings; give none');
  }

  return {
    archive,
    /** The created bucket's name, or empty for one CloudFormation names. */
    bucketName,
    /** The bucket's name: ARCHIVE_BUCKET_NAME, or a Ref to the created bucket (also when named, for the dependency). */
    bucket: archive === 'existing' ? bucketName : { Ref: 'ArchiveBucket' },
    /** The bucket's name in a Fn::Sub. */
    bucketSub: archive === 'existing' ? bucketName : '${ArchiveBucket}',
    prefix,
    /** The key S3 encrypts the archive and Athena's results with; null for s3-managed (SSE-S3). */
    keyArn: keyArn ?? null,
    createKey: keyText === 'create',
    /** The lifecycle's one transition, or null for ARCHIVE_TRANSITION_CLASS=none. */
    transition: ARCHIVE_CLASSES[transitionClass] === undefined ? null : { StorageClass: transitionClass, TransitionInDays: transitionDays },
    expiryDays,
    /** Object Lock's default retention in COMPLIANCE mode, or null for none. */
    lockDays: lockDays ?? null,
  };
}

module.exports = { archiveChoices };
