// The CLI tests' harness: a Temporal address that counts connections (none may arrive), and the program's output
// captured line by line.
import net from 'node:net';

export interface CliHarness {
  /** What the program printed since the test began. */
  out: string[];
  /** Connections the Temporal address has seen. */
  connections(): number;
}

export function useCliHarness(): CliHarness {
  let server: net.Server;
  let connections = 0;
  const out: string[] = [];
  const saved = { ...process.env };
  beforeAll(async () => {
    server = net.createServer((c) => {
      connections++;
      c.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    process.env.TEMPORAL_ADDRESS = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    delete process.env.POOLPILOT_LAB_DIR;
  });
  afterAll(async () => {
    process.env = saved;
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    out.length = 0;
    jest.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    jest.spyOn(process.stderr, 'write').mockImplementation((s) => (out.push(String(s)), true));
    jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  });
  afterEach(() => jest.restoreAllMocks());
  return { out, connections: () => connections };
}
