#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A TCP proxy on 127.0.0.1 for the images tests: a connection that breaks
in the middle of a request, at a byte count rather than a time.

  cutproxy.py TARGET_PORT LIMIT

Forwards every connection to 127.0.0.1:TARGET_PORT. The first connection
on which the client sends more than LIMIT bytes gets only the first LIMIT
of them through, and then both of its sides are reset: the request being
sent (a TLS record, an HTTP body) is cut off midway. Later connections pass
untouched. Prints its port on the first line of stdout, then "cut at
LIMIT" when it has cut, and serves until killed.
"""
import socket
import struct
import sys
import threading

lock = threading.Lock()
done = {"cut": False}


def reset(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def pump_back(server, client):
    try:
        while True:
            data = server.recv(65536)
            if not data:
                break
            client.sendall(data)
    except OSError:
        pass
    try:
        client.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def serve(client, target, limit):
    try:
        server = socket.create_connection(("127.0.0.1", target))
    except OSError:
        client.close()
        return
    threading.Thread(target=pump_back, args=(server, client), daemon=True).start()
    sent = 0
    try:
        while True:
            data = client.recv(65536)
            if not data:
                break
            with lock:
                cut = not done["cut"] and sent + len(data) > limit
                if cut:
                    done["cut"] = True
            if cut:
                server.sendall(data[:limit - sent])
                print("cut at %d" % limit, flush=True)
                reset(server)
                reset(client)
                return
            server.sendall(data)
            sent += len(data)
        server.shutdown(socket.SHUT_WR)
    except OSError:
        reset(server)
        reset(client)


def main():
    target, limit = int(sys.argv[1]), int(sys.argv[2])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(listener.getsockname()[1], flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, target, limit), daemon=True).start()


if __name__ == "__main__":
    main()
