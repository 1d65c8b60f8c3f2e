// The receiver the IBM tutorial has people deploy, in plain Node without dependencies: read the body, parse it,
// answer 200, print each item as a line. It validates nothing, redacts nothing and answers before writing, so
// an event it fails to print is lost; the benchmark compares the relay against it because it is the bar users
// already accept. Prints "listening on <url>" to stderr; the events go to stdout.
import { createServer } from 'node:http';

const server = createServer((request, response) => {
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk) => {
    body += chunk;
  });
  request.on('end', () => {
    let list;
    try {
      list = JSON.parse(body);
    } catch {
      response.writeHead(400).end();
      return;
    }
    response.writeHead(200).end();
    for (const item of list.items ?? []) console.log(JSON.stringify(item));
  });
});

server.listen(0, '127.0.0.1', () => {
  console.error(`listening on http://127.0.0.1:${server.address().port}/`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
