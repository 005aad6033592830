"""An HTTP/1.1 server that answers with its name: an instance behind the proxy, in a process of
its own so that a test can SIGKILL it. `python named_instance.py NAME PORT`.

GET answers the name; POST answers the body it was sent.
"""

from __future__ import annotations

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Named(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as uvicorn
    name = ""

    def do_GET(self) -> None:
        self._answer(self.name.encode())

    def do_POST(self) -> None:
        self._answer(self.rfile.read(int(self.headers["Content-Length"])))

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


if __name__ == "__main__":
    Named.name = sys.argv[1]
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), Named)
    print("listening", flush=True)
    server.serve_forever()
