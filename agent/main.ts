import { AGENT_VERSION } from './version';
process.stdout.write(AGENT_VERSION + '\n');
