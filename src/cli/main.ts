#!/usr/bin/env node
/**
 * The `checkups` command: `serve` runs the server, every other command is a small gRPC client
 * of it. Exit codes: 0 done, 1 the server (or the connection) said no, 2 bad usage or an
 * invalid input file (nothing was sent).
 */
import { status } from '@grpc/grpc-js';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_WEIGHT } from '../core/model.ts';
import type { Json } from '../wire/struct.ts';
import { CheckupsError } from '../util/errors.ts';
import { packageRoot } from '../util/package-root.ts';
import { CheckupsClient, CliError, DEFAULT_SERVER, DEFAULT_TIMEOUT_MS, parseHostPort, readUpstreamFile } from './client.ts';
import * as fmt from './format.ts';

interface ClientFlags {
  server: string;
  token?: string;
  tls?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
  timeout: number;
  json?: boolean;
}

/** What a client command prints: one form for people, one for scripts. */
interface Output {
  readonly human: string;
  readonly json: Json;
}

function intArg(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`must be an integer ${min}..${max}`);
    return n;
  };
}

function secondsArg(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number of seconds > 0');
  return Math.round(n * 1000);
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Declares a client command with the connection options every one of them takes. */
function clientCommand(parent: Command, nameAndArgs: string, description: string, run: (client: CheckupsClient, args: string[], opts: ClientFlags & Record<string, unknown>) => Promise<Output | undefined>): Command {
  return parent
    .command(nameAndArgs)
    .description(description)
    .addOption(new Option('--server <host:port>', 'checkups gRPC address').env('CHECKUPS_SERVER').default(DEFAULT_SERVER))
    .addOption(new Option('--token <token>', 'admin token, sent as authorization: Bearer').env('CHECKUPS_ADMIN_TOKEN'))
    .option('--tls', 'connect with TLS (system roots unless --ca)')
    .option('--ca <file>', 'CA bundle to verify the server (implies --tls)')
    .option('--cert <file>', 'client certificate for mTLS (with --key)')
    .option('--key <file>', 'client private key for mTLS')
    .option('--timeout <ms>', 'deadline of the call', intArg(1, 3_600_000), DEFAULT_TIMEOUT_MS)
    .option('--json', 'print the response as JSON (for scripts)')
    .action(async (...actionArgs: unknown[]) => {
      const self = actionArgs[actionArgs.length - 1] as Command;
      const opts = self.opts<ClientFlags & Record<string, unknown>>();
      const client = new CheckupsClient({ server: opts.server, token: opts.token, tls: opts.tls, ca: opts.ca, cert: opts.cert, key: opts.key, timeoutMs: opts.timeout });
      try {
        const out = await run(client, self.processedArgs as string[], opts);
        // undefined: the command printed as it went (streams).
        if (out !== undefined) process.stdout.write(`${opts.json === true ? fmt.json(out.json) : out.human}\n`);
      } finally {
        client.close();
      }
    });
}

const written = (skey: string, version: number): Output => ({ human: `${skey}: version ${version}`, json: { skey, version } });

function addClientCommands(program: Command): void {
  clientCommand(program, 'status', 'every upstream with peer health, passive state and the checker (GetStatus)', async (c) => {
    const res = await c.getStatus();
    return { human: fmt.formatStatus(res), json: fmt.statusJson(res) };
  });

  clientCommand(program, 'select <skey>', 'pick one peer the way select_peer does (SelectPeer; counts as a success)', async (c, [skey], o) => {
    const path = o['path'] as string | undefined;
    const clientIp = o['clientIp'] as string | undefined;
    const headerHashKey = o['headerHashKey'] as string | undefined;
    const peer = await c.selectPeer({
      skey: skey!,
      hashKey: (o['hashKey'] as string | undefined) ?? '',
      clusterKey: (o['clusterKey'] as string[] | undefined) ?? [],
      ...(path !== undefined || clientIp !== undefined || headerHashKey !== undefined ? { request: { path: path ?? '', clientIp: clientIp ?? '', headerHashKey: headerHashKey ?? '' } } : {}),
    });
    return { human: fmt.formatSelected(peer), json: fmt.selectedJson(peer) };
  })
    .option('--hash-key <key>', 'key for mode hash')
    .option('--cluster-key <key>', 'cluster to try, in order (repeat the option)', collect)
    .option('--path <path>', 'request path (url_hash)')
    .option('--client-ip <ip>', 'client address (ip_hash)')
    .option('--header-hash-key <key>', 'x-hash-key value (header_hash)');

  clientCommand(program, 'update <skey>', 'create or replace an upstream from a YAML/JSON file (UpdateUpstream)', async (c, [skey], o) => {
    const { request } = await readUpstreamFile(skey!, o['file'] as string);
    try {
      return written(`updated ${skey!}`, await c.updateUpstream(request));
    } catch (err) {
      // The server's validation said no: an invalid file, as offline.
      if (err instanceof CliError && err.grpcCode === status.INVALID_ARGUMENT) throw new CliError(err.message, 2, err.grpcCode);
      throw err;
    }
  }).requiredOption('-f, --file <file>', 'the upstream document (with cluster:), or only a cluster list/map to keep the stored options; - reads stdin');

  clientCommand(program, 'delete <skey>', 'remove an upstream (DeleteUpstream)', async (c, [skey]) => {
    const version = await c.deleteUpstream(skey!);
    return { human: `deleted ${skey!}`, json: { skey: skey!, version } };
  });

  clientCommand(program, 'get <skey>', "an upstream's configuration, as YAML (GetUpstream)", async (c, [skey]) => {
    const res = await c.getUpstream(skey!);
    return { human: fmt.formatUpstreamYaml(skey!, res), json: fmt.upstreamJson(skey!, res) };
  });

  clientCommand(program, 'list', 'every upstream with version, typ, mode and size (ListUpstreams)', async (c) => {
    const res = await c.listUpstreams();
    return { human: fmt.formatList(res), json: fmt.listJson(res) };
  });

  clientCommand(program, 'peers <skey>', "an upstream's servers per cluster with their status (GetServers)", async (c, [skey]) => {
    const res = await c.getServers(skey!);
    return { human: fmt.formatServers(skey!, res), json: fmt.serversJson(skey!, res) };
  });

  clientCommand(program, 'version', "this CLI's version and the server's (GetStatus)", async (c) => {
    const client = version();
    const server = (await c.getStatus()).serverVersion;
    return { human: `client ${client}\nserver ${server === '' ? 'unknown (older than 0.1)' : server}`, json: { client, server } };
  });

  clientCommand(program, 'events', 'the event and audit trail: health transitions, admin changes, refused calls, reloads (WatchEvents)', async (c, _args, o) => {
    const follow = o['follow'] === true;
    const kinds = (o['kind'] as string[] | undefined) ?? [];
    await c.watchEvents({ follow, last: o['last'] as number, kinds }, (res) => {
      if (res.missed > 0) process.stderr.write(`(missed ${res.missed} events: this reader fell behind the server's event buffer)\n`);
      for (const e of res.events) process.stdout.write(`${o.json === true ? JSON.stringify(fmt.eventJson(e)) : fmt.formatEvent(e)}\n`);
    });
    return undefined;
  })
    .option('-f, --follow', 'keep printing new events as they happen')
    .option('--last <n>', 'how many of the newest held events to print first', intArg(0, 1_000_000), 20)
    .option('--kind <kind>', 'only this kind: health, admin, auth, config (repeat the option)', collect)
    .addHelpText('after', '\n--json prints one JSON object per line (NDJSON).');

  const peer = program.command('peer').description('change one server of an upstream (ngx_dynamic_upstream add/remove/update/down/up)');
  clientCommand(peer, 'add <skey> <host:port>', 'add a server to a cluster (AddPeer)', async (c, [skey, addr], o) => {
    const { host, port } = parseHostPort(addr!);
    const server = { host, port, weight: (o['weight'] as number | undefined) ?? 0, maxFails: (o['maxFails'] as number | undefined) ?? 0, failTimeoutMs: (o['failTimeout'] as number | undefined) ?? 0, down: o['down'] === true };
    return written(skey!, await c.addPeer({ skey: skey!, cluster: (o['cluster'] as string | undefined) ?? '', server }));
  })
    .option('--cluster <key>', 'level ("1", "2", ...) or cluster name; created if new', '1')
    .option('--weight <n>', 'weight (default 1)', intArg(1, MAX_WEIGHT))
    .option('--max-fails <n>', 'failures within fail_timeout that take it out (0 = off)', intArg(0, 1_000_000))
    .option('--fail-timeout <seconds>', 'passive window and exclusion (default 10)', secondsArg)
    .option('--down', 'add it taken out of rotation');
  clientCommand(peer, 'remove <skey> <host:port>', 'remove a server from one cluster, or from all (RemovePeer)', async (c, [skey, addr], o) => {
    const { host, port } = parseHostPort(addr!);
    return written(skey!, await c.removePeer(skey!, host, port, (o['cluster'] as string | undefined) ?? ''));
  }).option('--cluster <key>', 'only from this cluster (default: every cluster listing it)');
  clientCommand(peer, 'update <skey> <host:port>', "change a server's weight, max_fails or fail_timeout everywhere it is listed (UpdatePeer)", async (c, [skey, addr], o) => {
    const { host, port } = parseHostPort(addr!);
    const weight = o['weight'] as number | undefined;
    const maxFails = o['maxFails'] as number | undefined;
    const failTimeoutMs = o['failTimeout'] as number | undefined;
    if (weight === undefined && maxFails === undefined && failTimeoutMs === undefined) throw new CliError('peer update: give --weight, --max-fails or --fail-timeout', 2);
    return written(skey!, await c.updatePeer({ skey: skey!, host, port, ...(weight !== undefined ? { weight } : {}), ...(maxFails !== undefined ? { maxFails } : {}), ...(failTimeoutMs !== undefined ? { failTimeoutMs } : {}) }));
  })
    .option('--weight <n>', 'new weight', intArg(1, MAX_WEIGHT))
    .option('--max-fails <n>', 'new max_fails (0 = off)', intArg(0, 1_000_000))
    .option('--fail-timeout <seconds>', 'new fail_timeout', secondsArg);
  clientCommand(peer, 'down <skey> <host:port>', 'take a server out of rotation everywhere it is listed (SetPeerDown)', async (c, [skey, addr]) => {
    const { host, port } = parseHostPort(addr!);
    return written(skey!, await c.setPeerDown(skey!, host, port));
  });
  clientCommand(peer, 'up <skey> <host:port>', 'put a server back into rotation (SetPeerUp)', async (c, [skey, addr]) => {
    const { host, port } = parseHostPort(addr!);
    return written(skey!, await c.setPeerUp(skey!, host, port));
  });
}

interface ServeFlags {
  config?: string;
  grpcListen?: string;
  httpListen?: string;
  dataDir?: string;
  allowInsecureAdmin?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  maxMessageBytes?: number;
  store?: string;
  cluster?: string;
  instanceId?: string;
  logLevel: string;
}

async function serve(o: ServeFlags): Promise<void> {
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new CliError('--tls-cert and --tls-key go together', 2);
  if (o.tlsClientCa !== undefined && o.tlsCert === undefined) throw new CliError('--tls-client-ca needs --tls-cert and --tls-key', 2);
  // Loaded here so that client commands do not pay for the server's modules.
  const [{ startCheckups }, { default: pino }, { default: pretty }] = await Promise.all([import('../main.ts'), import('pino'), import('pino-pretty')]);
  const log = process.stdout.isTTY
    ? pino({ level: o.logLevel }, pretty({ colorize: true, sync: true, translateTime: 'SYS:standard', ignore: 'pid,hostname' }))
    : pino({ level: o.logLevel }, pino.destination({ dest: 1, sync: true }));
  const checkups = await startCheckups({
    ...(o.config !== undefined ? { configFile: o.config } : {}),
    ...(o.grpcListen !== undefined ? { grpcListen: o.grpcListen } : {}),
    ...(o.httpListen !== undefined ? { httpListen: o.httpListen } : {}),
    ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}),
    ...(o.allowInsecureAdmin === true ? { allowInsecureAdmin: true } : {}),
    ...(o.tlsCert !== undefined && o.tlsKey !== undefined
      ? { tls: { certFile: o.tlsCert, keyFile: o.tlsKey, ...(o.tlsClientCa !== undefined ? { clientCaFile: o.tlsClientCa } : {}) } }
      : {}),
    ...(o.maxMessageBytes !== undefined ? { maxMessageBytes: o.maxMessageBytes } : {}),
    ...(o.store !== undefined ? { store: o.store } : {}),
    ...(o.cluster !== undefined ? { clusterName: o.cluster } : {}),
    ...(o.instanceId !== undefined ? { instanceId: o.instanceId } : {}),
    logger: log,
  });
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ module: 'cli', signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    log.info({ module: 'cli', signal }, 'stopping: draining streams and calls (up to 5 s)');
    checkups.stop(5000).then(
      () => {
        log.info({ module: 'cli' }, 'stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ module: 'cli', err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // SIGHUP reloads the config file (validated first; an invalid file changes nothing).
  process.on('SIGHUP', () => {
    if (!stopping) checkups.reload();
  });
}

/** `checkups import lua|nginx FILE [-o OUT]`: the converters live in src/import/; this prints and writes. */
function addImportCommands(program: Command): void {
  const imp = program.command('import').description('convert a lua-resty-checkups config.lua or an nginx.conf into a checkups.yaml');
  const run = async (kind: 'lua' | 'nginx', file: string, o: { output?: string }): Promise<void> => {
    const [{ renderImport, formatProblem }, { writeFileSync }] = await Promise.all([import('../import/document.ts'), import('node:fs')]);
    let result: import('../import/document.ts').ImportResult;
    try {
      result = kind === 'lua' ? (await import('../import/lua.ts')).importLuaConfig(readFileSync(file, 'utf8'), file) : (await import('../import/nginx.ts')).importNginxConfig(file);
    } catch (err) {
      throw new CliError(`cannot read ${file}: ${(err as Error).message}`, 2);
    }
    const text = renderImport(result, file, kind);
    for (const p of result.problems) process.stderr.write(`${formatProblem(p)}\n`);
    const n = Object.keys(result.config.upstreams).length;
    if (o.output !== undefined) writeFileSync(o.output, text);
    else process.stdout.write(text);
    const k = result.problems.length;
    process.stderr.write(`${n} upstream${n === 1 ? '' : 's'} imported${o.output !== undefined ? ` into ${o.output}` : ''}; ${k} construct${k === 1 ? '' : 's'} not carried as written${k > 0 ? ' (listed above and at the top of the output)' : ''}\n`);
    if (n === 0) process.exitCode = 1;
  };
  imp
    .command('lua <file>')
    .description('a lua-resty-checkups config module (read as data with a Lua parser, never run)')
    .option('-o, --output <file>', 'write the YAML here instead of stdout')
    .action((file: string, o: { output?: string }) => run('lua', file, o));
  imp
    .command('nginx <file>')
    .description('the upstream {} blocks of an nginx.conf, following include')
    .option('-o, --output <file>', 'write the YAML here instead of stdout')
    .action((file: string, o: { output?: string }) => run('nginx', file, o));
}

function buildProgram(): Command {
  const program = new Command('checkups')
    .description('discovery and health checking for service upstreams: run the server, or talk to a running one')
    .version(version())
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');
  program
    .command('serve')
    .description('run the server: gRPC API, HTTP status, health checks')
    .option('--config <file>', 'checkups.yaml (default: the embedded examples/checkups.yaml)')
    .option('--grpc-listen <host:port>', 'gRPC address (default: server.grpc_listen or 127.0.0.1:7600)')
    .option('--http-listen <host:port>', 'HTTP status address (default: server.http_listen or 127.0.0.1:7601)')
    .option('--data-dir <dir>', 'where admin changes are kept (default: server.data_dir or ./checkups-data)')
    .option('--allow-insecure-admin', 'serve the admin API without a token beyond loopback anyway')
    .option('--tls-cert <file>', 'server certificate (PEM), with --tls-key')
    .option('--tls-key <file>', 'server private key (PEM)')
    .option('--tls-client-ca <file>', 'require client certificates signed by this CA (mTLS)')
    .option('--max-message-bytes <n>', 'largest request accepted', intArg(1024, 2 ** 31 - 1))
    .option('--store <redis://host:port/db>', 'cluster mode: keep admin changes in this Redis and share probing and verdicts with the other instances (default: server.store; docs/cluster.md)')
    .option('--cluster <name>', 'cluster name, so several clusters can share one Redis (default: server.cluster or "default")')
    .option('--instance-id <id>', "this instance's id in the cluster (default: host name and pid)")
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'))
    .addHelpText('after', '\nThe admin token comes from CHECKUPS_ADMIN_TOKEN or server.admin_token. SIGTERM/SIGINT drain and exit 0; SIGHUP reloads the config file.')
    .action((o: ServeFlags) => serve(o));
  addImportCommands(program);
  addClientCommands(program);
  return program;
}

function fail(err: unknown): void {
  if (err instanceof CommanderError) {
    // Commander printed the message (or the help) already.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else if (err instanceof CliError) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else if (err instanceof CheckupsError) {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env['CHECKUPS_DEBUG'] !== undefined && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`);
    process.exitCode = 1;
  }
}

buildProgram().parseAsync(process.argv).catch(fail);
