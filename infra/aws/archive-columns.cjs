// The Glue columns of the archive's table: the fields of an audit.k8s.io/v1 Event, under Athena's lower-case names
// (the JSON SerDe matches keys case-insensitively). requestObject and responseObject hold any Kubernetes object, so
// they stay JSON text for json_extract; annotations holds the relay's kube-audit-relay.io/cluster among others.
'use strict';

const userInfo = 'struct<username:string,uid:string,groups:array<string>,extra:map<string,array<string>>>';

/** Name -> Hive type, in the order the Event declares its fields. */
const EVENT_COLUMNS = {
  kind: 'string',
  apiversion: 'string',
  level: 'string',
  auditid: 'string',
  stage: 'string',
  requesturi: 'string',
  verb: 'string',
  user: userInfo,
  impersonateduser: userInfo,
  sourceips: 'array<string>',
  useragent: 'string',
  objectref: 'struct<resource:string,namespace:string,name:string,uid:string,apigroup:string,apiversion:string,resourceversion:string,subresource:string>',
  responsestatus: 'struct<code:int,status:string,message:string,reason:string>',
  requestobject: 'string',
  responseobject: 'string',
  requestreceivedtimestamp: 'string',
  stagetimestamp: 'string',
  annotations: 'map<string,string>',
};

module.exports = { EVENT_COLUMNS };
