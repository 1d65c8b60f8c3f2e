// The resources the function's network interfaces involve: any interface in this account and region (their ids are
// not known in advance), the function's security group and each subnet in SUBNET_IDS by ARN.
'use strict';

const arn = (suffix) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:${suffix}` });

module.exports = async ({ resolveVariable }) => {
  const subnets = String(await resolveVariable('param:SUBNET_IDS'))
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  for (const id of subnets) {
    if (!/^subnet-[0-9a-f]+$/.test(id)) {
      throw new Error(`SUBNET_IDS entry ${JSON.stringify(id)} is not a subnet id; give ids like subnet-0123abcd, comma-separated`);
    }
  }
  if (subnets.length === 0) throw new Error('SUBNET_IDS is empty: give the private subnets, comma-separated');
  return [
    arn('network-interface/*'),
    arn('security-group/${ReceiveFunctionSecurityGroup.GroupId}'),
    ...subnets.map((id) => arn(`subnet/${id}`)),
  ];
};
