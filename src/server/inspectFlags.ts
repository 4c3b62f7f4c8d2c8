// The flags of `serve --inspect ws://HOST:PORT [--inspect-users LIST|PATTERN]`, checked before anything starts.
// Kept apart from the link (src/server/inspect.ts), so that the CLI loads no WebSocket code for --help.
import { InvalidArgumentError, Option } from 'commander';
import { userFilter } from '../engine/inspect';

/** `serve --inspect URL [--inspect-users LIST|PATTERN]` (commander options, checked before the server starts). */
export const inspectCliOptions = (): Option[] => [
  new Option('--inspect <ws-url>', 'send the machines to a @statelyai/inspect WebSocket inspector (e.g. createInspectorServer) at ws://HOST:PORT').argParser(
    (value: string) => {
      let u: URL;
      try {
        u = new URL(value);
      } catch {
        throw new InvalidArgumentError(`--inspect must be a ws:// or wss:// URL, got '${value}'.`);
      }
      if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new InvalidArgumentError(`--inspect must be ws:// or wss://, got '${u.protocol}'.`);
      return value;
    },
  ),
  new Option('--inspect-users <list|pattern>', "inspect only these users: 'alice,bob', a glob 'vip-*' or a '/regex/'").argParser((value: string) => {
    try {
      userFilter(value, '--inspect-users');
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
    return value;
  }),
];

/** The server options that the two flags make (undefined without --inspect; --inspect-users alone is an error). */
export function inspectFromFlags(parsed: object): { url: string; users?: string } | undefined {
  const flags = parsed as { inspect?: string; inspectUsers?: string };
  if (flags.inspectUsers !== undefined && flags.inspect === undefined) {
    throw new InvalidArgumentError('--inspect-users needs --inspect ws://HOST:PORT');
  }
  return flags.inspect === undefined ? undefined : { url: flags.inspect, users: flags.inspectUsers };
}
