"""A fake Meilisearch: a real HTTP server on a loopback port that answers the part of
Meilisearch's HTTP API the app uses, as its reference documents it
(https://www.meilisearch.com/docs/reference/api): indexes, settings, documents, asynchronous
tasks (enqueued, then succeeded or failed, with the documented error codes), index swaps,
/health and /multi-search.

Meilisearch itself cannot run on this machine (no binary in the package registries), so the
tests of the Meilisearch engine talk to this through the official `meilisearch` client: what is
tested is the app's use of the client and of the API (what it sends, when, what it does with
errors and timeouts), not Meilisearch's relevance. The search here follows the documented rules
closely enough to tell right from wrong: words are folded (case, accents), the last word is a
prefix, words of `oneTypo`/`twoTypos` letters or more may have 1/2 typos, documents must hold
every word (then fewer, dropping the last, as `matchingStrategy: last`), and the ranking rules
words > typo > attribute > exactness > custom rules (`popularity:desc`) order the hits.

The tests can also take it down (connections refused), make it hang, or make it answer 500.
"""

from __future__ import annotations

import json
import re
import threading
import time
import unicodedata
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

DEFAULT_TYPO_SIZES = {"oneTypo": 5, "twoTypos": 9}
DEFAULT_SETTINGS: dict[str, Any] = {
    "searchableAttributes": ["*"],
    "filterableAttributes": [],
    "sortableAttributes": [],
    "rankingRules": ["words", "typo", "proximity", "attribute", "sort", "exactness"],
    "typoTolerance": {"enabled": True, "minWordSizeForTypos": DEFAULT_TYPO_SIZES},
}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", str(text).lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(text: str) -> list[str]:
    return "".join(c if c.isalnum() else " " for c in _fold(text)).split()


