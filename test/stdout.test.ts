// stdout is written with write(2) on descriptor 1, not through process.stdout: what happens when that
// descriptor cannot take the text (a full non-blocking pipe) or nobody reads it any more (EPIPE).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { columnsOf, createStdout } from '../src/stdout.ts';
import { BIN, DEMO_CLIENT, makeHome, writeConfig } from './support/harness.ts';

/** Both ends of a named pipe, opened non-blocking, as a pipe shared with a Node process often is. */
function fifo(t: TestContext): { reader: number; writer: number } {
  const dir = mkdtempSync(join(tmpdir(), 'yandex-token-fifo-'));
  const path = join(dir, 'pipe');
  execFileSync('mkfifo', [path]);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  t.after(() => {
    for (const fd of [reader, writer]) {
      try {
        closeSync(fd);
      } catch {}
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return { reader, writer };
}

function drain(fd: number): string {
  const chunks: Buffer[] = [];
  const buffer = Buffer.alloc(65536);
  for (;;) {
    let n = 0;
    try {
      n = readSync(fd, buffer);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
      throw error;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buffer.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString();
}

test('a full non-blocking pipe: the text goes through the stream instead, in order, and end waits for it', async (t) => {
  const { reader, writer } = fifo(t);
  const filler = Buffer.alloc(4096, 'x');
  let filled = 0;
  for (;;) {
    try {
      filled += writeSync(writer, filler);
    } catch (error) {
      assert.equal((error as NodeJS.ErrnoException).code, 'EAGAIN');
      break;
    }
  }
  const stream = new PassThrough();
  let asked = 0;
  const stdout = createStdout(writer, () => {
    asked++;
    return stream;
  });
  stdout.write('y0_first\n');
  stdout.write('y0_second\n');
  assert.equal(asked, 1);
  assert.equal(stream.read()?.toString(), 'y0_first\ny0_second\n');
  assert.equal(drain(reader).length, filled, 'nothing was added to the full pipe');
  await new Promise<void>((resolve) => stdout.end(resolve));
});

test('a pipe whose reader is gone ends the output quietly', (t) => {
  const { reader, writer } = fifo(t);
  closeSync(reader);
  const stdout = createStdout(writer, () => assert.fail('no stream is needed'));
  stdout.write('y0_token\n');
  stdout.write('more\n');
  let ended = false;
  stdout.end(() => (ended = true));
  assert.ok(ended);
});

test('print into a pipe nobody reads: exit 0 and nothing on stderr, as before', async (t) => {
  const home = makeHome(t);
  const now = Date.now();
  writeConfig(home, {
    default: {
      accessToken: 'y0_closed_pipe',
      // More than 14 days: a token that cannot be renewed would otherwise get the day's expiry warning.
      expiresAt: new Date(now + 30 * 86_400_000).toISOString(),
      clientId: DEMO_CLIENT.id,
      obtainedAt: new Date(now).toISOString(),
    },
  });
  const child = spawn(process.execPath, [BIN, 'print'], { env: home.env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 0);
  assert.equal(stderr, '');
});

test('columnsOf asks for the stream only where a terminal may be: not for a pipe, a file or /dev/null', (t) => {
  const { writer } = fifo(t);
  const devNull = openSync('/dev/null', 'w');
  t.after(() => closeSync(devNull));
  const dir = mkdtempSync(join(tmpdir(), 'yandex-token-file-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = openSync(join(dir, 'out'), 'w');
  t.after(() => closeSync(file));
  for (const fd of [writer, devNull, file]) assert.equal(columnsOf(fd, () => assert.fail('no stream is built')), undefined);
});
