// The private REST API's resource policy: execute-api:Invoke is allowed only through the relay's VPC endpoint(s) and
// denied otherwise, so even a principal whose own policy allows execute-api:Invoke cannot call it another way.
// SOURCE_VPC_IDS (optional, comma-separated, checked in parameters.cjs) also denies requests that do not come from those VPCs.
'use strict';

module.exports = async ({ resolveVariable }) => {
  const mode = await resolveVariable('param:VPC_ENDPOINT');
  const endpoints = await resolveVariable(`file(infra/aws/vpc-endpoint-${mode}.yml):vpcEndpointIds`);
  const { sourceVpcIds: sourceVpcs } = await resolveVariable('self:custom.relay');
  const invoke = { Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*' };
  return [
    { Sid: 'InvokeThroughRelayEndpoints', Effect: 'Allow', ...invoke, Condition: { StringEquals: { 'aws:SourceVpce': endpoints } } },
    { Sid: 'DenyOtherEndpoints', Effect: 'Deny', ...invoke, Condition: { StringNotEquals: { 'aws:SourceVpce': endpoints } } },
    ...(sourceVpcs.length === 0
      ? []
      : [{ Sid: 'DenyOtherVpcs', Effect: 'Deny', ...invoke, Condition: { StringNotEquals: { 'aws:SourceVpc': sourceVpcs } } }]),
  ];
};
