// Preloaded (node --require) into `serverless` runs that must work offline: any connection to a host other than
// loopback fails at once and is reported on stderr, so a test can see that nothing tried to reach AWS or the internet.
'use strict';

const net = require('node:net');

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const connect = net.Socket.prototype.connect;

net.Socket.prototype.connect = function denyNonLoopback(...args) {
  const options = typeof args[0] === 'object' && args[0] !== null ? (Array.isArray(args[0]) ? args[0][0] : args[0]) : { port: args[0], host: args[1] };
  const host = options.path != null ? 'unix' : (options.host ?? 'localhost');
  if (host !== 'unix' && !LOOPBACK.has(host)) {
    process.stderr.write(`deny-network: blocked a connection to ${host}:${options.port}\n`);
    throw new Error(`deny-network: connections to ${host} are not allowed in this test`);
  }
  return connect.apply(this, args);
};
