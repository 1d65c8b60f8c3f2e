// VPC_ENDPOINT_IDS (comma-separated execute-api endpoint ids) as a checked list, with an error that names the
// parameter when it is missing or malformed: the framework's own message would not say which parameter.
'use strict';

module.exports = async ({ resolveVariable }) => {
  const value = await resolveVariable('param:VPC_ENDPOINT_IDS, null');
  const ids = String(value ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  if (ids.length === 0) {
    throw new Error('VPC_ENDPOINT_IDS is required with VPC_ENDPOINT=existing: pass --param VPC_ENDPOINT_IDS=vpce-... (comma-separated), or --param VPC_ENDPOINT=create');
  }
  for (const id of ids) {
    if (!/^vpce-[0-9a-f]{8,17}$/.test(id)) {
      throw new Error(`VPC_ENDPOINT_IDS entry ${JSON.stringify(id)} is not a VPC endpoint id; give ids like vpce-0123456789abcdef0`);
    }
  }
  return ids;
};
