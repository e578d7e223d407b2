// The web front: serves index.html and passes /api/* on to the api service, so the page works
// through a single forwarded port.
import http from 'node:http';
import { readFileSync } from 'node:fs';

const port = Number(process.env.VENDETTA_SERVICE_WEB_PORT || 8080);
const host = process.env.VENDETTA_SERVICE_WEB_HOST || '127.0.0.1';
const apiHost = process.env.VENDETTA_SERVICE_API_HOST || '127.0.0.1';
const apiPort = Number(process.env.VENDETTA_SERVICE_API_PORT || 3000);
const page = readFileSync(new URL('./index.html', import.meta.url));

const server = http.createServer((req, res) => {
  if (req.url && req.url.startsWith('/api/')) {
    const upstream = http.request({ host: apiHost, port: apiPort, path: req.url, method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode || 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', (err) => {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `api unreachable: ${err.message}` }) + '\n');
    });
    req.pipe(upstream);
    return;
  }
  if (req.url === '/' || req.url === '/index.html') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not found\n');
});
server.listen(port, host, () => console.log(`web listening on http://${host}:${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
