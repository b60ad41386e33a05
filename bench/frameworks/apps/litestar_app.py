"""Litestar (ASGI): the three benchmark scenarios."""
from typing import Any

from litestar import Litestar, MediaType, get, post


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> str:
    return "Hello, World!"


@get("/json")
async def json() -> dict:
    return {"message": "Hello, World!"}


@post("/echo/{item:str}", status_code=200)
async def echo(item: str, data: Any, q: str | None = None) -> dict:
    return {"id": item, "q": q, "body": data}


app = Litestar([plaintext, json, echo])
