/**
 * Docker publishes a port by connecting to the container's own address, so a service that
 * listens only on 127.0.0.1 inside (as the discovery env suggests) is unreachable through its
 * published port. For such a service the agent runs a relay inside the workspace, once it sees
 * the service listening on loopback only: it listens on the workspace's non-loopback addresses
 * at the same port and carries each connection to 127.0.0.1. It needs `node` in the workspace;
 * without it the service is still reachable inside, and a log line says why not from outside.
 */

const RELAY_JS = `const net=require('net'),os=require('os');const port=Number(process.argv[1]);
const addrs=Object.values(os.networkInterfaces()).flat().filter((a)=>a&&!a.internal&&(a.family==='IPv4'||a.family===4)).map((a)=>a.address);
if(!addrs.length){console.error('no non-loopback address to relay on');process.exit(2)}
for(const host of addrs){net.createServer({allowHalfOpen:true},(c)=>{const u=net.connect({host:'127.0.0.1',port,allowHalfOpen:true});
c.pipe(u);u.pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy());}).on('error',(e)=>{console.error(e.message);process.exit(e.code==='EADDRINUSE'?0:1)}).listen(port,host)}`;

const RELAY_SH = `if command -v node >/dev/null 2>&1; then exec node -e "$2" "$1"; fi
echo "no node in the workspace to relay port $1 from its loopback" >&2; exit 127`;

export function relayArgv(port: number): string[] {
  return ['/bin/sh', '-c', RELAY_SH, 'vendetta-relay', String(port), RELAY_JS];
}
