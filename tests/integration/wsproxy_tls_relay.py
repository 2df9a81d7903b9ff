#!/usr/bin/python3
"""TLS-terminating TCP relay for the wrg-wsproxy integration test.

  wsproxy_tls_relay.py CERT KEY LISTEN_PORT TARGET_PORT

Accepts TLS on 127.0.0.1:LISTEN_PORT and pipes the plaintext to
127.0.0.1:TARGET_PORT (wrg-sample-runtime), so the proxy's https:// path
(CA file, verification) is exercised against the real runtime.
"""
import asyncio
import ssl
import sys


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main():
    cert, key, lport, tport = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        int(sys.argv[4])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)

    async def handle(cr, cw):
        try:
            ur, uw = await asyncio.open_connection("127.0.0.1", tport)
        except OSError:
            cw.close()
            return
        await asyncio.gather(pipe(cr, uw), pipe(ur, cw))

    server = await asyncio.start_server(handle, "127.0.0.1", lport, ssl=ctx)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
