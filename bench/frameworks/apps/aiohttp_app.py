"""aiohttp (own server, aiohttp.web.run_app): the three benchmark scenarios. Usage: python aiohttp_app.py PORT"""
import sys

from aiohttp import web


async def plaintext(request):
    return web.Response(text="Hello, World!")


async def json(request):
    return web.json_response({"message": "Hello, World!"})


async def echo(request):
    return web.json_response({"id": request.match_info["item"], "q": request.query.get("q"),
                              "body": await request.json()})


app = web.Application()
app.add_routes([web.get("/plaintext", plaintext), web.get("/json", json), web.post("/echo/{item}", echo)])

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
