import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { expand, template } from '../support/azure-deployment.ts';

// The services' own name rules (learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules).
const STORAGE_ACCOUNT = /^[a-z0-9]{3,24}$/;
const KEY_VAULT = /^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/;
const FUNCTION_APP = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,58}[a-zA-Z0-9])?$/;

const names = (overrides: Record<string, unknown>) => {
  const { resources } = expand(overrides);
  const nameOf = (type: string) => resources.find((r) => r.type === type)!.name;
  return { storage: nameOf('Microsoft.Storage/storageAccounts'), vault: nameOf('Microsoft.KeyVault/vaults'), app: nameOf('Microsoft.Web/sites') };
};

describe('infra/azure names: namePrefix is checked, the Key Vault name can move', () => {
  it('accepts exactly the prefixes the rule allows, and builds valid storage account, Key Vault and function app names from them', () => {
    const rule = /^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$/;
    const character = fc.constantFrom(...'abcxyz019-_.AZä '.split(''));
    const prefix = fc.oneof(
      fc.array(character, { minLength: 2, maxLength: 10 }).map((chars) => chars.join('')),
      fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/),
    );
    let accepted = 0;
    fc.assert(
      fc.property(prefix, (namePrefix) => {
        let built: ReturnType<typeof names> | undefined;
        try {
          built = names({ namePrefix });
        } catch (error) {
          assert.match(String(error), /namePrefix must be/);
        }
        assert.equal(built !== undefined, rule.test(namePrefix), `${namePrefix} ${built ? 'accepted' : 'refused'}`);
        if (!built) return;
        accepted++;
        assert.match(built.storage, STORAGE_ACCOUNT);
        assert.match(built.vault, KEY_VAULT);
        assert.match(built.app, FUNCTION_APP);
      }),
      { numRuns: 200 },
    );
    assert.ok(accepted > 50, `only ${accepted} accepted prefixes were tried`);
  });

  it('fails the deployment before any resource, with a message naming namePrefix and its rules, for a prefix a name rule refuses', () => {
    // Each breaks the storage account or Key Vault rules; length is already bounded by minLength and maxLength.
    for (const namePrefix of ['Kar', 'kar_1', 'kar.1', '1kar', '-kar', 'kar-', 'k--r', 'kär', 'kar 1']) {
      assert.throws(() => expand({ namePrefix }), /property 'namePrefix must be 2 to 10 lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen/, namePrefix);
    }
    assert.equal(template.parameters.namePrefix.minLength, 2);
    assert.equal(template.parameters.namePrefix.maxLength, 10);
  });

  it('gives the Key Vault a new name when keyVaultNameSeed changes, and keeps every other name', () => {
    const first = names({});
    const again = names({});
    const moved = names({ keyVaultNameSeed: 'v2' });
    assert.deepEqual(again, first, 'the same inputs give the same names, so a redeploy updates in place');
    assert.notEqual(moved.vault, first.vault);
    assert.equal(moved.storage, first.storage);
    assert.equal(moved.app, first.app);
    assert.match(moved.vault, KEY_VAULT);
  });
});
