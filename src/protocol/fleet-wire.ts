/** `GET /v1/fleet` (atelier extension): the nodes sharing one PostgreSQL, in the API's snake_case. */

/** A node as the store keeps it (camelCase, Unix milliseconds). */
export interface FleetNodeSource {
  id: string;
  role: string;
  capabilities: string[];
  pid: number;
  startedAt: number;
  heartbeatAt: number;
}

/** A claimed queue job as the store keeps it. */
export interface FleetRunSource {
  queueJobId: string;
  queue: string;
  node: string;
  data: Record<string, unknown>;
  startedAt: number;
}

/** One node on the wire; times in Unix seconds like every other atelier timestamp. */
export interface FleetNodeWire {
  object: 'fleet.node';
  id: string;
  role: string;
  capabilities: string[];
  pid: number;
  started_at: number;
  heartbeat_at: number;
  /** Seconds since its last heartbeat (a node past the fleet's stale limit has lost its jobs to the others). */
  heartbeat_age_s: number;
  /** What it runs now: the queue and the job id (`ftjob-…`) of each claimed job. */
  running: { queue: string; job_id: string | null; started_at: number }[];
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

/** The fleet list: every node with the jobs it holds. */
export function fleetToWire(
  nodes: FleetNodeSource[],
  runs: FleetRunSource[],
  now = Date.now(),
): { object: 'list'; data: FleetNodeWire[] } {
  return {
    object: 'list',
    data: nodes.map((node) => ({
      object: 'fleet.node',
      id: node.id,
      role: node.role,
      capabilities: node.capabilities,
      pid: node.pid,
      started_at: seconds(node.startedAt),
      heartbeat_at: seconds(node.heartbeatAt),
      heartbeat_age_s: Math.max(0, Math.round((now - node.heartbeatAt) / 1000)),
      running: runs
        .filter((run) => run.node === node.id)
        .map((run) => ({
          queue: run.queue,
          job_id: typeof run.data.jobId === 'string' ? run.data.jobId : null,
          started_at: seconds(run.startedAt),
        })),
    })),
  };
}
