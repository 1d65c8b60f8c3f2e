// `kube-audit-relay` run from its TypeScript sources, for tests of the command as a process:
// node --import tsx test/support/cli-from-source.ts <args>. (bin/ runs the compiled build; see compiled-bin.test.ts.)
import { main } from '../../src/cli/main.ts';

await main();
