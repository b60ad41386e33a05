"""Bottle (WSGI): the three benchmark scenarios."""
from bottle import Bottle, request, response

app = Bottle()


@app.get("/plaintext")
def plaintext():
    response.content_type = "text/plain"
    return "Hello, World!"


@app.get("/json")
def json():
    return {"message": "Hello, World!"}


@app.post("/echo/<item>")
def echo(item):
    return {"id": item, "q": request.query.get("q"), "body": request.json}
