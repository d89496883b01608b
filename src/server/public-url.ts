import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { AtelierConfig } from './config-schema.js';

/**
 * The base of URLs the server puts in responses (image `url`s): `publicUrl` from the configuration, else
 * `http://<host>:<port>` of the socket it listens on (a wildcard address reads as loopback: set `publicUrl` to be
 * reachable from elsewhere). Never the request's `Host`, which a client — or a DNS-rebinding page — chooses.
 */
export function publicBaseUrl(app: FastifyInstance, config: AtelierConfig): string {
  if (config.publicUrl !== '') return config.publicUrl.replace(/\/+$/, '');
  const address = app.server.address() as AddressInfo | null;
  const port = address?.port ?? config.port;
  const host = address?.address ?? config.host;
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}
