/**
 * The outbound policy on its own: the address classifier against every spelling of a local address an attacker uses,
 * and outboundFetch against real loopback servers (allow-listed as 127.0.0.2 — Linux routes all of 127/8) for
 * redirects, byte and time caps, schemes and credentials.
 */
import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createAddressPolicy, outboundFetch, OutboundError, parseAddress } from '../../src/util/index.js';

const refused = [
  '127.0.0.1',
  '127.255.255.254',
  '0x7f000001',
  '2130706433',
  '0177.0.0.1',
  '127.1',
  '0x7f.1',
  '017700000001',
  '::ffff:127.0.0.1',
  '[::ffff:127.0.0.1]',
  '::ffff:7f00:1',
  '0:0:0:0:0:ffff:7f00:1',
  '::127.0.0.1',
  '::1',
  '[::1]',
  '0:0:0:0:0:0:0:1',
  '0.0.0.0',
  '0',
  '::',
  '10.0.0.1',
  '172.16.0.1',
  '172.31.255.255',
  '192.168.1.1',
  '::ffff:10.0.0.1',
  '100.64.0.1',
  '100.127.255.254',
  '169.254.169.254',
  '::ffff:169.254.169.254',
  'fe80::1',
  'fc00::1',
  'fd12:3456::1',
  '224.0.0.1',
  '239.255.255.250',
  'ff02::1',
  '255.255.255.255',
  '240.0.0.1',
  '192.0.2.1',
  '198.51.100.7',
  '203.0.113.9',
  '198.18.0.1',
  '192.0.0.8',
  '2001:db8::1',
  '64:ff9b::7f00:1',
  '2002:7f00:1::1',
  '2001::1',
  'fec0::1',
];
const allowed = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.215.14',
  '172.32.0.1',
  '100.128.0.1',
  '2606:4700:4700::1111',
  '2a00:1450:4001::200e',
  '::ffff:8.8.8.8',
];

test('every local, private and special spelling is refused; public unicast is allowed', () => {
  const policy = createAddressPolicy();
  for (const address of refused) assert.equal(policy.allowsAddress(address, address), false, address);
  for (const address of allowed) assert.equal(policy.allowsAddress(address, address), true, address);
  assert.equal(parseAddress('0x7f000001')?.toString(), '127.0.0.1');
  assert.equal(parseAddress('[::ffff:127.0.0.1]')?.toString(), '127.0.0.1');
  assert.equal(parseAddress('::127.0.0.1')?.toString(), '127.0.0.1');
  assert.equal(parseAddress('images.example.com'), null);
});

test('localhost names are refused whatever they resolve to; the allow-list takes hosts and CIDRs', () => {
  const policy = createAddressPolicy({ allow: ['127.0.0.2', '10.1.0.0/16', 'fd00::/8', 'Store.Internal.'] });
  assert.equal(policy.allowsAddress('8.8.8.8', 'localhost'), false);
  assert.equal(policy.allowsAddress('8.8.8.8', 'x.localhost.'), false);
  assert.equal(policy.allowsAddress('127.0.0.2', '127.0.0.2'), true);
  assert.equal(policy.allowsAddress('127.0.0.1', '127.0.0.1'), false);
  assert.equal(policy.allowsAddress('10.1.200.3', 'a.example'), true);
  assert.equal(policy.allowsAddress('10.2.0.1', 'a.example'), false);
  assert.equal(policy.allowsAddress('fd00::5', 'a.example'), true);
  assert.equal(policy.allowsAddress('192.168.0.9', 'store.internal'), true);
  const closed = createAddressPolicy({ allow: ['127.0.0.2'], publicInternet: false });
  assert.equal(closed.allowsAddress('8.8.8.8', '8.8.8.8'), false);
  assert.equal(closed.allowsAddress('127.0.0.2', '127.0.0.2'), true);
  assert.throws(() => createAddressPolicy({ allow: ['10.0.0.0/33'] }), /prefix \/33/);
  assert.throws(() => createAddressPolicy({ allow: ['http://x/'] }), /neither a host name/);
});

async function listen(handler: RequestListener, host: string): Promise<{ server: Server; base: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, base: `http://${host}:${(server.address() as AddressInfo).port}` };
}

test('outboundFetch: redirects re-checked and capped, bodies capped as they stream, slow answers cut', async (t) => {
  let victimHits = 0;
  const victim = await listen((_req, res) => {
    victimHits += 1;
    res.end('secret');
  }, '127.0.0.1');
  const store = await listen((req, res) => {
    if (req.url === '/ok') return res.end('fine');
    if (req.url === '/to-victim') return res.writeHead(302, { location: `${victim.base}/admin` }).end();
    if (req.url === '/to-localhost')
      return res.writeHead(307, { location: victim.base.replace('127.0.0.1', 'localhost') }).end();
    if (req.url?.startsWith('/loop')) return res.writeHead(302, { location: `/loop${req.url.length}` }).end();
    if (req.url === '/stream') {
      // No Content-Length: only counting the streamed bytes can stop this.
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      for (let i = 0; i < 64; i++) res.write(Buffer.alloc(1024, 1));
      return res.end();
    }
    if (req.url === '/slow') return setTimeout(() => res.end('late'), 2000);
    res.writeHead(404).end();
  }, '127.0.0.2');
  t.after(() => {
    victim.server.close();
    store.server.close();
  });
  const policy = createAddressPolicy({ allow: ['127.0.0.2'] });
  const options = { policy, maxBytes: 16 * 1024, timeoutMs: 5000 };
  const reason = async (url: string, extra = {}): Promise<string> => {
    try {
      const response = await outboundFetch(url, { ...options, ...extra });
      return `status ${response.status} ${await response.text()}`;
    } catch (error) {
      return error instanceof OutboundError ? error.reason : `other ${String(error)}`;
    }
  };
  assert.equal(await reason(`${store.base}/ok`), 'status 200 fine');
  assert.equal(await reason(`${store.base}/nope`), 'status 404 ');
  assert.equal(await reason(`${store.base}/to-victim`), 'address');
  assert.equal(await reason(`${store.base}/to-localhost`), 'address');
  assert.equal(await reason(`${store.base}/loop`), 'redirect');
  assert.equal(await reason(`${store.base}/stream`), 'too-large');
  assert.equal(await reason(`${store.base}/slow`, { timeoutMs: 300 }), 'timeout');
  for (const url of [
    victim.base,
    victim.base.replace('127.0.0.1', 'localhost'),
    victim.base.replace('127.0.0.1', '0x7f000001'),
    victim.base.replace('127.0.0.1', '[::ffff:127.0.0.1]'),
  ]) {
    assert.equal(await reason(url), 'address', url);
  }
  assert.equal(await reason('file:///etc/passwd'), 'url');
  assert.equal(await reason('ftp://127.0.0.2/'), 'url');
  assert.equal(await reason(`${store.base.replace('http://', 'http://user:pw@')}/ok`), 'url');
  assert.equal(victimHits, 0);
});
