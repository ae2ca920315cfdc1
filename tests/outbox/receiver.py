"""A real HTTP receiver on loopback that records what it gets and answers as scripted.

Also the stand-in for other services the hub posts to (Sentry, an OpenTelemetry collector)."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["Receiver", "Server"]


class Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: more concurrent senders than that (a worker posts
    # up to WEBHOOK_DELIVERY_CONCURRENCY at once) get their connections reset. Real servers queue
    # hundreds.
    request_queue_size = 128


class Receiver:
    def __init__(self, answers=None, before_answer=None):
        """`answers`: (status, headers) or (status, headers, body bytes) per request in order; then 200
        for ever after.
        `before_answer()` runs in the request's thread first; if it raises, no answer is sent."""
        self.answers = list(answers or [])
        self.received = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.received.append({"headers": headers, "body": raw.decode(errors="replace"), "raw": raw,
                                          "path": self.path, "at": time.time()})
                if before_answer is not None:
                    before_answer()
                status, headers, *body = receiver.answers.pop(0) if receiver.answers else (200, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body[0]) if body else 0))
                self.end_headers()
                if body:
                    self.wfile.write(body[0])

            def log_message(self, *args):
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{self.base}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
