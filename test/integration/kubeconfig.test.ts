import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { runCommand } from '../support/cli.ts';
import { createTestPki, type TestPki } from '../support/tls.ts';

const KUBECTL = '/usr/bin/kubectl';
const hasKubectl = existsSync(KUBECTL);

interface KubectlView {
  clusters: { name: string; cluster: Record<string, unknown> }[];
  users: { name: string; user: Record<string, unknown> }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
  'current-context': string;
}

/** What kubectl (client-go's own loader, as in the API server) reads from the file, for the current context. */
function kubectlView(file: string): { cluster: Record<string, unknown>; user: Record<string, unknown> } {
  const view = JSON.parse(execFileSync(KUBECTL, ['config', 'view', '--kubeconfig', file, '--raw', '-o', 'json'], { encoding: 'utf8' })) as KubectlView;
  const context = view.contexts.find((entry) => entry.name === view['current-context'])!.context;
  return {
    cluster: view.clusters.find((entry) => entry.name === context.cluster)!.cluster,
    user: view.users.find((entry) => entry.name === context.user)!.user,
  };
}

function clientNode(file: string) {
  const config = new KubeConfig();
  config.loadFromFile(file);
  return { cluster: config.getCurrentCluster()!, user: config.getCurrentUser()! };
}

describe('kubeconfig', () => {
  let pki: TestPki;
  let dir: string;
  let tokenFile: string;
  let basicFile: string;
  before(() => {
    pki = createTestPki();
    dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'token-from-file\n');
    basicFile = join(dir, 'basic');
    writeFileSync(basicFile, 'apiserver:pass:with:colons\n');
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(pki.dir, { recursive: true, force: true });
  });

  async function generate(args: string[], env: Record<string, string> = {}): Promise<string> {
    const file = join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`);
    const result = await runCommand(['kubeconfig', ...args, '-o', file], { env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    return file;
  }

  test('token file by path and CA by path: tokenFile and certificate-authority where client-go reads them', async () => {
    const file = await generate(['--server', 'https://relay.example.com/audit/', '--token-file', tokenFile, '--ca-file', pki.caCert]);
    const loaded = clientNode(file);
    assert.equal(loaded.cluster.server, 'https://relay.example.com/audit');
    assert.equal(loaded.cluster.caFile, pki.caCert);
    assert.equal(loaded.cluster.skipTLSVerify, false);
    if (hasKubectl) {
      const view = kubectlView(file);
      assert.equal(view.cluster.server, 'https://relay.example.com/audit/');
      assert.equal(view.cluster['certificate-authority'], pki.caCert);
      assert.equal(view.user.tokenFile, tokenFile);
      assert.equal(view.user.token, undefined);
    }
  });

  test('--embed puts the token, CA and client certificate contents in the file', async () => {
    const file = await generate([
      '--server', 'https://10.0.0.5:8443/', '--token-file', tokenFile, '--ca-file', pki.caCert,
      '--client-cert', pki.clientCert, '--client-key', pki.clientKey, '--tls-server-name', 'relay.internal', '--embed',
    ]);
    const loaded = clientNode(file);
    assert.equal(loaded.user.token, 'token-from-file');
    assert.equal(Buffer.from(loaded.cluster.caData!, 'base64').toString('utf8'), pki.read(pki.caCert));
    assert.equal(Buffer.from(loaded.user.certData!, 'base64').toString('utf8'), pki.read(pki.clientCert));
    assert.equal(Buffer.from(loaded.user.keyData!, 'base64').toString('utf8'), pki.read(pki.clientKey));
    assert.equal(loaded.cluster.tlsServerName, 'relay.internal');
    if (hasKubectl) {
      const view = kubectlView(file);
      assert.equal(view.user.token, 'token-from-file');
      assert.equal(Buffer.from(view.cluster['certificate-authority-data'] as string, 'base64').toString('utf8'), pki.read(pki.caCert));
      assert.equal(Buffer.from(view.user['client-certificate-data'] as string, 'base64').toString('utf8'), pki.read(pki.clientCert));
      assert.equal(Buffer.from(view.user['client-key-data'] as string, 'base64').toString('utf8'), pki.read(pki.clientKey));
      assert.equal(view.cluster['tls-server-name'], 'relay.internal');
    }
  });

  test('basic auth, token from the environment, client certificate by path, proxy, insecure', async () => {
    const basic = await generate(['--server', 'https://relay.example.com', '--basic-auth-file', basicFile, '--proxy-url', 'http://proxy.internal:3128']);
    assert.equal(clientNode(basic).user.username, 'apiserver');
    assert.equal(clientNode(basic).user.password, 'pass:with:colons');
    assert.equal(clientNode(basic).cluster.proxyUrl, 'http://proxy.internal:3128');
    const fromEnv = await generate(['--server', 'https://relay.example.com', '--token-env', 'RELAY_TOKEN', '--insecure-skip-tls-verify'], { RELAY_TOKEN: 'token-from-env' });
    assert.equal(clientNode(fromEnv).user.token, 'token-from-env');
    assert.equal(clientNode(fromEnv).cluster.skipTLSVerify, true);
    const mtls = await generate(['--server', 'https://relay.example.com', '--client-cert', pki.clientCert, '--client-key', pki.clientKey]);
    assert.equal(clientNode(mtls).user.certFile, pki.clientCert);
    assert.equal(clientNode(mtls).user.keyFile, pki.clientKey);
    if (hasKubectl) {
      assert.deepEqual(kubectlView(basic).user, { username: 'apiserver', password: 'pass:with:colons' });
      assert.equal(kubectlView(basic).cluster['proxy-url'], 'http://proxy.internal:3128');
      assert.equal(kubectlView(fromEnv).cluster['insecure-skip-tls-verify'], true);
      assert.deepEqual(kubectlView(mtls).user, { 'client-certificate': pki.clientCert, 'client-key': pki.clientKey });
    }
  });

  test('an http server without credentials is allowed (a local relay behind the node)', async () => {
    const file = await generate(['--server', 'http://127.0.0.1:3000/']);
    assert.equal(clientNode(file).cluster.server, 'http://127.0.0.1:3000');
    const { user } = clientNode(file);
    assert.deepEqual([user.token, user.username, user.certFile, user.certData], [undefined, undefined, undefined, undefined]);
  });

  describe('refuses what the API server would ignore or reject, exit 2', () => {
    test('a missing file is one line, without the usage text', async () => {
      const result = await runCommand(['kubeconfig', '--server', 'https://relay.example.com', '--ca-file', join(dir, 'nope.pem'), '--embed']);
      assert.equal(result.code, 2);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.doesNotMatch(result.stderr, /usage:/);
    });

    const cases: [string, () => string[], RegExp, Record<string, string>?][] = [
      ['a token over http', () => ['--server', 'http://relay.example.com', '--token-file', tokenFile], /credentials with an http:\/\/ server: the API server sends tokens, basic auth and client certificates only over https/],
      ['basic auth over http', () => ['--server', 'http://relay.example.com', '--basic-auth-file', basicFile], /credentials with an http:\/\/ server/],
      ['a client certificate over http', () => ['--server', 'http://relay.example.com', '--client-cert', pki.clientCert, '--client-key', pki.clientKey], /credentials with an http:\/\/ server/],
      ['a query string', () => ['--server', 'https://relay.example.com/audit?code=secret'], /--server has a query string, which the API server drops/],
      ['a fragment', () => ['--server', 'https://relay.example.com/audit#x'], /--server has a #fragment/],
      ['user:password in the URL', () => ['--server', 'https://u:p@relay.example.com/'], /user:password@ in it/],
      ['token and basic auth', () => ['--server', 'https://relay.example.com', '--token-file', tokenFile, '--basic-auth-file', basicFile], /a token and basic auth together are refused by client-go/],
      ['two token sources', () => ['--server', 'https://relay.example.com', '--token-file', tokenFile, '--token-env', 'T'], /give one token source: --token-file or --token-env/, { T: 'x' }],
      ['insecure with a CA', () => ['--server', 'https://relay.example.com', '--insecure-skip-tls-verify', '--ca-file', pki.caCert], /--insecure-skip-tls-verify together with --ca-file is refused by client-go/],
      ['a CA for an http server', () => ['--server', 'http://relay.example.com', '--ca-file', pki.caCert], /--ca-file with an http:\/\/ server would be ignored/],
      ['a certificate without its key', () => ['--server', 'https://relay.example.com', '--client-cert', pki.clientCert], /--client-cert and --client-key go together/],
      ['a scheme other than http(s)', () => ['--server', 'ftp://relay.example.com'], /--server must be an https:\/\/ URL \(http:\/\/ only without credentials\), got ftp:/],
      ['not a URL', () => ['--server', 'relay.example.com'], /--server 'relay.example.com' is not a URL/],
      ['an unset token variable', () => ['--server', 'https://relay.example.com', '--token-env', 'MISSING'], /--token-env MISSING: the environment variable is not set or empty/],
      ['a token file with several tokens', () => {
        writeFileSync(join(dir, 'tokens'), 'one\ntwo\n');
        return ['--server', 'https://relay.example.com', '--token-file', join(dir, 'tokens'), '--embed'];
      }, /must hold exactly one token on one line \(it holds 2 non-blank lines\)/],
      ['a missing file to embed', () => ['--server', 'https://relay.example.com', '--ca-file', join(dir, 'nope.pem'), '--embed'], /--ca-file .*nope\.pem does not exist$/m],
      ['a relative CA path without --embed', () => ['--server', 'https://relay.example.com', '--ca-file', 'ca.crt'], /--ca-file ca\.crt is a relative path: the kubeconfig is read on the API server's host, so give the absolute path the file has there, or --embed/],
      ['a relative token file without --embed', () => ['--server', 'https://relay.example.com', '--token-file', 'token'], /--token-file token is a relative path/],
      ['a missing CA without --embed', () => ['--server', 'https://relay.example.com', '--ca-file', join(dir, 'nope.pem')], /--ca-file .*nope\.pem does not exist: the kubeconfig refers to it by path, so run this where the API server will read it, or give --embed/],
      ['a missing client key without --embed', () => ['--server', 'https://relay.example.com', '--client-cert', pki.clientCert, '--client-key', join(dir, 'nope.key')], /--client-key .*nope\.key does not exist: the kubeconfig refers to it by path/],
      ['a directory as the token file', () => ['--server', 'https://relay.example.com', '--token-file', dir], /--token-file .* is a directory, not a file/],
      ['a token file with several tokens, by path', () => {
        writeFileSync(join(dir, 'two-tokens'), 'one\ntwo\n');
        return ['--server', 'https://relay.example.com', '--token-file', join(dir, 'two-tokens')];
      }, /--token-file must hold exactly one token on one line/],
      ['--no-auth with a token', () => ['--server', 'https://relay.example.com', '--token-file', tokenFile, '--no-auth'], /--no-auth and credentials contradict each other/],
      ['a proxy with an unknown scheme', () => ['--server', 'https://relay.example.com', '--proxy-url', 'ftp://proxy'], /--proxy-url must be http:\/\/, https:\/\/ or socks5:\/\/, got ftp:/],
      ['no server', () => ['--token-file', tokenFile], /--server URL or --from-stack FILE is required/],
      ['both --server and --from-stack', () => ['--server', 'https://a', '--from-stack', tokenFile], /give --server or --from-stack, not both/],
    ];
    for (const [name, args, message, env] of cases) {
      test(name, async () => {
        const result = await runCommand(['kubeconfig', ...args()], { env: env ?? {} });
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, message);
        assert.equal(result.stdout, '');
      });
    }
  });

  describe('--from-stack', () => {
    const awsUrl = 'https://a1b2c3d4e5-vpce-0123456789abcdef0.execute-api.eu-west-1.amazonaws.com/prod/audit';
    const describeStacks = {
      Stacks: [
        {
          StackName: 'kube-audit-relay-prod',
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [
            { OutputKey: 'PrivateInvokeUrl', OutputValue: awsUrl, Description: 'private invoke URL' },
            { OutputKey: 'AuthTokenParameterName', OutputValue: '/kube-audit-relay/prod/token' },
            { OutputKey: 'AuditLogGroupName', OutputValue: '/aws/eks/prod/cluster' },
          ],
        },
      ],
    };

    test('without a credential refuses, saying how to fetch the token from the SSM parameter; --no-auth accepts', async () => {
      // arrange
      const stack = join(dir, 'stack.json');
      writeFileSync(stack, JSON.stringify(describeStacks, null, 2));

      // act
      const refused = await runCommand(['kubeconfig', '--from-stack', stack]);
      const open = await runCommand(['kubeconfig', '--from-stack', stack, '--no-auth']);
      const withToken = await runCommand(['kubeconfig', '--from-stack', stack, '--token-file', tokenFile]);

      // assert
      assert.equal(refused.code, 2);
      assert.equal(refused.stdout, '');
      assert.match(refused.stderr, /names a deployed relay, which requires a credential: give --token-file .* or --no-auth if it was deployed with AUTH_MODE=none/);
      assert.match(refused.stderr, /aws ssm get-parameter --name \/kube-audit-relay\/prod\/token --with-decryption/);
      assert.equal(open.code, 0, open.stderr);
      assert.match(open.stdout, new RegExp(`server: ${awsUrl.replace(/[.]/g, '\\.')}`));
      assert.equal(clientNode(await generate(['--from-stack', stack, '--no-auth'])).user.token, undefined);
      assert.equal(withToken.code, 0, withToken.stderr);
      assert.match(withToken.stdout, /tokenFile: /);
    });

    test('reads `serverless info --verbose` text from stdin', async () => {
      const info = `service: kube-audit-relay\nstage: prod\nregion: eu-west-1\nstack: kube-audit-relay-prod\nfunctions:\n  receive: kube-audit-relay-prod-receive\n\nStack Outputs:\n  PrivateInvokeUrl: ${awsUrl}\n  AuthTokenParameterName: /kube-audit-relay/prod/token\n  ServerlessDeploymentBucketName: kube-audit-relay-prod-serverlessdeploymentbucket-1abc\n`;
      const tokenPath = join(dir, 'token');
      const result = await runCommand(['kubeconfig', '--from-stack', '-', '--token-file', tokenPath], { stdin: info });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /server: https:\/\/a1b2c3d4e5-vpce/);
      assert.match(result.stdout, /tokenFile: .*\/token/);
      assert.equal(result.stderr, '');
    });

    test('reads the URL from `az deployment group show` JSON', async () => {
      const stack = join(dir, 'azure.json');
      const azureUrl = 'https://kube-audit-relay-prod.azurewebsites.net/api/audit';
      writeFileSync(stack, JSON.stringify({ id: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.Resources/deployments/relay', name: 'relay', properties: { provisioningState: 'Succeeded', outputs: { privateUrl: { type: 'String', value: azureUrl } } } }));
      const result = await runCommand(['kubeconfig', '--from-stack', stack, '--token-env', 'T'], { env: { T: 'tok' } });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /server: https:\/\/kube-audit-relay-prod\.azurewebsites\.net\/api\/audit/);
    });

    test('a stack without the URL output, or a file of another kind, is a usage error naming what was expected', async () => {
      const stack = join(dir, 'partial.json');
      writeFileSync(stack, JSON.stringify({ Stacks: [{ Outputs: [] }] }));
      const missing = await runCommand(['kubeconfig', '--from-stack', stack]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /has no PrivateInvokeUrl output/);
      const other = join(dir, 'other.json');
      writeFileSync(other, '{"hello":1}');
      const wrong = await runCommand(['kubeconfig', '--from-stack', other]);
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /is JSON but neither `aws cloudformation describe-stacks` output/);
    });
  });
});
