// The function's AUTH_TOKEN_PARAMETER: the SSM parameter name with AUTH_MODE=token, empty with AUTH_MODE=none (so the
// function neither reads the parameter nor is allowed to, see iam.yml). Basic auth needs a file the function lacks.
'use strict';

module.exports = async ({ resolveVariable }) => {
  const mode = await resolveVariable('param:AUTH_MODE');
  if (mode === 'none') return '';
  if (mode !== 'token') {
    throw new Error(`AUTH_MODE ${JSON.stringify(mode)} is not available on Lambda: use token (with AUTH_TOKEN_PARAMETER) or none`);
  }
  const name = String(await resolveVariable('param:AUTH_TOKEN_PARAMETER'));
  if (!/^\/[\w.\-/]{1,1010}$/.test(name)) {
    throw new Error(`AUTH_TOKEN_PARAMETER ${JSON.stringify(name)} must be a full SSM parameter name starting with /, e.g. /kube-audit-relay/prod/auth-token`);
  }
  return name;
};
