// `status-engine conformance`: its flags, registered on the program of src/server/program.ts. The suite
// and its targets load only when the command runs, so that --help and the other commands stay quick.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

export interface ConformanceFlags {
  url: string;
  admin?: string;
  sdkappid: number;
  secretKeyEnv: string;
  client: 'native' | 'tim' | 'chat';
  only?: string[];
  report?: string;
  json?: string;
  junit?: string;
  prefix?: string;
  heartbeatMs: number;
  timeoutMs: number;
  configure: boolean;
}

export interface ConformanceIO {
  out?: (s: string) => void;
  err?: (s: string) => void;
  /** Throw a CommanderError for a non-zero exit instead of setting process.exitCode (tests). */
  exitOverride?: boolean;
}

const positive = (name: string) => (v: string): number => {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError(`${name} must be a positive whole number, got '${v}'.`);
  return Number(v);
};

const socketUrl = (v: string): string => {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new InvalidArgumentError(`--url must be an absolute URL such as ws://127.0.0.1:8080, got '${v}'.`);
  }
  if (!['ws:', 'wss:', 'http:', 'https:'].includes(u.protocol)) throw new InvalidArgumentError(`--url must be ws://, wss://, http:// or https://, got '${u.protocol}'.`);
  return v;
};

const httpUrl = (v: string): string => {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new InvalidArgumentError(`--admin must be an absolute URL such as http://127.0.0.1:8080, got '${v}'.`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidArgumentError(`--admin must be http:// or https://, got '${u.protocol}'.`);
  return v;
};

const clauseList = (v: string): string[] => {
  const ids = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = ids.find((id) => !/^[A-Z]+(-\d+)?$/.test(id));
  if (ids.length === 0 || bad !== undefined) throw new InvalidArgumentError(`--only takes clause ids or families separated by commas (e.g. GET-1,SUB), got '${bad ?? v}'.`);
  return ids;
};

export function registerConformance(program: Command, io: ConformanceIO = {}): Command {
  return program
    .command('conformance')
    .description('run the conformance suite (docs/spec.md) against a running server; exit 0 only when no test failed')
    .requiredOption('--url <url>', 'the client protocol, ws://HOST:PORT', socketUrl)
    .option('--admin <url>', 'the admin REST API, http://HOST:PORT (default: the host of --url)', httpUrl)
    .requiredOption('--sdkappid <n>', 'the SDKAppID of the app under test', positive('--sdkappid'))
    .option('--secret-key-env <VAR>', 'the environment variable that holds the secret key UserSigs are signed with', 'STATUS_ENGINE_SECRET_KEY')
    .addOption(new Option('--client <kind>', 'native: our client protocol; tim: tim-js-sdk 2.x; chat: @tencentcloud/chat 3.x (installed by you)').choices(['native', 'tim', 'chat']).default('native'))
    .option('--only <clauses>', 'only the tests naming these clauses, e.g. GET-1,SUB (a family is every clause of it)', clauseList)
    .option('--report <file.md>', 'write a Markdown report')
    .option('--json <file>', 'write a JSON report')
    .option('--junit <file>', 'write a JUnit XML report')
    .option('--prefix <text>', "what the run's user ids begin with (default conformance-<random>-)")
    .option('--heartbeat-ms <ms>', "the server's heartbeat interval (serve --heartbeat-ms)", positive('--heartbeat-ms'), 10_000)
    .option('--timeout-ms <ms>', 'a test still running after this long fails', positive('--timeout-ms'), 60_000)
    .option('--no-configure', 'never change app-wide settings (the tests that must are skipped)')
    .action(async (flags: ConformanceFlags, cmd: Command) => {
      const { runConformanceCommand } = await import('./command');
      const code = await runConformanceCommand(flags, {
        out: io.out ?? ((s) => void process.stdout.write(s)),
        err: io.err ?? ((s) => void process.stderr.write(s)),
        fail: (message) => cmd.error(`error: ${message}`),
      });
      if (io.exitOverride) {
        if (code !== 0) throw new CommanderError(code, 'status-engine.conformance', `conformance: exit ${code}`);
        return;
      }
      process.exitCode = code;
      // A Web SDK keeps timers of its own after destroy(): the command does not wait for them.
      setTimeout(() => process.exit(code), 500).unref();
    });
}
