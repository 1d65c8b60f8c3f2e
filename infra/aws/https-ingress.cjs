// Expands ALLOWED_CIDRS (comma-separated) into one HTTPS ingress rule per CIDR: CloudFormation cannot loop over a list.
'use strict';

const IPV4 = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;

module.exports = async ({ resolveVariable }) => {
  const cidrs = String(await resolveVariable('param:ALLOWED_CIDRS'))
    .split(',')
    .map((cidr) => cidr.trim())
    .filter((cidr) => cidr !== '');
  if (cidrs.length === 0) {
    throw new Error('ALLOWED_CIDRS is empty: give the CIDR(s) the API server connects from, comma-separated');
  }
  return cidrs.map((cidr) => {
    const ipv4 = IPV4.test(cidr);
    if (!ipv4 && !cidr.includes(':')) {
      throw new Error(`ALLOWED_CIDRS entry ${JSON.stringify(cidr)} is not an IPv4 or IPv6 CIDR; fix it, e.g. 10.0.0.0/16`);
    }
    return {
      Description: 'HTTPS from the API server',
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      ...(ipv4 ? { CidrIp: cidr } : { CidrIpv6: cidr }),
    };
  });
};
