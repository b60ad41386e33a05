"""APIFlask (WSGI, on Flask): the three benchmark scenarios."""
from apiflask import APIFlask
from flask import request

app = APIFlask(__name__, spec_path=None, docs_path=None)


@app.get("/plaintext")
def plaintext():
    return "Hello, World!", 200, {"Content-Type": "text/plain"}


@app.get("/json")
def json():
    return {"message": "Hello, World!"}


@app.post("/echo/<item>")
def echo(item):
    return {"id": item, "q": request.args.get("q"), "body": request.get_json()}
