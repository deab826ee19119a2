#!/usr/bin/python3
"""A retrieval server over a real FAISS index, speaking Search-R1's protocol
(search_r1/search/retrieval_server.py): POST /retrieve with {"queries", "topk", "return_scores"}
answers {"result": [[{"document": {"id", "contents"}, "score"}, ...], ...]}, one list per query.

The corpus is Search-R1's / FlashRAG's format, one {"id", "contents"} a line, contents '"Title"\\ntext';
the vectors are float32, row i for line i (--vectors, raw little-endian, --dim wide). The search is
FAISS's own: an IndexFlatIP over unit vectors, what Search-R1's e5_Flat.index is.

Query texts become vectors on the server, as in Search-R1 (which runs e5 there). The only real
embedder here is USE-lite in Node (TensorFlow.js), so the server starts --embed-command once and asks it
over stdin/stdout (test/tools/use-lite-stdio.ts): the vectors are the project's own, the search FAISS's.

Stdlib only besides faiss and numpy (Debian: apt-get install python3-faiss python3-numpy). Listens on
127.0.0.1 (--port 0: a free port) and prints `listening on http://127.0.0.1:PORT` once it can answer.
CORS is open, so the app's page may call it (Search-R1's FastAPI server needs its CORSMiddleware for that).
"""
import argparse
import json
import shlex
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import faiss
import numpy as np

MAX_BODY_BYTES = 1 << 20
MAX_QUERIES = 64
MAX_TOPK = 100


class Embedder:
    """The Node embedding process; one request at a time over its pipes."""

    def __init__(self, command):
        self.process = subprocess.Popen(shlex.split(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.lock = threading.Lock()
        line = self.process.stdout.readline().strip()
        if line != "ready":
            raise SystemExit(f"the embed command did not start: {line!r}")

    def embed(self, texts):
        with self.lock:
            self.process.stdin.write(json.dumps(texts) + "\n")
            self.process.stdin.flush()
            return np.array(json.loads(self.process.stdout.readline()), dtype=np.float32)


def load(args):
    with open(args.corpus, encoding="utf-8") as f:
        corpus = [json.loads(line) for line in f if line.strip()]
    vectors = np.fromfile(args.vectors, dtype="<f4").reshape(-1, args.dim)
    if len(vectors) != len(corpus):
        raise SystemExit(f"{len(corpus)} corpus rows but {len(vectors)} vectors")
    index = faiss.IndexFlatIP(args.dim)
    index.add(np.ascontiguousarray(vectors))
    return corpus, index


def handler(corpus, index, embedder, default_topk):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def send(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(data)

        def do_OPTIONS(self):
            self.send_response(204)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Allow-Methods", "POST")
            self.send_header("Access-Control-Allow-Headers", "content-type")
            self.end_headers()

        def do_POST(self):
            if self.path != "/retrieve":
                return self.send(404, {"detail": "Not Found"})
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                return self.send(413, {"detail": "request too large"})
            try:
                request = json.loads(self.rfile.read(length))
                queries = [str(q) for q in request["queries"]][:MAX_QUERIES]
                topk = min(int(request.get("topk") or default_topk), MAX_TOPK)
            except (ValueError, KeyError, TypeError) as error:
                return self.send(422, {"detail": f"bad request: {error}"})
            scores, ids = index.search(embedder.embed(queries), topk)
            result = []
            for row_scores, row_ids in zip(scores.tolist(), ids.tolist()):
                hits = [(corpus[i], s) for i, s in zip(row_ids, row_scores) if i >= 0]
                result.append([{"document": d, "score": s} for d, s in hits] if request.get("return_scores") else [d for d, _ in hits])
            self.send(200, {"result": result})

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--vectors", required=True)
    parser.add_argument("--dim", type=int, required=True)
    parser.add_argument("--embed-command", required=True)
    parser.add_argument("--topk", type=int, default=3)
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    corpus, index = load(args)
    embedder = Embedder(args.embed_command)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler(corpus, index, embedder, args.topk))
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        embedder.process.terminate()


if __name__ == "__main__":
    sys.exit(main())
