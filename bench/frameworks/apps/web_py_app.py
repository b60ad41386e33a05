"""web.py (WSGI, app.wsgifunc()): the three benchmark scenarios."""
import json

import web

urls = ("/plaintext", "Plain", "/json", "Json", "/echo/(.+)", "Echo")


class Plain:
    def GET(self):  # noqa: N802 (web.py's method names)
        web.header("Content-Type", "text/plain")
        return "Hello, World!"


class Json:
    def GET(self):  # noqa: N802
        web.header("Content-Type", "application/json")
        return json.dumps({"message": "Hello, World!"})


class Echo:
    def POST(self, item):  # noqa: N802
        web.header("Content-Type", "application/json")
        return json.dumps({"id": item, "q": web.input(q=None).q, "body": json.loads(web.data())})


app = web.application(urls, globals()).wsgifunc()
