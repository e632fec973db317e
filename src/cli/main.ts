#!/usr/bin/env node
/**
 * The `checkups` command: `serve` runs the server, every other command is a small client of it
 * built on the SDK's AdminClient. Exit codes: exit-codes.ts (and `checkups --help`).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_WEIGHT } from '../core/model.ts';
import type { Json } from '../wire/struct.ts';
import { CheckupsError } from '../util/errors.ts';
import { packageRoot } from '../util/package-root.ts';
import type { AdminClient, WriteResult } from '../client/admin.ts';
import { addServer, removeServer, replaceClusters, setServerDown, updateServer } from '../config/edit.ts';
import type { DocumentEdit } from '../core/write-path.ts';
import { msToSeconds } from '../config/units.ts';
import { CliError, connect, DEFAULT_SERVER, DEFAULT_TIMEOUT_MS, describeError, parseHostPort, readUpstreamFile } from './client.ts';
import { normalized, planDelete, planEdit, type Plan } from './dry-run.ts';
import { EXIT, EXIT_CODES_HELP, exitCodeOf } from './exit-codes.ts';
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
function clientCommand(parent: Command, nameAndArgs: string, description: string, run: (admin: AdminClient, args: string[], opts: ClientFlags & Record<string, unknown>) => Promise<Output | undefined>): Command {
  return parent
    .command(nameAndArgs)
    .description(description)
    .addOption(new Option('--server <host:port>', 'checkups gRPC address').env('CHECKUPS_SERVER').default(DEFAULT_SERVER))
    .addOption(new Option('--token <token>', 'token (admin; or read/feedback for status, select), sent as authorization: Bearer; else CHECKUPS_TOKEN').env('CHECKUPS_ADMIN_TOKEN'))
    .option('--tls', 'connect with TLS (system roots unless --ca)')
    .option('--ca <file>', 'CA bundle to verify the server (implies --tls)')
    .option('--cert <file>', 'client certificate for mTLS (with --key)')
    .option('--key <file>', 'client private key for mTLS')
    .option('--timeout <ms>', 'deadline of the call', intArg(1, 3_600_000), DEFAULT_TIMEOUT_MS)
    .option('--json', 'print the result as JSON (for scripts; the vocabulary of checkups.yaml)')
    .action(async (...actionArgs: unknown[]) => {
      const self = actionArgs[actionArgs.length - 1] as Command;
      const opts = self.opts<ClientFlags & Record<string, unknown>>();
      const flags = { server: opts.server, token: opts.token, tls: opts.tls, ca: opts.ca, cert: opts.cert, key: opts.key, timeoutMs: opts.timeout };
      const admin = connect(flags);
      try {
        const out = await run(admin, self.processedArgs as string[], opts);
        // undefined: the command printed as it went (streams).
        if (out !== undefined) process.stdout.write(`${opts.json === true ? fmt.json(out.json) : out.human}\n`);
      } catch (err) {
        throw err instanceof CheckupsError ? describeError(err, flags) : err;
      } finally {
        admin.close();
      }
    });
}

/** A write: applied (its new version), or with --dry-run the difference it would make. */
async function write(o: Record<string, unknown>, verb: string, plan: () => Promise<Plan>, apply: () => Promise<WriteResult>): Promise<Output> {
  if (o['dryRun'] === true) {
    const p = await plan();
    const changed = JSON.stringify(p.before) !== JSON.stringify(p.after);
    return { human: fmt.formatDiff(p.skey, p.version, p.before, p.after), json: { skey: p.skey, dry_run: true, changed, version: p.version, before: p.before, after: p.after } as unknown as Json };
  }
  const r = await apply();
  return { human: `${verb}${r.skey}: version ${r.version}`, json: { skey: r.skey, version: r.version } };
}

const DRY_RUN = ['--dry-run', 'show the difference the change would make, change nothing'] as const;

