"""Flask (WSGI): the three benchmark scenarios."""
from flask import Flask, request

app = Flask(__name__)


@app.get("/plaintext")
def plaintext():
    return "Hello, World!", 200, {"Content-Type": "text/plain"}


@app.get("/json")
def json():
    return {"message": "Hello, World!"}


@app.post("/echo/<item>")
def echo(item):
    return {"id": item, "q": request.args.get("q"), "body": request.get_json()}
