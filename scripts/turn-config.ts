// Print coturn's turnserver.conf for this moim deployment, from the same environment moim reads
// (MOIM_TURN_URLS, MOIM_TURN_SECRET, MOIM_RTC_LISTEN): TURN over TLS only on the port of the
// turns: URL, moim's shared secret, relaying only to the SFU's addresses, per-person allocations
// bounded by MOIM_MAX_CONNECTIONS_PER_PERSON × 4.
//
//   MOIM_TURN_URLS='["turns:turn.example.org:443?transport=tcp"]' MOIM_TURN_SECRET=... \
//   MOIM_RTC_LISTEN='[{"ip":"0.0.0.0","announcedAddress":"203.0.113.5"}]' \
//   node scripts/turn-config.ts --cert /etc/coturn/fullchain.pem --pkey /etc/coturn/privkey.pem > /etc/turnserver.conf
//
// Options: --cert, --pkey (PEM files; default /etc/coturn/certs/fullchain.pem and privkey.pem),
// --listening-ip, --relay-ip, --realm, --min-port, --max-port, and --peer <ip> (repeatable) for the
// SFU addresses of the other nodes of a cluster (each node's MOIM_RTC_LISTEN differs).
import { parseArgs } from 'node:util';
import { CONFIG_VARS, ConfigError } from '../server/src/config.ts';
import { coturnConfig } from '../server/src/media/coturnConfig.ts';

const { values } = parseArgs({
  options: {
    cert: { type: 'string', default: '/etc/coturn/certs/fullchain.pem' },
    pkey: { type: 'string', default: '/etc/coturn/certs/privkey.pem' },
    'listening-ip': { type: 'string' },
    'relay-ip': { type: 'string' },
    realm: { type: 'string' },
    'min-port': { type: 'string' },
    'max-port': { type: 'string' },
    peer: { type: 'string', multiple: true, default: [] },
  },
});

try {
  // only the variables this needs (not loadConfig: no data folder or JWT secret is involved)
  const v = CONFIG_VARS;
  const urls = v.turnUrls.parse(process.env[v.turnUrls.env], v.turnUrls.env);
  const secret = v.turnSecret.parse(process.env[v.turnSecret.env], v.turnSecret.env);
  const sfuAddresses = v.rtcListen.parse(process.env[v.rtcListen.env], v.rtcListen.env);
  const connections = v.maxConnectionsPerPerson.parse(
    process.env[v.maxConnectionsPerPerson.env],
    v.maxConnectionsPerPerson.env,
  );
  if (!secret) throw new ConfigError(v.turnSecret.env, 'is required (generate one with: openssl rand -base64 48)');
  const port = (name: 'min-port' | 'max-port') => (values[name] === undefined ? undefined : Number(values[name]));
  const minPort = port('min-port');
  const maxPort = port('max-port');
  process.stdout.write(
    coturnConfig({
      urls,
      secret,
      sfuAddresses: [...sfuAddresses, ...values.peer.map((ip) => ({ ip }))],
      // each connection of a person: a send and a receive transport, a relay per local address (say 2)
      userQuota: connections * 4,
      cert: values.cert,
      pkey: values.pkey,
      ...(values['listening-ip'] ? { listeningIp: values['listening-ip'] } : {}),
      ...(values['relay-ip'] ? { relayIp: values['relay-ip'] } : {}),
      ...(values.realm ? { realm: values.realm } : {}),
      ...(minPort === undefined ? {} : { minPort }),
      ...(maxPort === undefined ? {} : { maxPort }),
    }),
  );
} catch (err) {
  console.error(`turn-config: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
