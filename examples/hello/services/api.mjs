// The HTTP api: /health is healthy only when the db answers; /api/visits counts visits in the db.
import http from 'node:http';
import { dbCommand } from './dbClient.mjs';

const port = Number(process.env.VENDETTA_SERVICE_API_PORT || 3000);
const host = process.env.VENDETTA_SERVICE_API_HOST || '127.0.0.1';

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body) + '\n');
}

const server = http.createServer(async (req, res) => {
  try {
    if (req.url === '/health') {
      const pong = await dbCommand('PING');
      return send(res, pong === 'PONG' ? 200 : 503, { ok: pong === 'PONG', db: pong });
    }
    if (req.url === '/api/visits' && req.method === 'POST') {
      return send(res, 200, { visits: Number(await dbCommand('INCR visits')) });
    }
    if (req.url === '/api/visits') {
      const v = await dbCommand('GET visits');
      return send(res, 200, { visits: v === 'NIL' ? 0 : Number(v) });
    }
    send(res, 404, { error: 'not found' });
  } catch (err) {
    send(res, 503, { ok: false, error: String(err && err.message ? err.message : err) });
  }
});
server.listen(port, host, () => console.log(`api listening on http://${host}:${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
