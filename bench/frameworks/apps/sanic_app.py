"""Sanic (own server, app.run, one worker): the three benchmark scenarios. Usage: python sanic_app.py PORT"""
import sys

from sanic import Sanic
from sanic.response import json as json_response
from sanic.response import text

app = Sanic("bench")


@app.get("/plaintext")
async def plaintext(request):
    return text("Hello, World!")


@app.get("/json")
async def json(request):
    return json_response({"message": "Hello, World!"})


@app.post("/echo/<item>")
async def echo(request, item):
    return json_response({"id": item, "q": request.args.get("q"), "body": request.json})


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), access_log=False, single_process=True, motd=False)
