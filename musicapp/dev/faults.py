"""Faults on demand, for the reliability drills (bench/drills.py) and the tests that show the app
rides them out: a TCP proxy in front of PostgreSQL that can stall its traffic or act out a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from urllib.parse import quote

from musicapp.dev.devservices import free_port


class PostgresProxy:
    """A TCP proxy to PostgreSQL, run on its own thread: stall() holds every byte both ways,
    resume() lets them go, restart(down) drops every connection and refuses new ones for
    `down` seconds (what the app sees of a PostgreSQL restart)."""

    def __init__(self, database: dict) -> None:
        """`database`: a Django DATABASES entry (e.g. connection.settings_dict)."""
        self.database = database
        db = database
        self.host, self.port = db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)
        self.listen_port = free_port()
        self.loop = asyncio.new_event_loop()
        self.flowing = asyncio.Event()
        self.writers: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.call(self._start)

    def call(self, coroutine_function, *args) -> None:
        asyncio.run_coroutine_threadsafe(coroutine_function(*args), self.loop).result(30)

    async def _start(self) -> None:
        self.flowing.set()
        self.server = await asyncio.start_server(self._client, "127.0.0.1", self.listen_port)

    async def _upstream(self):
        if self.host.startswith("/"):
            return await asyncio.open_unix_connection(f"{self.host}/.s.PGSQL.{self.port}")
        return await asyncio.open_connection(self.host, self.port)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await self._upstream()
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await source.read(65536):
                    await self.flowing.wait()
                    target.write(data)
                    await target.drain()
            target.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers -= {writer, up_writer}

    async def _stall(self) -> None:
        self.flowing.clear()

    async def _resume(self) -> None:
        self.flowing.set()

    async def _restart(self, down: float) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        self.flowing.set()
        await asyncio.sleep(down)
        self.server = await asyncio.start_server(self._client, "127.0.0.1", self.listen_port)

    def stall(self) -> None:
        self.call(self._stall)

    def resume(self) -> None:
        self.call(self._resume)

    def restart(self, down: float) -> None:
        asyncio.run_coroutine_threadsafe(self._restart(down), self.loop)

    def url(self) -> str:
        db = self.database
        password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
        return f"postgres://{db['USER']}{password}@127.0.0.1:{self.listen_port}/{db['NAME']}"

    def close(self) -> None:
        async def _close() -> None:
            if self.server is not None:
                self.server.close()
            for writer in list(self.writers):
                writer.transport.abort()

        self.call(_close)
        self.loop.call_soon_threadsafe(self.loop.stop)