function addClientCommands(program: Command): void {
  clientCommand(program, 'status', 'every upstream with peer health, passive state and the checker (GetStatus)', async (c) => {
    const res = await c.status();
    return { human: fmt.formatStatus(res), json: res as unknown as Json };
  });

  clientCommand(program, 'select <skey>', 'pick one peer the way select_peer does (SelectPeer; counts as a success)', async (c, [skey], o) => {
    const path = o['path'] as string | undefined;
    const clientIp = o['clientIp'] as string | undefined;
    const headerHashKey = o['headerHashKey'] as string | undefined;
    const hashKey = o['hashKey'] as string | undefined;
    const clusterKey = o['clusterKey'] as string[] | undefined;
    const peer = await c.select(skey!, {
      ...(hashKey !== undefined ? { hashKey } : {}),
      ...(clusterKey !== undefined ? { clusterKey } : {}),
      ...(path !== undefined || clientIp !== undefined || headerHashKey !== undefined
        ? { request: { ...(path !== undefined ? { path } : {}), ...(clientIp !== undefined ? { clientIp } : {}), ...(headerHashKey !== undefined ? { headerHashKey } : {}) } }
        : {}),
    });
    return { human: fmt.formatSelected(peer), json: { ...peer } };
  })
    .option('--hash-key <key>', 'key for mode hash')
    .option('--cluster-key <key>', 'cluster to try, in order (repeat the option)', collect)
    .option('--path <path>', 'request path (url_hash)')
    .option('--client-ip <ip>', 'client address (ip_hash)')
    .option('--header-hash-key <key>', 'x-hash-key value (header_hash)');

  clientCommand(program, 'update <skey>', 'create or replace an upstream from a YAML/JSON file (UpdateUpstream)', async (c, [skey], o) => {
    const file = o['file'] as string;
    const body = readUpstreamFile(file);
    const source = file === '-' ? 'stdin' : file;
    // A whole upstream is checked here first: an invalid file sends nothing.
    if ('upstream' in body) normalized(skey!, body.upstream, source);
    return write(o, 'updated ', () => planEdit(c, skey!, 'upstream' in body ? () => body.upstream : replaceClusters(body.cluster), source), () => c.update(skey!, body));
  })
    .requiredOption('-f, --file <file>', 'the upstream document (with cluster:), or only a cluster list/map to keep the stored options; - reads stdin')
    .option(...DRY_RUN);

  clientCommand(program, 'delete <skey>', 'remove an upstream (DeleteUpstream)', async (c, [skey], o) =>
    write(o, 'deleted ', () => planDelete(c, skey!), () => c.delete(skey!)),
  ).option(...DRY_RUN);

  clientCommand(program, 'get <skey>', "an upstream's configuration, as YAML (GetUpstream)", async (c, [skey]) => {
    const doc = await c.get(skey!);
    return { human: fmt.formatUpstreamYaml(doc), json: doc as unknown as Json };
  });

  clientCommand(program, 'list', 'every upstream with version, typ, mode and size (ListUpstreams)', async (c) => {
    const upstreams = await c.list();
    return { human: fmt.formatList(upstreams), json: { upstreams } as unknown as Json };
  });

  clientCommand(program, 'peers <skey>', "an upstream's servers per cluster with their status (GetServers)", async (c, [skey]) => {
    const res = await c.servers(skey!);
    return { human: fmt.formatServers(res), json: res as unknown as Json };
  });

  clientCommand(program, 'version', "this CLI's version and the server's (GetStatus)", async (c) => {
    const client = version();
    const server = (await c.status()).server_version;
    return { human: `client ${client}\nserver ${server === '' ? 'unknown (older than 0.1)' : server}`, json: { client, server } };
  });

  clientCommand(program, 'events', 'the event and audit trail: health transitions, admin changes, refused calls, reloads (WatchEvents)', async (c, _args, o) => {
    const follow = o['follow'] === true;
    const kinds = (o['kind'] as string[] | undefined) ?? [];
    await c.events({ follow, last: o['last'] as number, kinds }, (events, missed) => {
      if (missed > 0) process.stderr.write(`(missed ${missed} events: this reader fell behind the server's event buffer)\n`);
      for (const e of events) process.stdout.write(`${o.json === true ? JSON.stringify(e) : fmt.formatEvent(e)}\n`);
    });
    return undefined;
  })
    .option('-f, --follow', 'keep printing new events as they happen')
    .option('--last <n>', 'how many of the newest held events to print first', intArg(0, 1_000_000), 20)
    .option('--kind <kind>', 'only this kind: health, admin, auth, config (repeat the option)', collect)
    .addHelpText('after', '\n--json prints one JSON object per line (NDJSON).');

  const peer = program.command('peer').description('change one server of an upstream (ngx_dynamic_upstream add/remove/update/down/up)');
  const peerEdit = (c: AdminClient, skey: string, o: Record<string, unknown>, edit: DocumentEdit, apply: () => Promise<WriteResult>): Promise<Output> =>
    write(o, '', () => planEdit(c, skey, edit, 'peer change'), apply);
  const cluster = (o: Record<string, unknown>): string | undefined => o['cluster'] as string | undefined;

  clientCommand(peer, 'add <skey> <host:port>', 'add a server to a cluster (AddPeer)', async (c, [skey, addr], o) => {
    const weight = o['weight'] as number | undefined;
    const maxFails = o['maxFails'] as number | undefined;
    const failTimeoutMs = o['failTimeout'] as number | undefined;
    const server = {
      ...parseHostPort(addr!),
      ...(weight !== undefined ? { weight } : {}),
      ...(maxFails !== undefined ? { max_fails: maxFails } : {}),
      ...(failTimeoutMs !== undefined ? { fail_timeout: msToSeconds(failTimeoutMs) } : {}),
      ...(o['down'] === true ? { down: true } : {}),
    };
    const added = { host: server.host, port: server.port, weight: weight ?? 0, maxFails: maxFails ?? 0, failTimeoutMs: failTimeoutMs ?? 0, down: o['down'] === true };
    return peerEdit(c, skey!, o, addServer(skey!, cluster(o) ?? '', added), () => c.peers.add(skey!, server, { cluster: cluster(o) ?? '1' }));
  })
    .option('--cluster <key>', 'level ("1", "2", ...) or cluster name; created if new', '1')
    .option('--weight <n>', 'weight (default 1)', intArg(1, MAX_WEIGHT))
    .option('--max-fails <n>', 'failures within fail_timeout that take it out (0 = off)', intArg(0, 1_000_000))
    .option('--fail-timeout <seconds>', 'passive window and exclusion (default 10)', secondsArg)
    .option('--down', 'add it taken out of rotation')
    .option(...DRY_RUN);
  clientCommand(peer, 'remove <skey> <host:port>', 'remove a server from one cluster, or from all (RemovePeer)', async (c, [skey, addr], o) => {
    const at = parseHostPort(addr!);
    return peerEdit(c, skey!, o, removeServer(skey!, at.host, at.port, cluster(o) ?? ''), () => c.peers.remove(skey!, at, { ...(cluster(o) !== undefined ? { cluster: cluster(o)! } : {}) }));
  })
    .option('--cluster <key>', 'only from this cluster (default: every cluster listing it)')
    .option(...DRY_RUN);
  clientCommand(peer, 'update <skey> <host:port>', "change a server's weight, max_fails or fail_timeout everywhere it is listed (UpdatePeer)", async (c, [skey, addr], o) => {
    const at = parseHostPort(addr!);
    const weight = o['weight'] as number | undefined;
    const maxFails = o['maxFails'] as number | undefined;
    const failTimeoutMs = o['failTimeout'] as number | undefined;
    if (weight === undefined && maxFails === undefined && failTimeoutMs === undefined) throw new CliError('peer update: give --weight, --max-fails or --fail-timeout', EXIT.usage);
    const change = {
      ...(weight !== undefined ? { weight } : {}),
      ...(maxFails !== undefined ? { max_fails: maxFails } : {}),
      ...(failTimeoutMs !== undefined ? { fail_timeout: msToSeconds(failTimeoutMs) } : {}),
    };
    const changes = { ...(weight !== undefined ? { weight } : {}), ...(maxFails !== undefined ? { maxFails } : {}), ...(failTimeoutMs !== undefined ? { failTimeoutMs } : {}) };
    return peerEdit(c, skey!, o, updateServer(skey!, at.host, at.port, changes), () => c.peers.update(skey!, at, change));
  })
    .option('--weight <n>', 'new weight', intArg(1, MAX_WEIGHT))
    .option('--max-fails <n>', 'new max_fails (0 = off)', intArg(0, 1_000_000))
    .option('--fail-timeout <seconds>', 'new fail_timeout', secondsArg)
    .option(...DRY_RUN);
  clientCommand(peer, 'down <skey> <host:port>', 'take a server out of rotation everywhere it is listed (SetPeerDown)', async (c, [skey, addr], o) => {
    const at = parseHostPort(addr!);
    return peerEdit(c, skey!, o, setServerDown(skey!, at.host, at.port, true), () => c.peers.down(skey!, at));
  }).option(...DRY_RUN);
  clientCommand(peer, 'up <skey> <host:port>', 'put a server back into rotation (SetPeerUp)', async (c, [skey, addr], o) => {
    const at = parseHostPort(addr!);
    return peerEdit(c, skey!, o, setServerDown(skey!, at.host, at.port, false), () => c.peers.up(skey!, at));
  }).option(...DRY_RUN);
}

