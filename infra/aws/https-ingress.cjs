// Expands ALLOWED_CIDRS (comma-separated, checked in parameters.cjs) into one HTTPS ingress rule per CIDR:
// CloudFormation cannot loop over a list.
'use strict';

module.exports = async ({ resolveVariable }) => {
  const { allowedCidrs } = await resolveVariable('self:custom.relay');
  return allowedCidrs.map((cidr) => ({
    Description: 'HTTPS from the API server',
    IpProtocol: 'tcp',
    FromPort: 443,
    ToPort: 443,
    ...(cidr.includes(':') ? { CidrIpv6: cidr } : { CidrIp: cidr }),
  }));
};
