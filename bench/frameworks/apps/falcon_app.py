"""Falcon (WSGI): the three benchmark scenarios."""
import falcon


class Plain:
    def on_get(self, req, resp):
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "Hello, World!"


class Json:
    def on_get(self, req, resp):
        resp.media = {"message": "Hello, World!"}


class Echo:
    def on_post(self, req, resp, item):
        resp.media = {"id": item, "q": req.get_param("q"), "body": req.get_media()}


app = falcon.App()
app.add_route("/plaintext", Plain())
app.add_route("/json", Json())
app.add_route("/echo/{item}", Echo())