interface ServeFlags {
  config?: string;
  grpcListen?: string;
  httpListen?: string;
  dataDir?: string;
  allowInsecureAdmin?: boolean;
  discoveryAuth?: 'auto' | 'required' | 'off';
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
    ...(o.discoveryAuth !== undefined ? { discoveryAuth: o.discoveryAuth } : {}),
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
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP);
  program
    .command('serve')
    .description('run the server: gRPC API, HTTP status, health checks')
    .option('--config <file>', 'checkups.yaml (default: the embedded examples/checkups.yaml)')
    .option('--grpc-listen <host:port>', 'gRPC address (default: server.grpc_listen or 127.0.0.1:7600)')
    .option('--http-listen <host:port>', 'HTTP status address (default: server.http_listen or 127.0.0.1:7601)')
    .option('--data-dir <dir>', 'where admin changes are kept (default: server.data_dir or ./checkups-data)')
    .option('--allow-insecure-admin', 'serve the admin API without a token beyond loopback anyway')
    .addOption(new Option('--discovery-auth <mode>', 'when reads and feedback need a token (default: server.discovery_auth or auto: beyond loopback)').choices(['auto', 'required', 'off']))
    .option('--tls-cert <file>', 'server certificate (PEM), with --tls-key')
    .option('--tls-key <file>', 'server private key (PEM)')
    .option('--tls-client-ca <file>', 'require client certificates signed by this CA (mTLS)')
    .option('--max-message-bytes <n>', 'largest request accepted', intArg(1024, 2 ** 31 - 1))
    .option('--store <redis://host:port/db>', 'cluster mode: keep admin changes in this Redis and share probing and verdicts with the other instances (default: server.store; docs/cluster.md)')
    .option('--cluster <name>', 'cluster name, so several clusters can share one Redis (default: server.cluster or "default")')
    .option('--instance-id <id>', "this instance's id in the cluster (default: host name and pid)")
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'))
    .addHelpText('after', '\nTokens come from CHECKUPS_ADMIN_TOKEN, CHECKUPS_FEEDBACK_TOKEN, CHECKUPS_READ_TOKEN or server.*_token (docs/security.md). SIGTERM/SIGINT drain and exit 0; SIGHUP reloads the config file.')
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
    // Raised outside a client command (serve: a config that does not load).
    process.stderr.write(`${err.message}\n`);
    process.exitCode = exitCodeOf(err.code) === EXIT.usage ? EXIT.failed : exitCodeOf(err.code);
  } else {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env['CHECKUPS_DEBUG'] !== undefined && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`);
    process.exitCode = 1;
  }
}

// A reader that went away (`checkups status | head`) is not an error: stop quietly, as Unix tools do.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

buildProgram().parseAsync(process.argv).catch(fail);
