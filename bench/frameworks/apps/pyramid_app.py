"""Pyramid (WSGI): the three benchmark scenarios."""
from pyramid.config import Configurator
from pyramid.response import Response


def plaintext(request):
    return Response("Hello, World!", content_type="text/plain")


def json(request):
    return {"message": "Hello, World!"}


def echo(request):
    return {"id": request.matchdict["item"], "q": request.params.get("q"), "body": request.json_body}


with Configurator() as config:
    config.add_route("plaintext", "/plaintext")
    config.add_route("json", "/json")
    config.add_route("echo", "/echo/{item}", request_method="POST")
    config.add_view(plaintext, route_name="plaintext")
    config.add_view(json, route_name="json", renderer="json")
    config.add_view(echo, route_name="echo", renderer="json")
    app = config.make_wsgi_app()
