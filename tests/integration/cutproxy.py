#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A TCP proxy on 127.0.0.1 for the images tests: connections that break
in the middle of a request, at byte counts rather than times.

  cutproxy.py TARGET_PORT LIMIT [LIMIT...]

Forwards every connection to 127.0.0.1:TARGET_PORT. The first connection
on which the client sends more than the first LIMIT bytes gets only that
many of them through, and then both of its sides are reset: the request
being sent (a TLS record, an HTTP body) is cut off midway. The next LIMIT
then applies to the next connection that exceeds it, and so on; once all
are used, connections pass untouched. (Two limits defeat a client library
that sends a request again on a fresh connection when a kept one dies.)
Prints its port on the first line of stdout, then "cut at N" for each cut,
and serves until killed.
"""
import socket
import struct
import sys
import threading

lock = threading.Lock()
limits = []


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


def serve(client, target):
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
                limit = limits[0] if limits and sent + len(data) > limits[0] else None
                if limit is not None:
                    limits.pop(0)
            if limit is not None:
                server.sendall(data[:max(0, limit - sent)])
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
    target = int(sys.argv[1])
    limits.extend(int(a) for a in sys.argv[2:])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    print(listener.getsockname()[1], flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, target), daemon=True).start()


if __name__ == "__main__":
    main()
