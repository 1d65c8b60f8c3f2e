// The resources the function's network interfaces involve: any interface in this account and region (their ids are
// not known in advance), the function's security group and each subnet in SUBNET_IDS by ARN.
'use strict';

const arn = (suffix) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:${suffix}` });

module.exports = async ({ resolveVariable }) => {
  const { subnetIds } = await resolveVariable('self:custom.relay');
  return [
    arn('network-interface/*'),
    arn('security-group/${ReceiveFunctionSecurityGroup.GroupId}'),
    ...subnetIds.map((id) => arn(`subnet/${id}`)),
  ];
};
