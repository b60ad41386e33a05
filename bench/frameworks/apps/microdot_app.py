"""Microdot (own asyncio server, app.run): the three benchmark scenarios. Usage: python microdot_app.py PORT"""
import sys

from microdot import Microdot

app = Microdot()


@app.get("/plaintext")
async def plaintext(request):
    return "Hello, World!", 200, {"Content-Type": "text/plain"}


@app.get("/json")
async def json(request):
    return {"message": "Hello, World!"}


@app.post("/echo/<item>")
async def echo(request, item):
    return {"id": item, "q": request.args.get("q"), "body": request.json}


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]))
