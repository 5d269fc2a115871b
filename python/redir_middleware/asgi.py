"""ASGI 3: RedirectMiddleware(app, rules, hook=None, reload=True).

    from fastapi import FastAPI
    from redir_middleware.asgi import RedirectMiddleware
    app = FastAPI()
    app.add_middleware(RedirectMiddleware, rules="/srv/site.redirdb")

or around any ASGI 3 application: ``app = RedirectMiddleware(app, rules)``.
`rules` is as for the WSGI middleware.  Only "http" scopes are looked at;
websocket and lifespan scopes go to the application unchanged.  The lookup
is a C call of a microsecond or so and runs in the event loop.
"""
from . import Redirector, asgi_request

__all__ = ["RedirectMiddleware"]


class RedirectMiddleware(object):
    """Answers the rules' redirects and 410s; every other request goes to
    `app`."""

    def __init__(self, app, rules, hook=None, reload=True):
        self.app = app
        self.redirector = Redirector(rules, hook, reload)
        self.rules = self.redirector.rules

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http":
            return await self.app(scope, receive, send)
        req = asgi_request(scope)
        ans = None if req is None else self.redirector.answer(req[1], req[0], req[2])
        if ans is None:
            return await self.app(scope, receive, send)
        status, location = ans
        headers = [(b"content-length", b"0")]
        if location is not None:
            headers.append((b"location", location.encode("ascii")))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
