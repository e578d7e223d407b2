// Sends one command to the db service and resolves with its one-line answer.
import net from 'node:net';

export function dbCommand(command, timeoutMs = 1000) {
  const host = process.env.VENDETTA_SERVICE_DB_HOST || '127.0.0.1';
  const port = Number(process.env.VENDETTA_SERVICE_DB_PORT || 7070);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let reply = '';
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`db at ${host}:${port} did not answer in ${timeoutMs} ms`)));
    socket.on('connect', () => socket.write(command + '\n'));
    socket.on('data', (chunk) => {
      reply += chunk;
      const nl = reply.indexOf('\n');
      if (nl >= 0) {
        socket.end();
        resolve(reply.slice(0, nl));
      }
    });
    socket.on('error', reject);
  });
}
