// Starting and stopping `concord serve` for the scripts that drive it from
// Node (tests/e2e/test_dashboard.mjs, bench/dashboard-bench.mjs): on a free
// loopback port, its address read from the "listening" line it prints.

import {spawn} from 'node:child_process';

const SERVER_START_MS_MAX = 30_000;
const SERVER_STOP_MS_MAX = 5_000;

// Resolves with {process, base} once the server listens; rejects when it
// exits first or says nothing within SERVER_START_MS_MAX.
export function serverStart(concord, db, extra = []) {
  const server = spawn(concord, ['--db', db, 'serve', '--listen', '127.0.0.1:0', ...extra],
                       {stdio: ['ignore', 'ignore', 'pipe']});
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no "listening" line within ${SERVER_START_MS_MAX} ms: ${seen}`)),
                             SERVER_START_MS_MAX);
    server.stderr.setEncoding('utf8');
    // Read stderr to the end, so a full pipe never stalls the server.
    server.stderr.on('data', (chunk) => {
      seen += chunk;
      const match = /concord: listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve({process: server, base: match[1]});
      }
    });
    server.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`concord serve exited (${code}) before listening: ${seen}`));
    });
  });
}

// SIGTERM, then SIGKILL if it has not exited within SERVER_STOP_MS_MAX.
export async function serverStop(server) {
  if (server.process.exitCode !== null || server.process.signalCode !== null) return;
  const exited = new Promise((resolve) => server.process.once('exit', resolve));
  server.process.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, SERVER_STOP_MS_MAX))]);
  if (server.process.exitCode === null && server.process.signalCode === null) server.process.kill('SIGKILL');
}
