"""Who may do what in the console: signed sessions, roles, CSRF on every POST, audit; shared by the route modules.

Refusals: not signed in -> 303 to the sign-in page (GET) or 403 (POST); wrong role or bad token -> 403.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

from fastapi import HTTPException, Request, Response
from fastapi.responses import HTMLResponse

from bot.admin.session import COOKIE, Session, Signer
from bot.services.users import User, UserService

MAX_FORM_BYTES = 65_536
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
}


@dataclass(frozen=True)
class Ctx:
    """The signed-in account for one request, its session, and (for POSTs) the parsed form."""

    user: User
    session: Session
    form: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def field(self, name: str) -> str:
        """One form value ('' when absent), stripped."""
        return (self.form.get(name) or [""])[0].strip()

    def raw(self, name: str) -> str:
        """One form value exactly as sent ('' when absent)."""
        return (self.form.get(name) or [""])[0]


def html(body: str, status: int = 200) -> HTMLResponse:
    """A page with the console's security headers."""
    return HTMLResponse(body, status_code=status, headers=HEADERS)


def client_of(request: Request) -> str | None:
    """The client's address (as seen by the server: behind a proxy, configure uvicorn's --forwarded-allow-ips)."""
    return request.client.host if request.client else None


async def read_form(request: Request) -> dict[str, list[str]]:
    """A url-encoded form body (the console sends nothing else)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise HTTPException(status_code=415, detail="form expected")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(status_code=413, detail="form too large")
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)


class Guards:
    """FastAPI dependencies for console routes: `viewer(role)` for GETs, `actor(role)` for POSTs (adds CSRF)."""

    def __init__(self, users: UserService, secret_key: str, *, secure: bool) -> None:
        self.users = users
        self.signer = Signer(secret_key)
        self.secure = secure

    def set_session(self, response: Response, session: Session) -> None:
        """Write the signed session cookie (HttpOnly, SameSite=Strict, Secure outside dev)."""
        response.set_cookie(
            COOKIE,
            self.signer.dumps(session),
            max_age=self.signer.max_age,
            path="/admin",
            httponly=True,
            samesite="strict",
            secure=self.secure,
        )

    def session_of(self, request: Request) -> Session | None:
        """The request's valid session, if any (signed in or not)."""
        return self.signer.loads(request.cookies.get(COOKIE))

    def signed_in(self, request: Request) -> tuple[Session | None, User | None]:
        """The session and its enabled account (None when not signed in)."""
        session = self.session_of(request)
        if session is None or session.username is None:
            return session, None
        user = self.users.get(session.username)
        return session, (user if user is not None and not user.disabled else None)

    def viewer(self, role: str) -> Callable[[Request], Ctx]:
        """A dependency: a signed-in account holding at least `role`."""

        def dependency(request: Request) -> Ctx:
            session, user = self.signed_in(request)
            if user is None or session is None:
                if request.method == "GET":
                    raise HTTPException(status_code=303, headers={"Location": "/admin/login"})
                raise HTTPException(status_code=403, detail="請先登入 Sign in first")
            if not user.can(role):
                raise HTTPException(status_code=403, detail="權限不足 Not allowed for your role")
            return Ctx(user, session)

        return dependency

    def actor(self, role: str) -> Callable[[Request], Awaitable[Ctx]]:
        """A dependency for POSTs: `viewer(role)` plus the parsed form and a matching CSRF token."""
        check = self.viewer(role)

        async def dependency(request: Request) -> Ctx:
            ctx = check(request)
            form = await read_form(request)
            if not ctx.session.csrf_ok((form.get("csrf_token") or [""])[0]):
                self.users.audit(ctx.user.username, "csrf_refused", client_of(request), {"path": request.url.path})
                raise HTTPException(status_code=403, detail="CSRF token missing or wrong")
            return dataclasses.replace(ctx, form=form)

        return dependency

    def audit(self, ctx: Ctx, request: Request, action: str, details: dict[str, object] | None = None) -> None:
        """Record one console action by the signed-in account."""
        self.users.audit(ctx.user.username, action, client_of(request), dict(details or {}))
