// Child process for debris.test.ts: serves the files routes over the home in argv[2] and prints its port, until the
// parent kills it with SIGKILL in the middle of an upload.
import { ModelRegistry } from '../../src/models/index.js';
import { createServer, defaultConfig } from '../../src/server/index.js';
import { filesRoutes } from '../../src/server/routes/files.js';
import { openStore } from '../../src/store/index.js';

const home = process.argv[2]!;
const store = openStore(home);
const config = { ...defaultConfig(), home, port: 0, logLevel: 'silent' as const };
const app = await createServer({ store, registry: new ModelRegistry(store), config }, [filesRoutes()]);
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening ${new URL(url).port}\n`);
