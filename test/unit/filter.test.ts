import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DropRule, shouldDrop } from '../../src/audit/filter.ts';
import type { AuditEvent } from '../../src/audit/types.ts';
import { fixtureRecords } from '../support/records.ts';

const events: AuditEvent[] = fixtureRecords().map((record) => record.event);
const dropped = (rule: DropRule): AuditEvent[] => events.filter((event) => shouldDrop(event, [rule]));
const kept = (rules: DropRule[]): AuditEvent[] => events.filter((event) => !shouldDrop(event, rules));
const combined = (event: AuditEvent): string => {
  const ref = event.objectRef!;
  return ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource!;
};

describe('drop rules on the real fixture events', () => {
  it('keep everything when there are no rules', () => {
    assert.equal(kept([]).length, events.length);
  });

  it('verbs, stages, users and userGroups match exact values', () => {
    assert.deepEqual(dropped({ verbs: ['watch', 'list'] }), events.filter((e) => e.verb === 'watch' || e.verb === 'list'));
    assert.deepEqual(dropped({ stages: ['RequestReceived'] }), events.filter((e) => e.stage === 'RequestReceived'));
    assert.deepEqual(dropped({ users: ['system:kube-controller-manager'] }), events.filter((e) => e.user.username === 'system:kube-controller-manager'));
    assert.deepEqual(dropped({ userGroups: ['system:serviceaccounts'] }), events.filter((e) => e.user.groups?.includes('system:serviceaccounts')));
    assert.ok(dropped({ stages: ['RequestReceived'] }).length > 0);
    assert.ok(dropped({ userGroups: ['system:serviceaccounts'] }).length > 0);
  });

  it('needs every field of a rule to match, and any rule of the list', () => {
    const rule = { verbs: ['get'], stages: ['ResponseComplete'], userGroups: ['system:masters'] };
    const expected = events.filter((e) => e.verb === 'get' && e.stage === 'ResponseComplete' && e.user.groups?.includes('system:masters'));
    assert.ok(expected.length > 0);
    assert.deepEqual(dropped(rule), expected);
    const either = kept([{ verbs: ['get'] }, { verbs: ['delete'] }]);
    assert.deepEqual(either, events.filter((e) => e.verb !== 'get' && e.verb !== 'delete'));
  });

  it('treats an empty list like an unset field, as the API server does', () => {
    assert.deepEqual(dropped({ verbs: [], users: ['system:kube-controller-manager'] }), dropped({ users: ['system:kube-controller-manager'] }));
    assert.deepEqual(dropped({ resources: [], nonResourceURLs: ['/openapi/*'] }), dropped({ nonResourceURLs: ['/openapi/*'] }));
  });

  it('group "" is the core group; the group must match exactly', () => {
    const corePods = dropped({ resources: [{ group: '', resources: ['pods'] }] });
    assert.deepEqual(corePods, events.filter((e) => e.objectRef?.resource === 'pods' && !e.objectRef.subresource && !e.objectRef.apiGroup));
    assert.ok(corePods.length > 0);
    assert.deepEqual(dropped({ resources: [{ resources: ['pods'] }] }), corePods);
    assert.equal(dropped({ resources: [{ group: 'apps', resources: ['pods'] }] }).length, 0);
    const rbac = dropped({ resources: [{ group: 'rbac.authorization.k8s.io' }] });
    assert.deepEqual(rbac, events.filter((e) => e.objectRef?.apiGroup === 'rbac.authorization.k8s.io'));
    assert.deepEqual(dropped({ resources: [{ group: 'rbac.authorization.k8s.io', resources: ['*'] }] }), rbac);
  });

  it('"pods" does not match pods/exec; "pods/exec", "*/exec" and "pods/*" do', () => {
    const exec = events.filter((e) => e.objectRef?.resource === 'pods' && e.objectRef.subresource === 'exec');
    assert.ok(exec.length > 0);
    assert.ok(dropped({ resources: [{ resources: ['pods'] }] }).every((e) => !e.objectRef?.subresource));
    assert.deepEqual(dropped({ resources: [{ resources: ['pods/exec'] }] }), exec);
    assert.deepEqual(dropped({ resources: [{ resources: ['*/exec'] }] }), exec);
    const podsAll = dropped({ resources: [{ resources: ['pods/*'] }] });
    assert.deepEqual(podsAll, events.filter((e) => e.objectRef?.resource === 'pods' && !e.objectRef.apiGroup));
    const status = dropped({ resources: [{ group: 'operators.coreos.com', resources: ['*/status'] }] });
    assert.ok(status.length > 0 && status.every((e) => combined(e) === 'catalogsources/status'));
    assert.equal(dropped({ resources: [{ group: 'operators.coreos.com', resources: ['catalogsources'] }] }).filter((e) => e.objectRef?.subresource).length, 0);
  });

  it('resourceNames narrows to those object names', () => {
    const named = events.find((e) => e.objectRef?.resource === 'secrets' && e.objectRef.name)!;
    const rule = { resources: [{ resources: ['secrets'], resourceNames: [named.objectRef!.name!] }] };
    assert.deepEqual(dropped(rule), events.filter((e) => e.objectRef !== undefined && !e.objectRef.apiGroup && combined(e) === 'secrets' && e.objectRef?.name === named.objectRef!.name));
    assert.equal(dropped({ resources: [{ resources: ['secrets'], resourceNames: ['no-such-name'] }] }).length, 0);
  });

  it('namespaces match the namespace, "" the cluster-scoped objects, and never non-resource requests', () => {
    assert.deepEqual(dropped({ namespaces: ['kube-system'] }), events.filter((e) => e.objectRef?.namespace === 'kube-system'));
    const cluster = dropped({ namespaces: [''] });
    assert.deepEqual(cluster, events.filter((e) => e.objectRef && !e.objectRef.namespace));
    assert.ok(cluster.some((e) => e.objectRef?.resource === 'clusterroles'));
    assert.ok(cluster.every((e) => e.objectRef !== undefined));
    const nodes = dropped({ namespaces: [''], resources: [{ resources: ['nodes'] }] });
    assert.ok(nodes.length > 0 && nodes.every((e) => e.objectRef?.resource === 'nodes'));
  });

  it('nonResourceURLs match paths exactly or by a trailing *, without the query, and never resource requests', () => {
    const nonResource = events.filter((e) => !e.objectRef);
    assert.deepEqual(dropped({ nonResourceURLs: ['*'] }), nonResource);
    assert.deepEqual(dropped({ nonResourceURLs: ['/openapi/v2'] }), nonResource.filter((e) => e.requestURI.split('?')[0] === '/openapi/v2'));
    assert.ok(dropped({ nonResourceURLs: ['/openapi/v2'] }).length > 0);
    assert.deepEqual(dropped({ nonResourceURLs: ['/apis/*'] }), nonResource.filter((e) => e.requestURI.startsWith('/apis/')));
    assert.deepEqual(dropped({ nonResourceURLs: ['/api'] }), nonResource.filter((e) => e.requestURI.split('?')[0] === '/api'));
    assert.equal(dropped({ nonResourceURLs: ['/api/v1/namespaces*'] }).length, 0, 'resource requests under that path are not dropped');
  });

  it('a rule with resources never matches a non-resource request', () => {
    assert.ok(dropped({ resources: [{ group: '', resources: ['*'] }] }).every((e) => e.objectRef !== undefined));
  });
});
