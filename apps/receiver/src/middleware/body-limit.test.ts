import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { fastBodyLimit } from './body-limit';

/** A Hono app that echoes the body length, behind the limit; an over-limit body answers 413. */
function app(maxSize: number) {
  const a = new Hono();
  a.post(
    '/',
    fastBodyLimit({
      maxSize,
      onError: () => {
        throw new HTTPException(413, { message: 'too large' });
      },
    }),
    async (c) => c.text(String((await c.req.text()).length)),
  );
  return a;
}

const chunked = (text: string) =>
  new ReadableStream<Uint8Array>({
    start(ctl) {
      for (const part of text.match(/.{1,4}/gs) ?? []) ctl.enqueue(new TextEncoder().encode(part));
      ctl.close();
    },
  });

describe('fastBodyLimit', () => {
  it('with Content-Length: passes a body at the limit, refuses one above it from the header alone', async () => {
    const a = app(10);
    const ok = await a.request('/', { method: 'POST', body: '0123456789', headers: { 'content-length': '10' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('10');
    // the header decides: the body is not read (here it is even shorter than declared)
    const big = await a.request('/', { method: 'POST', body: 'x', headers: { 'content-length': '11' } });
    expect(big.status).toBe(413);
  });

  it('without Content-Length (chunked): counts the bytes as they come', async () => {
    const a = app(10);
    const init = (text: string) => ({ method: 'POST', body: chunked(text), duplex: 'half' }) as RequestInit;
    const ok = await a.request('/', init('0123456789'));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('10');
    expect((await a.request('/', init('0123456789A'))).status).toBe(413);
  });

  it('Transfer-Encoding with a Content-Length: the header is not trusted, the bytes are counted', async () => {
    const a = app(10);
    const res = await a.request('/', { method: 'POST', body: chunked('0123456789ABCDEF'), duplex: 'half', headers: { 'content-length': '5', 'transfer-encoding': 'chunked' } } as RequestInit);
    expect(res.status).toBe(413);
  });
});
