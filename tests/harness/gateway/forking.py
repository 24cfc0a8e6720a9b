"""A gateway for the process-tree tests: stdlib only, run as ``python forking.py --port P --pids FILE``.

Its first process forks a worker and waits for it; the worker forks a child that calls ``os.setsid()`` (it
leaves the gateway's session and process group, as a daemonizing helper does) and sleeps, then serves HTTP
on loopback: ``GET /health`` answers 200; a POST whose body holds ``wirecheck-answer`` is answered 500 at
once (a case that finishes); every other request is held open without an answer (a run is in progress
until it is stopped), and the first one creates FILE.hanging. Once all three processes exist, the worker
writes their ids, one a line (first process, worker, escaped child), to FILE.
"""

from __future__ import annotations

import argparse
import http.server
import os
import time


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/health":
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        else:
            time.sleep(3600)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if b"wirecheck-answer" in body:
            reply = b'{"error": {"message": "no", "type": "server_error"}}'
            self.send_response(500)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
            return
        with open(getattr(self.server, "pids") + ".hanging", "a"):  # noqa: B009 (set below, on the server)
            pass
        time.sleep(3600)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pids", required=True)
    args = parser.parse_args()
    first = os.getpid()
    worker = os.fork()
    if worker:
        os.waitpid(worker, 0)
        return
    escaped = os.fork()
    if escaped == 0:
        os.setsid()
        time.sleep(3600)
        os._exit(0)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    setattr(server, "pids", args.pids)  # noqa: B010 (read by the handler)
    partial = args.pids + ".partial"
    with open(partial, "w") as out:
        out.write(f"{first}\n{os.getpid()}\n{escaped}\n")
    os.replace(partial, args.pids)
    server.serve_forever()


if __name__ == "__main__":
    main()
