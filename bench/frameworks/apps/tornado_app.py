"""Tornado (own server, one process): the three benchmark scenarios. Usage: python tornado_app.py PORT"""
import asyncio
import json
import sys

import tornado.web


class Plain(tornado.web.RequestHandler):
    def get(self):
        self.set_header("Content-Type", "text/plain")
        self.write("Hello, World!")


class Json(tornado.web.RequestHandler):
    def get(self):
        self.write({"message": "Hello, World!"})


class Echo(tornado.web.RequestHandler):
    def post(self, item):
        self.write({"id": item, "q": self.get_query_argument("q", None), "body": json.loads(self.request.body)})


async def main(port):
    app = tornado.web.Application([(r"/plaintext", Plain), (r"/json", Json), (r"/echo/([^/]+)", Echo)])
    app.listen(port, address="127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
