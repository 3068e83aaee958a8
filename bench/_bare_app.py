"""The bare endpoint of the gateway benchmark: the same server stack (uvicorn, uvloop,
httptools, Starlette), a route that only reads the body and answers the OK envelope."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_OK = (
    b'{"status":"OK","ErrorCode":"0","ErrorDesc":"","DocId":"000000000000000000000000","data":null}'
)


async def send_edoc(request: Request) -> Response:
    await request.body()
    return Response(_OK, media_type="application/json")


app = Starlette(routes=[Route("/sendEdoc", send_edoc, methods=["POST"])])
