"""Quart (ASGI): the three benchmark scenarios."""
from quart import Quart, request

app = Quart(__name__)


@app.get("/plaintext")
async def plaintext():
    return "Hello, World!", 200, {"Content-Type": "text/plain"}


@app.get("/json")
async def json():
    return {"message": "Hello, World!"}


@app.post("/echo/<item>")
async def echo(item):
    return {"id": item, "q": request.args.get("q"), "body": await request.get_json()}
