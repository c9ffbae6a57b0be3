"""Django's ASGI handler, with each request's sync work in one hop to a reused thread."""
import asyncio
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse
from django.urls import set_script_prefix


_END = object()


async def chunks_from_thread(iterator):
    """A sync iterator's items, each read on the request's thread."""
    next_item = sync_to_async(next, thread_sensitive=True)
    while (chunk := await next_item(iterator, _END)) is not _END:
        yield chunk


class OneHopASGIHandler(ASGIHandler):
    """HTTP requests served by Django's sync stack (as under WSGI) in a single thread hop.

    Every view of this project is sync (DRF, the ORM, the admin). Django's own ASGI handler
    runs the middleware chain on the event loop and crosses to a worker thread for the
    request_started signal, for the view, for every sync middleware hook and for the
    request_finished signal; each crossing wakes the loop and the thread and hands the GIL
    back and forth, which cost more CPU than the device list's own work
    (bench/rest_devices.py). Here the body is read on the event loop, then one call on a
    worker thread runs signals, middleware, view and rendering, and the response goes back
    out on the loop.

    The thread is one a request borrows from a pool of one-thread executors (asgiref's
    ThreadSensitiveContext with a caller-owned executor): a request's sync code runs on one
    thread, and async_to_sync inside it still reaches the server's event loop.
    A streaming response (static files) is read chunk by chunk on the request's thread
    while it is sent, and closed after it.

    At most `settings.WEB_THREADS` requests run their sync work at once in a process; the
    others wait their turn on the event loop. The work is CPU-bound Python with short
    database waits: beyond two threads per process they only trade the GIL back and forth,
    which cost a third more CPU per request and doubled p99 at 50 connections
    (bench/rest_devices.py, docs/operations.md).
    """

    max_idle = 64

    def __init__(self):
        self.load_middleware(is_async=False)
        self._idle: list[ThreadPoolExecutor] = []
        self._slots = asyncio.Semaphore(settings.WEB_THREADS)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self._idle.pop() if self._idle else ThreadPoolExecutor(1, thread_name_prefix="request")
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self._handle(scope, receive, send)
        finally:
            if len(self._idle) < self.max_idle:
                self._idle.append(executor)
            else:
                executor.shutdown(wait=False)

    async def _handle(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            async with self._slots:
                response = await sync_to_async(self._respond, thread_sensitive=True)(scope, body_file)
            if response.streaming and not response.is_async:
                # Django would read a sync iterator whole into memory before sending it.
                response.streaming_content = chunks_from_thread(iter(response.streaming_content))
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:
                    await sync_to_async(response.close, thread_sensitive=True)()
        finally:
            body_file.close()

    def _respond(self, scope, body_file):
        """Everything Django does for a request, on the request's thread. A complete
        (non-streaming) response is closed here, which sends request_finished."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            response.close()
        return response
