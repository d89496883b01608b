import { fleetToWire } from '../../protocol/index.js';
import type { JobQueue } from '../../store/index.js';
import type { RoutePlugin } from '../create-server.js';

/**
 * `GET /v1/fleet` (fleet mode only): the nodes on the shared PostgreSQL with their roles, capabilities, heartbeats
 * and the jobs each runs. Behind the API keys like every `/v1` route. The node leaves the fleet with the server.
 */
export function fleetRoutes(queue: JobQueue): RoutePlugin {
  return (app) => {
    app.addHook('onClose', async () => queue.close());
    app.get('/v1/fleet', async () => {
      const { nodes, runs } = queue.snapshot();
      return fleetToWire(nodes, runs);
    });
  };
}