def _distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (a swap of two letters is one typo, as Meilisearch counts it)."""
    d = [[max(i, j) if i == 0 or j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


class Index:
    def __init__(self, uid: str, primary_key: str | None) -> None:
        self.uid = uid
        self.primary_key = primary_key
        self.created_at = self.updated_at = _now()
        self.documents: dict[str, dict[str, Any]] = {}
        self.settings: dict[str, Any] = json.loads(json.dumps(DEFAULT_SETTINGS))

    def info(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "primaryKey": self.primary_key,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }

    # -- search ---------------------------------------------------------------------------

    def _allowed_typos(self, word: str) -> int:
        typo = self.settings["typoTolerance"]
        if not typo.get("enabled", True):
            return 0
        sizes = {**DEFAULT_TYPO_SIZES, **typo.get("minWordSizeForTypos", {})}
        return 2 if len(word) >= sizes["twoTypos"] else 1 if len(word) >= sizes["oneTypo"] else 0

    def _match(self, query_word: str, is_last: bool, attributes: list[list[str]]) -> tuple[int, int] | None:
        """(typos, attribute position) of the best match of a query word, or None."""
        allowed = self._allowed_typos(query_word)
        best = None
        for position, words in enumerate(attributes):
            for word in words:
                candidates = [word, word[: len(query_word)]] if is_last else [word]
                typos = min(_distance(query_word, c) for c in candidates)
                if typos <= allowed and (best is None or (typos, position) < best):
                    best = (typos, position)
        return best

    def search(self, q: str, limit: int, offset: int = 0) -> dict[str, Any]:
        started = time.monotonic()
        searchable = self.settings["searchableAttributes"]
        query = _words(q)
        custom = [rule.split(":") for rule in self.settings["rankingRules"] if ":" in rule]
        hits: list[tuple[tuple, dict[str, Any]]] = []
        for used in range(len(query), 0, -1):  # matchingStrategy "last": drop words from the end
            words = query[:used]
            for document in self.documents.values():
                fields = [k for k in document if k != self.primary_key] if searchable == ["*"] else searchable
                attributes = [_words(document.get(field, "")) for field in fields]
                matches = [self._match(w, i == len(words) - 1, attributes) for i, w in enumerate(words)]
                if any(m is None for m in matches):
                    continue
                typos = sum(m[0] for m in matches if m)
                attribute = min(m[1] for m in matches if m)
                exact = -sum(w in attributes[0] for w in words) if attributes else 0
                rules = tuple(
                    -float(document.get(field, 0)) if order == "desc" else float(document.get(field, 0))
                    for field, order in custom
                )
                hits.append(((typos, attribute, exact, *rules), document))
            if hits or not query:
                break
        if not query:
            hits = [((), document) for document in self.documents.values()]
        hits.sort(key=lambda hit: hit[0])
        page = [document for _, document in hits[offset : offset + limit]]
        return {
            "indexUid": self.uid,
            "hits": page,
            "query": q,
            "processingTimeMs": int((time.monotonic() - started) * 1000),
            "limit": limit,
            "offset": offset,
            "estimatedTotalHits": len(hits),
        }


class FakeMeilisearch:
    """Start with `with FakeMeilisearch() as meili:`; `meili.url` is its address."""

    def __init__(self, api_key: str = "test-master-key") -> None:
        self.api_key = api_key
        self.indexes: dict[str, Index] = {}
        self.tasks: dict[int, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, in order
        self.hang_s = 0.0
        self.failing = False
        self.task_latency_s = 0.02  # how long a task stays "enqueued" (its effect is at once)
        self.lock = threading.RLock()
        self.port = 0
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # -- lifecycle and mischief -----------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeMeilisearch:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, body = fake.handle(self.command, self.path, raw, self.headers.get("Authorization", ""))
                payload = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        """Down: the port refuses connections until start() again (same port, same data)."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> FakeMeilisearch:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.hang_s = 0
        self.stop()

    def documents(self, uid: str) -> dict[str, dict[str, Any]]:
        with self.lock:
            return dict(self.indexes[uid].documents) if uid in self.indexes else {}

    # -- the API --------------------------------------------------------------------------

    def _task(self, kind: str, index_uid: str | None, apply) -> tuple[int, dict[str, Any]]:
        uid = len(self.tasks)
        enqueued = _now()
        error = None
        try:
            details = apply() or {}
        except ApiError as exc:
            error, details = exc.body(), {}
        self.tasks[uid] = {
            "uid": uid,
            "indexUid": index_uid,
            "status": "failed" if error else "succeeded",
            "type": kind,
            "details": details,
            "error": error,
            "canceledBy": None,
            "duration": "PT0.001S",
            "enqueuedAt": enqueued,
            "startedAt": enqueued,
            "finishedAt": _now(),
            "done_at": time.monotonic() + self.task_latency_s,
        }
        return 202, {"taskUid": uid, "indexUid": index_uid, "status": "enqueued", "type": kind, "enqueuedAt": enqueued}

    def _index(self, uid: str) -> Index:
        if uid not in self.indexes:
            raise ApiError(404, "index_not_found", f"Index `{uid}` not found.")
        return self.indexes[uid]

    def handle(self, method: str, raw_path: str, raw: bytes, authorization: str) -> tuple[int, Any]:
        parts = urlsplit(raw_path)
        path, params = parts.path.strip("/").split("/"), parse_qs(parts.query)
        with self.lock:
            self.requests.append((method, parts.path))
        if self.hang_s:
            time.sleep(self.hang_s)
        if self.failing:
            return 500, {"message": "internal", "code": "internal", "type": "internal", "link": ""}
        if path != ["health"] and authorization != f"Bearer {self.api_key}":
            return 401, ApiError(401, "missing_authorization_header", "The Authorization header is missing.").body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return 400, ApiError(400, "malformed_payload", "The payload is not valid JSON.").body()
        try:
            with self.lock:
                return self._route(method, path, params, body)
        except ApiError as exc:
            return exc.status, exc.body()

    def _route(self, method: str, path: list[str], params: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        match method, path:
            case "GET", ["health"]:
                return 200, {"status": "available"}
            case "GET", ["tasks", uid]:
                task = self.tasks.get(int(uid))
                if task is None:
                    raise ApiError(404, "task_not_found", f"Task `{uid}` not found.")
                shown = {k: v for k, v in task.items() if k != "done_at"}
                if time.monotonic() < task["done_at"]:  # still queued, as a real one is for a while
                    shown.update(status="enqueued", startedAt=None, finishedAt=None)
                return 200, shown
            case "POST", ["indexes"]:
                uid = body["uid"]

                def create():
                    if uid in self.indexes:
                        raise ApiError(409, "index_already_exists", f"Index `{uid}` already exists.")
                    self.indexes[uid] = Index(uid, body.get("primaryKey"))

                return self._task("indexCreation", uid, create)
            case "GET", ["indexes", uid]:
                return 200, self._index(uid).info()
            case "DELETE", ["indexes", uid]:

                def drop():
                    self._index(uid)
                    del self.indexes[uid]

                return self._task("indexDeletion", uid, drop)
            case "GET", ["indexes", uid, "settings"]:
                shown = dict(self._index(uid).settings)
                for key in ("filterableAttributes", "sortableAttributes"):  # kept in a sorted set
                    shown[key] = sorted(shown[key])
                return 200, shown
            case "PATCH", ["indexes", uid, "settings"]:

                def update():
                    index = self.indexes.setdefault(uid, Index(uid, None))
                    for key, value in body.items():
                        if key not in DEFAULT_SETTINGS:
                            raise ApiError(400, "invalid_settings", f"Unknown field `{key}`.")
                        index.settings[key] = value

                return self._task("settingsUpdate", uid, update)
            case ("POST" | "PUT") as verb, ["indexes", uid, "documents"]:
                if not isinstance(body, list):
                    raise ApiError(400, "malformed_payload", "The payload must be an array of documents.")

                def put():
                    index = self.indexes.setdefault(uid, Index(uid, None))
                    index.primary_key = index.primary_key or (params.get("primaryKey") or [None])[0]
                    if index.primary_key is None:
                        raise ApiError(400, "index_primary_key_no_candidate_found", "No primary key.")
                    for document in body:
                        key = str(document[index.primary_key])
                        if verb == "PUT":  # update: the fields sent replace those fields only
                            index.documents[key] = {**index.documents.get(key, {}), **document}
                        else:  # add or replace: the whole document
                            index.documents[key] = dict(document)
                    return {"receivedDocuments": len(body), "indexedDocuments": len(body)}

                return self._task("documentAdditionOrUpdate", uid, put)
            case "POST", ["indexes", uid, "documents", "delete"]:
                index = self._index(uid)
                match = re.fullmatch(r"\s*(\w+)\s+IN\s+\[(.*)\]\s*", str((body or {}).get("filter", "")))
                if not match:
                    raise ApiError(400, "invalid_document_filter", "This fake knows `attribute IN [values]` only.")
                attribute, values = match[1], {v.strip().strip("'\"") for v in match[2].split(",") if v.strip()}
                if attribute not in index.settings["filterableAttributes"]:
                    raise ApiError(400, "invalid_document_filter", f"Attribute `{attribute}` is not filterable.")

                def delete():
                    doomed = [k for k, d in index.documents.items() if str(d.get(attribute)) in values]
                    for key in doomed:
                        del index.documents[key]
                    return {"originalFilter": body["filter"], "deletedDocuments": len(doomed)}

                return self._task("documentDeletion", uid, delete)
            case "POST", ["swap-indexes"]:

                def swap():
                    for pair in body:
                        a, b = pair["indexes"]
                        first, second = self._index(a), self._index(b)
                        self.indexes[a], self.indexes[b] = second, first
                        first.uid, second.uid = b, a

                return self._task("indexSwap", None, swap)
            case "POST", ["multi-search"]:
                results = []
                for query in body["queries"]:
                    index = self._index(query["indexUid"])
                    result = index.search(query.get("q") or "", int(query.get("limit", 20)))
                    wanted = query.get("attributesToRetrieve")
                    if wanted and wanted != ["*"]:
                        result["hits"] = [{k: v for k, v in hit.items() if k in wanted} for hit in result["hits"]]
                    results.append(result)
                return 200, {"results": results}
        raise ApiError(404, "not_found", f"{method} /{'/'.join(path)} is not a route of this fake.")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "code": self.code,
            "type": "invalid_request",
            "link": f"https://docs.meilisearch.com/errors#{self.code}",
        }
