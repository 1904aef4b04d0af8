"""A webhook receiver that checks nosey's signatures with the PyPI `standardwebhooks`
package, an implementation independent of nosey's own.

usage: verify_receiver.py PORT SECRET [SECRET...]

For every POST it prints one JSON line: the webhook-id and, for each secret, whether the
signature verifies and whether a tampered copy of the body is rejected. It answers 200 when
the first secret verifies, else 401.
"""
import http.server
import json
import sys
import threading

from standardwebhooks.webhooks import Webhook


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        headers = {k.lower(): v for k, v in self.headers.items()}
        result = {"id": headers.get("webhook-id"), "valid": [], "tampered_rejected": []}
        for secret in SECRETS:
            wh = Webhook(secret)
            try:
                wh.verify(body, headers)
                result["valid"].append(True)
            except Exception:
                result["valid"].append(False)
            try:
                wh.verify(body + b" ", headers)
                result["tampered_rejected"].append(False)
            except Exception:
                result["tampered_rejected"].append(True)
        # ThreadingHTTPServer answers on several threads: one write per line, under a lock,
        # so two results never interleave on stdout.
        with PRINT_LOCK:
            sys.stdout.write(json.dumps(result) + "\n")
            sys.stdout.flush()
        self.send_response(200 if result["valid"][0] else 401)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


PRINT_LOCK = threading.Lock()

if __name__ == "__main__":
    PORT = int(sys.argv[1])
    SECRETS = sys.argv[2:]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    print(json.dumps({"listening": PORT}), flush=True)
    server.serve_forever()
