"""Robyn (own server, Rust runtime, one process): the three benchmark scenarios. Usage: python robyn_app.py PORT"""
import json as jsonlib
import sys

from robyn import Response, Robyn

app = Robyn(__file__)


@app.get("/plaintext")
async def plaintext(request):
    return Response(status_code=200, headers={"Content-Type": "text/plain"}, description="Hello, World!")


@app.get("/json")
async def json(request):
    return Response(status_code=200, headers={"Content-Type": "application/json"},
                    description=jsonlib.dumps({"message": "Hello, World!"}))


@app.post("/echo/:item")
async def echo(request):
    body = {"id": request.path_params["item"], "q": request.query_params.get("q", None),
            "body": jsonlib.loads(request.body)}
    return Response(status_code=200, headers={"Content-Type": "application/json"}, description=jsonlib.dumps(body))


if __name__ == "__main__":
    app.start(host="127.0.0.1", port=int(sys.argv[1]))
