/**
 * What a cluster named by a credential may be called: it becomes part of file names (`--output 'audit-{cluster}.jsonl'`),
 * log stream names and metric dimensions, so letters, digits, `.`, `_` and `-`, starting and ending with a letter or
 * digit, at most 253 characters (a DNS name's length).
 */
const CLUSTER_NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;

/** Whether `name` can name a cluster in credentials and file names. */
export const isClusterName = (name: string): boolean => CLUSTER_NAME_PATTERN.test(name);
