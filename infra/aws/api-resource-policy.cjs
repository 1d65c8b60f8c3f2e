// The private REST API's resource policy: execute-api:Invoke is allowed only through the relay's VPC endpoint(s) and
// denied otherwise, so even a principal whose own policy allows execute-api:Invoke cannot call it another way.
// SOURCE_VPC_IDS (optional, comma-separated) also denies requests that do not come from those VPCs.
'use strict';

module.exports = async ({ resolveVariable }) => {
  const mode = await resolveVariable('param:VPC_ENDPOINT');
  const endpoints = await resolveVariable(`file(infra/aws/vpc-endpoint-${mode}.yml):vpcEndpointIds`);
  const sourceVpcs = String(await resolveVariable('param:SOURCE_VPC_IDS'))
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '' && id !== 'any');
  for (const id of sourceVpcs) {
    if (!/^vpc-[0-9a-f]{8,17}$/.test(id)) {
      throw new Error(`SOURCE_VPC_IDS entry ${JSON.stringify(id)} is not a VPC id; give ids like vpc-0123456789abcdef0, or any`);
    }
  }
  const invoke = { Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*' };
  return [
    { Sid: 'InvokeThroughRelayEndpoints', Effect: 'Allow', ...invoke, Condition: { StringEquals: { 'aws:SourceVpce': endpoints } } },
    { Sid: 'DenyOtherEndpoints', Effect: 'Deny', ...invoke, Condition: { StringNotEquals: { 'aws:SourceVpce': endpoints } } },
    ...(sourceVpcs.length === 0
      ? []
      : [{ Sid: 'DenyOtherVpcs', Effect: 'Deny', ...invoke, Condition: { StringNotEquals: { 'aws:SourceVpc': sourceVpcs } } }]),
  ];
};
