#!/usr/bin/python3
"""TLS-terminating TCP relay for the wrg-wsproxy integration test.

  wsproxy_tls_relay.py CERT KEY LISTEN_PORT TARGET_PORT [CLIENT_CA]

Accepts TLS on 127.0.0.1:LISTEN_PORT and pipes the plaintext to
127.0.0.1:TARGET_PORT (wrg-sample-runtime), so the proxy's https:// path
(CA file, verification) is exercised against the real runtime.

With CLIENT_CA it is a mutual-TLS front (ssl.CERT_REQUIRED): a client
must present a certificate issued by CLIENT_CA or the handshake is
refused, with the alert a real TLS server sends (TLS 1.3: the client
reads it after its request), and nothing reaches the runtime. Each
accepted client certificate is printed as a "client CN=..." line, each
refusal as "refused: REASON". This mode uses blocking sockets and a
thread per direction: asyncio drops the alert when a handshake fails.
"""
import asyncio
import socket
import ssl
import sys
import threading


def mtls_serve(ctx, lport, tport):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", lport))
    ls.listen(64)

    def copy(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except (OSError, ssl.SSLError):
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle(c):
        c.settimeout(10)
        t = ctx.wrap_socket(c, server_side=True,
                            do_handshake_on_connect=False)
        try:
            t.do_handshake()
        except (OSError, ssl.SSLError) as e:
            if getattr(e, "reason", None):  # not a port probe's EOF
                print("refused: %s" % e.reason, flush=True)
            # Let the alert reach the client before the close: unread
            # data (its request) would turn the close into a reset.
            try:
                t.shutdown(socket.SHUT_WR)
                t.settimeout(2)
                while t.recv(65536):
                    pass
            except OSError:
                pass
            t.close()
            return
        t.settimeout(None)
        cn = [v for rdn in t.getpeercert().get("subject", ()) for k, v in rdn
              if k == "commonName"]
        print("client CN=%s" % ",".join(cn), flush=True)
        try:
            u = socket.create_connection(("127.0.0.1", tport))
        except OSError:
            t.close()
            return
        threading.Thread(target=copy, args=(u, t), daemon=True).start()
        copy(t, u)

    while True:
        c, _ = ls.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()


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
    if len(sys.argv) > 5:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(sys.argv[5])
        await asyncio.to_thread(mtls_serve, ctx, lport, tport)
        return

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
