// A tiny line-based key/value store over TCP: `PING` → `PONG`, `GET k` → value or `NIL`,
// `SET k v` → `OK`, `INCR k` → the new number. Data lives in memory.
import net from 'node:net';

const port = Number(process.env.VENDETTA_SERVICE_DB_PORT || 7070);
const host = process.env.VENDETTA_SERVICE_DB_HOST || '127.0.0.1';
const data = new Map();

function answer(line) {
  const [cmd = '', key = '', ...rest] = line.trim().split(/\s+/);
  switch (cmd.toUpperCase()) {
    case 'PING':
      return 'PONG';
    case 'GET':
      return data.has(key) ? data.get(key) : 'NIL';
    case 'SET':
      data.set(key, rest.join(' '));
      return 'OK';
    case 'INCR': {
      const n = (Number(data.get(key)) || 0) + 1;
      data.set(key, String(n));
      return String(n);
    }
    default:
      return 'ERR unknown command';
  }
}

const server = net.createServer((socket) => {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim()) socket.write(answer(line) + '\n');
    }
    if (buffered.length > 64 * 1024) socket.destroy(); // a line that never ends
  });
  socket.on('error', () => socket.destroy());
});
server.listen(port, host, () => console.log(`db listening on ${host}:${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
