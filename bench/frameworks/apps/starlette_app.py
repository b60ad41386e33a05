"""Starlette (ASGI): the three benchmark scenarios."""
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


async def plaintext(request):
    return PlainTextResponse("Hello, World!")


async def json(request):
    return JSONResponse({"message": "Hello, World!"})


async def echo(request):
    return JSONResponse({"id": request.path_params["item"], "q": request.query_params.get("q"),
                         "body": await request.json()})


app = Starlette(routes=[Route("/plaintext", plaintext), Route("/json", json),
                        Route("/echo/{item}", echo, methods=["POST"])])
