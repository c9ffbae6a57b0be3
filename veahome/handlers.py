"""Django's ASGI handler, with each request's sync work on a reused thread."""
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler


class PooledThreadASGIHandler(ASGIHandler):
    """Django runs a request's sync code (DRF views, the ORM) on a thread of its own, created
    for the request and joined after it: starting and joining that thread was about a tenth
    of an API request's CPU (bench/rest_devices.py under py-spy). Here a request borrows a
    one-thread executor from a pool and gives it back, with the same guarantee: one
    request's sync code runs on one thread, one call at a time (asgiref's
    ThreadSensitiveContext with a caller-owned executor).
    """

    max_idle = 64

    def __init__(self):
        super().__init__()
        self._idle: list[ThreadPoolExecutor] = []

    async def __call__(self, scope, receive, send):
        executor = self._idle.pop() if self._idle else ThreadPoolExecutor(1, thread_name_prefix="request")
        try:
            async with ThreadSensitiveContext(executor=executor):
                await super().__call__(scope, receive, send)
        finally:
            if len(self._idle) < self.max_idle:
                self._idle.append(executor)
            else:
                executor.shutdown(wait=False)
