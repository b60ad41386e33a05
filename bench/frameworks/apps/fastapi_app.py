"""FastAPI (ASGI): the three benchmark scenarios."""
from typing import Annotated, Any

from fastapi import Body, FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext():
    return "Hello, World!"


@app.get("/json")
async def json():
    return {"message": "Hello, World!"}


@app.post("/echo/{item}")
async def echo(item: str, body: Annotated[Any, Body()], q: str | None = None):
    return {"id": item, "q": q, "body": body}
