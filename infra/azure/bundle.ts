// Builds the deployable Azure Functions app: one ESM bundle of functions/azure/receive.ts with every dependency
// inside, plus host.json and a package.json whose "main" names it. Zip the folder for zip deploy, or publish it with
// Core Tools. Run: node --import tsx infra/azure/bundle.ts [outdir, default dist/azure]
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The Node.js major version the template's function app runs (functionAppConfig.runtime.version): the bundle's target. */
function templateNodeVersion(): string {
  const template = JSON.parse(readFileSync(join(root, 'infra/azure/azuredeploy.json'), 'utf8')) as { resources: { type: string; properties?: any }[] };
  const site = template.resources.find((resource) => resource.type === 'Microsoft.Web/sites');
  return String(site?.properties?.functionAppConfig?.runtime?.version);
}

/** Writes receive.js, host.json and package.json into `outdir`; returns their paths. */
export async function bundleAzureFunctionApp(outdir: string): Promise<string[]> {
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: [join(root, 'functions/azure/receive.ts')],
    outfile: join(outdir, 'receive.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: `node${templateNodeVersion()}`,
    // Provided by the Functions Node.js worker at run time, never installed.
    external: ['@azure/functions-core'],
    // The bundled CommonJS packages call require(); give the ES module one, under a name no bundled ES module that
    // imports createRequire itself (the AWS SDK's S3 client does) can clash with.
    banner: { js: "import { createRequire as __bannerCreateRequire } from 'node:module'; const require = __bannerCreateRequire(import.meta.url);" },
    legalComments: 'eof',
    logLevel: 'warning',
  });
  copyFileSync(join(root, 'host.json'), join(outdir, 'host.json'));
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const manifest = { name: 'kube-audit-relay-azure', version, private: true, type: 'module', main: 'receive.js' };
  writeFileSync(join(outdir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return ['receive.js', 'host.json', 'package.json'].map((file) => join(outdir, file));
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const files = await bundleAzureFunctionApp(resolve(process.argv[2] ?? join(root, 'dist/azure')));
  console.log(`wrote ${files.join(', ')}`);
}
